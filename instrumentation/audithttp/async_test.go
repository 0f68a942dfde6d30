package audithttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestRecordContextOutlivesTheRequest: a record built after the exchange
// is emitted with the request's context but not its cancellation, which
// net/http triggers as ServeHTTP returns: a processor that honours the
// context still takes the record.
func TestRecordContextOutlivesTheRequest(t *testing.T) {
	g, lp := newGate(t, func(p string) bool { return p == "/slow" })
	srv := g.serve(t, lp, echoPath)
	get(t, srv, "/slow") // the whole response read: ServeHTTP has returned
	g.waitHeld(t, "/slow")
	g.open()
	flush(t)
	if g.kept("/slow") != 1 {
		t.Fatal("record not emitted")
	}
	if err := g.emitErr("/slow"); err != nil {
		t.Errorf("the record's context was done when it was emitted: %v", err)
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
