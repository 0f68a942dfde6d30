package pgstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/otelaudit/otelaudit/store"
)

// Write stores records, normalized (store.Normalize), with one binary COPY
// into the table and one of their ids into <table>_ids, in one
// transaction. The ids table makes the record id alone the idempotency key:
// a batch that holds an id already stored (a retry after a timeout, or a
// reused id) or twice fails the COPY with a unique violation; it is then
// copied into a staging table and only the first record of each new id is
// inserted, so nothing is duplicated and the first write wins. Text that
// PostgreSQL cannot hold is fixed first (NUL becomes U+FFFD, invalid UTF-8
// bodies go to the _binary columns); a record PostgreSQL still refuses is
// isolated by splitting the batch and stored in degraded form
// (store.Degraded, reported in a store.DegradedError), and only if that
// fails too reported in a store.RejectedError, the rest written.
func (s *Store) Write(ctx context.Context, records []store.Record) error {
	if len(records) == 0 {
		return nil
	}
	records = store.Normalize(records, time.Now())
	var rejected *store.RejectedError
	good := records
	for i := range records {
		if _, err := parseUUID(records[i].ID); err != nil {
			if rejected == nil {
				rejected = &store.RejectedError{Err: err}
				good = append([]store.Record(nil), records[:i]...)
			}
			rejected.IDs = append(rejected.IDs, records[i].ID)
			continue
		}
		if rejected != nil {
			good = append(good, records[i])
		}
	}
	if rejected != nil {
		// Write the others; report the ones that cannot be stored.
		err := s.Write(ctx, good)
		var deg *store.DegradedError
		switch {
		case err == nil:
			return rejected
		case errors.As(err, &deg):
			return errors.Join(rejected, err)
		}
		return err
	}
	stamps := make([]time.Time, len(records))
	for i := range records {
		stamps[i] = records[i].Timestamp
	}
	if err := s.ensurePartitions(ctx, stamps); err != nil {
		return err
	}
	// The common case, a batch never written before: rows are converted as
	// COPY streams them, so the conversion overlaps the server's work.
	err := s.copyDirect(ctx, idSource(records), copySource(records))
	if err == nil {
		return nil
	}
	if !isUniqueViolation(err) && !isDataError(err) {
		return err
	}
	rows := make([][]any, len(records))
	for i := range records {
		row, err := toRow(&records[i])
		if err != nil {
			return fmt.Errorf("pgstore: record %s: %w", records[i].ID, err)
		}
		rows[i] = row
	}
	var degraded store.DegradedError
	err = s.writeRows(ctx, records, rows, isUniqueViolation(err), &degraded)
	if len(degraded.IDs) == 0 {
		return err
	}
	if err == nil {
		return &degraded
	}
	var rej *store.RejectedError
	if errors.As(err, &rej) {
		return errors.Join(err, &degraded)
	}
	return err // an outage: the batch is retried whole
}

// copySource streams records to COPY, converting each as it is sent.
func copySource(records []store.Record) pgx.CopyFromSource {
	i := -1
	var row []any
	var err error
	return pgx.CopyFromFunc(func() ([]any, error) {
		i++
		if i >= len(records) {
			return nil, nil
		}
		row, err = toRow(&records[i])
		return row, err
	})
}

// idSource streams the (id, ts) of records to the COPY into the ids table.
func idSource(records []store.Record) pgx.CopyFromSource {
	i := -1
	row := make([]any, 2)
	return pgx.CopyFromFunc(func() ([]any, error) {
		i++
		if i >= len(records) {
			return nil, nil
		}
		id, err := parseUUID(records[i].ID)
		row[0], row[1] = id, records[i].Timestamp
		return row, err
	})
}

// idRows is idSource for converted rows (id and ts are their first
// columns).
func idRows(rows [][]any) pgx.CopyFromSource {
	i := -1
	return pgx.CopyFromFunc(func() ([]any, error) {
		i++
		if i >= len(rows) {
			return nil, nil
		}
		return rows[i][:2], nil
	})
}

// writeRows writes converted rows; staged says to go straight to the
// idempotent path (the plain COPY already met a duplicate). A row refused
// alone is written again in degraded form, its id added to degraded;
// degraded is nil for rows that are degraded already.
func (s *Store) writeRows(ctx context.Context, recs []store.Record, rows [][]any, staged bool, degraded *store.DegradedError) error {
	var err error
	if !staged {
		err = s.copyDirect(ctx, idRows(rows), pgx.CopyFromRows(rows))
	}
	if staged || isUniqueViolation(err) {
		err = s.copyStaged(ctx, rows)
	}
	if err == nil || !isDataError(err) {
		return err
	}
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	if len(rows) > 1 {
		// Isolate the bad record: write each half on its own.
		mid := len(rows) / 2
		e1 := s.writeRows(ctx, recs[:mid], rows[:mid], false, degraded)
		e2 := s.writeRows(ctx, recs[mid:], rows[mid:], false, degraded)
		return mergeRejected(e1, e2)
	}
	if degraded != nil {
		d := store.Degraded(recs[0], "refused by PostgreSQL: "+err.Error())
		if row, err2 := toRow(&d); err2 == nil {
			if err2 = s.writeRows(ctx, []store.Record{d}, [][]any{row}, false, nil); err2 == nil {
				degraded.IDs = append(degraded.IDs, recs[0].ID)
				degraded.Err = err
				return nil
			}
		}
	}
	return &store.RejectedError{IDs: ids, Err: err}
}

