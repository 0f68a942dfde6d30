package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/mongostore"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

// connFlags are the connection flags every command takes.
type connFlags struct {
	backend    string
	dsn        string
	uri        string
	table      string
	schema     string
	partition  string
	database   string
	collection string
	timeout    time.Duration
	readOnly   bool // open PostgreSQL read-only (serve)
}

func (c *connFlags) register(fs *flag.FlagSet, allowAll bool) {
	backends := "postgres or mongo"
	if allowAll {
		backends = "postgres, mongo or all"
	}
	fs.StringVar(&c.backend, "backend", "postgres", "store: "+backends)
	fs.StringVar(&c.dsn, "dsn", os.Getenv("AUDIT_POSTGRES_DSN"), "PostgreSQL connection string (default $AUDIT_POSTGRES_DSN)")
	fs.StringVar(&c.uri, "uri", os.Getenv("AUDIT_MONGO_URI"), "MongoDB connection string (default $AUDIT_MONGO_URI)")
	fs.StringVar(&c.table, "table", pgstore.DefaultTable, "PostgreSQL table")
	fs.StringVar(&c.schema, "schema", pgstore.DefaultSchema, "PostgreSQL schema")
	fs.StringVar(&c.database, "database", mongostore.DefaultDatabase, "MongoDB database")
	fs.StringVar(&c.collection, "collection", mongostore.DefaultCollection, "MongoDB collection")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "bound on connecting and on the whole command")
}

// backends returns the backends the flags select, checking their names
// and connection settings.
func (c *connFlags) backends(allowAll bool) ([]string, error) {
	var out []string
	switch c.backend {
	case "postgres", "mongo":
		out = []string{c.backend}
	case "all":
		if !allowAll {
			return nil, usagef(`--backend must be postgres or mongo, not "all"`)
		}
		out = []string{"postgres", "mongo"}
	default:
		return nil, usagef("--backend must be postgres or mongo, not %q", c.backend)
	}
	if c.timeout <= 0 {
		return nil, usagef("--timeout must be > 0")
	}
	for _, b := range out {
		if b == "postgres" && c.dsn == "" {
			return nil, usagef("--dsn (or $AUDIT_POSTGRES_DSN) is required for the postgres backend")
		}
		if b == "mongo" && c.uri == "" {
			return nil, usagef("--uri (or $AUDIT_MONGO_URI) is required for the mongo backend")
		}
	}
	return out, nil
}

// with checks the backend flags, connects to the one backend selected
// within --timeout, runs fn, and closes the connection.
func (c *connFlags) with(ctx context.Context, fn func(ctx context.Context, backend string, s store.Store) error) error {
	backends, err := c.backends(false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	s, err := c.open(ctx, backends[0])
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(ctx, backends[0], s)
}

// open connects to one backend.
func (c *connFlags) open(ctx context.Context, backend string) (store.Store, error) {
	switch backend {
	case "postgres":
		s, err := pgstore.Open(ctx, pgstore.Config{DSN: c.dsn, Table: c.table, Schema: c.schema, Partition: c.partition,
			CreateSchema: true, Timeout: c.timeout, ReadOnly: c.readOnly})
		if err != nil {
			return nil, err
		}
		return s, nil
	case "mongo":
		s, err := mongostore.Open(ctx, mongostore.Config{URI: c.uri, Database: c.database, Collection: c.collection, Timeout: c.timeout})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown backend %q", backend)
}

// newFlagSet returns a flag set for a command; parse prints its help.
func newFlagSet(name, synopsis, examples string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fs.SetOutput(w)
		fmt.Fprintf(w, "Usage: auditctl %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nExamples:\n%s\n", examples)
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args: --help prints the command's help (flag.ErrHelp),
// anything wrong is a usage error naming the flag.
func parse(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			fs.Usage()
			return flag.ErrHelp
		}
	}
	usage := fs.Usage
	fs.Usage = func() {} // a mistake gets one line, not the whole help
	err := fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		return usageError{err.Error()}
	}
	return nil
}
