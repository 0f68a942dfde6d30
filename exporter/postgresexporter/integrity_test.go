package postgresexporter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
)

// newKey writes a key pair into a temporary directory and returns the
// private key file's path.
func newKey(t *testing.T) string {
	t.Helper()
	key := filepath.Join(t.TempDir(), "audit.key")
	if _, err := integrity.GenerateKey(key, "otelaudit-test"); err != nil {
		t.Fatal(err)
	}
	return key
}

func TestIntegrityCheckpointsVerify(t *testing.T) {
	key := newKey(t)
	h := newHarness(t, testdb.PostgresDSN(t), func(c *Config) { c.Integrity = &integrity.Config{KeyFile: key, Writer: "node-1/postgres"} })
	if err := h.exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 4; b++ {
		if err := h.exp.ConsumeLogs(context.Background(), testlogs.Audit(b*50, 50, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	v, err := integrity.LoadVerifier(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := integrity.Verify(context.Background(), h.store, v, integrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact || rep.Records != 200 || rep.Covered != 200 || rep.Checkpoints == 0 || rep.Writers["node-1/postgres"] == 0 {
		t.Fatalf("verify: %+v", rep)
	}
}

func TestIntegrityLooseKeyRefusesToStart(t *testing.T) {
	key := newKey(t)
	h := newHarness(t, testdb.PostgresDSN(t), func(c *Config) { c.Integrity = &integrity.Config{KeyFile: key} })
	if err := os.Chmod(key, 0o640); err != nil {
		t.Fatal(err)
	}
	err := h.exp.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "0640") || !strings.Contains(err.Error(), "key_file") {
		t.Fatalf("start with a key others may read: %v", err)
	}
	h.exp.Shutdown(context.Background())
}
