package audithttp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

func TestSessionCookieIsHashed(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		audithttp.WithSessionCookie("sid", []byte("k")))
	var ids []string
	for i := 0; i < 2; i++ {
		req := mustReq("GET", srv.URL, nil)
		req.AddCookie(&http.Cookie{Name: "sid", Value: "raw-session-value"})
		mustDo(t, srv.Client(), req)
	}
	for _, r := range rec.wait(t, 2) {
		ids = append(ids, attrs(r)[auditconv.SessionID].AsString())
		assertNoSecret(t, &r, "raw-session-value")
	}
	if !strings.HasPrefix(ids[0], "hmac:") || len(ids[0]) != 5+64 || ids[0] != ids[1] {
		t.Errorf("session ids %q", ids)
	}
}
