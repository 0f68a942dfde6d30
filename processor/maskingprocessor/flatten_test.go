package maskingprocessor

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditconv"
)

// nest puts depth levels of maps under m, alternating with a slice every
// fifth level, and a secret and a NaN at the bottom.
func nest(m pcommon.Map, depth int) {
	for i := 1; i < depth; i++ {
		if i%5 == 0 {
			m = m.PutEmptySlice("list").AppendEmpty().SetEmptyMap()
			continue
		}
		m = m.PutEmptyMap("k")
	}
	m.PutStr("password", "deep-secret")
	m.PutStr("note", "deep-value")
	m.PutDouble("ratio", math.NaN())
}

// containerDepth is how many levels of maps and slices v holds.
func containerDepth(v pcommon.Value) int {
	deepest := 0
	switch v.Type() {
	case pcommon.ValueTypeMap:
		for _, el := range v.Map().All() {
			deepest = max(deepest, containerDepth(el))
		}
	case pcommon.ValueTypeSlice:
		for i := 0; i < v.Slice().Len(); i++ {
			deepest = max(deepest, containerDepth(v.Slice().At(i)))
		}
	default:
		return 0
	}
	return deepest + 1
}

// TestDeepValuesSurviveTheQueue: an OTLP/JSON record may nest deeper than
// protobuf can decode, and the persistent queue stores batches as protobuf,
// so such a record used to vanish there. After the processor every value
// keeps at most maxStoredDepth levels, the rest is JSON text (masked), and
// the batch survives a protobuf round trip with every record in it.
func TestDeepValuesSurviveTheQueue(t *testing.T) {
	p, sink := newMasking(t, nil)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	nest(rl.Resource().Attributes().PutEmptyMap("deep"), 60)
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	deep := lrs.AppendEmpty()
	nest(deep.Attributes().PutEmptyMap("deep"), 60)
	nest(deep.Body().SetEmptyMap(), 60)
	shallow := lrs.AppendEmpty()
	nest(shallow.Attributes().PutEmptyMap("shallow"), 10)
	shallowDepth := containerDepth(mustGet(t, shallow.Attributes(), "shallow"))
	if shallowDepth > maxStoredDepth {
		t.Fatalf("the shallow value has %d levels, more than %d", shallowDepth, maxStoredDepth)
	}

	before, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(before); err == nil {
		t.Fatal("the unprocessed batch decodes: the test no longer shows the queue's limit")
	}
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	out := sink.AllLogs()[0]
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(out)
	if err != nil {
		t.Fatal(err)
	}
	back, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b)
	if err != nil {
		t.Fatalf("processed batch does not survive protobuf: %v", err)
	}
	if back.LogRecordCount() != 2 {
		t.Fatalf("%d records after the round trip, want 2", back.LogRecordCount())
	}

	got := back.ResourceLogs().At(0)
	r := got.ScopeLogs().At(0).LogRecords()
	for name, v := range map[string]pcommon.Value{
		"resource attribute": mustGet(t, got.Resource().Attributes(), "deep"),
		"attribute":          mustGet(t, r.At(0).Attributes(), "deep"),
		"log body":           r.At(0).Body(),
	} {
		if d := containerDepth(v); d > maxStoredDepth {
			t.Errorf("%s keeps %d levels, want at most %d", name, d, maxStoredDepth)
		}
		text := dumpValue(v)
		if strings.Contains(text, "deep-secret") {
			t.Errorf("%s: the secret below the flattened level is unmasked: %s", name, text)
		}
		if !strings.Contains(text, "deep-value") || !strings.Contains(text, `NaN`) {
			t.Errorf("%s lost values below the flattened level: %s", name, text)
		}
	}
	if d := containerDepth(mustGet(t, r.At(1).Attributes(), "shallow")); d != shallowDepth {
		t.Errorf("a value %d levels deep was changed to %d levels", shallowDepth, d)
	}
}

// TestFlattenedTextIsJSON: the text a deep value becomes parses as JSON.
func TestFlattenedTextIsJSON(t *testing.T) {
	v := pcommon.NewValueMap()
	m := v.Map()
	m.PutStr("s", "quote \" nul \x00 bad \xff")
	m.PutDouble("inf", math.Inf(-1))
	m.PutEmptyBytes("b").FromRaw([]byte{0, 1, 2})
	m.PutEmptySlice("l").AppendEmpty().SetBool(true)
	m.PutEmpty("nothing")
	var parsed map[string]any
	if err := json.Unmarshal(appendJSON(nil, v), &parsed); err != nil {
		t.Fatalf("%s: %v", appendJSON(nil, v), err)
	}
	if parsed["inf"] != "-Inf" || parsed["b"] != "AAEC" || parsed["nothing"] != nil {
		t.Errorf("unexpected values: %v", parsed)
	}
}

// TestBodiesCutAtMaxSizeAreFlagged: a body longer than max_size is cut by
// the engine, and the record says so, so that no store keeps a cut body
// with truncated = false.
func TestBodiesCutAtMaxSizeAreFlagged(t *testing.T) {
	p, sink := newMasking(t, func(c *Config) { c.MaxSize = 64 })
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	long := strings.Repeat("a", 200)
	cut := lrs.AppendEmpty().Attributes()
	cut.PutStr(auditconv.HTTPRequestBodyContent, long)
	cut.PutEmptyBytes(auditconv.HTTPResponseBodyContent).FromRaw(append([]byte{0xff}, long...))
	whole := lrs.AppendEmpty().Attributes()
	whole.PutStr(auditconv.HTTPRequestBodyContent, "short")
	whole.PutStr(auditconv.HTTPResponseBodyContent, strings.Repeat("b", 64))
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	r := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for _, key := range []string{auditconv.RequestBodyTruncated, auditconv.ResponseBodyTruncated} {
		if v, ok := r.At(0).Attributes().Get(key); !ok || !v.Bool() {
			t.Errorf("cut body: %s missing", key)
		}
		if _, ok := r.At(1).Attributes().Get(key); ok {
			t.Errorf("whole body: %s set", key)
		}
	}
	if got := mustGet(t, r.At(0).Attributes(), auditconv.HTTPRequestBodyContent).Str(); len(got) >= len(long) {
		t.Errorf("body of %d bytes was not cut at max_size: %d bytes", len(long), len(got))
	}
}

func mustGet(t *testing.T, m pcommon.Map, key string) pcommon.Value {
	t.Helper()
	v, ok := m.Get(key)
	if !ok {
		t.Fatalf("%s missing", key)
	}
	return v
}

func dumpValue(v pcommon.Value) string {
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return string(appendJSON(nil, v))
}
