package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/otelaudit/otelaudit/store"
)

func runCleanup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c connFlags
	var days, batch int
	var dryRun bool
	fs := newFlagSet("cleanup", "cleanup --days N [flags]", `  auditctl cleanup --days 90 --dry-run
  auditctl cleanup --days 90 --batch-size 10000
  auditctl cleanup --backend all --days 30`, stderr)
	c.register(fs, true)
	fs.IntVar(&days, "days", 0, "remove records older than this many days (required)")
	fs.BoolVar(&dryRun, "dry-run", false, "only count what would be removed")
	fs.IntVar(&batch, "batch-size", store.DefaultCleanupBatch, "rows or documents per DELETE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if days <= 0 {
		return usagef("--days must be > 0")
	}
	if batch <= 0 {
		return usagef("--batch-size must be > 0")
	}
	backends, err := c.backends(true)
	if err != nil {
		return err
	}
	cutoff := time.Now().UTC().AddDate(0, 0, -days)
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	for _, b := range backends {
		if err := cleanupOne(ctx, &c, b, cutoff, batch, dryRun, verb, stdout, stderr); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
	}
	return nil
}

func cleanupOne(ctx context.Context, c *connFlags, backend string, cutoff time.Time, batch int, dryRun bool, verb string, stdout, stderr io.Writer) error {
	octx, cancel := context.WithTimeout(ctx, c.timeout)
	s, err := c.open(octx, backend)
	cancel()
	if err != nil {
		return err
	}
	defer s.Close()
	mode := ""
	if dryRun {
		mode = ", dry run"
	}
	fmt.Fprintf(stdout, "%s: records older than %s (cutoff)%s\n", backend, cutoff.Format(time.RFC3339), mode)
	start := time.Now()
	res, err := s.Cleanup(ctx, cutoff, store.CleanupOptions{
		BatchSize: batch,
		DryRun:    dryRun,
		Progress: func(step string, total int64) {
			fmt.Fprintf(stdout, "  %s (total %d, %s)\n", step, total, time.Since(start).Round(time.Millisecond))
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s %d record(s), %d whole partition(s), in %s\n", backend, verb, res.Deleted, len(res.Dropped),
		time.Since(start).Round(time.Millisecond))
	return nil
}
