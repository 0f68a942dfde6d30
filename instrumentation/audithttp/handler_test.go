package audithttp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRecordContract(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) != `{"name":"bob","password":"hunter2"}` {
			t.Errorf("handler saw body %q", body)
		}
		audithttp.SetUserID(r.Context(), "user-42")
		w.Header().Set("X-Audit-Record-Id", audithttp.RecordID(r.Context()))
		audithttp.AddAttributes(r.Context(), attribute.String("tenant", "acme"))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "sid=abc; HttpOnly")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"7","token":"tok-secret"}`)
	})
	srv, rec := setup(t, mux)

	req, _ := http.NewRequest("POST", srv.URL+"/api/users/7?x=1&api_key=qk-secret&x=2", strings.NewReader(`{"name":"bob","password":"hunter2"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer hdr-secret")
	req.Header.Set("User-Agent", "audit-test/1")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	resp, body := mustDo(t, srv.Client(), req)
	if resp.StatusCode != 201 || string(body) != `{"id":"7","token":"tok-secret"}` {
		t.Fatalf("client got %d %s: the wrapper changed the response", resp.StatusCode, body)
	}

	r := rec.wait(t, 1)[0]
	if r.EventName() != auditconv.EventHTTPServer {
		t.Errorf("event name %q", r.EventName())
	}
	if r.Severity() != log.SeverityInfo || r.SeverityText() != "INFO" {
		t.Errorf("severity %v %q", r.Severity(), r.SeverityText())
	}
	if r.Timestamp().IsZero() || r.ObservedTimestamp().Before(r.Timestamp()) {
		t.Errorf("timestamps %v %v", r.Timestamp(), r.ObservedTimestamp())
	}
	if r.InstrumentationScope().Name != audithttp.ScopeName {
		t.Errorf("scope %q", r.InstrumentationScope().Name)
	}
	a := attrs(r)
	if id := str(t, a, auditconv.RecordID); !uuidV7.MatchString(id) || id != resp.Header.Get("X-Audit-Record-Id") {
		t.Errorf("record id %q is not a UUIDv7, or not the one RecordID gave the handler (%q)", id, resp.Header.Get("X-Audit-Record-Id"))
	}
	want := map[string]string{
		auditconv.Operation:               "test-op",
		auditconv.HTTPRequestMethod:       "POST",
		auditconv.URLScheme:               "http",
		auditconv.ServerAddress:           "127.0.0.1",
		auditconv.URLPath:                 "/api/users/7",
		auditconv.URLQuery:                "x=1&api_key=****&x=2",
		auditconv.HTTPRoute:               "POST /api/users/{id}",
		auditconv.ClientAddress:           "127.0.0.1",
		auditconv.UserAgentOriginal:       "audit-test/1",
		auditconv.UserID:                  "user-42",
		"tenant":                          "acme",
		auditconv.HTTPRequestBodyContent:  `{"name":"bob","password":"****"}`,
		auditconv.HTTPResponseBodyContent: `{"id":"7","token":"****"}`,
	}
	for k, v := range want {
		if got := str(t, a, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := num(t, a, auditconv.HTTPResponseStatusCode); got != 201 {
		t.Errorf("status %d", got)
	}
	if got := num(t, a, auditconv.ServerPort); got != int64(srv.Listener.Addr().(*net.TCPAddr).Port) {
		t.Errorf("server.port %d", got)
	}
	if got := num(t, a, auditconv.HTTPRequestBodySize); got != 35 {
		t.Errorf("request size %d", got)
	}
	if got := num(t, a, auditconv.HTTPResponseBodySize); got != 31 {
		t.Errorf("response size %d", got)
	}
	if d := a[auditconv.HTTPServerRequestDuration]; d.Type() != attribute.FLOAT64 || d.AsFloat64() <= 0 {
		t.Errorf("duration %v", d)
	}
	if v := a["http.request.header.authorization"].AsStringSlice(); len(v) != 1 || v[0] != "****" {
		t.Errorf("authorization header %v", v)
	}
	if v := a["http.request.header.x-multi"].AsStringSlice(); len(v) != 2 || v[0] != "a" || v[1] != "b" {
		t.Errorf("repeated header %v", v)
	}
	if v := a["http.response.header.set-cookie"].AsStringSlice(); len(v) != 1 || v[0] != "****" {
		t.Errorf("set-cookie header %v", v)
	}
	if v := a["http.response.header.content-type"].AsStringSlice(); len(v) != 1 || v[0] != "application/json" {
		t.Errorf("content-type header %v", v)
	}
	for _, k := range []string{auditconv.RequestBodyTruncated, auditconv.ResponseBodyTruncated, auditconv.ErrorType, auditconv.SessionID} {
		if _, ok := a[k]; ok {
			t.Errorf("%s present", k)
		}
	}
	assertNoSecret(t, &r, "hunter2", "hdr-secret", "qk-secret", "tok-secret", "sid=abc")
}

// assertNoSecret fails if any attribute of r holds one of the secrets.
func assertNoSecret(t *testing.T, r interface {
	WalkAttributes(func(attribute.KeyValue) bool)
}, secrets ...string) {
	t.Helper()
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		s := kv.Value.String()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("secret %q leaked in %s = %s", sec, kv.Key, s)
			}
		}
		return true
	})
}

