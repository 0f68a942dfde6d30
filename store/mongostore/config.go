package mongostore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/otelaudit/otelaudit/store"
)

// Defaults.
const (
	DefaultDatabase   = "audit_logs"
	DefaultCollection = "request_logs"
	DefaultTimeout    = 30 * time.Second
)

// Write concerns.
const (
	WriteConcernMajority = "majority"
	WriteConcernOne      = "1"
)

// Config configures a Store.
type Config struct {
	// URI is a MongoDB connection string.
	URI string
	// Database and Collection hold the records; DefaultDatabase and
	// DefaultCollection when empty.
	Database   string
	Collection string
	// Retention > 0 makes Migrate create a TTL index on ts where the server
	// supports one; the exporter also runs Cleanup on a timer.
	Retention time.Duration
	// WriteConcern is majority (default) or 1.
	WriteConcern string
	// Timeout bounds connecting and server selection; DefaultTimeout when 0.
	Timeout time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Collection == "" {
		c.Collection = DefaultCollection
	}
	if c.WriteConcern == "" {
		c.WriteConcern = WriteConcernMajority
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.URI == "" {
		errs = append(errs, errors.New("uri: must not be empty"))
	} else if !strings.HasPrefix(c.URI, "mongodb://") && !strings.HasPrefix(c.URI, "mongodb+srv://") {
		errs = append(errs, errors.New("uri: must start with mongodb:// or mongodb+srv://"))
	} else if strings.HasPrefix(c.URI, "mongodb://") {
		// mongodb+srv:// is resolved through DNS when parsed: it is
		// checked by Open.
		if _, err := connstring.ParseAndValidate(c.URI); err != nil {
			errs = append(errs, fmt.Errorf("uri: invalid connection string: %s", store.Redact(err.Error(), c.URI)))
		}
	}
	if c.Database == "" || strings.ContainsAny(c.Database, `/\. "$`) || len(c.Database) > 63 {
		errs = append(errs, fmt.Errorf("database: %q is not a valid MongoDB database name", c.Database))
	}
	if c.Collection == "" || strings.HasPrefix(c.Collection, "system.") || strings.ContainsAny(c.Collection, "$\x00") {
		errs = append(errs, fmt.Errorf("collection: %q is not a valid MongoDB collection name", c.Collection))
	}
	switch c.WriteConcern {
	case WriteConcernMajority, WriteConcernOne:
	default:
		errs = append(errs, fmt.Errorf("write_concern: unknown value %q: want majority or 1", c.WriteConcern))
	}
	if c.Retention < 0 {
		errs = append(errs, fmt.Errorf("retention: %s must not be negative", c.Retention))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %s must not be negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// Validate checks a Config as Open would, for configuration loaders.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}
