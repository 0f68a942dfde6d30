package audithttp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// maskCase is one case of the masking engine's corpus
// (internal/mask/testdata/corpus.json), which the masking processor's
// tests run through the collector path too.
type maskCase struct {
	Class               string              `json:"class"`
	Name                string              `json:"name"`
	Method              string              `json:"method"`
	Route               string              `json:"route"`
	Path                string              `json:"path"`
	Query               string              `json:"query"`
	RequestHeaders      map[string][]string `json:"request_headers"`
	RequestContentType  string              `json:"request_content_type"`
	RequestBody         string              `json:"request_body"`
	ResponseHeaders     map[string][]string `json:"response_headers"`
	ResponseContentType string              `json:"response_content_type"`
	ResponseBody        string              `json:"response_body"`
	Panic               string              `json:"panic"`
	Secrets             []string            `json:"secrets"`
	Keep                []string            `json:"keep"`
}

// values renders every attribute value of a record as it is, one per line.
func values(a map[string]attribute.Value) string {
	var sb strings.Builder
	for _, v := range a {
		if v.Type() == attribute.STRINGSLICE {
			for _, s := range v.AsStringSlice() {
				sb.WriteString(s + "\n")
			}
			continue
		}
		sb.WriteString(v.String() + "\n")
	}
	return sb.String()
}

// TestRuleSetCorpusAtTheSource sends the engine's corpus through a real
// server wrapped with default options (multipart bodies captured too, so
// that their masking is exercised).
func TestRuleSetCorpusAtTheSource(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "mask", "testdata", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus []maskCase
	if err := json.Unmarshal(b, &corpus); err != nil {
		t.Fatal(err)
	}
	if len(corpus) < 40 {
		t.Fatalf("corpus has %d cases", len(corpus))
	}
	types := append(append([]string(nil), audithttp.DefaultBodyContentTypes...), "multipart/form-data")
	for _, c := range corpus {
		t.Run(c.Class+"/"+c.Name, func(t *testing.T) {
			mux := http.NewServeMux()
			route := c.Route
			if route == "" {
				route = "/"
			}
			mux.HandleFunc(route, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if c.Panic != "" {
					panic(c.Panic)
				}
				for k, vs := range c.ResponseHeaders {
					for _, v := range vs {
						w.Header().Add(k, v)
					}
				}
				if c.ResponseContentType != "" {
					w.Header().Set("Content-Type", c.ResponseContentType)
				}
				_, _ = io.WriteString(w, c.ResponseBody)
			})
			srv, rec := setup(t, mux, audithttp.WithBodyContentTypes(types...))
			u := srv.URL + c.Path
			if c.Query != "" {
				u += "?" + c.Query
			}
			req, err := http.NewRequest(c.Method, u, strings.NewReader(c.RequestBody))
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range c.RequestHeaders {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			if c.RequestContentType != "" {
				req.Header.Set("Content-Type", c.RequestContentType)
			}
			resp, err := srv.Client().Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			} else if c.Panic == "" {
				t.Fatal(err)
			}
			a := attrs(rec.wait(t, 1)[0])
			if c.Panic != "" && str(t, a, auditconv.ErrorType) != auditconv.ErrorTypePanic {
				t.Fatal("no panic recorded")
			}
			if c.Route != "" && str(t, a, auditconv.HTTPRoute) != c.Route {
				t.Fatalf("route %q", str(t, a, auditconv.HTTPRoute))
			}
			got := values(a)
			for _, s := range c.Secrets {
				if strings.Contains(got, s) {
					t.Errorf("secret %q survived:\n%s", s, got)
				}
			}
			for _, k := range c.Keep {
				if !strings.Contains(got, k) {
					t.Errorf("non-secret %q lost:\n%s", k, got)
				}
			}
		})
	}
}

func TestMaskingKeysCanBeAddedAndRemoved(t *testing.T) {
	srv, rec := setup(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		audithttp.WithoutSensitiveKeys("code"), audithttp.WithExactKeys("voucher"), audithttp.WithSensitiveKeys("iban"))
	resp, err := srv.Client().Get(srv.URL + "/p?code=SKU-1&voucher=v-99&my_iban=DE00&sid=s1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	a := attrs(rec.wait(t, 1)[0])
	if q := str(t, a, auditconv.URLQuery); q != "code=SKU-1&voucher=****&my_iban=****&sid=****" {
		t.Errorf("url.query = %q", q)
	}
}
