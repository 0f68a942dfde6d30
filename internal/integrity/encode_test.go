package integrity

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAppendStringEscapesAtEveryOffset: the eight-bytes-at-a-time scan
// finds a byte to escape wherever it falls, and the result reads back as
// the sanitized string.
func TestAppendStringEscapesAtEveryOffset(t *testing.T) {
	for _, special := range []string{"\"", "\\", "\n", "\x01", "\x1f", "\x00", "\t"} {
		for i := 0; i < 20; i++ {
			s := strings.Repeat("a", i) + special + strings.Repeat("é", 5) + special
			var back string
			if err := json.Unmarshal(appendString(nil, s), &back); err != nil || back != sanitize(s) {
				t.Fatalf("%q: read back %q, %v", s, back, err)
			}
		}
	}
}
