package audithttp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// auditedClient returns a client whose transport is base wrapped by
// NewTransport, and the recorder of its records.
func auditedClient(t *testing.T, base http.RoundTripper, opts ...audithttp.Option) (*http.Client, *recorder) {
	t.Helper()
	rec := newRecorder()
	lp := providerFor(t, rec)
	return &http.Client{Transport: audithttp.NewTransport(base, append([]audithttp.Option{audithttp.WithLoggerProvider(lp)}, opts...)...)}, rec
}

// echo answers with a JSON body holding a secret and a Set-Cookie header.
func echo(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Set-Cookie", "sid=resp-cookie-secret")
	_, _ = io.WriteString(w, `{"access_token":"resp-tok-secret","ok":true}`)
}

func newBase() *http.Transport { return http.DefaultTransport.(*http.Transport).Clone() }

func TestTransportRecordContract(t *testing.T) {
	for _, major := range []int{1, 2} {
		t.Run("HTTP/"+strconv.Itoa(major), func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(echo))
			srv.EnableHTTP2 = major == 2
			srv.StartTLS()
			t.Cleanup(srv.Close)
			client, rec := auditedClient(t, srv.Client().Transport)

			tid, _ := trace.TraceIDFromHex("0102030405060708090a0b0c0d0e0f10")
			sid, _ := trace.SpanIDFromHex("0102030405060708")
			ctx := trace.ContextWithSpanContext(context.Background(),
				trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
			u := strings.Replace(srv.URL, "https://", "https://user:url-pass-secret@", 1) + "/charge?api_key=qk-secret&amount=10#frag"
			body := `{"card":{"number":"4111111111111111","cvv":"123"},"password":"hunter2","amount":10}`
			req, _ := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer hdr-secret")
			resp, got := mustDo(t, client, req)
			if resp.ProtoMajor != major {
				t.Fatalf("proto %s, want HTTP/%d", resp.Proto, major)
			}
			if !strings.Contains(string(got), "resp-tok-secret") {
				t.Fatalf("caller saw %q, want the response unchanged", got)
			}

			r := rec.wait(t, 1)[0]
			if r.EventName() != auditconv.EventHTTPClient {
				t.Errorf("event %q", r.EventName())
			}
			if r.TraceID() != tid || r.SpanID() != sid {
				t.Errorf("trace %s/%s, want the caller's", r.TraceID(), r.SpanID())
			}
			a := attrs(r)
			full := str(t, a, auditconv.URLFull)
			host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			if !strings.HasPrefix(full, "https://"+host+":"+port+"/charge?") || strings.Contains(full, "user") ||
				!strings.Contains(full, "amount=10") || strings.Contains(full, "frag") {
				t.Errorf("url.full %q", full)
			}
			if str(t, a, auditconv.ServerAddress) != host || strconv.Itoa(int(num(t, a, auditconv.ServerPort))) != port {
				t.Errorf("server %v:%v", a[auditconv.ServerAddress], a[auditconv.ServerPort])
			}
			if str(t, a, auditconv.HTTPRequestMethod) != "POST" || num(t, a, auditconv.HTTPResponseStatusCode) != 200 {
				t.Errorf("method/status %v %v", a[auditconv.HTTPRequestMethod], a[auditconv.HTTPResponseStatusCode])
			}
			if num(t, a, auditconv.HTTPRequestBodySize) != int64(len(body)) || num(t, a, auditconv.HTTPResponseBodySize) != int64(len(got)) {
				t.Errorf("sizes %v %v", a[auditconv.HTTPRequestBodySize], a[auditconv.HTTPResponseBodySize])
			}
			if !strings.Contains(str(t, a, auditconv.HTTPRequestBodyContent), `"amount":10`) ||
				!strings.Contains(str(t, a, auditconv.HTTPResponseBodyContent), `"ok":true`) {
				t.Errorf("bodies %v / %v", a[auditconv.HTTPRequestBodyContent], a[auditconv.HTTPResponseBodyContent])
			}
			if _, ok := a[auditconv.RequestHeaderKey("Content-Type")]; !ok {
				t.Error("request headers missing")
			}
			if _, ok := a[auditconv.ResponseHeaderKey("Content-Type")]; !ok {
				t.Error("response headers missing")
			}
			if v := a[auditconv.HTTPClientRequestDuration]; v.Type() != attribute.FLOAT64 || v.AsFloat64() <= 0 {
				t.Errorf("duration %v", v)
			}
			if _, ok := a[auditconv.ErrorType]; ok {
				t.Errorf("error.type on a success: %v", a[auditconv.ErrorType])
			}
			assertNoSecret(t, &r, "url-pass-secret", "qk-secret", "hdr-secret", "4111111111111111", "hunter2",
				"resp-tok-secret", "resp-cookie-secret")
		})
	}
}

func TestTransportConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	client, rec := auditedClient(t, newBase())
	_, err = client.Get("http://" + addr + "/x")
	if err == nil {
		t.Fatal("want an error")
	}
	r := rec.wait(t, 1)[0]
	a := attrs(r)
	if got := str(t, a, auditconv.ErrorType); got != "*net.OpError" {
		t.Errorf("error.type %q", got)
	}
	if _, ok := a[auditconv.HTTPResponseStatusCode]; ok {
		t.Error("status on a failed call")
	}
	if r.SeverityText() != auditconv.SeverityTextError {
		t.Errorf("severity %s", r.SeverityText())
	}
}

func TestTransportTimeoutMidBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "first part;")
		w.(http.Flusher).Flush()
		select { // the rest never comes before the client gives up
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	client, rec := auditedClient(t, newBase())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read %q, %v; want the deadline", b, err)
	}
	a := attrs(rec.wait(t, 1)[0])
	if got := str(t, a, auditconv.ErrorType); got != auditconv.ErrorTypeTimeout {
		t.Errorf("error.type %q", got)
	}
	if num(t, a, auditconv.HTTPResponseStatusCode) != 200 || str(t, a, auditconv.HTTPResponseBodyContent) != "first part;" {
		t.Errorf("status/body %v %v", a[auditconv.HTTPResponseStatusCode], a[auditconv.HTTPResponseBodyContent])
	}
	_ = resp.Body.Close()
	if rec.count() != 1 {
		t.Errorf("%d records after Close, want 1", rec.count())
	}
}

func TestTransportServerClosesMidResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "1000")
		_, _ = io.WriteString(w, "only part of it")
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	client, rec := auditedClient(t, newBase())
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) || string(b) != "only part of it" {
		t.Fatalf("read %q, %v", b, err)
	}
	a := attrs(rec.wait(t, 1)[0])
	if got := str(t, a, auditconv.ErrorType); got != auditconv.ErrorTypeUnexpectedEOF {
		t.Errorf("error.type %q", got)
	}
	if num(t, a, auditconv.HTTPResponseBodySize) != 1000 || str(t, a, auditconv.HTTPResponseBodyContent) != "only part of it" {
		t.Errorf("size/body %v %v", a[auditconv.HTTPResponseBodySize], a[auditconv.HTTPResponseBodyContent])
	}
}

func TestTransportRedirectChainOneRecordPerRoundTrip(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, "/b", http.StatusTemporaryRedirect) // keeps method and body: GetBody
	})
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, "/c", http.StatusFound) // becomes a GET without body
	})
	mux.HandleFunc("/c", echo)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client, rec := auditedClient(t, newBase())
	body := `{"password":"hunter2","n":1}`
	req, _ := http.NewRequest("POST", srv.URL+"/a", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	mustDo(t, client, req)
	recs := rec.wait(t, 3)
	want := []struct {
		path, method string
		status       int64
		reqBody      bool
	}{{"/a", "POST", 307, true}, {"/b", "POST", 302, true}, {"/c", "GET", 200, false}}
	for i, w := range want {
		a := attrs(recs[i])
		if !strings.HasSuffix(str(t, a, auditconv.URLFull), w.path) || str(t, a, auditconv.HTTPRequestMethod) != w.method ||
			num(t, a, auditconv.HTTPResponseStatusCode) != w.status {
			t.Errorf("record %d: %v %v %v", i, a[auditconv.URLFull], a[auditconv.HTTPRequestMethod], a[auditconv.HTTPResponseStatusCode])
		}
		content, has := a[auditconv.HTTPRequestBodyContent]
		if has != w.reqBody || has && content.AsString() != `{"password":"****","n":1}` {
			t.Errorf("record %d: request body %v", i, content)
		}
		assertNoSecret(t, &recs[i], "hunter2")
	}
	if rec.count() != 3 {
		t.Errorf("%d records, want 3", rec.count())
	}
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func TestTransportHugeStreamsKeepMemoryAtTheLimit(t *testing.T) {
	const size = 1 << 30
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil || n != size {
			t.Errorf("server read %d, %v", n, err)
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.Copy(w, &patternReader{left: size})
	}))
	t.Cleanup(srv.Close)
	client, rec := auditedClient(t, newBase())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req := mustReq("POST", srv.URL+"/up-and-down", &patternReader{left: size})
	req.ContentLength = -1 // streamed, chunked
	req.Header.Set("Content-Type", "text/plain")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got countingWriter
	if _, err := io.Copy(&got, resp.Body); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	a := attrs(rec.wait(t, 1)[0])
	runtime.ReadMemStats(&after)
	if got.n != size {
		t.Errorf("caller read %d, want %d", got.n, size)
	}
	for _, k := range []struct{ size, content, trunc string }{
		{auditconv.HTTPRequestBodySize, auditconv.HTTPRequestBodyContent, auditconv.RequestBodyTruncated},
		{auditconv.HTTPResponseBodySize, auditconv.HTTPResponseBodyContent, auditconv.ResponseBodyTruncated},
	} {
		if n := num(t, a, k.size); n != size {
			t.Errorf("%s %d, want %d", k.size, n, size)
		}
		if n := len(str(t, a, k.content)); n != audithttp.DefaultMaxBodySize {
			t.Errorf("%s: captured %d bytes, want the limit", k.content, n)
		}
		if !a[k.trunc].AsBool() {
			t.Errorf("%s missing", k.trunc)
		}
	}
	// 2 GiB went through; the transport may hold only the limits. Allow
	// the server's and client's own buffers generously.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MiB for 1 GiB each way", alloc>>20)
	}
}

