package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// Write stores records, normalized (store.Normalize), with one binary COPY
// into the table and one of their ids into <table>_ids, in one
// transaction. The ids table makes the record id alone the idempotency key:
// a batch that holds an id already stored (a retry after a timeout, or a
// reused id) or twice fails the COPY with a unique violation; it is then
// copied into a staging table and only the first record of each new id is
// inserted, so nothing is duplicated and the first write wins. Text that
// PostgreSQL cannot hold is fixed (NUL becomes U+FFFD); a record PostgreSQL
// still refuses is isolated by splitting the batch and stored in degraded
// form (store.Degraded, reported in a store.DegradedError), and only if that
// fails too reported in a store.RejectedError, the rest written. A record
// whose id is not a UUID is rejected.
func (s *Store) Write(ctx context.Context, records []store.Record) (store.WriteResult, error) {
	var rep store.WriteReport
	b, err := s.prepare(ctx, records, &rep)
	if b == nil || err != nil {
		return rep.Result(err)
	}
	return rep.Result(s.write(ctx, b, false, &rep))
}

// batch is records on their way to COPY: each id parsed once, each row
// converted once, as COPY asks for it, and kept for a second attempt.
type batch struct {
	recs []store.Record
	ids  [][16]byte
	rows [][]any
	// degraded batches hold the degraded form of a refused record: refused
	// again, it is rejected.
	degraded bool
}

// prepare normalises records into a batch of those whose id is a UUID (the
// others rejected in rep) and makes the partitions the batch needs. The
// batch is nil when nothing is left to write.
func (s *Store) prepare(ctx context.Context, records []store.Record, rep *store.WriteReport) (*batch, error) {
	if len(records) == 0 {
		return nil, nil
	}
	b := newBatch(store.Normalize(records, time.Now()), rep)
	if b.len() == 0 {
		return nil, nil
	}
	if err := s.ensurePartitions(ctx, b.recs); err != nil {
		return nil, err
	}
	return b, nil
}

// newBatch returns the records with a valid id as a batch; the others are
// rejected in rep.
func newBatch(records []store.Record, rep *store.WriteReport) *batch {
	b := &batch{recs: records, ids: make([][16]byte, len(records))}
	bad := 0
	for i := range records {
		var err error
		if b.ids[i], err = auditconv.ParseRecordID(records[i].ID); err != nil {
			rep.Reject(records[i].ID, err)
			bad++
		}
	}
	if bad > 0 {
		// The common case copies nothing; this one keeps the good records.
		b.recs, b.ids = make([]store.Record, 0, len(records)-bad), b.ids[:0]
		for i := range records {
			if id, err := auditconv.ParseRecordID(records[i].ID); err == nil {
				b.recs, b.ids = append(b.recs, records[i]), append(b.ids, id)
			}
		}
	}
	b.rows = make([][]any, len(b.recs))
	return b
}

func (b *batch) len() int { return len(b.recs) }

// slice returns records [i, j) of b, sharing its converted rows.
func (b *batch) slice(i, j int) *batch {
	return &batch{recs: b.recs[i:j], ids: b.ids[i:j], rows: b.rows[i:j], degraded: b.degraded}
}

// row returns the row of record i, converting it the first time.
func (b *batch) row(i int) ([]any, error) {
	if b.rows[i] == nil {
		row, err := toRow(&b.recs[i], b.ids[i])
		if err != nil {
			return nil, err
		}
		b.rows[i] = row
	}
	return b.rows[i], nil
}

// rowSource streams the rows to COPY, so that conversion overlaps the
// server's work.
func (b *batch) rowSource() pgx.CopyFromSource { return pgx.CopyFromSlice(b.len(), b.row) }

// idSource streams (id, ts), the rows of <table>_ids.
func (b *batch) idSource() pgx.CopyFromSource {
	return pgx.CopyFromSlice(b.len(), func(i int) ([]any, error) { return []any{b.ids[i], b.recs[i].Timestamp}, nil })
}

