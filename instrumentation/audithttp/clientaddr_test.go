package audithttp_test

import (
	"net/http"
	"testing"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

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
