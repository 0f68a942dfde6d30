package storeexporter

import (
	"bytes"
	"context"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	pdatareq "go.opentelemetry.io/collector/pdata/xpdata/request"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/logconv"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
	"github.com/otelaudit/otelaudit/store"
)

// auditLogs returns n audit records with 2 KB JSON bodies.
func auditLogs(n int) plog.Logs {
	body := `{"items":[` + strings.Repeat(`{"sku":"SKU-00001","name":"Item","qty":1},`, 40) + `{}]}`
	return testlogs.Audit(0, n, func(_ int, lr plog.LogRecord) {
		lr.Attributes().PutStr(auditconv.HTTPRequestBodyContent, body)
	})
}

// queuedRequest returns the request the exporter queues for n audit
// records, and the logs it was converted from.
func queuedRequest(t testing.TB, n int) (*rowsRequest, plog.Logs) {
	t.Helper()
	ld := auditLogs(n)
	req, err := toRows(context.Background(), ld)
	if err != nil {
		t.Fatal(err)
	}
	return req.(*rowsRequest), ld
}

// requestContext returns a context with what exporterhelper keeps of a
// request's context in its queue: trace context, client metadata and
// address.
func requestContext() context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	return client.NewContext(ctx, client.Info{
		Metadata: client.NewMetadata(map[string][]string{"tenant": {"acme"}}),
		Addr:     &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 4318},
	})
}

// checkContext fails unless ctx carries what requestContext put in.
func checkContext(t *testing.T, ctx context.Context) {
	t.Helper()
	sc := trace.SpanContextFromContext(ctx)
	info := client.FromContext(ctx)
	if sc.TraceID() != (trace.TraceID{1, 2, 3}) || sc.SpanID() != (trace.SpanID{4, 5, 6}) || !sc.IsSampled() ||
		!reflect.DeepEqual(info.Metadata.Get("tenant"), []string{"acme"}) || info.Addr == nil || info.Addr.String() != "10.0.0.7:4318" {
		t.Errorf("context read back: span %v, client %+v", sc, info)
	}
}

// TestQueueEncodingRoundTrip: the rows the persistent queue stores come
// back the same, with the request's context and the records of one
// resource sharing its map as logconv made them, in less than half the
// bytes of exporterhelper's own encoding of the logs they were converted
// from.
func TestQueueEncodingRoundTrip(t *testing.T) {
	req, ld := queuedRequest(t, 100)
	plain, err := pdatareq.MarshalLogs(requestContext(), ld)
	if err != nil {
		t.Fatal(err)
	}
	packed, err := rowsEncoding{}.Marshal(requestContext(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(packed, rowsMagic) || len(packed) >= len(plain)/2 {
		t.Errorf("queued %d bytes (prefix %q) for %d of protobuf: want the rows prefix and at most half", len(packed), packed[:len(rowsMagic)], len(plain))
	}
	ctx, back, err := rowsEncoding{}.Unmarshal(packed)
	if err != nil {
		t.Fatal(err)
	}
	checkContext(t, ctx)
	records := back.(*rowsRequest).records
	if back.ItemsCount() != 100 || !reflect.DeepEqual(records, logconv.Records(ld)) {
		t.Errorf("round trip: %d records, equal to the converted logs: false", back.ItemsCount())
	}
	if !sameMap(records[0].Resource, records[99].Resource) {
		t.Error("records of one resource read back with a resource map each, not one")
	}
}

// TestQueueEncodingReadsEarlierQueues: requests queued by a collector of an
// earlier version (exporterhelper's protobuf with its context, the same
// without it, and the same compressed with S2) are still delivered after
// an upgrade, converted to the rows the logs make.
func TestQueueEncodingReadsEarlierQueues(t *testing.T) {
	ld := auditLogs(10)
	want := logconv.Records(ld)
	withCtx, err := pdatareq.MarshalLogs(requestContext(), ld)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		queued  []byte
		context bool
	}{
		{"protobuf with context", withCtx, true},
		{"protobuf", bare, false},
		{"S2 over protobuf", append(append([]byte(nil), s2Magic...), s2.Encode(nil, withCtx)...), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, back, err := rowsEncoding{}.Unmarshal(c.queued)
			if err != nil {
				t.Fatal(err)
			}
			if c.context {
				checkContext(t, ctx)
			}
			if !reflect.DeepEqual(back.(*rowsRequest).records, want) {
				t.Errorf("%d records read, not the %d the logs convert to", back.ItemsCount(), len(want))
			}
		})
	}
}

