package audithttp_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// interfaces lists the optional interfaces w implements.
func interfaces(w http.ResponseWriter) []string {
	var out []string
	if _, ok := w.(http.Flusher); ok {
		out = append(out, "Flusher")
	}
	if _, ok := w.(http.Hijacker); ok {
		out = append(out, "Hijacker")
	}
	if _, ok := w.(io.ReaderFrom); ok {
		out = append(out, "ReaderFrom")
	}
	if _, ok := w.(http.Pusher); ok {
		out = append(out, "Pusher")
	}
	if _, ok := w.(io.StringWriter); ok {
		out = append(out, "StringWriter")
	}
	if _, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		out = append(out, "Unwrap")
	}
	if _, ok := w.(interface{ FlushError() error }); ok {
		out = append(out, "FlushError")
	}
	if _, ok := w.(interface{ CloseNotify() <-chan bool }); ok {
		out = append(out, "CloseNotify")
	}
	if _, ok := w.(interface{ SetReadDeadline(time.Time) error }); ok {
		out = append(out, "SetReadDeadline")
	}
	if _, ok := w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		out = append(out, "SetWriteDeadline")
	}
	if _, ok := w.(interface{ EnableFullDuplex() error }); ok {
		out = append(out, "EnableFullDuplex")
	}
	sort.Strings(out)
	return out
}

// plainWriter has no optional interface.
type plainWriter struct{ rr *httptest.ResponseRecorder }

func (p plainWriter) Header() http.Header         { return p.rr.Header() }
func (p plainWriter) Write(b []byte) (int, error) { return p.rr.Write(b) }
func (p plainWriter) WriteHeader(code int)        { p.rr.WriteHeader(code) }

// flushOnly is a writer that can flush and nothing else.
type flushOnly struct{ plainWriter }

func (f flushOnly) Flush() { f.rr.Flush() }

// TestOtherWritersKeepInterfaces: writers other than net/http's (a
// recorder, one that only flushes, one with no optional interface) keep
// their exact interfaces too, and their bodies are recorded.
func TestOtherWritersKeepInterfaces(t *testing.T) {
	writers := map[string]func(*httptest.ResponseRecorder) http.ResponseWriter{
		"recorder":   func(rr *httptest.ResponseRecorder) http.ResponseWriter { return rr },
		"flush-only": func(rr *httptest.ResponseRecorder) http.ResponseWriter { return flushOnly{plainWriter{rr}} },
		"plain":      func(rr *httptest.ResponseRecorder) http.ResponseWriter { return plainWriter{rr} },
	}
	for name, mk := range writers {
		t.Run(name, func(t *testing.T) {
			rec := newRecorder()
			var got []string
			h := audithttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = interfaces(w)
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, "hello ")
				w.Write([]byte("world"))
				if f, ok := w.(http.Flusher); ok {
					f.Flush()
				}
			}), "op", audithttp.WithLoggerProvider(providerFor(t, rec)))
			rr := httptest.NewRecorder()
			w := mk(rr)
			want := append(interfaces(w), "Unwrap")
			sort.Strings(want)
			h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("wrapped writer implements %v, original %v", got, want)
			}
			if rr.Body.String() != "hello world" {
				t.Errorf("client got %q", rr.Body.String())
			}
			if body := str(t, attrs(rec.wait(t, 1)[0]), auditconv.HTTPResponseBodyContent); body != "hello world" {
				t.Errorf("recorded %q", body)
			}
		})
	}
}

// TestWriterKeepsInterfaces compares the optional interfaces the handler
// sees with and without the wrapper, over HTTP/1.1 and HTTP/2.
func TestWriterKeepsInterfaces(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		name := "HTTP/1.1"
		if h2 {
			name = "HTTP/2"
		}
		t.Run(name, func(t *testing.T) {
			seen := make(chan []string, 2)
			inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if h2 && r.ProtoMajor != 2 {
					t.Errorf("proto %s, want HTTP/2", r.Proto)
				}
				seen <- interfaces(w)
			})
			rec := newRecorder()
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(rec)))
			// The outer handler records the server's own writer, then calls
			// the wrapped one.
			wrapped := audithttp.NewHandler(inner, "op", audithttp.WithLoggerProvider(lp))
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				orig := interfaces(w)
				if _, ok := w.(interface{ Unwrap() http.ResponseWriter }); !ok {
					orig = append(orig, "Unwrap") // the wrapper adds Unwrap for ResponseController
					sort.Strings(orig)
				}
				seen <- orig
				wrapped.ServeHTTP(w, r)
			}))
			if h2 {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/", nil)
			mustDo(t, srv.Client(), req)
			orig, got := <-seen, <-seen
			if strings.Join(orig, ",") != strings.Join(got, ",") {
				t.Errorf("wrapped writer implements %v, original %v", got, orig)
			}
			a := attrs(rec.wait(t, 1)[0])
			if h2 && a[auditconv.URLScheme].AsString() != "https" {
				t.Errorf("scheme %q over TLS", a[auditconv.URLScheme].AsString())
			}
		})
	}
}

