package viewer_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/viewer"
	"github.com/otelaudit/otelaudit/store/storetest"
)

func TestLoginLogout(t *testing.T) {
	rw, ro := stores(t)
	write(t, rw, storetest.NewRecord(time.Now().UTC().Add(-time.Minute), 1))
	srv, _ := serve(t, ro, nil)
	c := client(t)

	if resp, _ := get(t, c, srv.URL+"/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("anonymous GET / = %s to %q, want 303 to /login", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, c, srv.URL+"/export.csv"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous export = %s, want 303", resp.Status)
	}
	_, page := get(t, c, srv.URL+"/login")
	mustContain(t, page, `name="username"`, `name="password"`)
	token := csrf(t, page)

	resp, _ := post(t, c, srv.URL+"/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without the CSRF token = %s, want 403", resp.Status)
	}
	resp, _ = post(t, client(t), srv.URL+"/login", url.Values{"csrf": {token}, "username": {"alice"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login with the token but without its cookie = %s, want 403", resp.Status)
	}
	resp, page = post(t, c, srv.URL+"/login", url.Values{"csrf": {token}, "username": {"alice"}, "password": {"wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Wrong user name or password") {
		t.Errorf("wrong password = %s, want 401 and a message", resp.Status)
	}
	if resp, _ := get(t, c, srv.URL+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / after a wrong password = %s, want 303", resp.Status)
	}
	resp = login(t, c, srv.URL, "alice", testPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login = %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "otelaudit_session" {
			sc = k
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Secure || sc.MaxAge <= 0 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure without TLS, an expiry", sc)
	}
	resp, page = get(t, c, srv.URL+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / logged in = %s", resp.Status)
	}
	mustContain(t, page, "alice", "/api/v1/items/1")

	// Logout is POST with the session's token; a GET changes nothing.
	if resp, _ := get(t, c, srv.URL+"/logout"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout = %s, want 405", resp.Status)
	}
	if resp, _ := post(t, c, srv.URL+"/logout", url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout with a forged token = %s, want 403", resp.Status)
	}
	if resp, _ := get(t, c, srv.URL+"/"); resp.StatusCode != http.StatusOK {
		t.Errorf("still logged in after the forged logout: GET / = %s", resp.Status)
	}
	if resp, _ := post(t, c, srv.URL+"/logout", url.Values{"csrf": {csrf(t, page)}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout = %s, want 303", resp.Status)
	}
	if resp, _ := get(t, c, srv.URL+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / after logout = %s, want 303", resp.Status)
	}
}

func TestSecureCookiesUnderTLS(t *testing.T) {
	_, ro := stores(t)
	srv, _ := serve(t, ro, func(c *viewer.Config) { c.TLS = true })
	resp, _ := get(t, client(t), srv.URL+"/login")
	for _, k := range resp.Cookies() {
		if !k.Secure || !k.HttpOnly {
			t.Errorf("cookie %s: Secure=%v HttpOnly=%v under TLS", k.Name, k.Secure, k.HttpOnly)
		}
	}
}

func TestSessionExpires(t *testing.T) {
	_, ro := stores(t)
	srv, clk := serve(t, ro, func(c *viewer.Config) { c.Auth.SessionTTL = time.Hour })
	c := loggedIn(t, srv.URL)
	clk.Add(59 * time.Minute)
	if resp, _ := get(t, c, srv.URL+"/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / before expiry = %s", resp.Status)
	}
	clk.Add(2 * time.Minute)
	if resp, _ := get(t, c, srv.URL+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / with an expired session = %s, want 303 to the login", resp.Status)
	}
}

func TestLoginRateLimited(t *testing.T) {
	_, ro := stores(t)
	srv, clk := serve(t, ro, nil)
	c := client(t)
	for i := 0; i < 5; i++ {
		if resp := login(t, c, srv.URL, "alice", "guess"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %s, want 401", i, resp.Status)
		}
	}
	if resp := login(t, c, srv.URL, "alice", testPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password after 5 failures = %s, want 429", resp.Status)
	}
	clk.Add(time.Minute)
	if resp := login(t, c, srv.URL, "alice", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login a minute later = %s, want 303", resp.Status)
	}
}

func TestProxyHeader(t *testing.T) {
	_, ro := stores(t)
	for _, tc := range []struct {
		name    string
		trusted string
		want    int
	}{
		{"trusted", "127.0.0.0/8", http.StatusOK},
		{"untrusted address", "10.0.0.0/8", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := serve(t, ro, func(c *viewer.Config) {
				c.Auth = viewer.AuthConfig{ProxyHeader: "X-Forwarded-User", TrustedProxies: []netip.Prefix{netip.MustParsePrefix(tc.trusted)}}
			})
			req, _ := http.NewRequest("GET", srv.URL+"/", nil)
			req.Header.Set("X-Forwarded-User", "mallory")
			resp, err := client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("GET / with the header from a %s proxy = %s, want %d", tc.name, resp.Status, tc.want)
			}
		})
	}
}

func TestNoWayIn(t *testing.T) {
	_, ro := stores(t)
	if _, err := viewer.New(context.Background(), viewer.Config{Store: ro}); err == nil || !strings.Contains(err.Error(), "no way to log in") {
		t.Errorf("New without any login = %v", err)
	}
	_, err := viewer.New(context.Background(), viewer.Config{Store: ro, Auth: viewer.AuthConfig{ProxyHeader: "X-User"}})
	if err == nil || !strings.Contains(err.Error(), "trusted proxies") {
		t.Errorf("New with a proxy header and no trusted proxies = %v", err)
	}
}

func TestPasswordHash(t *testing.T) {
	h := viewer.HashPassword("s3cret")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", h)
	}
	if !viewer.VerifyPassword(h, "s3cret") || viewer.VerifyPassword(h, "s3cret ") || viewer.VerifyPassword("$argon2id$garbage", "s3cret") {
		t.Error("VerifyPassword")
	}
	if h == viewer.HashPassword("s3cret") {
		t.Error("two hashes of one password are equal: no salt")
	}
}
