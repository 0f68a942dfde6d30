package pgstore

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/otelaudit/otelaudit/store"
)

// Partitioning schemes.
const (
	PartitionDay   = "day"
	PartitionMonth = "month"
	PartitionNone  = "none"
)

// Defaults.
const (
	DefaultTable   = "audit_logs"
	DefaultSchema  = "public"
	DefaultPremake = 7
	DefaultTimeout = 30 * time.Second
)

// Config configures a Store.
type Config struct {
	// DSN is a PostgreSQL connection string (URL or key=value).
	DSN string
	// Table is the audit table; DefaultTable when empty.
	Table string
	// Schema holds the table; DefaultSchema when empty.
	Schema string
	// CreateSchema makes Migrate create Schema when it does not exist.
	CreateSchema bool
	// Partition is day, month or none; day when empty.
	Partition string
	// Premake is how many partitions Migrate makes ahead of today;
	// DefaultPremake when 0, none when negative.
	Premake int
	// Retention is how long records are kept; 0 keeps them for ever. The
	// store only records it: the exporter runs Cleanup on a timer.
	Retention time.Duration
	// Timeout bounds connecting and each statement the store sends on its
	// own (Migrate, partition creation); DefaultTimeout when 0.
	Timeout time.Duration
	// ReadOnly makes every transaction of the store's connections
	// read-only (default_transaction_read_only), for readers such as
	// auditctl serve: the server then refuses any write.
	ReadOnly bool
	// NoSearchIndex leaves out the trigram index that serves
	// store.Filter.Q, for deployments that rarely search and would rather
	// not pay its cost on every write; search then scans.
	NoSearchIndex bool
	// PartitionCreated, when set, is called with the name of each
	// partition the store creates (ahead of time or for a record's
	// timestamp), not for one that existed already.
	PartitionCreated func(name string)
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// withDefaults returns c with empty fields set to their defaults, or an
// error naming the bad field.
func (c Config) withDefaults() (Config, error) {
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if c.Schema == "" {
		c.Schema = DefaultSchema
	}
	if c.Partition == "" {
		c.Partition = PartitionDay
	}
	if c.Premake == 0 {
		c.Premake = DefaultPremake
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.DSN == "" {
		errs = append(errs, errors.New("dsn: must not be empty"))
	} else if _, err := pgconn.ParseConfig(c.DSN); err != nil {
		errs = append(errs, fmt.Errorf("dsn: %s", dsnError(err, c.DSN)))
	}
	// Partition names add up to 10 characters to the table name, and
	// PostgreSQL cuts identifiers at 63.
	if !identifier.MatchString(c.Table) || len(c.Table) > 48 {
		errs = append(errs, fmt.Errorf("table: %q must be a lower-case SQL identifier ([a-z_][a-z0-9_]*) of at most 48 characters", c.Table))
	}
	if !identifier.MatchString(c.Schema) || len(c.Schema) > 63 {
		errs = append(errs, fmt.Errorf("schema: %q must be a lower-case SQL identifier ([a-z_][a-z0-9_]*)", c.Schema))
	}
	switch c.Partition {
	case PartitionDay, PartitionMonth, PartitionNone:
	default:
		errs = append(errs, fmt.Errorf("partition: unknown value %q: want day, month or none", c.Partition))
	}
	if c.Retention < 0 {
		errs = append(errs, fmt.Errorf("retention: %s must not be negative", c.Retention))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %s must not be negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// dsnError says what is wrong with a connection string without repeating
// it: only the parser's reason, with any password it holds masked.
func dsnError(err error, dsn string) string {
	msg := err.Error()
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		// "cannot parse `<dsn>`: <reason>": keep the reason.
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			msg = msg[i+3:]
		}
	}
	return "invalid connection string: " + store.Redact(msg, dsn)
}

// Validate checks a Config as Open would, for configuration loaders.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}
