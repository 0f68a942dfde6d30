package audithttp

import (
	"bytes"
	"testing"
)

// TestCaptureSizedFromDeclaredLength: a body of declared length written in
// small pieces is kept in one buffer of that length, or of the limit when
// the declared length is larger; a declared length that is wrong changes
// only the buffer's first size, never what is kept.
func TestCaptureSizedFromDeclaredLength(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 300) // 3000 bytes
	for _, tc := range []struct {
		name        string
		limit       int
		size        int64
		wantCap     int
		wantKept    int
		wantTrunced bool
	}{
		{"declared", 4096, 3000, 3000, 3000, false},
		{"above the limit", 1000, 3000, 1000, 1000, true},
		{"declared too short", 4096, 100, -1, 3000, false},
		{"unknown", 4096, -1, -1, 3000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := capture{on: true, limit: tc.limit, size: tc.size}
			for p := body; len(p) > 0; p = p[min(len(p), 100):] {
				c.write(p[:min(len(p), 100)])
				if tc.wantCap > 0 && cap(c.buf) != tc.wantCap {
					t.Fatalf("buffer of %d bytes, want %d", cap(c.buf), tc.wantCap)
				}
			}
			if !bytes.Equal(c.buf, body[:tc.wantKept]) || c.truncated != tc.wantTrunced || c.total != int64(len(body)) {
				t.Errorf("kept %d bytes (truncated %v, total %d), want the first %d (truncated %v, total %d)",
					len(c.buf), c.truncated, c.total, tc.wantKept, tc.wantTrunced, len(body))
			}
		})
	}
}
