package mongoexporter

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
	if !cfg.CreateIndexes || cfg.Database != "audit_logs" || cfg.Collection != "request_logs" || cfg.WriteConcern != "majority" ||
		!cfg.QueueSettings.HasValue() || !cfg.QueueSettings.Get().Batch.HasValue() {
		t.Errorf("defaults: %+v", cfg)
	}
	if err := confmap.Validate(cfg); err == nil || !strings.Contains(err.Error(), "uri") {
		t.Errorf("default config without a uri: %v", err)
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

// TestMalformedURI: a URI the driver cannot parse fails validation, with
// the key and the driver's reason, never the password.
func TestMalformedURI(t *testing.T) {
	for name, want := range map[string]string{"bad_uri": "auth mechanism", "bad_port": "port"} {
		_, err := loadConfig(t, name)
		if err == nil || !strings.Contains(err.Error(), "uri: invalid connection string") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error naming uri and %s", name, err, want)
		}
		t.Logf("%s: %v", name, err)
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}
