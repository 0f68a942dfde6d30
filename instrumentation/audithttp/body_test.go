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
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/embedded"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// patternReader yields n bytes of a repeating pattern without allocating.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	p.left -= int64(len(b))
	return len(b), nil
}

func TestHugeStreamedUploadKeepsMemoryAtTheLimit(t *testing.T) {
	const size = 1 << 30
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil || n != size {
			t.Errorf("handler read %d, %v", n, err)
		}
	}))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req := mustReq("POST", srv.URL+"/upload", &patternReader{left: size})
	req.ContentLength = -1 // streamed, chunked
	req.Header.Set("Content-Type", "text/plain")
	mustDo(t, srv.Client(), req)
	a := attrs(rec.wait(t, 1)[0])
	runtime.ReadMemStats(&after)
	if got := num(t, a, auditconv.HTTPRequestBodySize); got != size {
		t.Errorf("size %d, want %d", got, size)
	}
	if got := len(a[auditconv.HTTPRequestBodyContent].AsString()); got != audithttp.DefaultMaxBodySize {
		t.Errorf("captured %d bytes, want the limit", got)
	}
	if !a[auditconv.RequestBodyTruncated].AsBool() {
		t.Error("truncated flag missing")
	}
	// 1 GiB went through; the wrapper may hold only the limit. Allow the
	// server's and client's own buffers generously.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MiB for a 1 GiB upload", alloc>>20)
	}
}

func TestHandlerSeesExactlyTheBytesSent(t *testing.T) {
	body := []byte("\x00\xff binary \r\n with NUL \x00 and invalid \xc3\x28 UTF-8")
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if !bytes.Equal(got, body) {
			t.Errorf("handler got %q", got)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write(got)
	}))
	req := mustReq("POST", srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	_, echoed := mustDo(t, srv.Client(), req)
	if !bytes.Equal(echoed, body) {
		t.Errorf("client got %q", echoed)
	}
	a := attrs(rec.wait(t, 1)[0])
	for _, k := range []string{auditconv.HTTPRequestBodyContent, auditconv.HTTPResponseBodyContent} {
		v := a[k]
		if v.Type() != attribute.BYTESLICE || !bytes.Equal(v.AsByteSlice(), body) {
			t.Errorf("%s = %s %q, want the bytes unchanged", k, v.Type(), v.AsByteSlice())
		}
	}
}

func TestUnreadBodyIsNotDrainedAndSizeIsDeclared(t *testing.T) {
	var read atomic.Int64
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 5)
		n, _ := io.ReadFull(r.Body, b)
		read.Store(int64(n))
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	payload := `{"a":"` + strings.Repeat("z", 10000) + `"}`
	req := mustReq("POST", srv.URL, strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	mustDo(t, srv.Client(), req)
	a := attrs(rec.wait(t, 1)[0])
	if got := num(t, a, auditconv.HTTPRequestBodySize); got != int64(len(payload)) {
		t.Errorf("size %d, want Content-Length %d", got, len(payload))
	}
	if got := a[auditconv.HTTPRequestBodyContent].AsString(); got != payload[:5] {
		t.Errorf("captured %q: the wrapper read ahead of the handler", got)
	}
}

func TestMalformedAndTruncatedJSONIsStillMasked(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}), audithttp.WithMaxBodySize(40))
	bodies := []string{
		`{"user":"bob","password":"x-secret-1", oops this is not json`,
		`{"user":"bob","data":{"a":1},"password":"x-secret-2-long-enough-to-be-cut-by-the-limit"}`,
		`{"user":"bob","password":"x-secret-3"`, // unclosed
	}
	for _, b := range bodies {
		req := mustReq("POST", srv.URL, strings.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		mustDo(t, srv.Client(), req)
	}
	recs := rec.wait(t, len(bodies))
	for i := range recs {
		assertNoSecret(t, &recs[i], "x-secret", "secret-", "-2-long")
		a := attrs(recs[i])
		if !strings.Contains(a[auditconv.HTTPRequestBodyContent].AsString(), `"user":"bob"`) {
			t.Errorf("record %d lost the non-secret part: %q", i, a[auditconv.HTTPRequestBodyContent].AsString())
		}
	}
}

