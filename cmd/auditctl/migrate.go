package main

import (
	"context"
	"fmt"
	"io"

	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c connFlags
	fs := newFlagSet("migrate", "migrate [flags]", `  auditctl migrate --dsn postgres://postgres@localhost/audit --partition day
  auditctl migrate --backend mongo --uri mongodb://localhost:27017 --database audit_logs --collection request_logs`, stderr)
	c.register(fs, false)
	fs.StringVar(&c.partition, "partition", pgstore.PartitionDay, "PostgreSQL partitioning: day, month or none (fixed at creation)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	switch c.partition {
	case pgstore.PartitionDay, pgstore.PartitionMonth, pgstore.PartitionNone:
	default:
		return usagef("--partition must be day, month or none, not %q", c.partition)
	}
	return c.with(ctx, func(ctx context.Context, backend string, s store.Store) error {
		if err := s.Migrate(ctx); err != nil {
			return err
		}
		if backend == "postgres" {
			fmt.Fprintf(stdout, "migrated %s.%s (partition by %s)\n", c.schema, c.table, c.partition)
			if n := s.(*pgstore.Store).Notice(); n != "" {
				fmt.Fprintf(stderr, "auditctl migrate: note: %s\n", n)
			}
		} else {
			fmt.Fprintf(stdout, "migrated %s.%s (indexes)\n", c.database, c.collection)
		}
		return nil
	})
}
