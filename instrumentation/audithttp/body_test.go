package audithttp_test

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"

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