func TestBodyContentTypesAndLimits(t *testing.T) {
	cases := []struct {
		name    string
		opts    []audithttp.Option
		ct, ce  string
		body    string
		capture string // "" means no content attribute
	}{
		{"image is size only", nil, "image/png", "", "PNGDATA", ""},
		{"form", nil, "application/x-www-form-urlencoded", "", "a=1&token=zz", "a=1&token=****"},
		{"xml", nil, "application/soap+xml", "", "<password>zz</password>", "<password>****</password>"},
		{"gzip is size only", nil, "application/json", "gzip", "\x1f\x8b....", ""},
		{"no limit", []audithttp.Option{audithttp.WithMaxBodySize(-1)}, "text/plain", "", strings.Repeat("y", 20000), strings.Repeat("y", 20000)},
		{"zero limit", []audithttp.Option{audithttp.WithMaxBodySize(0)}, "text/plain", "", "abc", ""},
		{"request body off", []audithttp.Option{audithttp.WithRequestBody(false)}, "text/plain", "", "abc", ""},
		{"custom types", []audithttp.Option{audithttp.WithBodyContentTypes("application/octet-stream")}, "application/octet-stream", "", "raw", "raw"},
		{"masking off", []audithttp.Option{audithttp.WithMasking(false)}, "application/json", "", `{"password":"p"}`, `{"password":"p"}`},
		{"extra sensitive key", []audithttp.Option{audithttp.WithSensitiveKeys("iban")}, "application/json", "", `{"IBAN":"DE00"}`, `{"IBAN":"****"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }), c.opts...)
			req := mustReq("POST", srv.URL, strings.NewReader(c.body))
			req.Header.Set("Content-Type", c.ct)
			if c.ce != "" {
				req.Header.Set("Content-Encoding", c.ce)
			}
			mustDo(t, srv.Client(), req)
			a := attrs(rec.wait(t, 1)[0])
			v, ok := a[auditconv.HTTPRequestBodyContent]
			if c.capture == "" && ok {
				t.Errorf("captured %q, want size only", v.String())
			}
			if c.capture != "" && v.AsString() != c.capture {
				t.Errorf("captured %q, want %q", v.AsString(), c.capture)
			}
			if got := num(t, a, auditconv.HTTPRequestBodySize); got != int64(len(c.body)) {
				t.Errorf("size %d, want %d", got, len(c.body))
			}
		})
	}
}

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

func TestClientAddressAndTrustedProxies(t *testing.T) {
	cases := []struct {
		name    string
		trusted []string
		xff     string
		fwd     string
		want    string
	}{
		{"untrusted peer ignores XFF", nil, "203.0.113.5", "", "127.0.0.1"},
		{"garbage XFF without trust", nil, "abc", "", "127.0.0.1"},
		{"trusted peer uses XFF", []string{"127.0.0.0/8"}, "203.0.113.5", "", "203.0.113.5"},
		{"rightmost untrusted wins", []string{"127.0.0.1", "10.0.0.0/8"}, "198.51.100.1, 203.0.113.5, 10.1.1.1", "", "203.0.113.5"},
		{"garbage XFF from trusted", []string{"127.0.0.1"}, "abc", "", "127.0.0.1"},
		{"Forwarded header", []string{"127.0.0.1"}, "", `for="[2001:db8::1]:4711";proto=https`, "2001:db8::1"},
		{"invalid cidr ignored", []string{"not-a-cidr", "127.0.0.1"}, "203.0.113.9", "", "203.0.113.9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, rec := setup(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), audithttp.WithTrustedProxies(c.trusted...))
			req := mustReq("GET", srv.URL, nil)
			if c.xff != "" {
				req.Header.Set("X-Forwarded-For", c.xff)
			}
			if c.fwd != "" {
				req.Header.Set("Forwarded", c.fwd)
			}
			resp, _ := mustDo(t, srv.Client(), req)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := attrs(rec.wait(t, 1)[0])[auditconv.ClientAddress].AsString(); got != c.want {
				t.Errorf("client.address %q, want %q", got, c.want)
			}
		})
	}
}

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

// blockingExporter blocks every export until released.
type blockingExporter struct{ release chan struct{} }

func (b *blockingExporter) Export(ctx context.Context, _ []sdklog.Record) error {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil
}
func (*blockingExporter) Shutdown(context.Context) error   { return nil }
func (*blockingExporter) ForceFlush(context.Context) error { return nil }

type failingExporter struct{}

func (failingExporter) Export(context.Context, []sdklog.Record) error {
	return errors.New("audit database down")
}
func (failingExporter) Shutdown(context.Context) error   { return nil }
func (failingExporter) ForceFlush(context.Context) error { return nil }

// panickingProvider is a LoggerProvider whose loggers panic on Emit.
type panickingProvider struct{ embedded.LoggerProvider }

func (panickingProvider) Logger(string, ...log.LoggerOption) log.Logger { return panickingLogger{} }

type panickingLogger struct{ embedded.Logger }

func (panickingLogger) Emit(context.Context, log.Record)                    { panic("broken pipeline") }
func (panickingLogger) Enabled(context.Context, log.EnabledParameters) bool { return true }

func TestBrokenLoggingNeverAffectsTheResponse(t *testing.T) {
	block := &blockingExporter{release: make(chan struct{})}
	defer close(block.release)
	providers := map[string]log.LoggerProvider{
		"blocking exporter": sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(block, sdklog.WithMaxQueueSize(2), sdklog.WithExportMaxBatchSize(1)))),
		"failing exporter":  sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(failingExporter{}))),
		"failing simple":    sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(failingExporter{}))),
		"panicking logger":  panickingProvider{},
	}
	for name, lp := range providers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(audithttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "fine")
			}), "op", audithttp.WithLoggerProvider(lp)))
			defer srv.Close()
			for i := 0; i < 50; i++ {
				resp, body := mustDo(t, srv.Client(), mustReq("GET", srv.URL, nil))
				if resp.StatusCode != 200 || string(body) != "fine" {
					t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
				}
			}
		})
	}
}
