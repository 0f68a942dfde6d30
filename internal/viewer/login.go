package viewer

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
)

// loginPage shows the login form; its CSRF token is also set in a cookie
// the POST must bring back (double submit: another site can neither read
// nor set it).
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.showLogin(w, r, http.StatusOK, "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	t := token()
	s.auth.setCookie(w, loginCookie, t, time.Hour, http.SameSiteStrictMode)
	s.render(w, r, status, "login", map[string]any{
		"LoginCSRF": t, "Message": msg,
		"Local": len(s.auth.cfg.Users) > 0, "OIDC": s.auth.oauth != nil,
	})
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "login: "+err.Error())
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(c.Value, r.PostForm.Get("csrf")) {
		s.fail(w, r, http.StatusForbidden, "login: the form has expired or did not come from this viewer; reload the login page")
		return
	}
	ip := clientIP(r)
	if !s.auth.allowLogin(ip) {
		w.Header().Set("Retry-After", "60")
		s.showLogin(w, r, http.StatusTooManyRequests, "Too many failed logins from your address; wait a minute.")
		return
	}
	user := r.PostForm.Get("username")
	audithttp.SetUserID(r.Context(), user)
	if len(s.auth.cfg.Users) == 0 || !s.auth.checkPassword(user, r.PostForm.Get("password")) {
		s.auth.loginFailed(ip)
		s.showLogin(w, r, http.StatusUnauthorized, "Wrong user name or password.")
		return
	}
	s.auth.setCookie(w, loginCookie, "", -1, http.SameSiteStrictMode)
	s.auth.startSession(w, user)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "logout: "+err.Error())
		return
	}
	_, csrf := s.auth.identify(r)
	if !sameToken(csrf, r.PostForm.Get("csrf")) {
		s.fail(w, r, http.StatusForbidden, "logout: the form did not come from this session")
		return
	}
	s.auth.endSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// redirectURL is where the OIDC provider sends the browser back.
func (s *Server) redirectURL(r *http.Request) string {
	if u := s.auth.cfg.OIDC.RedirectURL; u != "" {
		return u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/oidc/callback"
}

func (s *Server) oidcContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	if c := s.auth.cfg.OIDC.HTTPClient; c != nil {
		ctx = oidc.ClientContext(ctx, c)
	}
	return ctx, cancel
}

// oidcLogin starts the authorization code flow. The state and nonce
// cookie is SameSite=Lax: it must come back on the provider's cross-site
// redirect to the callback.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) {
	if s.auth.oauth == nil {
		s.fail(w, r, http.StatusNotFound, "single sign-on is not configured")
		return
	}
	state, nonce := token(), token()
	s.auth.setCookie(w, oidcCookie, state+"."+nonce, 10*time.Minute, http.SameSiteLaxMode)
	cfg := *s.auth.oauth
	cfg.RedirectURL = s.redirectURL(r)
	http.Redirect(w, r, cfg.AuthCodeURL(state, oidc.Nonce(nonce)), http.StatusFound)
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.auth.oauth == nil {
		s.fail(w, r, http.StatusNotFound, "single sign-on is not configured")
		return
	}
	c, err := r.Cookie(oidcCookie)
	state, nonce, _ := strings.Cut(func() string {
		if err != nil {
			return ""
		}
		return c.Value
	}(), ".")
	if !sameToken(state, r.URL.Query().Get("state")) {
		s.fail(w, r, http.StatusForbidden, "single sign-on: the login did not start here or has expired; log in again")
		return
	}
	s.auth.setCookie(w, oidcCookie, "", -1, http.SameSiteLaxMode)
	if e := r.URL.Query().Get("error"); e != "" {
		s.fail(w, r, http.StatusForbidden, "single sign-on refused: "+e+" "+r.URL.Query().Get("error_description"))
		return
	}
	ctx, cancel := s.oidcContext(r)
	defer cancel()
	cfg := *s.auth.oauth
	cfg.RedirectURL = s.redirectURL(r)
	tok, err := cfg.Exchange(ctx, r.URL.Query().Get("code"))
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, "single sign-on: code exchange: "+err.Error())
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.fail(w, r, http.StatusBadGateway, "single sign-on: the provider sent no ID token")
		return
	}
	idt, err := s.auth.oidcVerifier.Verify(ctx, raw)
	if err != nil {
		s.fail(w, r, http.StatusForbidden, "single sign-on: "+err.Error())
		return
	}
	if !sameToken(idt.Nonce, nonce) {
		s.fail(w, r, http.StatusForbidden, "single sign-on: the ID token's nonce does not match")
		return
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		s.fail(w, r, http.StatusBadGateway, "single sign-on: claims: "+err.Error())
		return
	}
	user := claims.PreferredUsername
	if user == "" {
		user = claims.Email
	}
	if user == "" {
		user = idt.Subject
	}
	audithttp.SetUserID(r.Context(), user)
	s.auth.startSession(w, user)
	// A page, not a redirect: the session cookie is SameSite=Strict, and
	// a redirect chain that began at the provider is cross-site, so the
	// browser would not send it on the way to "/".
	s.render(w, r, http.StatusOK, "signedin", map[string]any{"Name": user})
}