func mergeRejected(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	var ra, rb *store.RejectedError
	if errors.As(a, &ra) && errors.As(b, &rb) {
		return &store.RejectedError{IDs: append(ra.IDs, rb.IDs...), Err: ra.Err}
	}
	if !errors.As(a, &ra) {
		return a // a connection error outranks rejected records
	}
	return b
}

// idColumns are the columns of the ids table.
var idColumns = []string{"id", "ts"}

// copyDirect copies ids and rows in one transaction: a record is in the ids
// table exactly when its row is stored.
func (s *Store) copyDirect(ctx context.Context, ids, rows pgx.CopyFromSource) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{s.cfg.Schema, s.cfg.Table + "_ids"}, idColumns, ids); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{s.cfg.Schema, s.cfg.Table}, columns, rows)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: copy into %s: %w", s.Table(), err)
	}
	return nil
}

func (s *Store) copyStaged(ctx context.Context, rows [][]any) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.sql(sqlCreateStage)); err != nil {
			return fmt.Errorf("create staging table: %w", err)
		}
		stage := pgx.Identifier{s.cfg.Table + "_stage_v2"}
		if _, err := tx.CopyFrom(ctx, stage, columns, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy into staging table: %w", err)
		}
		if _, err := tx.Exec(ctx, s.sql(sqlInsertFromStage, strings.Join(columns, ", "))); err != nil {
			return fmt.Errorf("insert from staging table: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: idempotent write into %s: %w", s.Table(), err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// isDataError reports errors caused by the data rather than the server or
// the connection: class 22 (data exception), 23 (integrity), 54 (program
// limit, e.g. a value too deeply nested).
func isDataError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	c := pgErr.Code
	return strings.HasPrefix(c, "22") || (strings.HasPrefix(c, "23") && c != "23505") || strings.HasPrefix(c, "54")
}

// toRow converts a record to the column values of COPY, fixing what
// PostgreSQL cannot hold.
func toRow(r *store.Record) ([]any, error) {
	id, err := parseUUID(r.ID)
	if err != nil {
		return nil, err
	}
	ts := r.Timestamp
	if ts.IsZero() {
		return nil, errors.New("no timestamp (store.Normalize gives every record one)")
	}
	reqBody, reqBin := splitBody(r.RequestBody, r.RequestBodyBinary)
	respBody, respBin := splitBody(r.ResponseBody, r.ResponseBodyBinary)
	reqHeaders, err := jsonColumn(r.RequestHeaders)
	if err != nil {
		return nil, fmt.Errorf("request headers: %w", err)
	}
	respHeaders, err := jsonColumn(r.ResponseHeaders)
	if err != nil {
		return nil, fmt.Errorf("response headers: %w", err)
	}
	body, err := jsonColumn(r.Body)
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	attrs, err := jsonColumn(r.Attributes)
	if err != nil {
		return nil, fmt.Errorf("attributes: %w", err)
	}
	res, err := jsonColumn(r.Resource)
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	return []any{
		id, ts, nullTime(r.ObservedTimestamp), text(r.EventName), nullInt16(r.SeverityNumber), text(r.SeverityText),
		text(r.ServiceName), text(r.ScopeName), text(r.Operation), text(r.TraceID), text(r.SpanID),
		text(r.Method), text(r.Scheme), text(r.Host), text(r.Path), text(r.Route), text(r.Query),
		nullInt32(r.Status), nullFloat(r.DurationMS), text(r.UserID), text(r.SessionID), text(r.ClientAddress), text(r.UserAgent),
		reqHeaders, reqBody, reqBin, r.RequestBodySize, r.RequestBodyTruncated,
		respHeaders, respBody, respBin, r.ResponseBodySize, r.ResponseBodyTruncated,
		text(r.ErrorType), body, attrs, res,
	}, nil
}

// splitBody returns the text and binary column values of a body: valid
// UTF-8 goes to text (NUL becomes U+FFFD), anything else to bytea unchanged.
func splitBody(s string, bin []byte) (any, any) {
	var t, b any
	switch {
	case s != "" && utf8.ValidString(s):
		t = sanitizeText(s)
	case s != "":
		b = []byte(s)
	}
	if len(bin) > 0 {
		b = bin
	}
	return t, b
}

// text returns s fit for a text column, or nil for SQL NULL when empty.
func text(s string) any {
	if s == "" {
		return nil
	}
	return sanitizeText(s)
}

// sanitizeText makes s acceptable to PostgreSQL text: NUL and invalid
// UTF-8 become U+FFFD.
func sanitizeText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullInt16(n int) any {
	if n == 0 {
		return nil
	}
	return int16(n)
}

// nullFloat stores 0 as NULL, as MongoDB leaves the field out.
func nullFloat(f float64) any {
	if f == 0 {
		return nil
	}
	return f
}

func nullInt32(n int) any {
	if n == 0 {
		return nil
	}
	return int32(n)
}

// parseUUID parses the canonical text form of a UUID.
func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	h := strings.ReplaceAll(s, "-", "")
	if len(s) != 36 || len(h) != 32 {
		return u, fmt.Errorf("id %q is not a UUID", s)
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("id %q is not a UUID", s)
	}
	return u, nil
}
