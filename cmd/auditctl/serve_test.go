package main_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/viewer"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

func TestPasswd(t *testing.T) {
	cmd := exec.Command(binary, "passwd", "alice")
	cmd.Stdin = strings.NewReader("hunter22 and more\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	name, hash, ok := strings.Cut(strings.TrimSpace(string(out)), ":")
	if !ok || name != "alice" || !viewer.VerifyPassword(hash, "hunter22 and more") {
		t.Errorf("passwd printed %q", out)
	}
	cmd = exec.Command(binary, "passwd", "bob")
	cmd.Stdin = strings.NewReader("short\n")
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Errorf("a short password: %v, want exit 2", err)
	}
}

func TestServeUsage(t *testing.T) {
	env := []string{"AUDIT_POSTGRES_DSN=postgres://x@127.0.0.1:1/x"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "no way to log in"},
		{[]string{"serve", "--insecure-no-auth", "--addr", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"serve", "--proxy-header", "X-User"}, "--proxy-header and --trusted-proxies go together"},
		{[]string{"serve", "--users", "/nonexistent"}, "--users: users file"},
		{[]string{"serve", "--tls-cert", "c.pem", "--insecure-no-auth"}, "--tls-cert and --tls-key go together"},
		{[]string{"serve", "--insecure-no-auth", "--verify-key", "/nonexistent.pub"}, "--verify-key: public key"},
	} {
		r := auditctl(t, env, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("auditctl %v: exit %d, %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

// otlpSink is an OTLP/HTTP logs endpoint that keeps what it receives.
type otlpSink struct {
	mu   sync.Mutex
	body bytes.Buffer
}

func (o *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	o.body.Write(b)
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (o *otlpSink) received() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(o.body.Bytes())
}

// The built binary serves the viewer over a read-only connection, behind
// the users file passwd wrote, and audits its own requests over OTLP.
func TestServe(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	table := testdb.Name("serve")
	testdb.DropTable(t, dsn, "public", table)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{DSN: dsn, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// One record sealed under a key keygen made, one written without a
	// checkpoint: with --verify-key the record pages say which is which.
	key := filepath.Join(t.TempDir(), "audit.key")
	if out, err := exec.Command(binary, "keygen", "--key", key).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	signer, err := (&integrity.Config{KeyFile: key}).Signer()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := integrity.NewSealer("serve-test", signer)
	if err != nil {
		t.Fatal(err)
	}
	rec := storetest.NewRecord(time.Now().UTC().Add(-time.Minute), 1)
	if _, err := sealer.Write(ctx, s, []store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	unsealed := storetest.NewRecord(time.Now().UTC().Add(-2*time.Minute), 2)
	if _, err := s.Write(ctx, []store.Record{unsealed}); err != nil {
		t.Fatal(err)
	}

	pw := exec.Command(binary, "passwd", "alice")
	pw.Stdin = strings.NewReader("viewer-password\n")
	line, err := pw.Output()
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, line, 0o600); err != nil {
		t.Fatal(err)
	}
	sink := &otlpSink{}
	collector := httptest.NewServer(sink)
	defer collector.Close()

	cmd := exec.Command(binary, "serve", "--dsn", dsn, "--table", table, "--users", users, "--addr", "127.0.0.1:0",
		"--verify-key", key+".pub")
	cmd.Env = append(os.Environ(), "OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no address: %v; stderr: %s", err, stderr.String())
	}
	m := regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("serve printed %q", first)
	}
	base := m[1]

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	page := fetch(t, c, base+"/login")
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if token == nil {
		t.Fatalf("login page:\n%s", page)
	}
	resp, err := c.PostForm(base+"/login", url.Values{"csrf": {token[1]}, "username": {"alice"}, "password": {"viewer-password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if page := fetch(t, c, base+"/"); !strings.Contains(page, rec.ID) {
		t.Errorf("the list lacks the record")
	}
	if page := fetch(t, c, base+"/records/"+rec.ID); !strings.Contains(page, rec.Path) {
		t.Errorf("the record page lacks its path")
	} else if !strings.Contains(page, "Integrity: verified") {
		t.Errorf("the sealed record's page does not say it verifies")
	}
	if page := fetch(t, c, base+"/records/"+unsealed.ID); !strings.Contains(page, "Integrity: unverified") {
		t.Errorf("the record no checkpoint covers is not shown unverified")
	}
	fetch(t, c, base+"/export.csv?status=5xx")

	// SIGTERM: the server shuts down and flushes its own audit records.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exited: %v; stderr: %s", err, stderr.String())
	}
	got := sink.received()
	for _, want := range []string{"/records/" + rec.ID, "/export.csv", "status=5xx", "alice", "auditctl-serve"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("the viewer's own audit records lack %q", want)
		}
	}
}

func fetch(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %s", u, resp.Status)
	}
	return string(b)
}
