// Package viewer is the read-only web viewer of the audit log that
// `auditctl serve` runs: a list of records with filters, search and a
// timeline, a record page, and CSV and JSONL exports, behind local
// accounts, OIDC or a trusted auth proxy.
//
// Pages are html/template, so every value is escaped; templates, styles
// and the one small script are embedded. Every response carries a strict
// Content-Security-Policy (no inline script, no framing). Nothing is
// changed on GET; the login and logout forms carry CSRF tokens. The viewer
// only reads: callers give it a store opened read-only.
package viewer

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/otelaudit/otelaudit/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Status is what an integrity check says of one record.
type Status string

// Integrity statuses.
const (
	Verified   Status = "verified"
	Unverified Status = "unverified" // not covered by a checkpoint yet
	Tampered   Status = "tampered"
)

// RecordVerifier checks records against the store's signed checkpoints.
// The viewer shows its verdicts on the list and the record page; without
// one, no integrity status is shown.
type RecordVerifier interface {
	VerifyRecords(ctx context.Context, ids []string) (map[string]Status, error)
}

// Defaults.
const (
	DefaultPageSize      = 50
	DefaultExportMaxRows = 100000
	DefaultSessionTTL    = 8 * time.Hour
	DefaultTimelineRange = 24 * time.Hour
	timelineBuckets      = 24
)

// Config configures the viewer.
type Config struct {
	// Store is read; open it read-only (pgstore.Config.ReadOnly).
	Store store.Store
	// Backend names the store on the pages ("postgres", "mongo").
	Backend string
	// Auth says who may read.
	Auth AuthConfig
	// Verifier, when set, checks the records shown.
	Verifier RecordVerifier
	// PageSize is the number of records on a list page; DefaultPageSize
	// when 0.
	PageSize int
	// ExportMaxRows caps the rows of one export; DefaultExportMaxRows when 0.
	ExportMaxRows int
	// TLS marks the session cookies Secure.
	TLS bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Server is the viewer. Its Handler serves every page.
type Server struct {
	cfg   Config
	auth  *authenticator
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns the viewer for cfg. With OIDC configured it fetches the
// issuer's discovery document within ctx.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("viewer: no store")
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	cfg.PageSize = min(cfg.PageSize, store.MaxLimit)
	if cfg.ExportMaxRows <= 0 {
		cfg.ExportMaxRows = DefaultExportMaxRows
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, pages: map[string]*template.Template{}}
	for _, p := range []string{"list", "record", "login", "error", "signedin"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("viewer: template %s: %w", p, err)
		}
		s.pages[p] = t
	}
	a, err := newAuthenticator(ctx, cfg.Auth, cfg.TLS, cfg.Now)
	if err != nil {
		return nil, err
	}
	s.auth = a
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("viewer: static files: %w", err)
	}
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.logout)
	m.HandleFunc("GET /oidc/login", s.oidcLogin)
	m.HandleFunc("GET /oidc/callback", s.oidcCallback)
	m.Handle("GET /{$}", s.auth.require(http.HandlerFunc(s.list)))
	m.Handle("GET /records/{id}", s.auth.require(http.HandlerFunc(s.record)))
	m.Handle("GET /records/{id}/raw", s.auth.require(http.HandlerFunc(s.raw)))
	m.Handle("GET /export.csv", s.auth.require(http.HandlerFunc(s.exportCSV)))
	m.Handle("GET /export.jsonl", s.auth.require(http.HandlerFunc(s.exportJSONL)))
	s.mux = m
	return s, nil
}

// securityHeaders are set on every response.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "DENY",
	"Referrer-Policy":        "same-origin",
	"Cache-Control":          "no-store",
}

// Handler returns the viewer's handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		s.mux.ServeHTTP(w, r)
	})
}

// render executes a page; a failure after the first byte can only be
// logged by the server, so pages are rendered to a buffer first.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["User"] = userFrom(r.Context())
	data["CSRF"] = csrfFrom(r.Context())
	data["Backend"] = s.cfg.Backend
	var buf bytes.Buffer
	if err := s.pages[page].Execute(&buf, data); err != nil {
		http.Error(w, "viewer: render "+page+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail renders the error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", map[string]any{"Status": status, "Message": msg})
}
