package audithttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

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

// blocker is a handler that, for the path /long, says it has started and
// then waits until release is closed, keeping a request running; other
// paths are echoed.
type blocker struct {
	started chan struct{}
	release chan struct{}
}

// serveBlocker starts a gate server of a blocker. Cleanups run last-in
// first-out: /long is released before the server waits for it to end.
func serveBlocker(t *testing.T, g *gate, lp *sdklog.LoggerProvider) (*blocker, *httptest.Server) {
	b := &blocker{started: make(chan struct{}), release: make(chan struct{})}
	srv := g.serve(t, lp, b)
	t.Cleanup(b.open)
	return b, srv
}

func (b *blocker) open() {
	select {
	case <-b.release:
	default:
		close(b.release)
	}
}

func (b *blocker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/long" {
		close(b.started)
		<-b.release
	}
	echoPath.ServeHTTP(w, r)
}

// longRequest starts /long on srv and waits until its handler runs; the
// returned channel is closed when its response has been read.
func longRequest(t *testing.T, srv *httptest.Server, b *blocker) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := srv.Client().Get(srv.URL + "/long")
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	select {
	case <-b.started:
	case <-time.After(10 * time.Second):
		t.Fatal("/long never reached its handler")
	}
	return done
}

// notHeld fails the test if a record has reached the gate.
func notHeld(t *testing.T, g *gate, when string) {
	t.Helper()
	select {
	case p := <-g.held:
		t.Fatalf("the record of %s was emitted %s", p, when)
	default:
	}
}

// TestRecordWaitsWhileARequestRuns: a record whose batch is ready is not
// built while another request is being served, and is built as soon as
// that request ends, without Flush or another tick of the batch timer.
func TestRecordWaitsWhileARequestRuns(t *testing.T) {
	defer audithttp.UseWaitingPool(1, 16, 1<<20, time.Hour)()
	g, lp := newGate(t, func(p string) bool { return p == "/short" })
	b, srv := serveBlocker(t, g, lp)

	done := longRequest(t, srv, b)
	get(t, srv, "/short")
	audithttp.Tick()
	notHeld(t, g, "while /long was running")
	b.open()
	<-done
	g.waitHeld(t, "/short")
	g.open()
	flush(t)
	for _, p := range []string{"/short", "/long"} {
		if n := g.kept(p); n != 1 {
			t.Errorf("%s: %d records, want 1", p, n)
		}
	}
}

// TestRecordWaitIsBounded: in a service that is never idle (a request
// runs throughout), a record is still emitted, after its bounded wait,
// before that request ends and without Flush.
func TestRecordWaitIsBounded(t *testing.T) {
	defer audithttp.UseWaitingPool(1, 16, 1<<20, time.Millisecond)()
	g, lp := newGate(t, func(p string) bool { return p == "/short" })
	b, srv := serveBlocker(t, g, lp)

	done := longRequest(t, srv, b)
	get(t, srv, "/short")
	g.waitHeld(t, "/short")
	select {
	case <-done:
		t.Fatal("/long ended before the test let it")
	default:
	}
	g.open()
	b.open()
	<-done
	flush(t)
	if n := len(g.all()); n != 2 {
		t.Errorf("%d records, want 2", n)
	}
}

// TestRecordsPastHighWaterAreBuilt: records that pile up while a request
// runs are built once a quarter of the queue is taken, without waiting for
// the service to be idle or for their bounded wait.
func TestRecordsPastHighWaterAreBuilt(t *testing.T) {
	defer audithttp.UseWaitingPool(1, 8, 1<<20, time.Hour)() // high water: 2
	g, lp := newGate(t, func(p string) bool { return strings.HasPrefix(p, "/hw") })
	b, srv := serveBlocker(t, g, lp)

	done := longRequest(t, srv, b)
	get(t, srv, "/hw1")
	notHeld(t, g, "below the high-water mark")
	get(t, srv, "/hw2")
	g.waitHeld(t, "/hw1")
	g.open()
	b.open()
	<-done
	flush(t)
	for _, p := range []string{"/hw1", "/hw2", "/long"} {
		if n := g.kept(p); n != 1 {
			t.Errorf("%s: %d records, want 1", p, n)
		}
	}
}

// TestFlushDoesNotWaitForIdle: Flush emits a record that waits for the
// service to be idle while a request still runs.
func TestFlushDoesNotWaitForIdle(t *testing.T) {
	defer audithttp.UseWaitingPool(1, 16, 1<<20, time.Hour)()
	g, lp := newGate(t, nil)
	b, srv := serveBlocker(t, g, lp)

	done := longRequest(t, srv, b)
	get(t, srv, "/short")
	flush(t)
	if n := g.kept("/short"); n != 1 {
		t.Fatalf("%d records of /short after Flush, want 1", n)
	}
	b.open()
	<-done
	flush(t) // /long's, before its pool is replaced
}