func TestSeverityAndErrorType(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := map[string]int{"/ok": 200, "/missing": 404, "/boom": 503}[r.URL.Path]
		w.WriteHeader(code)
	}))
	for _, p := range []string{"/ok", "/missing", "/boom"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		mustDo(t, srv.Client(), req)
	}
	recs := rec.wait(t, 3)
	want := []struct {
		sev  log.Severity
		text string
		et   string
	}{{log.SeverityInfo, "INFO", ""}, {log.SeverityWarn, "WARN", ""}, {log.SeverityError, "ERROR", "503"}}
	for i, w := range want {
		a := attrs(recs[i])
		if recs[i].Severity() != w.sev || recs[i].SeverityText() != w.text {
			t.Errorf("record %d: severity %v %q, want %v %q", i, recs[i].Severity(), recs[i].SeverityText(), w.sev, w.text)
		}
		if got := a[auditconv.ErrorType].AsString(); got != w.et {
			t.Errorf("record %d: error.type %q, want %q", i, got, w.et)
		}
	}
}

func TestUserIDAndAttributesOptions(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/override" {
			audithttp.SetUserID(r.Context(), "from-handler")
		}
	}),
		audithttp.WithUserID(func(r *http.Request) string { return r.Header.Get("X-User") }),
		audithttp.WithAttributes(func(r *http.Request, status int) []attribute.KeyValue {
			return []attribute.KeyValue{attribute.Int("seen.status", status)}
		}),
	)
	for _, p := range []string{"/plain", "/override"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("X-User", "from-option")
		mustDo(t, srv.Client(), req)
	}
	recs := rec.wait(t, 2)
	if got := attrs(recs[0])[auditconv.UserID].AsString(); got != "from-option" {
		t.Errorf("WithUserID: %q", got)
	}
	if got := attrs(recs[1])[auditconv.UserID].AsString(); got != "from-handler" {
		t.Errorf("SetUserID over WithUserID: %q", got)
	}
	if got := attrs(recs[0])["seen.status"].AsInt64(); got != 200 {
		t.Errorf("WithAttributes got status %d", got)
	}
}

func TestContextHelpersAreNoopsOutsideTheWrapper(t *testing.T) {
	ctx := context.Background()
	if audithttp.RecordID(ctx) != "" {
		t.Error("RecordID on a foreign context")
	}
	audithttp.SetUserID(ctx, "x")                       // must not panic
	audithttp.AddAttributes(ctx, attribute.Int("a", 1)) // must not panic
	type otherKey struct{}
	audithttp.SetUserID(context.WithValue(ctx, otherKey{}, 1), "x")
}

