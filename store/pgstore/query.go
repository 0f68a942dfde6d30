package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// where builds the WHERE clause of f, with the keyset condition when
// withCursor is set.
func where(f store.Filter, withCursor bool) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if !f.Since.IsZero() {
		add("ts >= $%d", f.Since)
	}
	if !f.Until.IsZero() {
		add("ts < $%d", f.Until)
	}
	if len(f.Methods) > 0 {
		m := make([]string, len(f.Methods))
		for i, x := range f.Methods {
			m[i] = strings.ToUpper(x)
		}
		add("method = ANY($%d)", m)
	}
	if f.PathPrefix != "" {
		add(`path LIKE $%d`, likePrefix(f.PathPrefix))
	}
	if f.StatusMin > 0 {
		add("status >= $%d", f.StatusMin)
	}
	if f.StatusMax > 0 {
		add("status <= $%d", f.StatusMax)
	}
	if f.UserID != "" {
		add("user_id = $%d", f.UserID)
	}
	if f.TraceID != "" {
		add("trace_id = $%d", strings.ToLower(f.TraceID))
	}
	if f.ServiceName != "" {
		add("service_name = $%d", f.ServiceName)
	}
	if f.Route != "" {
		add("route = $%d", f.Route)
	}
	if f.ClientAddress != "" {
		add("client_address = $%d", f.ClientAddress)
	}
	if f.Q != "" {
		add(sqlSearchExpr+" ILIKE $%d", likeContains(f.Q))
	}
	if f.EventName != "" {
		add("event_name = $%d", f.EventName)
	}
	if withCursor && !f.After.IsZero() {
		args = append(args, f.After.Timestamp, f.After.ID)
		conds = append(conds, fmt.Sprintf("(ts, id) < ($%d, $%d::uuid)", len(args)-1, len(args)))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// likeEscaper escapes LIKE's wildcards and its escape character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// likePrefix escapes a prefix for LIKE and appends the wildcard.
func likePrefix(p string) string { return likeEscaper.Replace(p) + "%" }

// likeContains escapes s for LIKE and surrounds it with wildcards.
func likeContains(s string) string { return "%" + likeEscaper.Replace(s) + "%" }

// Query returns the records f selects, newest first, at most
// f.EffectiveLimit() of them; continue with f.After = store.CursorAfter(last).
func (s *Store) Query(ctx context.Context, f store.Filter) ([]store.Record, error) {
	if !f.After.IsZero() {
		if _, err := auditconv.ParseRecordID(f.After.ID); err != nil {
			return nil, fmt.Errorf("pgstore: query: cursor: %w", err)
		}
	}
	w, args := where(f, true)
	args = append(args, f.EffectiveLimit())
	q := s.sql(sqlSelect) + w + fmt.Sprintf(" ORDER BY ts DESC, id DESC LIMIT $%d", len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: query %s: %w", s.Table(), err)
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: query %s: %w", s.Table(), err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: query %s: %w", s.Table(), err)
	}
	return out, nil
}

// Count returns how many records f selects.
func (s *Store) Count(ctx context.Context, f store.Filter) (int64, error) {
	w, args := where(f, false)
	var n int64
	if err := s.pool.QueryRow(ctx, s.sql(sqlCount)+w, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: count %s: %w", s.Table(), err)
	}
	return n, nil
}

// Get returns the record with id.
func (s *Store) Get(ctx context.Context, id string) (store.Record, error) {
	if _, err := auditconv.ParseRecordID(id); err != nil {
		return store.Record{}, fmt.Errorf("pgstore: get: %w", err)
	}
	rows, err := s.pool.Query(ctx, s.sql(sqlSelect)+" WHERE id = $1::uuid LIMIT 1", id)
	if err != nil {
		return store.Record{}, fmt.Errorf("pgstore: get %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.Record{}, fmt.Errorf("pgstore: get %s: %w", id, err)
		}
		return store.Record{}, store.ErrNotFound
	}
	r, err := scanRecord(rows)
	if err != nil {
		return store.Record{}, fmt.Errorf("pgstore: get %s: %w", id, err)
	}
	return r, nil
}

func unmarshalJSON(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	return nil
}

// Timeline counts the records f selects per slot of [f.Since, f.Until) and
// status class, in one query; see store.Timeline.
func (s *Store) Timeline(ctx context.Context, f store.Filter, buckets int) ([]store.Bucket, error) {
	if f.Since.IsZero() || f.Until.IsZero() || !f.Since.Before(f.Until) || buckets < 1 {
		return nil, fmt.Errorf("pgstore: timeline: want Since < Until and buckets > 0")
	}
	out := store.Slots(f.Since, f.Until, buckets)
	w, args := where(f, false)
	step := f.Until.Sub(f.Since).Seconds() / float64(buckets)
	args = append(args, f.Since, step, buckets-1)
	n := len(args)
	q := fmt.Sprintf(sqlTimeline, s.Table(), w, n-2, n-1, n)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: timeline %s: %w", s.Table(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var b, class int
		var count int64
		if err := rows.Scan(&b, &class, &count); err != nil {
			return nil, fmt.Errorf("pgstore: timeline %s: %w", s.Table(), err)
		}
		if class < 1 || class > 5 {
			class = 0
		}
		out[b].ByClass[class] += count
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: timeline %s: %w", s.Table(), err)
	}
	return out, nil
}