// write writes b, counting in rep; staged goes straight to the idempotent
// path (a COPY of these records already met a duplicate). A batch the
// server refuses for its data is split until the record it refuses is
// alone, which is then stored degraded. Errors it returns are outages.
func (s *Store) write(ctx context.Context, b *batch, staged bool, rep *store.WriteReport) error {
	var err error
	if !staged {
		if err = s.copyDirect(ctx, b, nil); err == nil {
			rep.Written += b.len()
			return nil
		}
	}
	if staged || isUniqueViolation(err) {
		var n int
		if n, err = s.copyStaged(ctx, b); err == nil {
			rep.Written += n
			rep.Duplicates += b.len() - n
			return nil
		}
	}
	if !isDataError(err) {
		return err
	}
	if b.len() > 1 {
		mid := b.len() / 2
		if err := s.write(ctx, b.slice(0, mid), false, rep); err != nil {
			return err
		}
		return s.write(ctx, b.slice(mid, b.len()), false, rep)
	}
	if b.degraded {
		rep.Reject(b.recs[0].ID, err)
		return nil
	}
	return s.writeDegraded(ctx, b.recs[0], b.ids[0], err, rep)
}

// writeDegraded stores the degraded form of r, which PostgreSQL refused
// for cause, or rejects r if the server refuses that too.
func (s *Store) writeDegraded(ctx context.Context, r store.Record, id [16]byte, cause error, rep *store.WriteReport) error {
	d := store.Degraded(r, "refused by PostgreSQL: "+cause.Error())
	var sub store.WriteReport
	if err := s.write(ctx, &batch{recs: []store.Record{d}, ids: [][16]byte{id}, rows: make([][]any, 1), degraded: true}, false, &sub); err != nil {
		return err
	}
	switch {
	case sub.Written == 1:
		rep.Degrade(r.ID, cause)
	case sub.Duplicates == 1:
		rep.Duplicates++ // a record with its id was stored meanwhile
	default:
		rep.Reject(r.ID, cause)
	}
	return nil
}

// idColumns are the columns of the ids table.
var idColumns = []string{"id", "ts"}

// copyDirect copies b's ids and rows in one transaction: a record is in the
// ids table exactly when its row is stored. also, when set, runs in the
// same transaction after the copy.
func (s *Store) copyDirect(ctx context.Context, b *batch, also func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{s.cfg.Schema, s.cfg.Table + "_ids"}, idColumns, b.idSource()); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{s.cfg.Schema, s.cfg.Table}, columnNames, b.rowSource()); err != nil || also == nil {
			return err
		}
		return also(tx)
	})
	if err != nil {
		return fmt.Errorf("pgstore: copy into %s: %w", s.Table(), err)
	}
	return nil
}

// copyStaged copies b into the staging table and inserts from it the first
// record of each id not stored yet; it returns how many it inserted.
func (s *Store) copyStaged(ctx context.Context, b *batch) (int, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.sql(sqlCreateStage)); err != nil {
			return fmt.Errorf("create staging table: %w", err)
		}
		stage := pgx.Identifier{s.cfg.Table + "_stage_v2"}
		if _, err := tx.CopyFrom(ctx, stage, columnNames, b.rowSource()); err != nil {
			return fmt.Errorf("copy into staging table: %w", err)
		}
		tag, err := tx.Exec(ctx, s.sql(sqlInsertFromStage, strings.Join(columnNames, ", ")))
		if err != nil {
			return fmt.Errorf("insert from staging table: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: idempotent write into %s: %w", s.Table(), err)
	}
	return int(n), nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// isDataError reports errors caused by the data rather than the server or
// the connection: class 22 (data exception), 23 (integrity), 54 (program
// limit, e.g. a value too deeply nested), and a record that could not be
// converted to a row.
func isDataError(err error) bool {
	var rowErr *rowError
	if errors.As(err, &rowErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	c := pgErr.Code
	return strings.HasPrefix(c, "22") || (strings.HasPrefix(c, "23") && c != "23505") || strings.HasPrefix(c, "54")
}
