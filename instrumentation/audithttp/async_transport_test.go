package audithttp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// TestTransportRecordAfterClose: the caller of an audited outbound call
// gets the body and closes it while the record is held, and may then reuse
// the request: the record shows the call as it was made.
func TestTransportRecordAfterClose(t *testing.T) {
	g, lp := newGate(t, func(p string) bool { return p == "/out" })
	srv := httptest.NewServer(echoPath)
	defer srv.Close()
	client := &http.Client{Transport: audithttp.NewTransport(nil, audithttp.WithLoggerProvider(lp))}

	req, _ := http.NewRequest("POST", srv.URL+"/out", strings.NewReader(`{"password":"hunter2"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Step", "one")
	done := make(chan error, 1)
	go func() {
		resp, err := client.Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		g.open()
		t.Fatal("the caller waited for the record")
	}
	req.Header.Set("X-Step", "two") // the caller's to reuse once the body is closed
	g.waitHeld(t, "/out")
	g.open()
	flush(t)
	recs := g.all()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	a := attrs(recs[0])
	if v := a["http.request.header.x-step"].AsStringSlice(); len(v) != 1 || v[0] != "one" {
		t.Errorf("x-step recorded as %q, want the header as sent", v)
	}
	if body := str(t, a, auditconv.HTTPResponseBodyContent); !strings.Contains(body, `"/out"`) || strings.Contains(body, "tok-secret") {
		t.Errorf("response body %q", body)
	}
	if body := str(t, a, auditconv.HTTPRequestBodyContent); strings.Contains(body, "hunter2") {
		t.Errorf("request body %q", body)
	}
}
