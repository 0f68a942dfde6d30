package maskingprocessor

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelaudit/otelaudit/internal/testutil/testconfig"
)

// loadConfig resolves testdata/config.yaml as the collector does (file and
// env providers), then unmarshals and validates the named processor.
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
	if err := confmap.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	d := cfg.Detectors
	if !d.CreditCard || !d.JWT || !d.Bearer || !d.AWSAccessKey || !d.PrivateKey || !d.Tokens || !d.URL ||
		cfg.Mode != "redact" || cfg.Replacement != "****" || cfg.MaxDepth != 64 {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Setenv("AUDIT_MASK_HMAC_KEY", "from-the-environment-0123456789")
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.SensitiveKeys, ",") != "iban,dob" || strings.Join(cfg.ExactKeys, ",") != "pin,otp" ||
		strings.Join(cfg.WordKeys, ",") != "pword" || strings.Join(cfg.RemoveKeys, ",") != "code" || !cfg.Detectors.URL ||
		string(cfg.HMACKey) != "from-the-environment-0123456789" || cfg.Mode != "redact" {
		t.Errorf("loaded %+v", cfg)
	}
	if cfg.HMACKey.String() == string(cfg.HMACKey) {
		t.Error("hmac_key is printable: it must be configopaque")
	}

	cfg, err = loadConfig(t, "hash")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != "hash" || cfg.Detectors.CreditCard || !cfg.Detectors.JWT {
		t.Errorf("masking/hash: %+v", cfg)
	}
	cfg, err = loadConfig(t, "partial")
	if err != nil || cfg.Replacement != "[redacted]" {
		t.Errorf("masking/partial: %+v %v", cfg, err)
	}
}

func TestConfigErrorsNameKeyAndReason(t *testing.T) {
	cases := map[string]string{
		"bad_mode":         `mode: unknown mode "scramble"`,
		"hash_without_key": "hmac_key: required when mode is hash",
		"short_key":        "hmac_key: 5 bytes is too short",
		"bad_depth":        "max_depth: 0: must be > 0",
		"bad_key":          `sensitive_keys[1]: "-_" is empty`,
		"replace_nothing":  "replace_default_keys: set, but no sensitive, exact or word key remains",
		"bad_remove":       `remove_keys[1]: "colour": not a term of the rule set`,
	}
	for name, want := range cases {
		_, err := loadConfig(t, name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to say %q", name, err, want)
		}
	}
}

// TestConfigErrorsFromTheEngine: the engine's rules, reported all at once,
// each under the key and index of this config that holds the value.
func TestConfigErrorsFromTheEngine(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.ExactKeys = []string{"voucher", "."}
	cfg.WordKeys = []string{"_"}
	cfg.RemoveKeys = []string{"colour"}
	cfg.MaxSize = -1
	cfg.Mode = "hash"
	err := cfg.Validate()
	for _, want := range []string{
		`exact_keys[1]: "." is empty`,
		`word_keys[0]: "_" is empty`,
		`remove_keys[0]: "colour": not a term of the rule set`,
		"max_size: -1: must be > 0",
		"hmac_key: required when mode is hash",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to say %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "mask:") {
		t.Errorf("error %v names the engine's fields, not this config's keys", err)
	}
}
