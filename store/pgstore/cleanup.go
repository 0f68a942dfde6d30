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
// <table>_ids. With opts.DryRun it only counts.
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
	var inDropped int64
	if s.cfg.Partition != PartitionNone {
		parts, err := s.listPartitions(ctx)
		if err != nil {
			return res, err
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i].from.Before(parts[j].from) })
		for _, p := range parts {
			if p.to.After(before) {
				continue
			}
			var n int64
			if err := s.pool.QueryRow(ctx, s.sql(sqlCountPartition, p.name)).Scan(&n); err != nil {
				return res, fmt.Errorf("pgstore: count partition %s: %w", p.name, err)
			}
			if !opts.DryRun {
				if _, err := s.pool.Exec(ctx, s.sql(sqlDropPartition, p.name)); err != nil {
					return res, fmt.Errorf("pgstore: drop partition %s: %w", p.name, err)
				}
				s.mu.Lock()
				delete(s.partitions, p.name)
				s.mu.Unlock()
			}
			inDropped += n
			res.Deleted += n
			res.Dropped = append(res.Dropped, p.name)
			progress(fmt.Sprintf("partition %s: %d rows", p.name, n))
		}
	}
	if opts.DryRun {
		var n int64
		if err := s.pool.QueryRow(ctx, s.sql(sqlCountOlder), before).Scan(&n); err != nil {
			return res, fmt.Errorf("pgstore: count rows older than %s: %w", before.Format(time.RFC3339), err)
		}
		if rest := n - inDropped; rest > 0 {
			res.Deleted += rest
			progress(fmt.Sprintf("rows outside whole partitions: %d", rest))
		}
		return res, nil
	}
	for {
		tag, err := s.pool.Exec(ctx, s.sql(sqlDeleteBatch), before, batch)
		if err != nil {
			return res, fmt.Errorf("pgstore: delete rows older than %s: %w", before.Format(time.RFC3339), err)
		}
		n := tag.RowsAffected()
		if n == 0 {
			break
		}
		res.Deleted += n
		progress(fmt.Sprintf("deleted batch of %d rows", n))
		if n < int64(batch) {
			break
		}
	}
	// The ids of removed records go too: an id is idempotent for as long
	// as its record is kept.
	for {
		tag, err := s.pool.Exec(ctx, s.sql(sqlDeleteIDsBatch), before, batch)
		if err != nil {
			return res, fmt.Errorf("pgstore: delete ids older than %s: %w", before.Format(time.RFC3339), err)
		}
		if tag.RowsAffected() < int64(batch) {
			break
		}
	}
	return res, nil
}
