package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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
	if withCursor && !f.After.IsZero() {
		args = append(args, f.After.Timestamp, f.After.ID)
		conds = append(conds, fmt.Sprintf("(ts, id) < ($%d, $%d::uuid)", len(args)-1, len(args)))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// likePrefix escapes a prefix for LIKE and appends the wildcard.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}

// Query returns the records f selects, newest first, at most
// f.EffectiveLimit() of them; continue with f.After = store.CursorAfter(last).
func (s *Store) Query(ctx context.Context, f store.Filter) ([]store.Record, error) {
	if !f.After.IsZero() {
		if _, err := parseUUID(f.After.ID); err != nil {
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
	if _, err := parseUUID(id); err != nil {
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

func scanRecord(rows pgx.Rows) (store.Record, error) {
	var (
		r                                           store.Record
		observed                                    pgtype.Timestamptz
		event, sevText, svc, scope, op, trace, span pgtype.Text
		method, scheme, host, path, route, query    pgtype.Text
		user, session, client, ua, errType          pgtype.Text
		sev                                         pgtype.Int2
		status                                      pgtype.Int4
		dur                                         pgtype.Float8
		reqBody, respBody                           pgtype.Text
		reqSize, respSize                           pgtype.Int8
		reqTrunc, respTrunc                         pgtype.Bool
		reqHeaders, respHeaders, body, attrs, res   []byte
	)
	err := rows.Scan(&r.ID, &r.Timestamp, &observed, &event, &sev, &sevText, &svc, &scope, &op, &trace, &span,
		&method, &scheme, &host, &path, &route, &query, &status, &dur, &user, &session, &client, &ua,
		&reqHeaders, &reqBody, &r.RequestBodyBinary, &reqSize, &reqTrunc,
		&respHeaders, &respBody, &r.ResponseBodyBinary, &respSize, &respTrunc,
		&errType, &body, &attrs, &res)
	if err != nil {
		return r, err
	}
	r.Timestamp = r.Timestamp.UTC()
	if observed.Valid {
		r.ObservedTimestamp = observed.Time.UTC()
	}
	r.EventName, r.SeverityText, r.ServiceName, r.ScopeName = event.String, sevText.String, svc.String, scope.String
	r.Operation, r.TraceID, r.SpanID = op.String, trace.String, span.String
	r.Method, r.Scheme, r.Host, r.Path, r.Route, r.Query = method.String, scheme.String, host.String, path.String, route.String, query.String
	r.UserID, r.SessionID, r.ClientAddress, r.UserAgent, r.ErrorType = user.String, session.String, client.String, ua.String, errType.String
	r.SeverityNumber, r.Status, r.DurationMS = int(sev.Int16), int(status.Int32), dur.Float64
	r.RequestBody, r.ResponseBody = reqBody.String, respBody.String
	r.RequestBodySize, r.ResponseBodySize = reqSize.Int64, respSize.Int64
	r.RequestBodyTruncated, r.ResponseBodyTruncated = reqTrunc.Bool, respTrunc.Bool
	if err := unmarshalJSON(reqHeaders, &r.RequestHeaders); err != nil {
		return r, fmt.Errorf("request_headers: %w", err)
	}
	if err := unmarshalJSON(respHeaders, &r.ResponseHeaders); err != nil {
		return r, fmt.Errorf("response_headers: %w", err)
	}
	if err := unmarshalJSON(body, &r.Body); err != nil {
		return r, fmt.Errorf("body: %w", err)
	}
	if err := unmarshalJSON(attrs, &r.Attributes); err != nil {
		return r, fmt.Errorf("attributes: %w", err)
	}
	if err := unmarshalJSON(res, &r.Resource); err != nil {
		return r, fmt.Errorf("resource: %w", err)
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
