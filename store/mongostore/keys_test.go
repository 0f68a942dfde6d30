package mongostore

import "testing"

func TestKeyEncodingIsReversible(t *testing.T) {
	for _, k := range []string{"", "plain", "a.b", "$where", "a$b", "%", "%2E", "100%", "x.%24.y", "nul\x00key", "%zz", "%2"} {
		enc := encodeKey(k)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c == '.' || c == '$' || c == 0 {
				t.Errorf("encodeKey(%q) = %q still holds %q", k, enc, c)
			}
		}
		if got := decodeKey(enc); got != k {
			t.Errorf("decodeKey(encodeKey(%q)) = %q", k, got)
		}
	}
	clean := map[string]any{"a": map[string]any{"b": []any{1}}}
	if v := encodeValue(clean); v.(map[string]any)["a"].(map[string]any)["b"].([]any)[0] != 1 {
		t.Error("clean value changed")
	}
	dirty := map[string]any{"a": []any{map[string]any{"x.y": 1}}}
	got := encodeValue(dirty).(map[string]any)["a"].([]any)[0].(map[string]any)
	if _, ok := got["x%2Ey"]; !ok {
		t.Errorf("nested key not encoded: %v", got)
	}
}
