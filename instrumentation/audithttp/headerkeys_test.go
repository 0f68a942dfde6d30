package audithttp

import (
	"net/http"
	"testing"
)

// headerValue must read exactly what Header.Get reads for the canonical
// keys the package asks for: the first value, "" when absent or empty.
func TestHeaderValueIsGet(t *testing.T) {
	h := http.Header{}
	h.Set("content-type", "application/json") // stored canonical
	h.Add("Content-Encoding", "gzip")
	h.Add("Content-Encoding", "br")
	h["Transfer-Encoding"] = []string{}
	h["x-forwarded-proto"] = []string{"https"} // not canonical: Get does not find it either
	for _, key := range []string{"Content-Type", "Content-Encoding", "Transfer-Encoding", "Content-Length", "X-Forwarded-Proto"} {
		if got, want := headerValue(h, key), h.Get(key); got != want {
			t.Errorf("headerValue(%q) = %q, Header.Get = %q", key, got, want)
		}
	}
	if got := headerValue(h, "Content-Encoding"); got != "gzip" {
		t.Errorf("headerValue(Content-Encoding) = %q, want the first value", got)
	}
}
