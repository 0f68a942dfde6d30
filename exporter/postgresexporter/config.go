package postgresexporter

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

// Config is the configuration of the postgres exporter.
type Config struct {
	// DSN is the PostgreSQL connection string; keep it in the environment:
	// dsn: ${env:AUDIT_POSTGRES_DSN}.
	DSN configopaque.String `mapstructure:"dsn"`
	// Table and Schema name the audit table.
	Table  string `mapstructure:"table"`
	Schema string `mapstructure:"schema"`
	// Partition is day, month or none.
	Partition string `mapstructure:"partition"`
	// Premake is how many partitions are made ahead of today.
	Premake int `mapstructure:"premake"`
	// Retention > 0 runs cleanup on a timer: records older than it are
	// removed, whole partitions dropped.
	Retention time.Duration `mapstructure:"retention"`
	// CreateSchema creates the schema when it does not exist.
	CreateSchema bool `mapstructure:"create_schema"`
	// SearchIndex keeps the trigram index that makes search (auditctl
	// serve) fast; it costs ingest (docs/viewer.md).
	SearchIndex bool `mapstructure:"search_index"`

	// Integrity, when set, writes a signed checkpoint with every batch
	// (docs/integrity.md).
	Integrity *integrity.Config `mapstructure:"integrity"`

	// timeout, sending_queue and retry_on_failure.
	storeexporter.ExporterSettings `mapstructure:",squash"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func (c *Config) storeConfig() pgstore.Config {
	return pgstore.Config{
		DSN:           string(c.DSN),
		Table:         c.Table,
		Schema:        c.Schema,
		CreateSchema:  c.CreateSchema,
		Partition:     c.Partition,
		Premake:       c.Premake,
		Retention:     c.Retention,
		Timeout:       c.Timeout,
		NoSearchIndex: !c.SearchIndex,
	}
}

// Validate checks the configuration; the collector calls it before start.
func (c *Config) Validate() error {
	var errs []error
	if err := c.storeConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Premake < -1 {
		errs = append(errs, fmt.Errorf("premake: %d: want -1 (none) or more", c.Premake))
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
