package maskingprocessor

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelaudit/otelaudit/internal/mask"
)

// Config is the configuration of the masking processor.
type Config struct {
	// SensitiveKeys are substring terms added to the defaults (or replacing
	// them, with ReplaceDefaultKeys).
	SensitiveKeys []string `mapstructure:"sensitive_keys"`
	// ReplaceDefaultKeys drops the default terms.
	ReplaceDefaultKeys bool `mapstructure:"replace_default_keys"`
	// ExactKeys are terms a normalised key must equal.
	ExactKeys []string `mapstructure:"exact_keys"`
	// WordKeys are terms a normalised key or its last word must equal.
	WordKeys []string `mapstructure:"word_keys"`
	// RemoveKeys are terms removed from the rule set, whichever list holds
	// them.
	RemoveKeys []string `mapstructure:"remove_keys"`
	// Detectors switches the value detectors on and off.
	Detectors DetectorsConfig `mapstructure:"detectors"`
	// Mode is redact, hash or partial.
	Mode string `mapstructure:"mode"`
	// Replacement replaces masked values in redact and partial modes.
	Replacement string `mapstructure:"replacement"`
	// HMACKey is the key of hash mode, which requires it.
	HMACKey configopaque.String `mapstructure:"hmac_key"`
	// MaxDepth bounds JSON nesting; deeper values are redacted whole.
	MaxDepth int `mapstructure:"max_depth"`
	// MaxSize bounds the bytes of one value that are walked; the rest is
	// redacted whole.
	MaxSize int `mapstructure:"max_size"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DetectorsConfig switches each value detector.
type DetectorsConfig struct {
	CreditCard   bool `mapstructure:"credit_card"`
	JWT          bool `mapstructure:"jwt"`
	Bearer       bool `mapstructure:"bearer"`
	AWSAccessKey bool `mapstructure:"aws_access_key"`
	PrivateKey   bool `mapstructure:"private_key"`
	Tokens       bool `mapstructure:"tokens"`
	URL          bool `mapstructure:"url"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func (d DetectorsConfig) set() mask.Detector {
	var s mask.Detector
	for _, x := range []struct {
		on  bool
		bit mask.Detector
	}{
		{d.CreditCard, mask.DetectCreditCard}, {d.JWT, mask.DetectJWT}, {d.Bearer, mask.DetectBearer},
		{d.AWSAccessKey, mask.DetectAWSAccessKey}, {d.PrivateKey, mask.DetectPrivateKey}, {d.Tokens, mask.DetectTokens},
		{d.URL, mask.DetectURL},
	} {
		if x.on {
			s |= x.bit
		}
	}
	if s == 0 {
		return mask.DetectNone
	}
	return s
}

// Validate checks the configuration; the collector calls it before start.
func (c *Config) Validate() error {
	var errs []error
	mode, err := mask.ParseMode(c.Mode)
	if err != nil {
		errs = append(errs, fmt.Errorf("mode: %w", err))
	}
	if mode == mask.ModeHash && len(c.HMACKey) == 0 {
		errs = append(errs, errors.New("hmac_key: required when mode is hash (for example ${env:AUDIT_MASK_HMAC_KEY})"))
	}
	if mode == mask.ModeHash && len(c.HMACKey) > 0 && len(c.HMACKey) < 16 {
		errs = append(errs, fmt.Errorf("hmac_key: %d bytes is too short for a keyed hash; use at least 16", len(c.HMACKey)))
	}
	if c.MaxDepth <= 0 {
		errs = append(errs, fmt.Errorf("max_depth: %d: must be > 0", c.MaxDepth))
	}
	if c.MaxSize <= 0 {
		errs = append(errs, fmt.Errorf("max_size: %d: must be > 0", c.MaxSize))
	}
	for i, k := range c.SensitiveKeys {
		if strings.Trim(k, "-_. ") == "" {
			errs = append(errs, fmt.Errorf("sensitive_keys[%d]: %q is empty once '-', '_', '.' and spaces are removed", i, k))
		}
	}
	for _, list := range []struct {
		name string
		keys []string
	}{{"exact_keys", c.ExactKeys}, {"word_keys", c.WordKeys}, {"remove_keys", c.RemoveKeys}} {
		for i, k := range list.keys {
			if strings.Trim(k, "-_. ") == "" {
				errs = append(errs, fmt.Errorf("%s[%d]: %q is empty once '-', '_', '.' and spaces are removed", list.name, i, k))
			}
		}
	}
	if c.ReplaceDefaultKeys && len(c.SensitiveKeys) == 0 && len(c.ExactKeys) == 0 && len(c.WordKeys) == 0 {
		errs = append(errs, errors.New("replace_default_keys: set, but sensitive_keys, exact_keys and word_keys are empty: nothing would be masked by key"))
	}
	if len(errs) == 0 {
		// What only the rule set knows: a removed term it does not hold.
		if mc, err := c.maskConfig(); err == nil {
			if _, err := mask.New(mc); err != nil {
				errs = append(errs, fmt.Errorf("remove_keys: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// maskConfig is the engine configuration for a validated Config.
func (c *Config) maskConfig() (mask.Config, error) {
	mode, err := mask.ParseMode(c.Mode)
	if err != nil {
		return mask.Config{}, err
	}
	return mask.Config{
		SensitiveKeys:      c.SensitiveKeys,
		ExactKeys:          c.ExactKeys,
		WordKeys:           c.WordKeys,
		RemoveKeys:         c.RemoveKeys,
		ReplaceDefaultKeys: c.ReplaceDefaultKeys,
		Detectors:          c.Detectors.set(),
		Mode:               mode,
		Replacement:        c.Replacement,
		HMACKey:            []byte(c.HMACKey),
		MaxDepth:           c.MaxDepth,
		MaxSize:            c.MaxSize,
	}, nil
}
