package samplingprocessor

import (
	"strings"
	"testing"

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
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := componenttest.CheckConfigStruct(cfg); err != nil {
		t.Fatal(err)
	}
	if err := confmap.Validate(cfg); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if !cfg.KeepErrors || cfg.Decision != DecisionRecordID || cfg.Unmatched != UnmatchedKeep || len(cfg.Rates) != 0 {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	rates, err := ParseRates(cfg.Rates)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		method string
		status int
		want   float64
	}{
		{"GET", 200, 0.1}, {"get", 200, 0.1}, {"GET", 304, 0.5}, {"GET", 404, 1}, {"HEAD", 200, 0},
		{"HEAD", 500, 0}, {"POST", 200, 1}, {"DELETE", 404, 1},
	}
	for _, c := range checks {
		if got := rates.Rate(c.method, c.status); got != c.want {
			t.Errorf("Rate(%s, %d) = %v, want %v", c.method, c.status, got, c.want)
		}
	}
	if !cfg.KeepErrors || cfg.Decision != "record_id" || cfg.Unmatched != "keep" {
		t.Errorf("loaded %+v", cfg)
	}

	cfg, err = loadConfig(t, "trace")
	if err != nil {
		t.Fatal(err)
	}
	rates, _ = ParseRates(cfg.Rates)
	if cfg.Decision != "trace_id" || cfg.Unmatched != "drop" || rates.Rate("GET", 201) != 0.25 {
		t.Errorf("sampling/trace: %+v", cfg)
	}
}

func TestConfigErrorsNameKeyAndReason(t *testing.T) {
	cases := map[string]string{
		"bad_rate":          "rates::GET::200: rate 1.5 is outside [0,1]",
		"bad_selector":      `rates::GET::2x: invalid status selector "2x"`,
		"bad_selector_word": `rates::POST::abc: invalid status selector "abc"`,
		"bad_decision":      `decision: unknown value "coin_flip"`,
		"bad_unmatched":     `unmatched: unknown value "maybe"`,
		"bad_type":          "rates::GET: rate must be a number in [0,1] or a map of status selectors",
	}
	for name, want := range cases {
		_, err := loadConfig(t, name)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !contains(err.Error(), want) {
			t.Errorf("%s: error %q does not say %q", name, err, want)
		}
	}
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}
