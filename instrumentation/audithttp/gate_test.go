package audithttp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// gate is a log processor that keeps every record it is given, except
// that the records of the paths hold selects wait until release is closed:
// a pipeline that is stuck for some records only.
type gate struct {
	hold    func(path string) bool
	held    chan string // the path of each record as it starts waiting
	release chan struct{}
	once    sync.Once

	mu     sync.Mutex
	recs   []sdklog.Record
	ctxErr map[string]error // per path, the emit context's Err once the record passes
}

func newGate(t *testing.T, hold func(string) bool) (*gate, *sdklog.LoggerProvider) {
	g := &gate{hold: hold, held: make(chan string, 1024), release: make(chan struct{})}
	lp := sdklog.NewLoggerProvider(sdklog.WithAllowKeyDuplication(), sdklog.WithProcessor(g))
	// Cleanups run last-in first-out: release before the provider stops.
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	t.Cleanup(g.open)
	return g, lp
}

// serve starts a server of h wrapped by audithttp with the gate's provider.
// It stops after the gate opens, as it waits for its handlers. Its error
// log is discarded: the panics of the handlers tested are expected.
func (g *gate) serve(t *testing.T, lp *sdklog.LoggerProvider, h http.Handler, opts ...audithttp.Option) *httptest.Server {
	srv := httptest.NewUnstartedServer(audithttp.NewHandler(h, "op", append([]audithttp.Option{audithttp.WithLoggerProvider(lp)}, opts...)...))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(func() {
		g.open()
		srv.Close()
	})
	return srv
}

// open releases the records held and lets every later one pass.
func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func recordPath(r *sdklog.Record) string {
	p := ""
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		switch kv.Key {
		case auditconv.URLPath:
			p = kv.Value.AsString()
			return false
		case auditconv.URLFull:
			if u, err := url.Parse(kv.Value.AsString()); err == nil {
				p = u.Path
			}
			return false
		}
		return true
	})
	return p
}

func (g *gate) OnEmit(ctx context.Context, r *sdklog.Record) error {
	p := recordPath(r)
	if g.hold != nil && g.hold(p) {
		g.held <- p
		<-g.release
	}
	g.mu.Lock()
	g.recs = append(g.recs, r.Clone())
	if g.ctxErr == nil {
		g.ctxErr = map[string]error{}
	}
	g.ctxErr[p] = ctx.Err()
	g.mu.Unlock()
	return nil
}

// emitErr returns the Err of the context the record of path was emitted
// with, as it was when the record passed the gate.
func (g *gate) emitErr(path string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ctxErr[path]
}

func (*gate) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*gate) Shutdown(context.Context) error                         { return nil }
func (*gate) ForceFlush(context.Context) error                       { return nil }

// kept returns how many records of path the gate has kept.
func (g *gate) kept(path string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for i := range g.recs {
		if recordPath(&g.recs[i]) == path {
			n++
		}
	}
	return n
}

func (g *gate) all() []sdklog.Record {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sdklog.Record(nil), g.recs...)
}

// waitHeld waits until the record of path is held by the gate.
func (g *gate) waitHeld(t *testing.T, path string) {
	t.Helper()
	select {
	case p := <-g.held:
		if p != path {
			t.Fatalf("held %s, want %s", p, path)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the record of %s never reached the pipeline", path)
	}
}

func flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := audithttp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// get requests path and returns the body; it fails the test when the
// response does not come within a generous bound (a client waiting for a
// stuck pipeline).
func get(t *testing.T, srv *httptest.Server, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+path, strings.NewReader(`{"password":"hunter2","n":1}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b)
}

// echoPath answers with a JSON document naming the request's path and
// holding a secret.
var echoPath = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"path":%q,"token":"tok-secret"}`, r.URL.Path)
})