func TestResponseControllerThroughWrapper(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex through the wrapper: %v", err)
		}
		io.WriteString(w, "x")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush through the wrapper: %v", err)
		}
	}))
	req, _ := http.NewRequest("GET", srv.URL, nil)
	mustDo(t, srv.Client(), req)
	rec.wait(t, 1)
}

func TestServerSentEventsFlushReachesClient(t *testing.T) {
	proceed := make(chan struct{})
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-proceed // the client must have read event one before we go on
		io.WriteString(w, "data: two\n\n")
	}))
	resp, err := srv.Client().Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event: %q %v", line, err)
	}
	close(proceed)
	rest, _ := io.ReadAll(br)
	if string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest %q", rest)
	}
	a := attrs(rec.wait(t, 1)[0])
	if got := a[auditconv.HTTPResponseBodyContent].AsString(); got != "data: one\n\ndata: two\n\n" {
		t.Errorf("captured %q", got)
	}
	if got := num(t, a, auditconv.HTTPResponseStatusCode); got != 200 {
		t.Errorf("status %d", got)
	}
}

func TestHijackWebsocketStyle(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo:" + line)
		brw.Flush()
	}))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err != nil || !strings.Contains(status, "101") {
		t.Fatalf("status line %q %v", status, err)
	}
	if _, err := tp.ReadMIMEHeader(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "hello\n")
	got, _ := br.ReadString('\n')
	if got != "echo:hello\n" {
		t.Errorf("echo %q", got)
	}
	a := attrs(rec.wait(t, 1)[0])
	if s := num(t, a, auditconv.HTTPResponseStatusCode); s != 101 {
		t.Errorf("status %d, want 101", s)
	}
	if _, ok := a[auditconv.HTTPResponseBodyContent]; ok {
		t.Error("hijacked connection recorded a response body")
	}
}

func TestReaderFromIsCapturedAndCounted(t *testing.T) {
	payload := strings.Repeat("abcdefghij", 2000) // 20 000 bytes
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("wrapped writer lost io.ReaderFrom")
		}
		w.Header().Set("Content-Type", "text/plain")
		n, err := io.Copy(w, strings.NewReader(payload))
		if err != nil || n != int64(len(payload)) {
			t.Errorf("io.Copy: %d %v", n, err)
		}
	}), audithttp.WithMaxBodySize(100))
	req, _ := http.NewRequest("GET", srv.URL, nil)
	_, body := mustDo(t, srv.Client(), req)
	if string(body) != payload {
		t.Fatalf("client got %d bytes, want %d", len(body), len(payload))
	}
	a := attrs(rec.wait(t, 1)[0])
	if got := num(t, a, auditconv.HTTPResponseBodySize); got != int64(len(payload)) {
		t.Errorf("size %d", got)
	}
	if got := a[auditconv.HTTPResponseBodyContent].AsString(); got != payload[:100] {
		t.Errorf("captured %q", got)
	}
	if !a[auditconv.ResponseBodyTruncated].AsBool() {
		t.Error("truncated flag missing")
	}
}

func TestPanicAfterHalfTheBody(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "half")
		w.(http.Flusher).Flush()
		panic("kaboom")
	}))
	resp, err := srv.Client().Get(srv.URL + "/p")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("client saw a clean response from a panicking handler: the panic was swallowed")
	}
	r := rec.wait(t, 1)[0]
	a := attrs(r)
	if s := num(t, a, auditconv.HTTPResponseStatusCode); s != 500 {
		t.Errorf("status %d", s)
	}
	if r.SeverityText() != "ERROR" {
		t.Errorf("severity %q", r.SeverityText())
	}
	if a[auditconv.ErrorType].AsString() != "panic" || a[auditconv.ExceptionMessage].AsString() != "kaboom" ||
		a[auditconv.ExceptionType].AsString() != "string" {
		t.Errorf("exception attrs %v %v %v", a[auditconv.ErrorType], a[auditconv.ExceptionType], a[auditconv.ExceptionMessage])
	}
	if st := a[auditconv.ExceptionStacktrace].AsString(); !strings.Contains(st, "TestPanicAfterHalfTheBody") {
		t.Errorf("stacktrace does not show the panicking handler:\n%s", st)
	}
	if got := a[auditconv.HTTPResponseBodyContent].AsString(); got != "half" {
		t.Errorf("body %q", got)
	}
}

