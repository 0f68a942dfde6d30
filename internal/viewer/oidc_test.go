package viewer_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/otelaudit/otelaudit/internal/viewer"
)

// issuer is an OpenID provider run by the test: discovery, JWKS, an
// authorize endpoint that approves at once, and a token endpoint that
// signs ID tokens.
type issuer struct {
	*httptest.Server
	key      *rsa.PrivateKey
	clientID string
	secret   string
	audience string // aud of the tokens; clientID when empty

	mu     sync.Mutex
	nonces map[string]string // code -> nonce
}

func newIssuer(t *testing.T) *issuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key, clientID: "viewer", secret: "s3cret", nonces: map[string]string{}}
	m := http.NewServeMux()
	m.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.URL, "authorization_endpoint": is.URL + "/authorize", "token_endpoint": is.URL + "/token",
			"jwks_uri": is.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	m.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	m.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != is.clientID || q.Get("response_type") != "code" {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		code := "code-" + q.Get("state")
		is.mu.Lock()
		is.nonces[code] = q.Get("nonce")
		is.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	m.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		is.mu.Lock()
		nonce, known := is.nonces[r.PostForm.Get("code")]
		delete(is.nonces, r.PostForm.Get("code"))
		is.mu.Unlock()
		if id != is.clientID || secret != is.secret || !known {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		aud := is.audience
		if aud == "" {
			aud = is.clientID
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300,
			"id_token": is.sign(t, map[string]any{"iss": is.URL, "aud": aud, "sub": "u-42", "preferred_username": "carol",
				"nonce": nonce, "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()})})
	})
	is.Server = httptest.NewServer(m)
	t.Cleanup(is.Close)
	return is
}

func (is *issuer) sign(t *testing.T, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: is.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// follow runs the OIDC login from /oidc/login through the issuer back to
// the callback and returns the callback's response and page.
func follow(t *testing.T, c *http.Client, base string) (*http.Response, string) {
	t.Helper()
	resp, _ := get(t, c, base+"/oidc/login")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/oidc/login = %s", resp.Status)
	}
	resp, _ = get(t, c, resp.Header.Get("Location")) // the issuer approves
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize = %s", resp.Status)
	}
	return get(t, c, resp.Header.Get("Location"))
}

func TestOIDCLogin(t *testing.T) {
	_, ro := stores(t)
	is := newIssuer(t)
	srv, _ := serve(t, ro, func(c *viewer.Config) {
		c.Auth = viewer.AuthConfig{OIDC: viewer.OIDCConfig{Issuer: is.URL, ClientID: is.clientID, ClientSecret: is.secret}}
	})
	c := client(t)
	_, page := get(t, c, srv.URL+"/login")
	mustContain(t, page, `href="/oidc/login"`)
	resp, page := follow(t, c, srv.URL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Signed in as carol") {
		t.Fatalf("callback = %s:\n%s", resp.Status, page)
	}
	resp, page = get(t, c, srv.URL+"/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<span class="who">carol</span>`) {
		t.Errorf("GET / after OIDC login = %s", resp.Status)
	}

	// A callback that did not start here (no state cookie) is refused.
	resp, _ = get(t, client(t), srv.URL+"/oidc/callback?code=code-x&state=x")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("callback without the state cookie = %s, want 403", resp.Status)
	}
}

func TestOIDCWrongAudience(t *testing.T) {
	_, ro := stores(t)
	is := newIssuer(t)
	is.audience = "another-app"
	srv, _ := serve(t, ro, func(c *viewer.Config) {
		c.Auth = viewer.AuthConfig{OIDC: viewer.OIDCConfig{Issuer: is.URL, ClientID: is.clientID, ClientSecret: is.secret}}
	})
	c := client(t)
	resp, page := follow(t, c, srv.URL)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "audience") {
		t.Errorf("token for another audience: %s\n%s", resp.Status, page)
	}
	if resp, _ := get(t, c, srv.URL+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / after a refused token = %s, want 303", resp.Status)
	}
}
