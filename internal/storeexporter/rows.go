package storeexporter

import (
	"context"
	"fmt"
	"math/bits"
	"time"

	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/internal/logconv"
	"github.com/otelaudit/otelaudit/store"
)

// rowsRequest is what the exporter queues and batches: the records, as
// logconv converted them before the queue, ready for store.Write. The
// queue and the batcher never see pdata, and the persistent queue holds
// the rows (rowsEncoding).
type rowsRequest struct {
	records []store.Record
	// bytes is the size of the records in the row codec, 0 until asked.
	bytes int
}

// toRows is the exporter's request converter.
func toRows(_ context.Context, ld plog.Logs) (xexporterhelper.Request, error) {
	return &rowsRequest{records: logconv.Records(ld)}, nil
}

// ItemsCount is the number of records.
func (r *rowsRequest) ItemsCount() int { return len(r.records) }

// BytesSize is the size of the records in the row codec, uncompressed.
func (r *rowsRequest) BytesSize() int {
	if r.bytes == 0 {
		for i := range r.records {
			r.bytes += recordSize(&r.records[i])
		}
	}
	return r.bytes
}

// recordSize is the size of one record in the row codec, at most (its
// resource may be shared with the record before), counted without
// encoding it: the persistent queue asks for the size of every request it
// puts and reads.
func recordSize(r *store.Record) int {
	n := stringSize(r.ID) + timeSize(r.Timestamp) + timeSize(r.ObservedTimestamp) + stringSize(r.EventName) +
		varintSize(int64(r.SeverityNumber))
	for _, s := range [...]string{r.SeverityText, r.ServiceName, r.ScopeName, r.Operation, r.TraceID, r.SpanID,
		r.Method, r.Scheme, r.Host, r.Path, r.Route, r.Query, r.UserID, r.SessionID, r.ClientAddress, r.UserAgent,
		r.RequestBody, r.ResponseBody, r.ErrorType} {
		n += stringSize(s)
	}
	n += varintSize(int64(r.Status)) + 8
	n += headersSize(r.RequestHeaders) + bytesSize(r.RequestBodyBinary) + varintSize(r.RequestBodySize)
	n += headersSize(r.ResponseHeaders) + bytesSize(r.ResponseBodyBinary) + varintSize(r.ResponseBodySize)
	n++ // flags
	// The resource as if not shared: a request's size does not depend on
	// its records' order.
	return n + valueSize(r.LogBody) + mapSize(r.Attributes) + 1 + mapSize(r.Resource)
}

func uvarintSize(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

func varintSize(v int64) int { return uvarintSize(uint64(v<<1) ^ uint64(v>>63)) }

func stringSize(s string) int { return uvarintSize(uint64(len(s))) + len(s) }

func bytesSize(b []byte) int { return uvarintSize(uint64(len(b))+1) + len(b) }

func timeSize(t time.Time) int {
	if t.IsZero() {
		return 1
	}
	return 1 + varintSize(t.Unix()) + uvarintSize(uint64(t.Nanosecond()))
}

func headersSize(h map[string][]string) int {
	n := uvarintSize(uint64(len(h)) + 1)
	for k, vals := range h {
		n += stringSize(k) + uvarintSize(uint64(len(vals))+1)
		for _, v := range vals {
			n += stringSize(v)
		}
	}
	return n
}

func mapSize(m map[string]any) int {
	n := uvarintSize(uint64(len(m)) + 1)
	for k, v := range m {
		n += stringSize(k) + valueSize(v)
	}
	return n
}

// valueSize is the size of an attribute value; one of a type the codec
// refuses counts as its tag.
func valueSize(v any) int {
	switch v := v.(type) {
	case string:
		return 1 + stringSize(v)
	case int64:
		return 1 + varintSize(v)
	case float64:
		return 1 + 8
	case []byte:
		return 1 + bytesSize(v)
	case []any:
		n := 1 + uvarintSize(uint64(len(v))+1)
		for _, e := range v {
			n += valueSize(e)
		}
		return n
	case map[string]any:
		return 1 + mapSize(v)
	}
	return 1
}

// MergeSplit appends other's records to r's, then cuts them into requests
// of at most maxSize records (items) or codec bytes (bytes), in order,
// the last one the rest. r's records are appended to (the batcher owns
// its current batch); the requests returned do not share capacity, so
// appending to one never overwrites another.
func (r *rowsRequest) MergeSplit(_ context.Context, maxSize int, szt exporterhelper.RequestSizerType, other xexporterhelper.Request) ([]xexporterhelper.Request, error) {
	var size func(*store.Record) int
	switch szt {
	case exporterhelper.RequestSizerTypeItems:
		size = func(*store.Record) int { return 1 }
	case exporterhelper.RequestSizerTypeBytes:
		size = recordSize
	default:
		return nil, fmt.Errorf("queue batch: sizer %s is not supported", szt.String())
	}
	if other != nil {
		o, ok := other.(*rowsRequest)
		if !ok {
			return nil, fmt.Errorf("queue batch: cannot merge a %T into rows", other)
		}
		r.records = append(r.records, o.records...)
		r.bytes = 0
		o.records, o.bytes = nil, 0
	}
	if maxSize <= 0 {
		return []xexporterhelper.Request{r}, nil
	}
	if szt == exporterhelper.RequestSizerTypeItems && len(r.records) <= maxSize {
		return []xexporterhelper.Request{r}, nil
	}
	var (
		out     []xexporterhelper.Request
		start   int
		n       int
		dropped int
	)
	flush := func(end int) {
		if end > start {
			out = append(out, &rowsRequest{records: r.records[start:end:end]})
		}
		start, n = end, 0
	}
	for i := range r.records {
		s := size(&r.records[i])
		if s > maxSize {
			// One record larger than a batch can hold: it cannot be sent.
			flush(i)
			start = i + 1
			dropped++
			continue
		}
		if n+s > maxSize {
			flush(i)
		}
		n += s
	}
	flush(len(r.records))
	if dropped > 0 {
		return out, fmt.Errorf("queue batch: %d records are each larger than the batch's max_size %d; dropping them", dropped, maxSize)
	}
	if len(out) == 0 {
		return []xexporterhelper.Request{r}, nil // no records
	}
	return out, nil
}
