package storeexporter

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
)

// s2Magic starts every request the persistent queue holds in s2Encoding.
// Its first byte, 0, never starts a protobuf message (field number 0 is
// invalid), so it tells these apart from requests queued in
// exporterhelper's own encoding by an earlier version.
var s2Magic = []byte{0, 'o', 'a', 's', '2'}

// s2Encoding is the persistent queue's encoding: exporterhelper's own
// (protobuf), compressed with S2. The file storage writes each request to
// disk and back, at a CPU cost per byte that profiles put at about a third
// of the collector's (docs/storage.md#performance); audit records, JSON
// bodies and repeated attribute keys, compress several times over, and S2
// costs less than the bytes it saves.
type s2Encoding struct {
	inner exporterhelper.QueueBatchEncoding[xexporterhelper.Request]
}

// Marshal encodes req as exporterhelper does, then compresses it.
func (e s2Encoding) Marshal(ctx context.Context, req xexporterhelper.Request) ([]byte, error) {
	raw, err := e.inner.Marshal(ctx, req)
	if err != nil {
		return nil, err
	}
	n := s2.MaxEncodedLen(len(raw))
	if n < 0 {
		return nil, fmt.Errorf("queue encoding: request of %d bytes is too large to compress", len(raw))
	}
	// S2 wants room for the worst case, more than the request; a scratch
	// buffer spares allocating and zeroing that for every request, and
	// the result is copied out at its size.
	scratch := scratchBuffers.Get().(*[]byte)
	defer scratchBuffers.Put(scratch)
	if cap(*scratch) < n {
		*scratch = make([]byte, n)
	}
	packed := s2.Encode((*scratch)[:n], raw)
	return append(append(make([]byte, 0, len(s2Magic)+len(packed)), s2Magic...), packed...), nil
}

// scratchBuffers hold S2's output before it is copied out.
var scratchBuffers = sync.Pool{New: func() any { return new([]byte) }}

// Unmarshal decodes a request of Marshal, or one queued in exporterhelper's
// own encoding.
func (e s2Encoding) Unmarshal(b []byte) (context.Context, xexporterhelper.Request, error) {
	if !bytes.HasPrefix(b, s2Magic) {
		return e.inner.Unmarshal(b)
	}
	raw, err := s2.Decode(nil, b[len(s2Magic):])
	if err != nil {
		return context.Background(), nil, fmt.Errorf("queue encoding: decompress a queued request: %w", err)
	}
	return e.inner.Unmarshal(raw)
}

// queueBatchSettings are exporterhelper's settings of a logs queue, with
// s2Encoding.
func queueBatchSettings() xexporterhelper.QueueBatchSettings {
	s := xexporterhelper.NewLogsQueueBatchSettings()
	s.Encoding = s2Encoding{inner: s.Encoding}
	return s
}
