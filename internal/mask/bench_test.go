package mask

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/internal/testutil/benchdata"
)

var benchDoc = benchdata.JSON

// benchSink keeps a benchmark's result alive, so that it is not optimised away.
var benchSink []byte

// formDoc is a login form with secrets in it, as a browser sends it.
const formDoc = "username=alice%40example.com&password=correct-horse-battery&remember=on" +
	"&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback%3Fnext%3D%252Fhome&client_id=web-app-7" +
	"&scope=openid+profile+email&state=af0ifjsldkj&nonce=n-0S6_WzA2Mj&response_type=code" +
	"&locale=en-GB&tz=Europe%2FLondon&screen=1920x1080&csrf_token=Zx81-aa0f9c2e&utm_source=newsletter"

// headerDoc is the header section of a browser's API request.
var headerDoc = [][2]string{
	{"Host", "api.example.com"},
	{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"},
	{"Accept", "application/json, text/plain, */*"},
	{"Accept-Language", "en-GB,en;q=0.9"},
	{"Accept-Encoding", "gzip, deflate, br"},
	{"Content-Type", "application/json"},
	{"Content-Length", "2048"},
	{"Origin", "https://app.example.com"},
	{"Referer", "https://app.example.com/orders?page=2&sort=desc"},
	{"Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"},
	{"Cookie", "session=abc123; theme=dark"},
	{"X-Request-Id", "req-7f3a9c21-55d0"},
	{"Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
}

// cpuNs reports the process's CPU time (user and system, every thread) per
// op next to ns/op, which hides work done on other threads such as GC.
func cpuNs(b *testing.B, run func()) {
	b.Helper()
	start, ok := benchdata.ProcessCPU()
	for b.Loop() {
		run()
	}
	if end, _ := benchdata.ProcessCPU(); ok {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkJSON masks a 2 KB document with secrets; the baseline is one
// validating pass of encoding/json over the same bytes (it masks nothing).
// reference is the engine before its fast paths (reference_test.go).
// The -in-place pair masks a buffer it refills, as BodyInPlace does.
func BenchmarkJSON(b *testing.B) {
	b.Run("encoding-json-valid", func(b *testing.B) {
		b.SetBytes(int64(len(benchDoc)))
		cpuNs(b, func() {
			if !json.Valid(benchDoc) {
				b.Fatal("invalid")
			}
		})
	})
	m := Default()
	ref := newRef(m)
	b.Run("mask", func(b *testing.B) {
		b.SetBytes(int64(len(benchDoc)))
		b.ReportAllocs()
		cpuNs(b, func() { m.JSON(benchDoc) })
	})
	b.Run("reference", func(b *testing.B) {
		b.SetBytes(int64(len(benchDoc)))
		b.ReportAllocs()
		cpuNs(b, func() { refJSON(ref, benchDoc, false) })
	})
	// What any engine pays to return a new buffer, before masking
	// anything: the copy's allocation, as JSON makes it (the collections
	// it brings included, in cpu-ns/op).
	b.Run("new-buffer-alone", func(b *testing.B) {
		b.SetBytes(int64(len(benchDoc)))
		b.ReportAllocs()
		cpuNs(b, func() {
			out := make([]byte, 0, len(benchDoc)+16)
			benchSink = append(out, benchDoc...)
		})
	})
	// In place, as the wrapper masks its capture buffers: no allocation,
	// and the copy that refills the buffer counts.
	buf := make([]byte, len(benchDoc))
	b.Run("mask-in-place", func(b *testing.B) {
		b.SetBytes(int64(len(benchDoc)))
		b.ReportAllocs()
		cpuNs(b, func() { copy(buf, benchDoc); m.BodyInPlace("application/json", buf) })
	})
	b.Run("reference-in-place", func(b *testing.B) {
		b.SetBytes(int64(len(benchDoc)))
		b.ReportAllocs()
		cpuNs(b, func() { copy(buf, benchDoc); refJSON(ref, buf, true) })
	})
}

// BenchmarkForm masks a login form; the baseline is url.ParseQuery of the
// same body (parsing alone, nothing masked).
func BenchmarkForm(b *testing.B) {
	doc := []byte(formDoc)
	b.Run("url-parsequery", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		cpuNs(b, func() {
			if _, err := url.ParseQuery(formDoc); err != nil {
				b.Fatal(err)
			}
		})
	})
	m := Default()
	ref := newRef(m)
	b.Run("mask", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		cpuNs(b, func() { m.Form(doc) })
	})
	b.Run("reference", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		cpuNs(b, func() { refPairs(ref, doc, false) })
	})
}

// BenchmarkHeader masks a browser's request headers; the baseline is
// writing the same headers in wire format (what a client or server does
// with them once).
func BenchmarkHeader(b *testing.B) {
	h := http.Header{}
	for _, kv := range headerDoc {
		h.Add(kv[0], kv[1])
	}
	b.Run("http-header-write", func(b *testing.B) {
		b.ReportAllocs()
		cpuNs(b, func() {
			if err := h.Write(io.Discard); err != nil {
				b.Fatal(err)
			}
		})
	})
	m := Default()
	ref := newRef(m)
	b.Run("mask", func(b *testing.B) {
		b.ReportAllocs()
		cpuNs(b, func() {
			for name, values := range h {
				m.Header(name, values)
			}
		})
	})
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		cpuNs(b, func() {
			for name, values := range h {
				refHeader(ref, name, values)
			}
		})
	})
}

