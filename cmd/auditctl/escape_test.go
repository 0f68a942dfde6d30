package main

import (
	"encoding/json"
	"testing"
)

func TestEscapeTerminal(t *testing.T) {
	cases := map[string]string{
		"/api/v1/items?x=1":           "/api/v1/items?x=1",
		"naïve café ✓ 日本":             "naïve café ✓ 日本",
		"a\x1b[2Jb":                   `a\x1b[2Jb`,
		"bell\x07":                    `bell\x07`,
		"hide\rforged":                `hide\rforged`,
		"two\nlines\ttab":             `two\nlines\ttab`,
		"nul\x00del\x7f":              `nul\x00del\x7f`,
		"c1 \u0085 \u009b[31m":        `c1 \u0085 \u009b[31m`,
		"bidi \u202eevil\u202c":       `bidi \u202eevil\u202c`,
		"isolate \u2066x\u2069":       `isolate \u2066x\u2069`,
		"marks \u200e\u200f\u061c":    `marks \u200e\u200f\u061c`,
		"separators \u2028\u2029":     `separators \u2028\u2029`,
		"bad \xff\xfe utf8 \xe2\x82":  `bad \xff\xfe utf8 \xe2\x82`,
		`C:\path \x1b stays as typed`: `C:\path \x1b stays as typed`,
		"emoji 👩‍💻 keeps its joiner":  "emoji 👩‍💻 keeps its joiner",
	}
	for in, want := range cases {
		if got := escapeTerminal(in); got != want {
			t.Errorf("escapeTerminal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeJSONKeepsTheValue(t *testing.T) {
	in := map[string]string{"k\u202e": "del\x7f c1\u0085 bidi\u2067 esc\x1b ok ✓"}
	b, err := json.MarshalIndent(in, "", "  ") // its newlines are the indentation
	if err != nil {
		t.Fatal(err)
	}
	out := escapeJSON(b)
	for _, r := range string(out) {
		if r != '\n' && needsEscape(r) {
			t.Fatalf("%q left raw in %s", r, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["k\u202e"] != in["k\u202e"] {
		t.Errorf("escaped JSON %s decodes to %q (%v), want %q", out, back, err, in)
	}
}
