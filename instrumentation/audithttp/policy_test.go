package audithttp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// captured summarises what a record kept: request headers, request body,
// response body.
func captured(a map[string]attribute.Value) (headers, reqBody, respBody bool) {
	_, headers = a[auditconv.RequestHeaderKey("Content-Type")]
	_, reqBody = a[auditconv.HTTPRequestBodyContent]
	_, respBody = a[auditconv.HTTPResponseBodyContent]
	return
}

const typicalPolicy = `
rules:
  - pattern: "POST /login"
    level: Metadata
  - path_prefix: /downloads/
    level: Request
  - path_prefix: /health
    level: None
  - methods: [POST]
    path_prefix: /admin/
    level: RequestResponse
    max_body_size: 4
  - level: RequestResponse
`

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServerPolicyFromYAML(t *testing.T) {
	rules, err := audithttp.LoadPolicy(writePolicy(t, typicalPolicy))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", echo)
	mux.HandleFunc("/", echo)
	// The default options capture no response bodies: the policy's last
	// rule extends capture, its first ones reduce it.
	srv, rec := setup(t, mux, audithttp.WithPolicy(rules...), audithttp.WithResponseBody(false))
	cases := []struct {
		method, path               string
		headers, reqBody, respBody bool
	}{
		{"POST", "/login", false, false, false},
		{"GET", "/downloads/file.json", true, true, false},
		{"POST", "/admin/users", true, true, true},
		{"GET", "/orders", true, true, true},
	}
	for _, c := range cases {
		req := mustReq(c.method, srv.URL+c.path, strings.NewReader(`{"user":"ann","n":12345}`))
		req.Header.Set("Content-Type", "application/json")
		mustDo(t, srv.Client(), req)
	}
	mustDo(t, srv.Client(), mustReq("GET", srv.URL+"/health", nil))
	recs := rec.wait(t, len(cases))
	for i, c := range cases {
		a := attrs(recs[i])
		h, rq, rs := captured(a)
		if h != c.headers || rq != c.reqBody || rs != c.respBody {
			t.Errorf("%s %s: headers %v request body %v response body %v; want %v %v %v",
				c.method, c.path, h, rq, rs, c.headers, c.reqBody, c.respBody)
		}
		if num(t, a, auditconv.HTTPRequestBodySize) != 24 {
			t.Errorf("%s %s: sizes are recorded at every level", c.method, c.path)
		}
	}
	if got := attrs(recs[2])[auditconv.HTTPRequestBodyContent].AsString(); got != `{"us` {
		t.Errorf("body limit override: captured %q", got)
	}
	// The health check is not audited: only the four records above.
	mustDo(t, srv.Client(), mustReq("GET", srv.URL+"/last", nil))
	recs = rec.wait(t, len(cases)+1)
	if got := str(t, attrs(recs[len(cases)]), auditconv.URLPath); got != "/last" {
		t.Errorf("record after /health is %s; /health was audited", got)
	}
}

func TestMiddlewarePolicyMatchesTheRoutedPattern(t *testing.T) {
	rec := newRecorder()
	mw := audithttp.NewMiddleware("op", audithttp.WithLoggerProvider(providerFor(t, rec)), audithttp.WithPolicy(
		audithttp.Rule{Pattern: "GET /users/{id}", Level: audithttp.LevelNone},
	))
	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", mw(http.HandlerFunc(echo)))
	mux.Handle("GET /orders/{id}", mw(http.HandlerFunc(echo)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mustDo(t, srv.Client(), mustReq("GET", srv.URL+"/users/7", nil))
	mustDo(t, srv.Client(), mustReq("GET", srv.URL+"/orders/7", nil))
	recs := rec.wait(t, 1)
	if got := str(t, attrs(recs[0]), auditconv.HTTPRoute); got != "GET /orders/{id}" || rec.count() != 1 {
		t.Errorf("records %d, first %s; the excluded pattern was audited", rec.count(), got)
	}
}

func TestClientPolicyByHostAndPath(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(srv.Close)
	client, rec := auditedClient(t, newBase(), audithttp.WithPolicy(
		audithttp.Rule{Host: "127.0.0.1", PathPrefix: "/skip", Level: audithttp.LevelNone},
		audithttp.Rule{Host: "*.example.com", Level: audithttp.LevelNone}, // not this host
		audithttp.Rule{Host: "127.0.0.1", PathPrefix: "/kyc", Level: audithttp.LevelHeaders},
		audithttp.Rule{Pattern: "GET /card", Level: audithttp.LevelNone}, // server side only
	))
	for _, p := range []string{"/skip", "/kyc", "/card"} {
		req := mustReq("POST", srv.URL+p, strings.NewReader(`{"n":1}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	recs := rec.wait(t, 2)
	if rec.count() != 2 {
		t.Fatalf("%d records, want 2 (/skip excluded)", rec.count())
	}
	for i, want := range [][3]bool{{true, false, false}, {true, true, true}} {
		h, rq, rs := captured(attrs(recs[i]))
		if [3]bool{h, rq, rs} != want {
			t.Errorf("record %d (%s): captured %v, want %v", i, attrs(recs[i])[auditconv.URLFull].AsString(), [3]bool{h, rq, rs}, want)
		}
	}
}

func TestLoadPolicyErrorsNameTheKey(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"rules:\n  - path_prefix: /x\n", "rules[0].level: required"},
		{"rules:\n  - level: Everything\n", `rules[0].level: unknown level "Everything"`},
		{"rules:\n  - level: None\n  - level: Metadata\n    path_prefx: /x\n", "field path_prefx not found"},
		{"rules:\n  - level: None\n    pattern: /a\n    path_prefix: /b\n", "rules[0]: pattern and path_prefix"},
		{"rules: [", "yaml"},
	} {
		_, err := audithttp.LoadPolicy(writePolicy(t, c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
	if _, err := audithttp.LoadPolicy(filepath.Join(t.TempDir(), "absent.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}