// TestQueueEncodingCorrupt: a damaged queued request (truncated, a bit
// flipped, bytes that are no request) is an error, not rows of garbage and
// not a panic.
func TestQueueEncodingCorrupt(t *testing.T) {
	req, _ := queuedRequest(t, 10)
	packed, err := rowsEncoding{}.Marshal(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n < len(packed); n++ { // 0 bytes are an empty request of protobuf
		if _, _, err := (rowsEncoding{}).Unmarshal(packed[:n]); err == nil {
			t.Fatalf("request truncated to %d of %d bytes read without an error", n, len(packed))
		}
	}
	for i := len(rowsMagic); i < len(packed); i++ {
		flipped := bytes.Clone(packed)
		flipped[i] ^= 0x10
		if _, _, err := (rowsEncoding{}).Unmarshal(flipped); err == nil {
			t.Fatalf("request with byte %d of %d flipped read without an error", i, len(packed))
		}
	}
	if _, _, err := (rowsEncoding{}).Unmarshal(append(bytes.Clone(s2Magic), "not S2"...)); err == nil || !strings.Contains(err.Error(), "decompress") {
		t.Errorf("earlier version's request that does not decompress: %v, want a decompression error", err)
	}
}

// TestRowCodecEveryField: a record with every field set, attribute values
// of every type pdata has and nil told from empty, reads back equal, and
// recordSize counts what it encodes to; a first record cannot share the
// resource of one before it. A field added to store.Record
// that the codec misses fails here.
func TestRowCodecEveryField(t *testing.T) {
	var r store.Record
	fillEveryField(t, reflect.ValueOf(&r).Elem())
	r.Attributes = map[string]any{
		"s": "text", "i": int64(-7), "d": 0.5, "t": true, "f": false, "nil": nil,
		"bytes": []byte{0, 1}, "empty bytes": []byte{}, "nil bytes": []byte(nil),
		"slice": []any{"a", int64(1), []any{}, map[string]any{"k": 1.5}}, "nil slice": []any(nil),
		"map": map[string]any{"deep": map[string]any{}}, "nil map": map[string]any(nil),
	}
	r.RequestHeaders["empty"] = []string{}
	r.RequestHeaders["nil"] = nil
	r.ResponseBodyBinary = []byte{}
	r.Resource = map[string]any{}
	b, err := appendRows(nil, []store.Record{r, {}})
	if err != nil {
		t.Fatal(err)
	}
	back, err := readRows(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || !reflect.DeepEqual(back[0], r) || !reflect.DeepEqual(back[1], store.Record{}) {
		t.Errorf("read back\n%+v\nwant\n%+v", back, []store.Record{r, {}})
	}
	audit, _ := queuedRequest(t, 3)
	for _, r := range append([]store.Record{r, {}, {SeverityNumber: -1, Status: 1 << 40}}, audit.records...) {
		b, err := appendRecord(nil, &r, false)
		if err != nil {
			t.Fatal(err)
		}
		if recordSize(&r) != len(b) {
			t.Errorf("record %q: size %d, encoded in %d bytes", r.ID, recordSize(&r), len(b))
		}
	}
	first, err := appendRecord([]byte{1}, &r, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readRows(string(first)); err == nil {
		t.Error("a first record sharing the resource of the record before it read without an error")
	}
	if _, err := appendRows(nil, []store.Record{{Attributes: map[string]any{"n": 1}}}); err == nil {
		t.Error("an attribute of type int (not one of pdata's) was queued; want an error")
	}
}

// fillEveryField sets every field of the struct v to a value that is not
// its zero value, and fails on a field of a type it does not know.
func fillEveryField(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch f.Type() {
		case reflect.TypeFor[string]():
			f.SetString(name + "-value")
		case reflect.TypeFor[int](), reflect.TypeFor[int64]():
			f.SetInt(int64(-1000 - i))
		case reflect.TypeFor[float64]():
			f.SetFloat(12.25)
		case reflect.TypeFor[bool]():
			f.SetBool(true)
		case reflect.TypeFor[[]byte]():
			f.SetBytes([]byte{0xff, byte(i)})
		case reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Unix(1700000000+int64(i), 123456789).UTC()))
		case reflect.TypeFor[map[string][]string]():
			f.Set(reflect.ValueOf(map[string][]string{name: {"a", "b"}}))
		case reflect.TypeFor[map[string]any]():
			f.Set(reflect.ValueOf(map[string]any{name: "x"}))
		case reflect.TypeFor[any]():
			f.Set(reflect.ValueOf(map[string]any{name: []any{"x", int64(1)}}))
		default:
			t.Fatalf("store.Record.%s: a field of type %s the test does not fill", name, f.Type())
		}
	}
}

