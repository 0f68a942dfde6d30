package pgstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/otelaudit/otelaudit/store"
)

// Write stores records with one binary COPY. A batch that was (partly)
// written before, such as a retry after a timeout, fails the plain COPY with
// a unique violation; it is then copied into a staging table and inserted
// with ON CONFLICT (ts, id) DO NOTHING, so nothing is duplicated. Text that
// PostgreSQL cannot hold is fixed first (NUL becomes U+FFFD, invalid UTF-8
// bodies go to the _binary columns); a record PostgreSQL still refuses is
// isolated by splitting the batch, stored in a degraded form, and only if
// that fails too reported in a RejectedError, the rest written.
func (s *Store) Write(ctx context.Context, records []store.Record) error {
	if len(records) == 0 {
		return nil
	}
	stamps := make([]time.Time, 0, len(records))
	var rejected *store.RejectedError
	good := records
	for i := range records {
		ts, err := checkRecord(&records[i])
		if err != nil {
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
		stamps = append(stamps, ts)
	}
	if rejected != nil {
		// Write the others; report the ones that cannot be stored.
		if err := s.Write(ctx, good); err != nil {
			return err
		}
		return rejected
	}
	if err := s.ensurePartitions(ctx, stamps); err != nil {
		return err
	}
	// The common case, a batch never written before: rows are converted as
	// COPY streams them, so the conversion overlaps the server's work.
	err := s.copyDirect(ctx, copySource(records))
	if err == nil {
		return nil
	}
	if !isUniqueViolation(err) && !isDataError(err) {
		return err
	}
	rows := make([][]any, len(records))
	ids := make([]string, len(records))
	for i := range records {
		row, err := toRow(&records[i])
		if err != nil {
			return fmt.Errorf("pgstore: record %s: %w", records[i].ID, err)
		}
		rows[i], ids[i] = row, records[i].ID
	}
	return s.writeRows(ctx, rows, ids, isUniqueViolation(err))
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

// checkRecord validates what toRow cannot fix and returns the timestamp the
// row is stored under.
func checkRecord(r *store.Record) (time.Time, error) {
	if _, err := parseUUID(r.ID); err != nil {
		return time.Time{}, err
	}
	ts := r.Timestamp
	if ts.IsZero() {
		ts = r.ObservedTimestamp
	}
	if ts.IsZero() {
		return time.Time{}, errors.New("no timestamp")
	}
	return ts, nil
}

// writeRows writes converted rows; staged says to go straight to the
// idempotent path (the plain COPY already met a duplicate).
func (s *Store) writeRows(ctx context.Context, rows [][]any, ids []string, staged bool) error {
	var err error
	if !staged {
		err = s.copyDirect(ctx, pgx.CopyFromRows(rows))
	}
	if staged || isUniqueViolation(err) {
		err = s.copyStaged(ctx, rows)
	}
	if err == nil || !isDataError(err) {
		return err
	}
	if len(rows) > 1 {
		// Isolate the bad record: write each half on its own.
		mid := len(rows) / 2
		e1 := s.writeRows(ctx, rows[:mid], ids[:mid], false)
		e2 := s.writeRows(ctx, rows[mid:], ids[mid:], false)
		return mergeRejected(e1, e2)
	}
	if degraded := degrade(rows[0], err); degraded != nil {
		if err2 := s.writeRows(ctx, [][]any{degraded}, ids, false); err2 == nil {
			return nil
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

func (s *Store) copyDirect(ctx context.Context, src pgx.CopyFromSource) error {
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{s.cfg.Schema, s.cfg.Table}, columns, src)
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
		stage := pgx.Identifier{s.cfg.Table + "_stage_v1"}
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

// degrade returns a copy of row without its bodies and JSON columns, with
// the reason in attributes, or nil when there is nothing left to drop.
func degrade(row []any, cause error) []any {
	out := append([]any(nil), row...)
	for i, c := range columns {
		switch c {
		case "request_headers", "response_headers", "body", "resource", "request_body", "response_body",
			"request_body_binary", "response_body_binary":
			out[i] = nil
		case "request_body_truncated", "response_body_truncated":
			out[i] = true
		case "attributes":
			b, _ := json.Marshal(map[string]string{"audit.store.error": sanitizeText(cause.Error())})
			out[i] = b
		}
	}
	return out
}

// toRow converts a record to the column values of COPY, fixing what
// PostgreSQL cannot hold.
func toRow(r *store.Record) ([]any, error) {
	id, err := parseUUID(r.ID)
	if err != nil {
		return nil, err
	}
	ts, err := checkRecord(r)
	if err != nil {
		return nil, err
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
		id, ts, nullTime(r.ObservedTimestamp), text(r.EventName), int16(r.SeverityNumber), text(r.SeverityText),
		text(r.ServiceName), text(r.ScopeName), text(r.Operation), text(r.TraceID), text(r.SpanID),
		text(r.Method), text(r.Scheme), text(r.Host), text(r.Path), text(r.Route), text(r.Query),
		nullInt32(r.Status), r.DurationMS, text(r.UserID), text(r.SessionID), text(r.ClientAddress), text(r.UserAgent),
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
