package mongoexporter

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

// TestDefaultConfig checks the defaults of the mongo settings; the suite
// (TestConformance/DefaultConfig) checks those every store exporter has.
func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	if !cfg.CreateIndexes || cfg.Database != "audit_logs" || cfg.Collection != "request_logs" || cfg.WriteConcern != "majority" {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Setenv("AUDIT_MONGO_URI", "mongodb://audit:pw@db:27017/")
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.URI) != "mongodb://audit:pw@db:27017/" || cfg.Retention != 720*time.Hour || cfg.Timeout != 15*time.Second ||
		cfg.QueueSettings.Get().QueueSize != 2000 {
		t.Errorf("loaded %+v", cfg)
	}
	_, err = loadConfig(t, "bad")
	for _, want := range []string{"uri: must start with mongodb://", `database: "a.b"`, `collection: "system.x"`, `write_concern: unknown value "2"`, "retention: 5m0s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