// TestRowsMergeSplit: batches take other requests' records in order and are
// cut at max_size, in records or in the codec's bytes; a copy appended to
// one part never overwrites the next; a record larger than a batch is
// dropped with an error, its neighbours sent.
func TestRowsMergeSplit(t *testing.T) {
	a, _ := queuedRequest(t, 3)
	b, _ := queuedRequest(t, 2500)
	want := append(append([]store.Record(nil), a.records...), b.records...)
	parts, err := a.MergeSplit(context.Background(), 1000, exporterhelper.RequestSizerTypeItems, b)
	if err != nil {
		t.Fatal(err)
	}
	var got []store.Record
	var sizes []int
	for _, p := range parts {
		sizes = append(sizes, p.ItemsCount())
		got = append(got, p.(*rowsRequest).records...)
	}
	if !reflect.DeepEqual(sizes, []int{1000, 1000, 503}) || !reflect.DeepEqual(got, want) {
		t.Errorf("split into %v records, in order: %v", sizes, reflect.DeepEqual(got, want))
	}
	first := parts[0].(*rowsRequest)
	first.records = append(first.records, store.Record{ID: "appended"})
	if parts[1].(*rowsRequest).records[0].ID != want[1000].ID {
		t.Error("appending to the first part overwrote the second")
	}

	c, _ := queuedRequest(t, 10)
	big, _ := queuedRequest(t, 1)
	big.records[0].RequestBody = strings.Repeat("x", 10000)
	maxBytes := 3 * recordSize(&c.records[0])
	parts, err = c.MergeSplit(context.Background(), maxBytes, exporterhelper.RequestSizerTypeBytes, big)
	if err == nil || !strings.Contains(err.Error(), "1 records") {
		t.Errorf("a record larger than max_size: %v, want an error naming it", err)
	}
	n := 0
	for _, p := range parts {
		if p.BytesSize() > maxBytes {
			t.Errorf("part of %d bytes, max_size %d", p.BytesSize(), maxBytes)
		}
		n += p.ItemsCount()
	}
	if n != 10 {
		t.Errorf("%d records sent, want the 10 that fit", n)
	}
	if _, err := c.MergeSplit(context.Background(), 10, exporterhelper.RequestSizerTypeRequests, nil); err == nil {
		t.Error("the requests sizer: no error")
	}
	if _, err := c.MergeSplit(context.Background(), 10, exporterhelper.RequestSizerTypeItems, otherRequest{}); err == nil {
		t.Error("merging another type of request: no error")
	}
}

// otherRequest is a request of another exporter.
type otherRequest struct{}

func (otherRequest) ItemsCount() int { return 1 }
func (otherRequest) BytesSize() int  { return 1 }
func (o otherRequest) MergeSplit(context.Context, int, exporterhelper.RequestSizerType, xexporterhelper.Request) ([]xexporterhelper.Request, error) {
	return []xexporterhelper.Request{o}, nil
}

// FuzzReadRows: no input makes the row codec panic.
func FuzzReadRows(f *testing.F) {
	req, _ := queuedRequest(f, 2)
	b, err := appendRows(nil, req.records)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		records, err := readRows(string(b))
		if err != nil {
			return
		}
		// Whatever reads without an error is rows that can be queued.
		if _, err := appendRows(nil, records); err != nil {
			t.Errorf("%d records read from %d bytes cannot be queued again: %v", len(records), len(b), err)
		}
	})
}

// BenchmarkQueueEncoding measures 1000 records from logs into the
// persistent queue and out as rows: protobuf is exporterhelper's own
// encoding of the logs, converted after the queue (two versions ago),
// s2+protobuf the same compressed (the previous version), rows this
// encoding, converted before the queue; queued-bytes/op is what the file
// storage writes.
func BenchmarkQueueEncoding(b *testing.B) {
	_, ld := queuedRequest(b, 1000)
	protobuf := func() ([]byte, error) { return pdatareq.MarshalLogs(context.Background(), ld) }
	encodings := []struct {
		name    string
		marshal func() ([]byte, error)
	}{
		{"protobuf", protobuf},
		{"s2+protobuf", func() ([]byte, error) {
			buf, err := protobuf()
			return append(bytes.Clone(s2Magic), s2.Encode(nil, buf)...), err
		}},
		{"rows", func() ([]byte, error) {
			req, err := toRows(context.Background(), ld)
			if err != nil {
				return nil, err
			}
			return rowsEncoding{}.Marshal(context.Background(), req)
		}},
	}
	for _, enc := range encodings {
		b.Run(enc.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				buf, err := enc.marshal()
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := (rowsEncoding{}).Unmarshal(buf); err != nil {
					b.Fatal(err)
				}
				n = len(buf)
			}
			b.ReportMetric(float64(n), "queued-bytes/op")
		})
	}
}