func TestErrAbortHandler(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	_, err := srv.Client().Get(srv.URL)
	if err == nil {
		t.Error("aborted handler produced a response")
	}
	a := attrs(rec.wait(t, 1)[0])
	if a[auditconv.ErrorType].AsString() != "panic" || a[auditconv.ExceptionMessage].AsString() != http.ErrAbortHandler.Error() {
		t.Errorf("attrs %v", a)
	}
	if _, ok := a[auditconv.ExceptionStacktrace]; ok {
		t.Error("ErrAbortHandler recorded a stack trace")
	}
}

func TestHandlerThatWritesNothing(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Set-But-Not-Written", "1")
	}))
	resp, body := mustDo(t, srv.Client(), mustReq("GET", srv.URL, nil))
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Fatalf("client got %d %q", resp.StatusCode, body)
	}
	a := attrs(rec.wait(t, 1)[0])
	if s := num(t, a, auditconv.HTTPResponseStatusCode); s != 200 {
		t.Errorf("status %d, want 200", s)
	}
	if v := a["http.response.header.x-set-but-not-written"].AsStringSlice(); len(v) != 1 {
		t.Errorf("header sent at return not recorded: %v", v)
	}
	if got := num(t, a, auditconv.HTTPResponseBodySize); got != 0 {
		t.Errorf("size %d", got)
	}
}

func TestHEAD(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"a":1}`)
	}))
	resp, body := mustDo(t, srv.Client(), mustReq("HEAD", srv.URL, nil))
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Fatalf("client got %d %q", resp.StatusCode, body)
	}
	a := attrs(rec.wait(t, 1)[0])
	if _, ok := a[auditconv.HTTPResponseBodyContent]; ok {
		t.Error("HEAD recorded a body the client never received")
	}
	if got := num(t, a, auditconv.HTTPResponseBodySize); got != 0 {
		t.Errorf("size %d", got)
	}
}

func TestInformationalResponses(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "done")
	}))
	got1xx := 0
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
			if code == 103 {
				got1xx++
			}
			return nil
		},
	})
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, body := mustDo(t, srv.Client(), req)
	if resp.StatusCode != 202 || string(body) != "done" || got1xx != 1 {
		t.Fatalf("client got %d %q, %d early hints", resp.StatusCode, body, got1xx)
	}
	if s := num(t, attrs(rec.wait(t, 1)[0]), auditconv.HTTPResponseStatusCode); s != 202 {
		t.Errorf("status %d, want 202 (1xx is not final)", s)
	}
}

func TestClientDisconnectsMidResponse(t *testing.T) {
	gone := make(chan struct{})
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		chunk := []byte(strings.Repeat("x", 32<<10))
		for i := 0; ; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if i == 0 {
				<-gone
			}
		}
	}))
	resp, err := srv.Client().Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(resp.Body, make([]byte, 100))
	srv.Client().Transport.(*http.Transport).CloseIdleConnections()
	resp.Body.Close() // closes the connection mid-body
	close(gone)
	a := attrs(rec.wait(t, 1)[0])
	if got := num(t, a, auditconv.HTTPResponseBodySize); got < 32<<10 {
		t.Errorf("size %d", got)
	}
	if got := len(a[auditconv.HTTPResponseBodyContent].AsString()); got != audithttp.DefaultMaxBodySize {
		t.Errorf("captured %d bytes", got)
	}
}

func TestTraceContextJoinsTheRequestSpan(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	rec := newRecorder()
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(rec)))
	spans := make(chan trace.SpanContext, 1)
	h := audithttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spans <- trace.SpanContextFromContext(r.Context())
	}), "op", audithttp.WithLoggerProvider(lp))
	srv := httptest.NewServer(otelhttp.NewHandler(h, "srv", otelhttp.WithTracerProvider(tp)))
	defer srv.Close()
	mustDo(t, srv.Client(), mustReq("GET", srv.URL, nil))
	sc := <-spans
	r := rec.wait(t, 1)[0]
	if !sc.IsValid() || r.TraceID() != sc.TraceID() || r.SpanID() != sc.SpanID() {
		t.Errorf("record trace %s/%s, request span %s/%s", r.TraceID(), r.SpanID(), sc.TraceID(), sc.SpanID())
	}
}

func mustReq(method, url string, body io.Reader) *http.Request {
	r, err := http.NewRequest(method, url, body)
	if err != nil {
		panic(err)
	}
	return r
}

var _ = tls.VersionTLS12
var _ = errors.New
