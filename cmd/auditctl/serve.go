package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"golang.org/x/mod/sumdb/note"

	"github.com/otelaudit/otelaudit/instrumentation/auditexport"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/viewer"
	"github.com/otelaudit/otelaudit/store"
)

// oidcSecretEnv holds the OIDC client secret, kept off the command line.
const oidcSecretEnv = "AUDITCTL_OIDC_CLIENT_SECRET"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]",
		`  auditctl passwd alice < pw >> users; auditctl serve --users users
  auditctl serve --addr :8443 --tls-cert cert.pem --tls-key key.pem --users users
  AUDITCTL_OIDC_CLIENT_SECRET=… auditctl serve --oidc-issuer https://id.example.com --oidc-client-id audit-viewer
  auditctl serve --proxy-header X-Forwarded-User --trusted-proxies 10.0.0.5/32
  auditctl serve --insecure-no-auth   (loopback only)`, stderr)
	var c connFlags
	c.register(fs, false)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	certFile := fs.String("tls-cert", "", "TLS certificate (PEM); with --tls-key, serve HTTPS")
	keyFile := fs.String("tls-key", "", "TLS private key (PEM)")
	usersFile := fs.String("users", "", "local accounts, one name:argon2id-hash a line (see 'auditctl passwd')")
	issuer := fs.String("oidc-issuer", "", "OpenID Connect issuer URL (client secret in $"+oidcSecretEnv+")")
	clientID := fs.String("oidc-client-id", "", "OpenID Connect client id")
	redirect := fs.String("oidc-redirect-url", "", "this viewer's /oidc/callback URL as the provider knows it (default: from the request)")
	proxyHeader := fs.String("proxy-header", "", "header a trusted auth proxy sets to the user name")
	proxies := fs.String("trusted-proxies", "", "comma-separated addresses or CIDRs of the auth proxies")
	noAuth := fs.Bool("insecure-no-auth", false, "let anyone in without logging in (loopback --addr only)")
	exportMax := fs.Int("export-max-rows", viewer.DefaultExportMaxRows, "most rows one export streams")
	pageSize := fs.Int("page-size", viewer.DefaultPageSize, "records per list page")
	ttl := fs.Duration("session-ttl", viewer.DefaultSessionTTL, "how long a login lasts")
	verifyKey := fs.String("verify-key", "", "public key to verify records against the store's checkpoints")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	backends, err := c.backends(false)
	if err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if *exportMax < 1 || *pageSize < 1 || *ttl <= 0 {
		return usagef("--export-max-rows, --page-size and --session-ttl must be > 0")
	}
	var checkpointKey note.Verifier
	if *verifyKey != "" {
		if checkpointKey, err = integrity.LoadVerifier(*verifyKey); err != nil {
			return usagef("--verify-key: %v", err)
		}
	}
	auth := viewer.AuthConfig{SessionTTL: *ttl, ProxyHeader: *proxyHeader}
	if *usersFile != "" {
		if auth.Users, err = viewer.ReadUsers(*usersFile); err != nil {
			return usagef("--users: %v", err)
		}
	}
	if *issuer != "" {
		auth.OIDC = viewer.OIDCConfig{Issuer: *issuer, ClientID: *clientID, ClientSecret: os.Getenv(oidcSecretEnv), RedirectURL: *redirect}
		if *clientID == "" {
			return usagef("--oidc-issuer needs --oidc-client-id")
		}
	}
	if *proxies != "" {
		for _, p := range strings.Split(*proxies, ",") {
			pfx, err := parsePrefix(strings.TrimSpace(p))
			if err != nil {
				return usagef("--trusted-proxies: %v", err)
			}
			auth.TrustedProxies = append(auth.TrustedProxies, pfx)
		}
	}
	if (*proxyHeader == "") != (len(auth.TrustedProxies) == 0) {
		return usagef("--proxy-header and --trusted-proxies go together")
	}
	if *noAuth {
		if !loopback(*addr) {
			return usagef("--insecure-no-auth: %s is not a loopback address; anonymous access is only allowed on 127.0.0.1 or ::1", *addr)
		}
		auth.Anonymous = true
	}
	if auth.Users == nil && *issuer == "" && *proxyHeader == "" && !auth.Anonymous {
		return usagef("no way to log in: give --users, --oidc-issuer or --proxy-header (or --insecure-no-auth on loopback)")
	}

	c.readOnly = true
	octx, cancel := context.WithTimeout(ctx, c.timeout)
	s, err := c.open(octx, backends[0])
	cancel()
	if err != nil {
		return err
	}
	defer s.Close()
	cfg := viewer.Config{Store: s, Backend: backends[0], Auth: auth, PageSize: *pageSize,
		ExportMaxRows: *exportMax, TLS: *certFile != ""}
	if checkpointKey != nil {
		cs, ok := s.(store.CheckpointStore)
		if !ok {
			return usagef("--verify-key: the %s store keeps no checkpoints", backends[0])
		}
		cfg.Verifier = checkpointVerifier{store: cs, key: checkpointKey}
	}
	octx, cancel = context.WithTimeout(ctx, c.timeout)
	v, err := viewer.New(octx, cfg)
	cancel()
	if err != nil {
		return err
	}
	handler, shutdownAudit, err := selfAudit(ctx, v.Handler(), stderr)
	if err != nil {
		return err
	}
	defer shutdownAudit()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	scheme := "http"
	if *certFile != "" {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	fmt.Fprintf(stdout, "auditctl serve: %s viewer on %s://%s/\n", backends[0], scheme, ln.Addr())
	errc := make(chan error, 1)
	go func() {
		if *certFile != "" {
			errc <- srv.ServeTLS(ln, *certFile, *keyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// checkpointVerifier shows on the viewer's pages whether the records are
// as the checkpoints signed by key covered them.
type checkpointVerifier struct {
	store store.CheckpointStore
	key   note.Verifier
}

// VerifyRecords implements viewer.RecordVerifier.
func (c checkpointVerifier) VerifyRecords(ctx context.Context, ids []string) (map[string]viewer.Status, error) {
	checked, err := integrity.CheckRecords(ctx, c.store, c.key, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]viewer.Status, len(checked))
	for id, st := range checked {
		switch st {
		case integrity.StatusVerified:
			out[id] = viewer.Verified
		case integrity.StatusAltered:
			out[id] = viewer.Tampered
		default:
			out[id] = viewer.Unverified
		}
	}
	return out, nil
}

// selfAudit wraps h with audithttp when an OTLP endpoint is configured in
// the standard environment variables, so that who read or exported what
// is in the audit trail too. Bodies are left out: a login form holds a
// password, and an export is the trail itself.
func selfAudit(ctx context.Context, h http.Handler, stderr io.Writer) (http.Handler, func(), error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") == "" {
		return h, func() {}, nil
	}
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		os.Setenv("OTEL_SERVICE_NAME", "auditctl-serve")
	}
	exp, err := otlploghttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("self-audit: OTLP exporter: %w", err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(auditexport.Retrying(exp))),
		sdklog.WithAllowKeyDuplication())
	wrapped := audithttp.NewHandler(h, "auditctl-serve", audithttp.WithLoggerProvider(lp),
		audithttp.WithRequestBody(false), audithttp.WithResponseBody(false), audithttp.WithExcludePaths("/static/"))
	return wrapped, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// audithttp emits records after the response: emit the pending ones first.
		if err := audithttp.Flush(sctx); err != nil {
			fmt.Fprintf(stderr, "auditctl serve: self-audit: %v\n", err)
		}
		if err := lp.Shutdown(sctx); err != nil {
			fmt.Fprintf(stderr, "auditctl serve: self-audit: flush: %v\n", err)
		}
	}, nil
}

// parsePrefix reads an address or a CIDR.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// loopback reports whether addr (host:port) listens on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
