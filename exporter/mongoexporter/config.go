package mongoexporter

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/store/mongostore"
)

// Config is the configuration of the mongo exporter.
type Config struct {
	// URI is the MongoDB connection string; keep it in the environment:
	// uri: ${env:AUDIT_MONGO_URI}.
	URI configopaque.String `mapstructure:"uri"`
	// Database and Collection hold the records.
	Database   string `mapstructure:"database"`
	Collection string `mapstructure:"collection"`
	// CreateIndexes creates the query indexes (and the TTL index) at start.
	CreateIndexes bool `mapstructure:"create_indexes"`
	// Retention > 0 creates a TTL index on ts where the server supports it
	// and runs cleanup on a timer in any case.
	Retention time.Duration `mapstructure:"retention"`
	// WriteConcern is majority or 1.
	WriteConcern string `mapstructure:"write_concern"`

	// Integrity, when set, writes a signed checkpoint with every batch
	// (docs/integrity.md).
	Integrity *integrity.Config `mapstructure:"integrity"`

	// timeout, sending_queue and retry_on_failure.
	storeexporter.ExporterSettings `mapstructure:",squash"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func (c *Config) storeConfig() mongostore.Config {
	return mongostore.Config{
		URI:          string(c.URI),
		Database:     c.Database,
		Collection:   c.Collection,
		Retention:    c.Retention,
		WriteConcern: c.WriteConcern,
		Timeout:      c.Timeout,
	}
}

// Validate checks the configuration; the collector calls it before start.
func (c *Config) Validate() error {
	var errs []error
	if err := c.storeConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := storeexporter.ValidateRetentionAndTimeout(c.Retention, c.Timeout); err != nil {
		errs = append(errs, err)
	}
	if c.Integrity != nil {
		if err := c.Integrity.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
