package audithttp_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// TestFailClosed: while health reports an error an audited request gets 503
// and the handler is not called; once health recovers requests are served
// and audited again; an excluded path is served throughout.
func TestFailClosed(t *testing.T) {
	var calls atomic.Int32
	var unhealthy atomic.Bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write([]byte("ok"))
	})
	health := func() error {
		if unhealthy.Load() {
			return errors.New("spool full")
		}
		return nil
	}
	srv, rec := setup(t, h, audithttp.WithFailClosed(health), audithttp.WithExcludePaths("/healthz"))

	get := func(path string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+path, nil)
		resp, _ := mustDo(t, srv.Client(), req)
		return resp
	}
	if resp := get("/pay"); resp.StatusCode != 200 {
		t.Fatalf("healthy: status %d", resp.StatusCode)
	}
	rec.wait(t, 1)

	unhealthy.Store(true)
	resp := get("/pay")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("unhealthy: status %d, want 503", resp.StatusCode)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if calls.Load() != 1 {
		t.Errorf("handler called %d times, want 1 (not for the refused request)", calls.Load())
	}
	if resp := get("/healthz"); resp.StatusCode != 200 || calls.Load() != 2 {
		t.Errorf("excluded path while unhealthy: status %d, calls %d", resp.StatusCode, calls.Load())
	}

	unhealthy.Store(false)
	if resp := get("/pay"); resp.StatusCode != 200 {
		t.Fatalf("recovered: status %d", resp.StatusCode)
	}
	rec.wait(t, 2)
	if n := rec.count(); n != 2 {
		t.Errorf("%d records, want 2 (the refused request is not audited)", n)
	}
}

// TestFailClosedOffByDefault: without the option the handler is always called.
func TestFailClosedOffByDefault(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	if resp, _ := mustDo(t, srv.Client(), req); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rec.wait(t, 1)
}
