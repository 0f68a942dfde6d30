package auditexport

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// otlpReceiver is an OTLP/HTTP endpoint that keeps the request bodies.
type otlpReceiver struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	o.bodies = append(o.bodies, b)
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (o *otlpReceiver) get() [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([][]byte(nil), o.bodies...)
}

func otlpExporter(t *testing.T, recv *otlpReceiver) sdklog.Exporter {
	t.Helper()
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	exp, err := otlploghttp.New(context.Background(), otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"))
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// TestSpooledRecordIsIdentical: one provider sends every record both
// through the SDK's BatchProcessor and through the durable processor, each
// to its own OTLP endpoint; after a flush the two endpoints hold
// byte-identical requests, whether the durable processor exported its
// copies from memory or read the records back from disk (memory queue
// off). The records carry a resource with a schema URL, a scope with
// version, schema URL and attributes, trace context, both timestamps,
// severity, event name, a map body, and attributes of every type, nested
// maps and slices, bytes, empty values, and NUL and non-ASCII text in
// strings.
func TestSpooledRecordIsIdentical(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testSpooledRecordIsIdentical(t, true) })
	t.Run("disk", func(t *testing.T) { testSpooledRecordIsIdentical(t, false, WithMemoryQueue(0, 0)) })
}

func testSpooledRecordIsIdentical(t *testing.T, fromMemory bool, opts ...DurableOption) {
	direct, spooled := &otlpReceiver{}, &otlpReceiver{}
	res := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "payments"), attribute.Int64("service.instance.num", 3))
	paths := &pathCounter{next: otlpExporter(t, spooled)}
	// Both export only when flushed, so each sends the three records in
	// one request.
	dp, err := NewDurableProcessor(paths, t.TempDir(), append(opts, WithExportInterval(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(&paths.probe),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(otlpExporter(t, direct), sdklog.WithExportInterval(time.Hour))),
		sdklog.WithProcessor(dp))
	defer lp.Shutdown(context.Background())
	logger := lp.Logger("github.com/otelaudit/otelaudit/instrumentation/audithttp",
		log.WithInstrumentationVersion("0.1.0"), log.WithSchemaURL("https://example.com/s"),
		log.WithInstrumentationAttributes(attribute.String("team", "core")))

	nested := attribute.MapValue(
		attribute.String("s", "x\x00y\u00e9"),
		attribute.Bool("b", true),
		attribute.Float64("f", -0.5),
		attribute.KeyValue{Key: "bytes", Value: attribute.ByteSliceValue([]byte{0, 1, 0xff})},
		attribute.KeyValue{Key: "list", Value: attribute.SliceValue(attribute.IntValue(1), attribute.StringValue("two"),
			attribute.MapValue(attribute.String("deep", "er")), attribute.Value{})},
		attribute.KeyValue{Key: "empty", Value: attribute.Value{}},
		attribute.BoolSlice("bools", []bool{true, false, true}),
		attribute.Int64Slice("ints", []int64{-1, 0, 1 << 40}),
		attribute.Float64Slice("floats", []float64{-0.25, 1e300}),
		attribute.StringSlice("strings", []string{"", "a\x00b", "é"}),
	)
	tid, _ := trace.TraceIDFromHex("0102030405060708090a0b0c0d0e0f10")
	sid, _ := trace.SpanIDFromHex("1112131415161718")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))

	for i := range 3 {
		var r log.Record
		r.SetEventName("http.server.audit")
		r.SetTimestamp(time.Unix(1700000000, 123456789+int64(i)))
		r.SetObservedTimestamp(time.Unix(1700000001, 987654321))
		r.SetSeverity(log.SeverityWarn)
		r.SetSeverityText("WARN")
		r.SetBody(nested)
		r.AddAttributes(
			attribute.String("audit.record.id", "0190c7a0-0000-7000-8000-00000000000"+string(rune('0'+i))),
			attribute.Int("http.response.status_code", 404),
			attribute.Float64("http.server.request.duration", 0.00125),
			attribute.StringSlice("http.request.header.accept", []string{"a", "b"}),
			attribute.BoolSlice("bools", []bool{true, false}),
			attribute.Int64Slice("ints", []int64{-1, 1 << 62}),
			attribute.Float64Slice("floats", []float64{1.5, -2}),
			attribute.KeyValue{Key: "http.response.body.content", Value: attribute.ByteSliceValue([]byte("\x89PNG\x00"))},
			attribute.KeyValue{Key: "nested", Value: nested},
		)
		emitCtx := ctx
		if i == 2 {
			emitCtx = context.Background() // no trace context
		}
		logger.Emit(emitCtx, r)
	}
	if err := lp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	d, s := direct.get(), spooled.get()
	if len(d) != 1 || len(s) != 1 {
		t.Fatalf("%d direct and %d spooled requests, want 1 each", len(d), len(s))
	}
	if !bytes.Equal(d[0], s[0]) {
		t.Errorf("the spooled request (%d bytes) differs from the direct one (%d bytes)", len(s[0]), len(d[0]))
	}
	if mem, disk := paths.counts(); fromMemory && (mem != 3 || disk != 0) || !fromMemory && (mem != 0 || disk != 3) {
		t.Errorf("%d records exported from memory and %d from disk, want all 3 from the %s", mem, disk, map[bool]string{true: "memory", false: "disk"}[fromMemory])
	}
}

// TestInvalidUTF8DoesNotBlock: OTLP cannot carry a string that is not
// valid UTF-8 (the exporter fails to marshal it, every time). The spool
// stores it with U+FFFD in place of the bad bytes, so it is delivered and
// the records behind it are not held up.
func TestInvalidUTF8DoesNotBlock(t *testing.T) {
	recv := &otlpReceiver{}
	dp, err := NewDurableProcessor(otlpExporter(t, recv), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(dp))
	defer lp.Shutdown(context.Background())
	var r log.Record
	r.AddAttributes(attribute.String("user.id", "a\xffb"))
	lp.Logger("t").Emit(context.Background(), r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := lp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	b := recv.get()
	if len(b) != 1 || !bytes.Contains(b[0], []byte("a\uFFFDb")) {
		t.Fatalf("requests %q, want one holding a\uFFFDb", b)
	}
}
