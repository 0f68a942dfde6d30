package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/otelaudit/otelaudit/store"
)

// partition is one range partition of the table.
type partition struct {
	name     string
	from, to time.Time
}

// partitionFor returns the partition that holds ts.
func (s *Store) partitionFor(ts time.Time) partition {
	ts = ts.UTC()
	if s.cfg.Partition == PartitionMonth {
		from := time.Date(ts.Year(), ts.Month(), 1, 0, 0, 0, 0, time.UTC)
		return partition{name: fmt.Sprintf("%s_p%04d%02d", s.cfg.Table, from.Year(), from.Month()), from: from, to: from.AddDate(0, 1, 0)}
	}
	from := time.Date(ts.Year(), ts.Month(), ts.Day(), 0, 0, 0, 0, time.UTC)
	return partition{name: fmt.Sprintf("%s_p%04d%02d%02d", s.cfg.Table, from.Year(), from.Month(), from.Day()), from: from, to: from.AddDate(0, 0, 1)}
}

// partitionWindow bounds the partitions Write creates on demand: rows far
// in the past or future (a client clock in 1970 or 2100) go to the default
// partition instead of creating one table each.
func (s *Store) inWindow(ts, now time.Time) bool {
	return !ts.Before(now.AddDate(-1, 0, -1)) && ts.Before(now.AddDate(0, 0, max(s.cfg.Premake, 0)+31))
}

// Premake makes the partitions from now to Premake days (or months) ahead.
func (s *Store) Premake(ctx context.Context, now time.Time) error {
	if s.cfg.Partition == PartitionNone || s.cfg.Premake < 0 {
		return nil
	}
	p := s.partitionFor(now)
	for i := 0; i <= s.cfg.Premake; i++ {
		if !s.known(p) {
			if err := s.ensurePartition(ctx, p); err != nil {
				return err
			}
		}
		p = s.partitionFor(p.to)
	}
	return nil
}

// ensurePartitions makes the partitions that records need, when they are
// in the window.
func (s *Store) ensurePartitions(ctx context.Context, records []store.Record) error {
	if s.cfg.Partition == PartitionNone {
		return nil
	}
	now := time.Now()
	seen := map[string]bool{}
	for i := range records {
		ts := records[i].Timestamp
		p := s.partitionFor(ts)
		if seen[p.name] {
			continue
		}
		seen[p.name] = true
		if s.known(p) || !s.inWindow(ts, now) {
			continue
		}
		if err := s.ensurePartition(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// known reports whether p is known to exist.
func (s *Store) known(p partition) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.partitions[p.name]
}

// ensurePartition creates p unless it exists, and reports a creation to
// Config.PartitionCreated.
func (s *Store) ensurePartition(ctx context.Context, p partition) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	stmt := s.sql(sqlCreatePartition, p.name, p.from.Format(time.RFC3339), p.to.Format(time.RFC3339))
	_, err := s.pool.Exec(ctx, stmt)
	if err != nil {
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && (pgErr.Code == "42P07" || pgErr.Code == "23505"):
			// Another collector made it at the same moment.
		case errors.As(err, &pgErr) && pgErr.Code == "23514":
			// The default partition already holds rows of this range; they
			// and their neighbours stay there.
			s.mu.Lock()
			s.partitions[p.name] = true
			s.mu.Unlock()
			return nil
		default:
			return fmt.Errorf("pgstore: create partition %s: %w", p.name, err)
		}
	}
	s.mu.Lock()
	s.partitions[p.name] = true
	s.mu.Unlock()
	if err == nil && s.cfg.PartitionCreated != nil {
		s.cfg.PartitionCreated(p.name)
	}
	return nil
}

// listPartitions returns the range partitions of the table with their
// bounds.
func (s *Store) listPartitions(ctx context.Context) ([]partition, error) {
	rows, err := s.pool.Query(ctx, sqlListPartitions, s.cfg.Table, s.cfg.Schema)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list partitions: %w", err)
	}
	defer rows.Close()
	var out []partition
	for rows.Next() {
		var name, bound string
		if err := rows.Scan(&name, &bound); err != nil {
			return nil, fmt.Errorf("pgstore: list partitions: %w", err)
		}
		from, to, ok := parseBound(bound)
		if !ok {
			continue // the default partition, or not one of ours
		}
		out = append(out, partition{name: name, from: from, to: to})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list partitions: %w", err)
	}
	return out, nil
}

func (s *Store) loadPartitions(ctx context.Context) error {
	if s.cfg.Partition == PartitionNone {
		return nil
	}
	parts, err := s.listPartitions(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	for _, p := range parts {
		s.partitions[p.name] = true
	}
	s.mu.Unlock()
	return nil
}

// parseBound parses "FOR VALUES FROM ('2026-11-27 00:00:00+00') TO ('…')".
func parseBound(b string) (from, to time.Time, ok bool) {
	parts := strings.Split(b, "'")
	if len(parts) < 4 {
		return time.Time{}, time.Time{}, false
	}
	const layout = "2006-01-02 15:04:05-07"
	f, err1 := time.Parse(layout, parts[1])
	t, err2 := time.Parse(layout, parts[3])
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, false
	}
	return f, t, true
}
