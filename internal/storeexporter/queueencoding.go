package storeexporter

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	pdatareq "go.opentelemetry.io/collector/pdata/xpdata/request"

	"github.com/otelaudit/otelaudit/internal/logconv"
)

// rowsMagic starts every request the persistent queue holds in
// rowsEncoding. Its first byte, 0, never starts a protobuf message (field
// number 0 is invalid), so it tells these apart from requests queued by
// earlier versions; the last is the version of the row codec.
var rowsMagic = []byte{0, 'o', 'a', 'r', '1'}

// s2Magic started the requests an earlier version queued: exporterhelper's
// protobuf encoding of the logs, compressed with S2. They are still read.
var s2Magic = []byte{0, 'o', 'a', 's', '2'}

// castagnoli is the CRC-32C table (hardware accelerated on amd64 and arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// rowsEncoding is the persistent queue's encoding of a rowsRequest:
//
//	rowsMagic | CRC-32C of the payload (4 bytes, little endian) | S2 block of the payload
//	payload: uvarint length | the request's context | the row codec's records (rowcodec.go)
//
// The context (trace context, client metadata and address) is encoded as
// exporterhelper encodes it, around no logs. The records are converted
// once, before the queue; reading them back is a parse of their fields,
// with no protobuf and no pdata. S2 pays for itself: audit records (JSON
// bodies, repeated attribute keys) compress several times over, and the
// file storage's CPU cost grows with the bytes it writes. S2 blocks carry
// no checksum, hence the CRC: a damaged request is an error, never rows
// of garbage.
//
// Requests of earlier versions, S2 over protobuf (s2Magic) and plain
// protobuf (exporterhelper's own encoding), are converted when they are
// read.
type rowsEncoding struct{}

// Marshal encodes a rowsRequest.
func (rowsEncoding) Marshal(ctx context.Context, req xexporterhelper.Request) ([]byte, error) {
	rr, ok := req.(*rowsRequest)
	if !ok {
		return nil, fmt.Errorf("queue encoding: cannot queue a %T", req)
	}
	reqCtx, err := pdatareq.MarshalLogs(ctx, plog.NewLogs())
	if err != nil {
		return nil, fmt.Errorf("queue encoding: encode the request's context: %w", err)
	}
	scratch := scratchBuffers.Get().(*[]byte)
	defer scratchBuffers.Put(scratch)
	// The queue asked for the request's size before, so it is known: the
	// buffer is grown once, not while the records are appended.
	if need := binary.MaxVarintLen64 + len(reqCtx) + rr.BytesSize(); cap(*scratch) < need {
		*scratch = make([]byte, 0, need)
	}
	raw := binary.AppendUvarint((*scratch)[:0], uint64(len(reqCtx)))
	raw = append(raw, reqCtx...)
	if raw, err = appendRows(raw, rr.records); err != nil {
		return nil, err
	}
	*scratch = raw
	n := s2.MaxEncodedLen(len(raw))
	if n < 0 {
		return nil, fmt.Errorf("queue encoding: request of %d bytes is too large to compress", len(raw))
	}
	// S2 wants room for the worst case, more than the request; a scratch
	// buffer spares allocating and zeroing that for every request, and
	// the result is copied out at its size.
	packScratch := scratchBuffers.Get().(*[]byte)
	defer scratchBuffers.Put(packScratch)
	if cap(*packScratch) < n {
		*packScratch = make([]byte, n)
	}
	packed := s2.Encode((*packScratch)[:n], raw)
	out := make([]byte, 0, len(rowsMagic)+4+len(packed))
	out = append(out, rowsMagic...)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(raw, castagnoli))
	return append(out, packed...), nil
}

// scratchBuffers hold a request's encoding before it is compressed, and
// S2's output before it is copied out.
var scratchBuffers = sync.Pool{New: func() any { return new([]byte) }}

// Unmarshal decodes a request of Marshal, or one an earlier version
// queued.
func (rowsEncoding) Unmarshal(b []byte) (context.Context, xexporterhelper.Request, error) {
	switch {
	case bytes.HasPrefix(b, rowsMagic):
		return unmarshalRows(b[len(rowsMagic):])
	case bytes.HasPrefix(b, s2Magic):
		raw, err := s2.Decode(nil, b[len(s2Magic):])
		if err != nil {
			return context.Background(), nil, fmt.Errorf("queue encoding: decompress a queued request: %w", err)
		}
		return unmarshalLogs(raw)
	}
	return unmarshalLogs(b)
}

func unmarshalRows(b []byte) (context.Context, xexporterhelper.Request, error) {
	if len(b) < 4 {
		return context.Background(), nil, errRowsCorrupt
	}
	sum := binary.LittleEndian.Uint32(b)
	raw, err := s2.Decode(nil, b[4:])
	if err != nil {
		return context.Background(), nil, fmt.Errorf("queue encoding: decompress a queued request: %w", err)
	}
	if crc32.Checksum(raw, castagnoli) != sum {
		return context.Background(), nil, fmt.Errorf("%w: checksum mismatch", errRowsCorrupt)
	}
	if len(raw) == 0 {
		return context.Background(), nil, errRowsCorrupt
	}
	// raw is this function's own, never written again: the records'
	// strings can point into it instead of being copied out of it.
	r := &rowReader{s: unsafe.String(&raw[0], len(raw))}
	reqCtx := r.string()
	if r.err != nil {
		return context.Background(), nil, r.err
	}
	ctx, _, err := pdatareq.UnmarshalLogs([]byte(reqCtx))
	if err != nil {
		return context.Background(), nil, fmt.Errorf("queue encoding: decode the request's context: %w", err)
	}
	records, err := readRows(r.s[r.off:])
	if err != nil {
		return context.Background(), nil, err
	}
	return ctx, &rowsRequest{records: records}, nil
}

// unmarshalLogs decodes a request an earlier version queued in
// exporterhelper's encoding (protobuf logs with their context, or without
// it, as exporterhelper reads them) and converts its logs.
func unmarshalLogs(b []byte) (context.Context, xexporterhelper.Request, error) {
	ctx, ld, err := pdatareq.UnmarshalLogs(b)
	if errors.Is(err, pdatareq.ErrInvalidFormat) {
		ctx = context.Background()
		ld, err = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b)
	}
	if err != nil {
		return context.Background(), nil, fmt.Errorf("queue encoding: decode a request queued by an earlier version: %w", err)
	}
	return ctx, &rowsRequest{records: logconv.Records(ld)}, nil
}

// queueBatchSettings are exporterhelper's settings of a queue of
// rowsRequests.
func queueBatchSettings() xexporterhelper.QueueBatchSettings {
	return xexporterhelper.QueueBatchSettings{Encoding: rowsEncoding{}}
}