func TestFiltersAndExclusions(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		audithttp.WithExcludePaths("/healthz", "/metrics"),
		audithttp.WithFilter(func(r *http.Request) bool { return r.Header.Get("X-Skip") == "" }),
	)
	paths := map[string]bool{
		"/healthz": false, "/healthz/deep": false, "/metrics": false, "/static/app.js": false,
		"/static/LOGO.PNG": false, "/img.webp": false, "/api/x": true, "/api/v1.2/items": true,
		"/file.pdf": true, "/skip": false,
	}
	for p := range paths {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		if p == "/skip" {
			req.Header.Set("X-Skip", "1")
		}
		resp, body := mustDo(t, srv.Client(), req)
		if resp.StatusCode != 200 || string(body) != "ok" {
			t.Errorf("%s: response changed: %d %q", p, resp.StatusCode, body)
		}
	}
	got := map[string]bool{}
	for _, r := range rec.wait(t, 3) {
		got[attrs(r)[auditconv.URLPath].AsString()] = true
	}
	if rec.count() != 3 {
		t.Errorf("%d records, want 3", rec.count())
	}
	for p, audited := range paths {
		if got[p] != audited {
			t.Errorf("%s audited = %v, want %v", p, got[p], audited)
		}
	}
}

func TestCustomExcludeExtensions(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		audithttp.WithExcludeExtensions("csv"))
	for _, p := range []string{"/a.css", "/b.CSV"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		mustDo(t, srv.Client(), req)
	}
	recs := rec.wait(t, 1)
	if got := attrs(recs[0])[auditconv.URLPath].AsString(); got != "/a.css" || rec.count() != 1 {
		t.Errorf("audited %q (%d records), want only /a.css", got, rec.count())
	}
}

func TestKeepAliveOneRecordPerRequest(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, r.URL.Path)
	}))
	conns := map[string]bool{}
	tr := srv.Client().Transport.(*http.Transport)
	client := &http.Client{Transport: tr}
	const n = 20
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("POST", srv.URL+"/k", strings.NewReader("x=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		mustDo(t, client, req)
	}
	recs := rec.wait(t, n)
	ids := map[string]bool{}
	for _, r := range recs {
		a := attrs(r)
		ids[a[auditconv.RecordID].AsString()] = true
		conns[a[auditconv.ClientAddress].AsString()] = true
	}
	if len(ids) != n {
		t.Errorf("%d distinct record ids for %d requests", len(ids), n)
	}
	if rec.count() != n {
		t.Errorf("%d records for %d requests", rec.count(), n)
	}
}

func TestUserAttributesNeverDuplicateKeys(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		audithttp.AddAttributes(r.Context(), attribute.String("k", "first"), attribute.String(auditconv.Operation, "overridden"))
		audithttp.AddAttributes(r.Context(), attribute.String("k", "second"))
	}), audithttp.WithAttributes(func(*http.Request, int) []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String("k", "from-option")}
	}))
	mustDo(t, srv.Client(), mustReq("GET", srv.URL, nil))
	r := rec.wait(t, 1)[0]
	seen := map[attribute.Key]int{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool { seen[kv.Key]++; return true })
	for k, n := range seen {
		if n > 1 {
			t.Errorf("key %s appears %d times", k, n)
		}
	}
	a := attrs(r)
	if a["k"].AsString() != "second" || a[auditconv.Operation].AsString() != "overridden" {
		t.Errorf("k=%q operation=%q", a["k"].AsString(), a[auditconv.Operation].AsString())
	}
}

func TestNewMiddleware(t *testing.T) {
	rec := newRecorder()
	lp := sdklog.NewLoggerProvider(sdklog.WithAllowKeyDuplication(), sdklog.WithProcessor(sdklog.NewSimpleProcessor(rec)))
	defer lp.Shutdown(context.Background())
	mw := audithttp.NewMiddleware("mw-op", audithttp.WithLoggerProvider(lp))
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})))
	defer srv.Close()
	resp, _ := mustDo(t, srv.Client(), mustReq("GET", srv.URL+"/tea", nil))
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("status %d", resp.StatusCode)
	}
	a := attrs(rec.wait(t, 1)[0])
	if a[auditconv.Operation].AsString() != "mw-op" || a[auditconv.HTTPResponseStatusCode].AsInt64() != 418 {
		t.Errorf("middleware record: %v %v", a[auditconv.Operation], a[auditconv.HTTPResponseStatusCode])
	}
}
