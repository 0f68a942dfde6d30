package viewer

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/crypto/argon2"
	"golang.org/x/oauth2"

	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// AuthConfig says who may use the viewer. At least one way in must be
// configured, or Anonymous set.
type AuthConfig struct {
	// Users maps local account names to argon2id hashes (HashPassword);
	// they log in with the form at /login.
	Users map[string]string
	// OIDC, when Issuer is set, offers single sign-on.
	OIDC OIDCConfig
	// ProxyHeader names the header carrying the user name that a trusted
	// auth proxy sets; it is believed only from TrustedProxies.
	ProxyHeader    string
	TrustedProxies []netip.Prefix
	// Anonymous lets everyone in (auditctl serve allows it on loopback
	// addresses only).
	Anonymous bool
	// SessionTTL is how long a login lasts; DefaultSessionTTL when 0.
	SessionTTL time.Duration
	// LoginAttempts is how many failed logins a client address may make
	// per LoginWindow; 5 and a minute when 0.
	LoginAttempts int
	LoginWindow   time.Duration
}

// OIDCConfig configures login with an OpenID Connect provider.
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is this viewer's /oidc/callback as the provider knows
	// it; derived from the request when empty.
	RedirectURL string
	// HTTPClient, when set, is used to talk to the provider.
	HTTPClient *http.Client
}

// Cookie names.
const (
	sessionCookie = "otelaudit_session"
	loginCookie   = "otelaudit_login" // CSRF token of the login form
	oidcCookie    = "otelaudit_oidc"  // state and nonce of an OIDC login
)

type session struct {
	user    string
	csrf    string
	expires time.Time
}

type authenticator struct {
	cfg    AuthConfig
	secure bool
	now    func() time.Time

	oidcVerifier *oidc.IDTokenVerifier
	oauth        *oauth2.Config

	mu       sync.Mutex
	sessions map[string]*session
	failures map[string]*window // failed logins by client address
}

type window struct {
	start time.Time
	n     int
}

func newAuthenticator(ctx context.Context, cfg AuthConfig, secure bool, now func() time.Time) (*authenticator, error) {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.LoginAttempts <= 0 {
		cfg.LoginAttempts = 5
	}
	if cfg.LoginWindow <= 0 {
		cfg.LoginWindow = time.Minute
	}
	if len(cfg.Users) == 0 && cfg.OIDC.Issuer == "" && cfg.ProxyHeader == "" && !cfg.Anonymous {
		return nil, errors.New("viewer: no way to log in: give users, OIDC or an auth proxy header (or allow anonymous access)")
	}
	if cfg.ProxyHeader != "" && len(cfg.TrustedProxies) == 0 {
		return nil, errors.New("viewer: an auth proxy header needs the addresses of the trusted proxies")
	}
	a := &authenticator{cfg: cfg, secure: secure, now: now, sessions: map[string]*session{}, failures: map[string]*window{}}
	if o := cfg.OIDC; o.Issuer != "" {
		if o.ClientID == "" {
			return nil, errors.New("viewer: oidc: the client id is required")
		}
		if o.HTTPClient != nil {
			ctx = oidc.ClientContext(ctx, o.HTTPClient)
		}
		p, err := oidc.NewProvider(ctx, o.Issuer)
		if err != nil {
			return nil, fmt.Errorf("viewer: oidc: discover %s: %w", o.Issuer, err)
		}
		a.oidcVerifier = p.Verifier(&oidc.Config{ClientID: o.ClientID, Now: now})
		a.oauth = &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: p.Endpoint(),
			Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	}
	return a, nil
}

type ctxKey int

const (
	userKey ctxKey = iota
	csrfKey
)

func userFrom(ctx context.Context) string { s, _ := ctx.Value(userKey).(string); return s }
func csrfFrom(ctx context.Context) string { s, _ := ctx.Value(csrfKey).(string); return s }

