package auditconv

import (
	"encoding/json"
	"strings"
	"testing"
	"unsafe"
)

// TestAppendJSONStringEscapesAtEveryOffset: the eight-bytes-at-a-time scan
// finds a byte to escape wherever it falls, and the result reads back as
// the stored text, from a string and from bytes alike.
func TestAppendJSONStringEscapesAtEveryOffset(t *testing.T) {
	for _, special := range []string{"\"", "\\", "\n", "\r", "\x01", "\x1f", "\x00", "\t"} {
		for i := 0; i < 20; i++ {
			s := strings.Repeat("a", i) + special + strings.Repeat("é", 5) + special
			checkReadsBack(t, s)
		}
	}
}

// TestAppendJSONStringForm pins the form: short escapes where JSON has
// them, \u00XX for other control bytes, everything else (HTML, DEL,
// U+2028) as it is.
func TestAppendJSONStringForm(t *testing.T) {
	in := "a\"b\\c\nd\re\tf\x01g\x1f<&>\x7f\u2028"
	want := `"a\"b\\c\nd\re\tf\u0001g\u001f<&>` + "\x7f\u2028" + `"`
	if got := string(AppendJSONString(nil, in)); got != want {
		t.Errorf("AppendJSONString(%q) = %s, want %s", in, got, want)
	}
	if got := string(AppendJSONString([]byte("x"), []byte(in))); got != "x"+want {
		t.Errorf("from bytes, after a prefix: %s, want x%s", got, want)
	}
}

// TestStoredText: valid text is returned as it is, without a copy; NUL and
// invalid UTF-8 become U+FFFD.
func TestStoredText(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"plain é":      "plain é",
		"a\x00b":       "a\uFFFDb",
		"a\xffb":       "a\uFFFDb",
		"\xff\xfe\x00": "\uFFFD\uFFFD",
	} {
		if got := StoredText(in); got != want {
			t.Errorf("StoredText(%q) = %q, want %q", in, got, want)
		}
	}
	s := "no change"
	if got := StoredText(s); unsafe.StringData(got) != unsafe.StringData(s) {
		t.Errorf("StoredText(%q) copied valid text", s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "\x00", "\xff", "\"\\", "\u2028", "\x7f", "0123456789\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkReadsBack(t, s)
		if a, b := AppendJSONString(nil, s), AppendJSONString(nil, []byte(s)); string(a) != string(b) {
			t.Fatalf("%q: from a string %q, from bytes %q", s, a, b)
		}
	})
}

// checkReadsBack fails t unless s, as stored text in a JSON string, is
// valid JSON that decodes to that text.
func checkReadsBack(t *testing.T, s string) {
	t.Helper()
	b := AppendJSONText(nil, s)
	var back string
	if err := json.Unmarshal(b, &back); err != nil || back != StoredText(s) {
		t.Fatalf("%q: %s read back as %q, %v", s, b, back, err)
	}
}
