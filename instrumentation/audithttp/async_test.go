package audithttp_test

import (
	"context"
	"errors"
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

	mu   sync.Mutex
	recs []sdklog.Record
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

func (g *gate) OnEmit(_ context.Context, r *sdklog.Record) error {
	if p := recordPath(r); g.hold != nil && g.hold(p) {
		g.held <- p
		<-g.release
	}
	g.mu.Lock()
	g.recs = append(g.recs, r.Clone())
	g.mu.Unlock()
	return nil
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

// TestResponseIsCompleteBeforeTheRecord: the pipeline holds the record
// until the test releases it, after the client has read the whole
// response; the record is then emitted, masked, by Flush.
func TestResponseIsCompleteBeforeTheRecord(t *testing.T) {
	g, lp := newGate(t, func(p string) bool { return p == "/slow" })
	srv := g.serve(t, lp, echoPath)

	if body := get(t, srv, "/slow"); !strings.Contains(body, `"/slow"`) {
		t.Fatalf("response %q", body)
	}
	g.waitHeld(t, "/slow")
	if n := g.kept("/slow"); n != 0 {
		t.Fatalf("%d records kept while the pipeline holds it", n)
	}
	g.open()
	flush(t)
	recs := g.all()
	if len(recs) != 1 {
		t.Fatalf("%d records after Flush, want 1", len(recs))
	}
	a := attrs(recs[0])
	if got := str(t, a, auditconv.HTTPResponseBodyContent); !strings.Contains(got, `"/slow"`) || strings.Contains(got, "tok-secret") {
		t.Errorf("response body recorded as %q", got)
	}
	if got := str(t, a, auditconv.HTTPRequestBodyContent); strings.Contains(got, "hunter2") || !strings.Contains(got, `"n":1`) {
		t.Errorf("request body recorded as %q", got)
	}
}

// TestWithAsyncFalseEmitsBeforeTheResponse: without the pool the record is
// emitted before the client has the response.
func TestWithAsyncFalseEmitsBeforeTheResponse(t *testing.T) {
	g, lp := newGate(t, nil)
	srv := g.serve(t, lp, echoPath, audithttp.WithAsync(false))
	get(t, srv, "/now")
	if n := g.kept("/now"); n != 1 {
		t.Fatalf("%d records when the response arrived, want 1", n)
	}
}

// TestFlushEmitsEverythingPending: records queued behind a stuck one are
// all emitted by the time Flush returns; a Flush whose context ends first
// says so.
func TestFlushEmitsEverythingPending(t *testing.T) {
	defer audithttp.UsePool(1, 16, 1<<20)()
	g, lp := newGate(t, func(p string) bool { return p == "/hold" })
	srv := g.serve(t, lp, echoPath)

	get(t, srv, "/hold")
	g.waitHeld(t, "/hold")
	const queued = 5
	for i := range queued {
		get(t, srv, fmt.Sprintf("/q%d", i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := audithttp.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush with records held and a canceled context: %v", err)
	}
	if n := len(g.all()); n != 0 {
		t.Fatalf("%d records kept behind the held one", n)
	}
	g.open()
	flush(t)
	if n := len(g.all()); n != queued+1 {
		t.Fatalf("%d records after Flush, want %d", n, queued+1)
	}
	for i := range queued {
		if n := g.kept(fmt.Sprintf("/q%d", i)); n != 1 {
			t.Errorf("/q%d: %d records", i, n)
		}
	}
}

// TestSaturatedPoolRecordsInline: with one worker stuck and the queue full,
// the next request's record is emitted before its response, and every
// request has its record.
func TestSaturatedPoolRecordsInline(t *testing.T) {
	defer audithttp.UsePool(1, 1, 1<<20)()
	g, lp := newGate(t, func(p string) bool { return p == "/a" })
	srv := g.serve(t, lp, echoPath)

	get(t, srv, "/a")
	g.waitHeld(t, "/a") // the worker is stuck
	get(t, srv, "/b")   // queued
	get(t, srv, "/c")   // no room: inline
	if g.kept("/c") != 1 || g.kept("/b") != 0 {
		t.Fatalf("records when /c was answered: /b %d, /c %d; want 0 and 1", g.kept("/b"), g.kept("/c"))
	}
	g.open()
	flush(t)
	for _, p := range []string{"/a", "/b", "/c"} {
		if n := g.kept(p); n != 1 {
			t.Errorf("%s: %d records, want 1", p, n)
		}
	}
}

// TestQueuedMemoryIsBounded: the captures the pool holds never exceed its
// byte budget; past it records are emitted inline.
func TestQueuedMemoryIsBounded(t *testing.T) {
	const budget = 4 << 10
	defer audithttp.UsePool(1, 100, budget)()
	g, lp := newGate(t, func(p string) bool { return p == "/hold" })
	srv := g.serve(t, lp, echoPath)

	get(t, srv, "/hold")
	g.waitHeld(t, "/hold")
	held := audithttp.QueuedBytes()
	if held <= 0 {
		t.Fatalf("the held exchange's captures are not counted (%d bytes)", held)
	}
	queued, inline := 0, 0
	for i := range 40 {
		p := fmt.Sprintf("/n%d", i)
		get(t, srv, p)
		if q := audithttp.QueuedBytes(); q > budget {
			t.Fatalf("after %s the pool holds %d bytes of captures, budget %d", p, q, budget)
		}
		if g.kept(p) == 1 {
			inline++
		} else {
			queued++
		}
	}
	if queued == 0 || inline == 0 {
		t.Fatalf("%d queued, %d inline: the budget was never reached or never used", queued, inline)
	}
	g.open()
	flush(t)
	if n := len(g.all()); n != 41 {
		t.Errorf("%d records, want 41", n)
	}
	if q := audithttp.QueuedBytes(); q != 0 {
		t.Errorf("%d bytes still counted after Flush", q)
	}
}

// TestPanicRecordedAfterTheResponse: a panicking handler's client gets
// its answer (the aborted connection) while the record is held; the record
// shows the panic where it happened.
func TestPanicRecordedAfterTheResponse(t *testing.T) {
	g, lp := newGate(t, func(p string) bool { return p == "/panic" })
	srv := g.serve(t, lp, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("kaboom")
	}))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/panic", nil)
	_, err := srv.Client().Do(req)
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("client: %v; want the connection aborted by the panic, at once", err)
	}
	g.waitHeld(t, "/panic")
	g.open()
	flush(t)
	recs := g.all()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	a := attrs(recs[0])
	if a[auditconv.ErrorType].AsString() != auditconv.ErrorTypePanic || num(t, a, auditconv.HTTPResponseStatusCode) != 500 {
		t.Errorf("error.type %v, status %v", a[auditconv.ErrorType], a[auditconv.HTTPResponseStatusCode])
	}
	if st := str(t, a, auditconv.ExceptionStacktrace); !strings.Contains(st, "TestPanicRecordedAfterTheResponse") {
		t.Errorf("the stack is not the handler's:\n%s", st)
	}
}

// TestOneRecordPerRequestUnderLoad: concurrent clients against a small
// pool, so that records go both through it and inline: each request has
// exactly one record, built from its own exchange.
func TestOneRecordPerRequestUnderLoad(t *testing.T) {
	defer audithttp.UsePool(2, 4, 1<<20)()
	g, lp := newGate(t, nil)
	srv := g.serve(t, lp, echoPath)

	const clients, each = 8, 40
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				get(t, srv, fmt.Sprintf("/c%d/r%d", c, i))
			}
		})
	}
	wg.Wait()
	flush(t)
	recs := g.all()
	if len(recs) != clients*each {
		t.Fatalf("%d records for %d requests", len(recs), clients*each)
	}
	seen := map[string]int{}
	for _, r := range recs {
		a := attrs(r)
		p := str(t, a, auditconv.URLPath)
		seen[p]++
		if body := str(t, a, auditconv.HTTPResponseBodyContent); !strings.Contains(body, fmt.Sprintf("%q", p)) {
			t.Errorf("record of %s holds the response body %q", p, body)
		}
	}
	if len(seen) != clients*each {
		t.Errorf("%d distinct paths recorded, want %d", len(seen), clients*each)
	}
}

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

// TestFailClosedEmitsBeforeTheResponse: a service that fails closed gets
// its record before the response unless it asks for the pool.
func TestFailClosedEmitsBeforeTheResponse(t *testing.T) {
	healthy := func() error { return nil }
	g, lp := newGate(t, func(p string) bool { return p == "/async" })
	srv := g.serve(t, lp, echoPath, audithttp.WithFailClosed(healthy))
	get(t, srv, "/inline")
	if n := g.kept("/inline"); n != 1 {
		t.Fatalf("%d records when the response arrived, want 1", n)
	}
	srv = g.serve(t, lp, echoPath, audithttp.WithFailClosed(healthy), audithttp.WithAsync(true))
	get(t, srv, "/async") // held: answered only if the record is emitted after
	g.waitHeld(t, "/async")
	g.open()
	flush(t)
	if n := g.kept("/async"); n != 1 {
		t.Fatalf("%d records of /async", n)
	}
}