// token returns a fresh random token.
func token() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// clientIP is the address the request came from (the connection's, never
// a header's).
func clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// identify returns who makes r: a trusted proxy's header, a live session,
// or anonymous access; "" when nobody.
func (a *authenticator) identify(r *http.Request) (user, csrf string) {
	if h := a.cfg.ProxyHeader; h != "" {
		if u := strings.TrimSpace(r.Header.Get(h)); u != "" && a.trustedProxy(clientIP(r)) {
			return u, ""
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.mu.Lock()
		s := a.sessions[c.Value]
		if s != nil && !a.now().Before(s.expires) {
			delete(a.sessions, c.Value)
			s = nil
		}
		a.mu.Unlock()
		if s != nil {
			return s.user, s.csrf
		}
	}
	if a.cfg.Anonymous {
		return "anonymous", ""
	}
	return "", ""
}

func (a *authenticator) trustedProxy(ip netip.Addr) bool {
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// require lets identified users through, naming them in the request's
// audit record, and sends the others to the login page.
func (a *authenticator) require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, csrf := a.identify(r)
		if user == "" {
			if len(a.cfg.Users) == 0 && a.oauth == nil {
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		audithttp.SetUserID(r.Context(), user)
		ctx := context.WithValue(context.WithValue(r.Context(), userKey, user), csrfKey, csrf)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// startSession creates a session for user and sets its cookie.
func (a *authenticator) startSession(w http.ResponseWriter, user string) {
	id := token()
	now := a.now()
	a.mu.Lock()
	for k, s := range a.sessions { // expired sessions go on each login
		if !now.Before(s.expires) {
			delete(a.sessions, k)
		}
	}
	a.sessions[id] = &session{user: user, csrf: token(), expires: now.Add(a.cfg.SessionTTL)}
	a.mu.Unlock()
	a.setCookie(w, sessionCookie, id, a.cfg.SessionTTL, http.SameSiteStrictMode)
}

func (a *authenticator) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	a.setCookie(w, sessionCookie, "", -1, http.SameSiteStrictMode)
}

func (a *authenticator) setCookie(w http.ResponseWriter, name, value string, ttl time.Duration, same http.SameSite) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: a.secure, SameSite: same}
	if ttl < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(ttl / time.Second)
	}
	http.SetCookie(w, c)
}

// allowLogin reports whether ip may try to log in now.
func (a *authenticator) allowLogin(ip netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.failures[ip.String()]
	if f == nil || a.now().Sub(f.start) >= a.cfg.LoginWindow {
		return true
	}
	return f.n < a.cfg.LoginAttempts
}

func (a *authenticator) loginFailed(ip netip.Addr) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.failures) > 10000 { // bounded memory under a spray of addresses
		for k, w := range a.failures {
			if now.Sub(w.start) >= a.cfg.LoginWindow {
				delete(a.failures, k)
			}
		}
	}
	f := a.failures[ip.String()]
	if f == nil || now.Sub(f.start) >= a.cfg.LoginWindow {
		f = &window{start: now}
		a.failures[ip.String()] = f
	}
	f.n++
}

// checkPassword reports whether password is user's. An unknown user costs
// the same hash, so that timing does not tell which names exist.
func (a *authenticator) checkPassword(user, password string) bool {
	hash, ok := a.cfg.Users[user]
	if !ok {
		hash = dummyHash
	}
	return VerifyPassword(hash, password) && ok
}

// argon2id parameters of new hashes (OWASP's minimum for argon2id).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

var dummyHash = HashPassword("not a password")

// HashPassword returns the argon2id hash of password in the PHC string
// format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// parseHash checks an encoded argon2id hash and returns its parts.
func parseHash(encoded string) (m uint32, t uint32, p uint8, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return 0, 0, 0, nil, nil, errors.New("not an argon2id hash ($argon2id$v=19$m=…,t=…,p=…$salt$hash)")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return 0, 0, 0, nil, nil, fmt.Errorf("argon2 version %q is not v=%d", parts[2], argon2.Version)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return 0, 0, 0, nil, nil, fmt.Errorf("argon2 parameters %q are not m=…,t=…,p=…", parts[3])
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return 0, 0, 0, nil, nil, errors.New("bad salt")
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return 0, 0, 0, nil, nil, errors.New("bad hash")
	}
	return m, t, p, salt, key, nil
}

// VerifyPassword reports whether password matches the argon2id hash.
func VerifyPassword(encoded, password string) bool {
	m, t, p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// ReadUsers reads a users file: one "name:argon2id-hash" a line, blank
// lines and lines starting with # ignored. A bad line is an error naming
// it.
func ReadUsers(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	defer f.Close()
	users, err := parseUsers(f)
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	return users, nil
}

func parseUsers(r io.Reader) (map[string]string, error) {
	users := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("line %d: want name:hash", n)
		}
		if err := CheckUserName(name); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if _, _, _, _, _, err := parseHash(hash); err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, name, err)
		}
		if _, dup := users[name]; dup {
			return nil, fmt.Errorf("line %d: user %s appears twice", n, name)
		}
		users[name] = hash
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, errors.New("no users")
	}
	return users, nil
}

// CheckUserName refuses names that cannot stand in a users file line.
func CheckUserName(name string) error {
	if name == "" || len(name) > 128 || strings.ContainsAny(name, ": \t\r\n#") {
		return fmt.Errorf("user name %q: want 1 to 128 characters without ':', '#' or spaces", name)
	}
	return nil
}
