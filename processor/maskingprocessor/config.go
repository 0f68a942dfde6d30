package maskingprocessor

import (
	"errors"
	"fmt"
	"reflect"

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
// The rules of the terms, modes and limits are the engine's
// (mask.Config.Validate); its errors are named here by this config's keys.
func (c *Config) Validate() error {
	var errs []error
	mc, err := c.maskConfig()
	if err != nil {
		errs = append(errs, fmt.Errorf("mode: %w", err))
	}
	// The engine reads 0 as "the default"; here the defaults are written
	// out by createDefaultConfig, so a 0 is a mistake, not a choice.
	if c.MaxDepth == 0 {
		errs = append(errs, errors.New("max_depth: 0: must be > 0"))
	}
	if c.MaxSize == 0 {
		errs = append(errs, errors.New("max_size: 0: must be > 0"))
	}
	if mc.Mode == mask.ModeHash && len(c.HMACKey) > 0 && len(c.HMACKey) < minHMACKey {
		errs = append(errs, fmt.Errorf("hmac_key: %d bytes is too short for a keyed hash; use at least %d", len(c.HMACKey), minHMACKey))
	}
	if err == nil {
		errs = append(errs, keyedErrors(mc.Validate())...)
	}
	return errors.Join(errs...)
}

// minHMACKey is the shortest hash-mode key accepted: a keyed hash is only
// as good as its key, and a short one can be guessed from stored hashes.
const minHMACKey = 16

// keyedErrors renames the engine's errors by this config's keys: the
// fields of Config and mask.Config share their names.
func keyedErrors(err error) []error {
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		var ce *mask.ConfigError
		if !errors.As(e, &ce) {
			out = append(out, e)
			continue
		}
		key := ce.Field
		if f, ok := reflect.TypeFor[Config]().FieldByName(ce.Field); ok {
			key = f.Tag.Get("mapstructure")
		}
		if ce.Index >= 0 {
			key = fmt.Sprintf("%s[%d]", key, ce.Index)
		}
		if ce.Field == "HMACKey" {
			out = append(out, fmt.Errorf("%s: %s (for example ${env:AUDIT_MASK_HMAC_KEY})", key, ce.Reason))
			continue
		}
		out = append(out, fmt.Errorf("%s: %s", key, ce.Reason))
	}
	return out
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
