package postgresexporter

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelaudit/otelaudit/internal/testutil/testconfig"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cfg, err := testconfig.Component(t, NewFactory(), name)
	return cfg.(*Config), err
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	if err := componenttest.CheckConfigStruct(cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.QueueSettings.HasValue() || !cfg.QueueSettings.Get().Batch.HasValue() {
		t.Error("sending_queue with batching must be on by default")
	}
	if !cfg.CreateSchema || cfg.Partition != "day" || cfg.Table != "audit_logs" || !cfg.BackOffConfig.Enabled {
		t.Errorf("defaults: %+v", cfg)
	}
	if err := confmap.Validate(cfg); err == nil || !strings.Contains(err.Error(), "dsn") {
		t.Errorf("default config without a dsn: %v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Setenv("AUDIT_POSTGRES_DSN", "postgres://audit:s3cret@db:5432/audit")
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.DSN) != "postgres://audit:s3cret@db:5432/audit" || cfg.Schema != "audit" || cfg.Retention != 2160*time.Hour ||
		cfg.Timeout != 10*time.Second || cfg.QueueSettings.Get().QueueSize != 5000 || cfg.QueueSettings.Get().Batch.Get().MinSize != 2000 ||
		cfg.BackOffConfig.MaxElapsedTime != 0 {
		t.Errorf("loaded %+v", cfg)
	}
	if strings.Contains(cfg.DSN.String(), "s3cret") {
		t.Error("dsn printable: it must be configopaque")
	}
	cfg, err = loadConfig(t, "monthly")
	if err != nil || cfg.Partition != "month" {
		t.Errorf("postgres/monthly: %+v %v", cfg, err)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := loadConfig(t, "bad")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"dsn: must not be empty", `table: "Audit-Logs"`, `partition: unknown value "week"`, "premake: -3", "retention: 10m0s is shorter than an hour"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestMalformedDSN: a DSN the driver cannot parse fails validation, with
// the key and the driver's reason, never the password.
func TestMalformedDSN(t *testing.T) {
	for name, want := range map[string]string{"bad_dsn": "sslmode", "bad_dsn_kv": "port"} {
		_, err := loadConfig(t, name)
		if err == nil || !strings.Contains(err.Error(), "dsn: invalid connection string") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error naming dsn and %s", name, err, want)
		}
		t.Logf("%s: %v", name, err)
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}
