package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/otelaudit/otelaudit/store"
)

var _ store.CheckpointStore = (*Store)(nil)

// errSeal marks a failure of the checkpoint made in the batch's
// transaction, so that it is not taken for a problem with the records.
type errSeal struct{ err error }

func (e *errSeal) Error() string { return e.err.Error() }

func (e *errSeal) Unwrap() error { return e.err }

// WriteSealed writes records and their checkpoint in one transaction. A
// batch that meets an id stored already (a retry) or a record PostgreSQL
// refuses takes Write's slower paths; its checkpoint then follows in a
// transaction of its own, over the records read back (store.WriteThenSeal),
// and a crash in between is covered when the batch is delivered again.
func (s *Store) WriteSealed(ctx context.Context, records []store.Record, seal store.Seal) (store.WriteResult, error) {
	var rep store.WriteReport
	b, err := s.prepare(ctx, records, &rep)
	if b == nil || err != nil {
		return rep.Result(err)
	}
	// The checkpoint (hashing every record) is made while COPY streams
	// the rows, and stored in the COPY's transaction.
	type sealed struct {
		cp  store.Checkpoint
		err error
	}
	made := make(chan sealed, 1)
	go func() {
		cp, err := seal(b.recs)
		made <- sealed{cp, err}
	}()
	waited := false
	err = s.copyDirect(ctx, b, func(tx pgx.Tx) error {
		r := <-made
		waited = true
		if r.err != nil {
			return &errSeal{r.err}
		}
		if err := s.insertCheckpoint(ctx, tx, r.cp); err != nil {
			return &errSeal{err}
		}
		return nil
	})
	if !waited {
		<-made // seal is not called twice at once
	}
	var se *errSeal
	switch {
	case err == nil:
		rep.Written += b.len()
		return rep.Result(nil)
	case errors.As(err, &se):
		return rep.Result(err)
	case !isUniqueViolation(err) && !isDataError(err):
		return rep.Result(err)
	}
	return store.WriteThenSeal(ctx, s, records, seal, func(ctx context.Context, cp store.Checkpoint) error {
		return s.insertCheckpoint(ctx, s.pool, cp)
	})
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (s *Store) insertCheckpoint(ctx context.Context, db execer, cp store.Checkpoint) error {
	tag, err := db.Exec(ctx, s.sql(sqlInsertCheckpoint), cp.Writer, cp.Seq, cp.Time, cp.First, cp.Last, cp.Note, cp.Entries)
	if err != nil {
		return fmt.Errorf("pgstore: insert checkpoint %s#%d: %w", cp.Writer, cp.Seq, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: checkpoint %s#%d: %w", cp.Writer, cp.Seq, store.ErrCheckpointConflict)
	}
	return nil
}

// Checkpoints returns every checkpoint, by writer and seq.
func (s *Store) Checkpoints(ctx context.Context) ([]store.Checkpoint, error) {
	return s.selectCheckpoints(ctx, " ORDER BY writer, seq")
}

// LastCheckpoint returns the writer's latest checkpoint.
func (s *Store) LastCheckpoint(ctx context.Context, writer string) (store.Checkpoint, bool, error) {
	cps, err := s.selectCheckpoints(ctx, " WHERE writer = $1 ORDER BY seq DESC LIMIT 1", writer)
	if err != nil || len(cps) == 0 {
		return store.Checkpoint{}, false, err
	}
	return cps[0], true, nil
}

func (s *Store) selectCheckpoints(ctx context.Context, tail string, args ...any) ([]store.Checkpoint, error) {
	rows, err := s.pool.Query(ctx, s.sql(sqlSelectCheckpoints)+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read checkpoints: %w", err)
	}
	defer rows.Close()
	var out []store.Checkpoint
	for rows.Next() {
		var cp store.Checkpoint
		if err := rows.Scan(&cp.Writer, &cp.Seq, &cp.Time, &cp.First, &cp.Last, &cp.Note, &cp.Entries); err != nil {
			return nil, fmt.Errorf("pgstore: read checkpoints: %w", err)
		}
		cp.Time, cp.First, cp.Last = cp.Time.UTC(), cp.First.UTC(), cp.Last.UTC()
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: read checkpoints: %w", err)
	}
	return out, nil
}

// PrunedBefore returns the latest cut Cleanup recorded.
func (s *Store) PrunedBefore(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := s.pool.QueryRow(ctx, s.sql(sqlPrunedBefore)).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("pgstore: read retention cut: %w", err)
	}
	if t.Equal(time.Unix(0, 0)) {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// Fetch returns the records with these ids.
func (s *Store) Fetch(ctx context.Context, ids []string) ([]store.Record, error) {
	rows, err := s.pool.Query(ctx, s.sql(sqlSelect)+s.sql(sqlWhereIDs), ids)
	if err != nil {
		return nil, fmt.Errorf("pgstore: fetch %d records: %w", len(ids), err)
	}
	defer rows.Close()
	out := make([]store.Record, 0, len(ids))
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: fetch records: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: fetch records: %w", err)
	}
	return out, nil
}
