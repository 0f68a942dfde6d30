package pgstore

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// TestAppendJSON checks the direct encoder against encoding/json: the same
// values come back, with text fixed as the text columns fix it.
func TestAppendJSON(t *testing.T) {
	for _, c := range []struct {
		in   any
		want any // what decoding the output must give
	}{
		{map[string]any{"s": "plain", "n": int64(-7), "f": 1.5, "b": true, "nil": nil}, map[string]any{"s": "plain", "n": -7.0, "f": 1.5, "b": true, "nil": nil}},
		{map[string]any{"q": "a\"b\\c\n\r\t\x01\x1f</>&\u2028"}, map[string]any{"q": "a\"b\\c\n\r\t\x01\x1f</>&\u2028"}},
		{map[string]any{"nul\x00key": "x\x00y", "bad": "\xff\xfe ok"}, map[string]any{"nul\uFFFDkey": "x\uFFFDy", "bad": "\uFFFD ok"}},
		{map[string]any{"nan": math.NaN(), "inf": math.Inf(-1), "big": 1e300, "small": 5e-324}, map[string]any{"nan": "NaN", "inf": "-Inf", "big": 1e300, "small": 5e-324}},
		{map[string]any{"bytes": []byte{0, 1, 254, 255}}, map[string]any{"bytes": "AAH+/w=="}},
		{map[string]any{"list": []any{"a", int64(1), []any{}, map[string]any{"k": []any{nil}}}}, map[string]any{"list": []any{"a", 1.0, []any{}, map[string]any{"k": []any{nil}}}}},
		{map[string][]string{"accept": {"a", "b\x00"}, "x-empty": {}}, map[string]any{"accept": []any{"a", "b\uFFFD"}, "x-empty": []any{}}},
		{map[string]any{"other": int32(3), "u": uint64(1 << 63)}, map[string]any{"other": 3.0, "u": float64(1 << 63)}}, // through encoding/json
		{"body string", "body string"},
	} {
		b, err := appendJSON(nil, c.in)
		if err != nil {
			t.Fatalf("%v: %v", c.in, err)
		}
		var got any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%v: output %q is not JSON: %v", c.in, b, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v:\n got %#v\nwant %#v", c.in, got, c.want)
		}
	}
	if _, err := appendJSON(nil, map[string]any{"ch": make(chan int)}); err == nil {
		t.Error("a value JSON cannot hold encoded without error")
	}
	for _, empty := range []any{nil, map[string]any{}, map[string][]string{}} {
		if v, err := jsonValue(empty); v != nil || err != nil {
			t.Errorf("jsonValue(%#v) = %v, %v; want NULL", empty, v, err)
		}
	}
}

// BenchmarkJSONColumn encodes the jsonb columns of a typical record (two
// header maps, attributes, resource); the baseline is encoding/json on the
// same values.
func BenchmarkJSONColumn(b *testing.B) {
	headers := map[string][]string{
		"accept": {"application/json"}, "authorization": {"****"}, "content-type": {"application/json"},
		"user-agent": {"Mozilla/5.0 (X11; Linux x86_64)"}, "x-request-id": {"4f1c2a9e-77c3-4b0e-9a51-0d7b2c6e8f10"},
		"accept-encoding": {"gzip, deflate"}, "traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	}
	attrs := map[string]any{
		"audit.masking.count": int64(2), "audit.sampling.rate": 0.25, "tenant": "acme",
		"feature.flags": []any{"a", "b"}, "http.request.body.size": int64(2048), "retry": false,
	}
	resource := map[string]any{"service.name": "orders", "service.version": "1.4.2", "host.name": "pod-7f9c"}
	values := []any{headers, headers, attrs, resource}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, v := range values {
				if _, err := json.Marshal(v); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("jsonValue", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, v := range values {
				if _, err := jsonValue(v); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