func TestTransportCallerClosesWithoutReading(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(srv.Close)
	client, rec := auditedClient(t, newBase())
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if rec.count() != 0 {
		t.Fatal("record emitted before the body was read or closed")
	}
	_ = resp.Body.Close()
	a := attrs(rec.wait(t, 1)[0])
	if num(t, a, auditconv.HTTPResponseBodySize) != resp.ContentLength {
		t.Errorf("size %v, want the declared %d", a[auditconv.HTTPResponseBodySize], resp.ContentLength)
	}
	if _, ok := a[auditconv.HTTPResponseBodyContent]; ok {
		t.Error("a body nobody read was captured")
	}
	_ = resp.Body.Close()
	if rec.count() != 1 {
		t.Errorf("%d records after a second Close, want 1", rec.count())
	}
}

// A caller that never closes the body gets no record, and the transport
// starts nothing that could outlive the call: once the caller's context
// ends, net/http's own connection goroutines end too and none is left.
func TestTransportCallerNeverClosesLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := httptest.NewServer(http.HandlerFunc(echo))
	base := newBase()
	client, rec := auditedClient(t, base)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp // the body is never read nor closed
	cancel()
	srv.Close()
	base.CloseIdleConnections()
	if n := rec.count(); n != 0 {
		t.Errorf("%d records for a call whose body was never closed; documented: none", n)
	}
}

func TestTransportExcludedAndDisabledCallsPassThrough(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(srv.Close)
	client, rec := auditedClient(t, newBase(), audithttp.WithExcludePaths("/health"))
	for _, p := range []string{"/health", "/orders"} {
		_, b := mustDo(t, client, mustReq("GET", srv.URL+p, nil))
		if !strings.Contains(string(b), `"ok":true`) {
			t.Fatalf("%s: body %q", p, b)
		}
	}
	recs := rec.wait(t, 1)
	if got := str(t, attrs(recs[0]), auditconv.URLFull); !strings.HasSuffix(got, "/orders") || rec.count() != 1 {
		t.Errorf("records %d, first %s", rec.count(), got)
	}
}

// retryOnce is a base transport that sends a request again, its body
// rewound with GetBody, when the first attempt is answered 503: the
// retrying round trippers services put under their clients do this.
type retryOnce struct{ next http.RoundTripper }

func (r retryOnce) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || req.GetBody == nil {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	again := req.Clone(req.Context())
	again.Body = body
	return r.next.RoundTrip(again)
}

func TestTransportRewoundBodyIsCapturedOnce(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	client, rec := auditedClient(t, retryOnce{newBase()})
	// The rewound body differs from the first (a fresh nonce, say), so the
	// record shows which attempt it captured.
	body := `{"n":2}`
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(`{"n":1}`))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	req.Header.Set("Content-Type", "application/json")
	_, got := mustDo(t, client, req)
	if string(got) != body || calls.Load() != 2 {
		t.Fatalf("echo %q after %d attempts", got, calls.Load())
	}
	a := attrs(rec.wait(t, 1)[0])
	if c := str(t, a, auditconv.HTTPRequestBodyContent); c != body || num(t, a, auditconv.HTTPRequestBodySize) != int64(len(body)) {
		t.Errorf("request body %q size %v; want the last attempt's, once", c, a[auditconv.HTTPRequestBodySize])
	}
	if num(t, a, auditconv.HTTPResponseStatusCode) != 200 || rec.count() != 1 {
		t.Errorf("status %v, %d records", a[auditconv.HTTPResponseStatusCode], rec.count())
	}
}