// BenchmarkSensitiveKey checks five header names, against the same names
// lower-cased by strings.ToLower alone as the baseline.
func BenchmarkSensitiveKey(b *testing.B) {
	keys := []string{"Content-Type", "X-Api-Key", "user_name", "Authorization", "price"}
	b.Run("strings-tolower", func(b *testing.B) {
		for b.Loop() {
			for _, k := range keys {
				_ = strings.ToLower(k)
			}
		}
	})
	b.Run("mask", func(b *testing.B) { benchSensitiveKey(b, keys) })
}

func benchSensitiveKey(b *testing.B, keys []string) {
	m := Default()
	for b.Loop() {
		for _, k := range keys {
			m.SensitiveKey(k)
		}
	}
}

// BenchmarkQuery masks a query string; the baseline is url.ParseQuery of
// the same string (parsing alone, nothing masked).
func BenchmarkQuery(b *testing.B) {
	const q = "page=2&sort=desc&api_key=abc&filter=status%3Dopen"
	b.Run("url-parsequery", func(b *testing.B) {
		cpuNs(b, func() { url.ParseQuery(q) })
	})
	m := Default()
	ref := newRef(m)
	b.Run("mask", func(b *testing.B) {
		cpuNs(b, func() { m.Query(q) })
	})
	b.Run("reference", func(b *testing.B) {
		cpuNs(b, func() { refPairs(ref, []byte(q), false) })
	})
}

// BenchmarkRecord masks what one audit record of an API call holds, as the
// wrapper and the collector's masking processor do: the JSON request and
// response bodies (in place), the request headers, the query and the
// User-Agent. There is no outside baseline: reference is the engine
// before its fast paths, in the same command.
func BenchmarkRecord(b *testing.B) {
	const query = "page=2&sort=desc&api_key=abc&filter=status%3Dopen"
	ua := headerDoc[1][1]
	req, resp := make([]byte, len(benchDoc)), make([]byte, len(benchDoc))
	headers := make([][]string, len(headerDoc))
	for i, h := range headerDoc {
		headers[i] = []string{h[1]}
	}
	m := Default()
	ref := newRef(m)
	b.Run("mask", func(b *testing.B) {
		b.ReportAllocs()
		cpuNs(b, func() {
			copy(req, benchDoc)
			copy(resp, benchDoc)
			m.BodyInPlace("application/json", req)
			m.BodyInPlace("application/json", resp)
			for i, h := range headerDoc {
				m.Header(h[0], headers[i])
			}
			m.Query(query)
			m.Free(ua)
		})
	})
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		cpuNs(b, func() {
			copy(req, benchDoc)
			copy(resp, benchDoc)
			refJSON(ref, req, true)
			refJSON(ref, resp, true)
			for i, h := range headerDoc {
				refHeader(ref, h[0], headers[i])
			}
			refPairs(ref, bytesOf(query), false)
			refFree(ref, ua)
		})
	})
}

// hostileBody is a body of contentType: prefix, unit repeated to the size
// wanted, suffix.
type hostileBody struct{ name, contentType, unit, prefix, suffix string }

// hostileBodies are bodies a client could send on purpose to make masking
// slow: the costliest per byte of 35 shapes probed (a token every
// two or three bytes), and the usual suspects (deep nesting, escapes, keys
// without values).
var hostileBodies = []hostileBody{
	{"tags-in-json-string", "application/json", "<a>", `{"a":"`, `"}`},
	{"equals-in-json-string", "application/json", "a=", `{"a":"`, `"}`},
	{"nested-escaped-json", "application/json", `{\"a\":`, `{"a":"`, `"}`},
	{"backslashes", "application/json", `\"`, `{"a":"`, `"}`},
	{"sensitive-keys-without-values", "application/json", `"password":`, `{`, ``},
	{"deep-nesting", "application/json", `{"a":`, ``, ``},
	{"text-colons", "text/plain", "a:", ``, ``},
	{"text-equals", "text/plain", "=", ``, ``},
	{"text-tags", "text/plain", "<password>", ``, ``},
	{"text-bearer", "text/plain", "bearer ", ``, ``},
	{"form-pairs", "application/x-www-form-urlencoded", "a=b&", ``, ``},
}

// BenchmarkHostile masks each of hostileBodies at 8 KB (audithttp's default
// body limit) and at 32 KB: MB/s that holds from one size to the other
// means the cost is linear in the body's size. The baseline, first, is an
// ordinary body of the same sizes: BenchmarkJSON's document, repeated in an
// array.
func BenchmarkHostile(b *testing.B) {
	m := Default()
	ordinary := hostileBody{"baseline-ordinary-json", "application/json", string(benchDoc) + ",", "[", "{}]"}
	for _, h := range append([]hostileBody{ordinary}, hostileBodies...) {
		for _, size := range []int{8 << 10, 32 << 10} {
			body := []byte(h.prefix + strings.Repeat(h.unit, (size-len(h.prefix)-len(h.suffix))/len(h.unit)) + h.suffix)
			b.Run(fmt.Sprintf("%s/%dKB", h.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					m.Body(h.contentType, body)
				}
			})
		}
	}
}
