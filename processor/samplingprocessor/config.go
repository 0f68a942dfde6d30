package samplingprocessor

import (
	"errors"
	"fmt"
)

// Decision sources.
const (
	DecisionRecordID = "record_id"
	DecisionTraceID  = "trace_id"
	DecisionRandom   = "random"
)

// Policies for records without http.request.method.
const (
	UnmatchedKeep = "keep"
	UnmatchedDrop = "drop"
)

// Config is the configuration of the sampling processor.
type Config struct {
	// Rates maps an HTTP method (or "default") to a rate, or to a map from
	// status selector ("200", "3xx", "default") to rate. See Rates.
	Rates map[string]any `mapstructure:"rates"`
	// KeepErrors keeps every record with status >= 500 or an error.type,
	// whatever the rates say.
	KeepErrors bool `mapstructure:"keep_errors"`
	// Decision is what the keep/drop decision is a deterministic function
	// of: record_id (audit.record.id), trace_id (a kept trace keeps its
	// audit records), or random.
	Decision string `mapstructure:"decision"`
	// Unmatched says what happens to records without http.request.method:
	// keep or drop.
	Unmatched string `mapstructure:"unmatched"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the configuration; the collector calls it before start.
func (c *Config) Validate() error {
	var errs []error
	if _, err := ParseRates(c.Rates); err != nil {
		errs = append(errs, err)
	}
	switch c.Decision {
	case DecisionRecordID, DecisionTraceID, DecisionRandom:
	default:
		errs = append(errs, fmt.Errorf("decision: unknown value %q: want %s, %s or %s", c.Decision, DecisionRecordID, DecisionTraceID, DecisionRandom))
	}
	switch c.Unmatched {
	case UnmatchedKeep, UnmatchedDrop:
	default:
		errs = append(errs, fmt.Errorf("unmatched: unknown value %q: want %s or %s", c.Unmatched, UnmatchedKeep, UnmatchedDrop))
	}
	return errors.Join(errs...)
}
