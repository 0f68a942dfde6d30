package viewer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/viewer"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

// clock is a settable clock for session expiry and rate limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stores opens a fresh migrated table and returns a writable store, to
// seed it, and a read-only one, for the viewer.
func stores(t testing.TB) (rw, ro *pgstore.Store) {
	t.Helper()
	dsn := testdb.PostgresDSN(t)
	table := testdb.Name("viewer")
	testdb.DropTable(t, dsn, "public", table)
	ctx := context.Background()
	rw, err := pgstore.Open(ctx, pgstore.Config{DSN: dsn, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rw.Close() })
	if err := rw.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ro, err = pgstore.Open(ctx, pgstore.Config{DSN: dsn, Table: table, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	return rw, ro
}

func write(t testing.TB, s store.Store, recs ...store.Record) {
	t.Helper()
	if _, err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

const testPassword = "correct horse battery staple"

// serve starts the viewer over s with one local account, alice.
func serve(t testing.TB, s store.Store, mod func(*viewer.Config)) (*httptest.Server, *clock) {
	t.Helper()
	clk := &clock{t: time.Now()}
	cfg := viewer.Config{Store: s, Backend: "postgres", Now: clk.Now,
		Auth: viewer.AuthConfig{Users: map[string]string{"alice": viewer.HashPassword(testPassword)}}}
	if mod != nil {
		mod(&cfg)
	}
	v, err := viewer.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(v.Handler())
	t.Cleanup(srv.Close)
	return srv, clk
}

// client returns a client with a cookie jar that does not follow
// redirects.
func client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t testing.TB, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func post(t testing.TB, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of a form on page.
func csrf(t testing.TB, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	return m[1]
}

// login logs c in as user with password and returns the response.
func login(t testing.TB, c *http.Client, base, user, password string) *http.Response {
	t.Helper()
	_, page := get(t, c, base+"/login")
	resp, _ := post(t, c, base+"/login", url.Values{"csrf": {csrf(t, page)}, "username": {user}, "password": {password}})
	return resp
}

// loggedIn returns a client logged in as alice.
func loggedIn(t testing.TB, base string) *http.Client {
	t.Helper()
	c := client(t)
	if resp := login(t, c, base, "alice", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %s", resp.Status)
	}
	return c
}

func mustContain(t testing.TB, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}
