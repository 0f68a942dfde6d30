package postgresexporter

import (
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/testutil/testconfig"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cfg, err := testconfig.Component(t, NewFactory(), name)
	return cfg.(*Config), err
}

// TestDefaultConfig checks the defaults of the postgres settings; the suite
// (TestConformance/DefaultConfig) checks those every store exporter has.
func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	if !cfg.CreateSchema || cfg.Partition != "day" || cfg.Table != "audit_logs" {
		t.Errorf("defaults: %+v", cfg)
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
