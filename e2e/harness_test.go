// Package e2e runs the built collector (make collector) with config/dual.yaml
// against the test PostgreSQL and MongoDB-wire server, with examples/service
// exporting OTLP/HTTP to it, as a user would deploy them.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/testutil/testconfig"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/processor/samplingprocessor"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/mongostore"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

var (
	root, collectorBin, serviceBin string
)

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	root = filepath.Dir(wd)
	collectorBin = filepath.Join(root, "_build", "otelcol-audit")
	dir, err := os.MkdirTemp("", "otelaudit-e2e")
	if err != nil {
		panic(err)
	}
	serviceBin = filepath.Join(dir, "service")
	if out, err := exec.Command("go", "build", "-o", serviceBin, "../examples/service").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build examples/service: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needCollector(t testing.TB) {
	if _, err := os.Stat(collectorBin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: run make collector (make test does)", collectorBin)
		}
		t.Skipf("%s missing: run make collector", collectorBin)
	}
}

// freePort returns a loopback address whose port nobody listens on, for a
// process the test starts to listen there.
func freePort(t testing.TB) string {
	t.Helper()
	lo, hi := listenPorts()
	for range 200 {
		port := lo + rand.IntN(hi-lo)
		if _, taken := givenPorts.LoadOrStore(port, true); taken {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // someone listens there
		}
		ln.Close()
		return ln.Addr().String()
	}
	t.Fatalf("no free port in %d-%d", lo, hi)
	return ""
}

// givenPorts are the ports freePort has handed out in this process.
var givenPorts sync.Map

// listenPorts is the range freePort draws from: below the kernel's ephemeral
// range. A port from that range (what listening on :0 gives) can be handed
// to another process's outgoing connection (a test of another package
// connecting to PostgreSQL) between freePort's check and the collector's
// bind; ports below it are only ever taken by a listener.
func listenPorts() (lo, hi int) {
	lo, hi = 20000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	if f := strings.Fields(string(b)); len(f) == 2 {
		if ephemeral, err := strconv.Atoi(f[0]); err == nil && ephemeral > lo+1000 {
			hi = ephemeral
		}
	}
	return lo, hi
}

// syncBuffer collects a process's output for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one test's deployment: its table, database, queue directory and
// ports.
type env struct {
	dsn, uri           string
	table, database    string
	queueDir           string
	otlp, grpc, health string
	metrics            string // port of the collector's own metrics
}

func newEnv(t testing.TB) *env {
	e := &env{
		dsn: testdb.PostgresDSN(t), uri: testdb.MongoURI(t),
		table: testdb.Name("e2e"), database: testdb.Name("e2e"),
		queueDir: t.TempDir(),
		otlp:     freePort(t), grpc: freePort(t), health: freePort(t),
	}
	_, e.metrics, _ = net.SplitHostPort(freePort(t))
	testdb.DropTable(t, e.dsn, "public", e.table)
	t.Cleanup(func() {
		if s, err := mongostore.Open(context.Background(), mongostore.Config{URI: e.uri, Database: e.database}); err == nil {
			s.DropDatabase(context.Background())
			s.Close()
		}
	})
	return e
}

func (e *env) vars() []string {
	return []string{
		"AUDIT_POSTGRES_DSN=" + e.dsn, "AUDIT_MONGO_URI=" + e.uri,
		"AUDIT_POSTGRES_TABLE=" + e.table, "AUDIT_MONGO_DATABASE=" + e.database,
		"AUDIT_QUEUE_DIR=" + e.queueDir,
		"AUDIT_OTLP_HTTP=" + e.otlp, "AUDIT_OTLP_GRPC=" + e.grpc, "AUDIT_HEALTH=" + e.health,
		"AUDIT_METRICS=" + e.metrics,
	}
}

type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func start(t testing.TB, name string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *process) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the process to stop (SIGTERM: the collector drains its queues,
// the service flushes its records) and waits.
func (p *process) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.kill()
		t.Fatalf("%s did not stop on SIGTERM:\n%s", p.cmd.Path, tail(p.out.String()))
	}
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// waitHTTP waits until url answers 200, or the process exits.
func waitHTTP(t testing.TB, p *process, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", p.cmd.Path, tail(p.out.String()))
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60 s:\n%s", url, tail(p.out.String()))
		}
	}
}

func startCollector(t testing.TB, e *env, config string, overlays ...string) *process {
	t.Helper()
	args := []string{"--config", filepath.Join(root, "config", config)}
	for _, o := range overlays {
		args = append(args, "--config", filepath.Join(root, "config", o))
	}
	p := start(t, collectorBin, e.vars(), args...)
	waitHTTP(t, p, "http://"+e.health+"/")
	return p
}

func startService(t *testing.T, e *env) (*process, string) {
	t.Helper()
	return startServiceOn(t, e, t.TempDir(), freePort(t))
}

// startServiceOn starts examples/service on addr with its audit spool in
// spoolDir.
func startServiceOn(t *testing.T, e *env, spoolDir, addr string) (*process, string) {
	t.Helper()
	p := start(t, serviceBin, []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + e.otlp, "OTEL_SERVICE_NAME=e2e-service", "AUDIT_SPOOL_DIR=" + spoolDir,
	}, "-addr", addr, "-source-masking=false")
	waitHTTP(t, p, "http://"+addr+"/healthz")
	return p, "http://" + addr
}

func openStores(t *testing.T, e *env) (*pgstore.Store, *mongostore.Store) {
	pg, err := pgstore.Open(context.Background(), pgstore.Config{DSN: e.dsn, Table: e.table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	mg, err := mongostore.Open(context.Background(), mongostore.Config{URI: e.uri, Database: e.database, WriteConcern: "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mg.Close() })
	return pg, mg
}

func count(t *testing.T, s store.Store) int64 {
	n, err := s.Count(context.Background(), store.Filter{})
	if err != nil && !strings.Contains(err.Error(), "does not exist") {
		t.Fatal(err)
	}
	return n
}

// waitCount polls a store until it holds want records; the deadline only
// bounds a failing test.
func waitCount(t *testing.T, name string, s store.Store, want int64, collector *process) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for n := count(t, s); n < want; n = count(t, s) {
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d records after 120 s, want %d\ncollector:\n%s", name, n, want, tail(collector.out.String()))
		}
		<-tick.C
	}
}

// dualRates reads the sampling rates of config/dual.yaml, so the tests
// check the shipped configuration.
func dualRates(t *testing.T) (samplingprocessor.Rates, *samplingprocessor.Config) {
	cfg := samplingprocessor.NewFactory().CreateDefaultConfig().(*samplingprocessor.Config)
	if err := testconfig.Load(t, filepath.Join(root, "config", "dual.yaml"), "processors::sampling", cfg); err != nil {
		t.Fatal(err)
	}
	rates, err := samplingprocessor.ParseRates(cfg.Rates)
	if err != nil {
		t.Fatal(err)
	}
	return rates, cfg
}
