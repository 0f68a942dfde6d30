package pgstore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/otelaudit/otelaudit/store"
)

// Cleanup removes records older than before: partitions that end at or
// before it are dropped whole (cheap, and no VACUUM debt), the rest is
// deleted in batches of opts.BatchSize, and so are their ids in
// <table>_ids. The cut is recorded in <table>_pruned; checkpoints are
// kept. With opts.DryRun it only counts.
func (s *Store) Cleanup(ctx context.Context, before time.Time, opts store.CleanupOptions) (store.CleanupResult, error) {
	var res store.CleanupResult
	batch := opts.BatchSize
	if batch <= 0 {
		batch = store.DefaultCleanupBatch
	}
	progress := func(step string) {
		if opts.Progress != nil {
			opts.Progress(step, res.Deleted)
		}
	}
	if !opts.DryRun {
		// The cut is recorded first: a cleanup cut short has removed
		// some of what it covers, never more.
		if _, err := s.pool.Exec(ctx, s.sql(sqlRecordPruned), before); err != nil {
			return res, fmt.Errorf("pgstore: record retention cut: %w", err)
		}
	}
	if err := s.dropPartitions(ctx, before, opts.DryRun, &res, progress); err != nil {
		return res, err
	}
	if opts.DryRun {
		var n int64
		if err := s.pool.QueryRow(ctx, s.sql(sqlCountOlder), before).Scan(&n); err != nil {
			return res, fmt.Errorf("pgstore: count rows older than %s: %w", before.Format(time.RFC3339), err)
		}
		// The rows of the partitions counted as dropped are older too.
		if rest := n - res.Deleted; rest > 0 {
			res.Deleted += rest
			progress(fmt.Sprintf("rows outside whole partitions: %d", rest))
		}
		return res, nil
	}
	if err := s.deleteOlder(ctx, sqlDeleteBatch, before, batch, func(n int64) {
		res.Deleted += n
		progress(fmt.Sprintf("deleted batch of %d rows", n))
	}); err != nil {
		return res, fmt.Errorf("pgstore: delete rows older than %s: %w", before.Format(time.RFC3339), err)
	}
	// The ids of removed records go too: an id is idempotent for as long
	// as its record is kept.
	if err := s.deleteOlder(ctx, sqlDeleteIDsBatch, before, batch, func(int64) {}); err != nil {
		return res, fmt.Errorf("pgstore: delete ids older than %s: %w", before.Format(time.RFC3339), err)
	}
	return res, nil
}

// dropPartitions drops (with dryRun, counts) the partitions that end at or
// before before, oldest first, adding them and their rows to res.
func (s *Store) dropPartitions(ctx context.Context, before time.Time, dryRun bool, res *store.CleanupResult, progress func(string)) error {
	if s.cfg.Partition == PartitionNone {
		return nil
	}
	parts, err := s.listPartitions(ctx)
	if err != nil {
		return err
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].from.Before(parts[j].from) })
	for _, p := range parts {
		if p.to.After(before) {
			continue
		}
		var n int64
		if err := s.pool.QueryRow(ctx, s.sql(sqlCountPartition, p.name)).Scan(&n); err != nil {
			return fmt.Errorf("pgstore: count partition %s: %w", p.name, err)
		}
		if !dryRun {
			if _, err := s.pool.Exec(ctx, s.sql(sqlDropPartition, p.name)); err != nil {
				return fmt.Errorf("pgstore: drop partition %s: %w", p.name, err)
			}
			s.mu.Lock()
			delete(s.partitions, p.name)
			s.mu.Unlock()
		}
		res.Deleted += n
		res.Dropped = append(res.Dropped, p.name)
		progress(fmt.Sprintf("partition %s: %d rows", p.name, n))
	}
	return nil
}

// deleteOlder runs stmt, a batched delete of rows older than before, until
// a batch is short, calling done with each batch's count.
func (s *Store) deleteOlder(ctx context.Context, stmt string, before time.Time, batch int, done func(int64)) error {
	for {
		tag, err := s.pool.Exec(ctx, s.sql(stmt), before, batch)
		if err != nil {
			return err
		}
		n := tag.RowsAffected()
		if n > 0 {
			done(n)
		}
		if n < int64(batch) {
			return nil
		}
	}
}
