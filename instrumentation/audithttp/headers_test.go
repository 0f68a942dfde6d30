package audithttp_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

func TestHeadersOffAndCRLFInHeaderValues(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Evil", "a\r\nInjected: yes")
	}))
	resp, _ := mustDo(t, srv.Client(), mustReq("GET", srv.URL, nil))
	if resp.Header.Get("Injected") != "" {
		t.Fatal("header injection reached the client")
	}
	a := attrs(rec.wait(t, 1)[0])
	if v := a["http.response.header.x-evil"].AsStringSlice(); len(v) != 1 || !strings.Contains(v[0], "Injected") {
		t.Errorf("x-evil recorded as %q", v)
	}

	// A folded (obs-fold) request header sent raw.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /fold HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\nConnection: close\r\n\r\n")
	raw, _ := io.ReadAll(conn)
	switch {
	case bytes.HasPrefix(raw, []byte("HTTP/1.1 200")):
		a := attrs(rec.wait(t, 2)[1])
		if v := a["http.request.header.x-folded"].AsStringSlice(); len(v) != 1 || strings.ContainsAny(v[0], "\r\n") {
			t.Errorf("folded header recorded as %q", v)
		}
	case bytes.HasPrefix(raw, []byte("HTTP/1.1 400")):
		if rec.count() != 1 {
			t.Errorf("a request net/http refused was audited")
		}
	default:
		t.Errorf("unexpected response %q", raw)
	}

	srv2, rec2 := setup(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), audithttp.WithHeaders(false))
	req := mustReq("GET", srv2.URL, nil)
	req.Header.Set("X-Anything", "1")
	mustDo(t, srv2.Client(), req)
	for k := range attrs(rec2.wait(t, 1)[0]) {
		if strings.HasPrefix(k, "http.request.header.") || strings.HasPrefix(k, "http.response.header.") {
			t.Errorf("WithHeaders(false) recorded %s", k)
		}
	}
}
