package pgstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// column is one column of the audit table: the one list below is what the
// CREATE TABLE of migration 1, COPY, the staged INSERT and SELECT are built
// from, and what converts a record to a row and a row back.
type column struct {
	name    string
	sqlType string
	// large values are compressed with lz4 where the server has it.
	large bool
	// value returns the column's COPY value for r (nil is NULL); nil for
	// id, which Write parses once and puts in the row itself.
	value func(r *store.Record) (any, error)
	// dest returns where a scanned value goes in r.
	dest func(r *store.Record) any
}

// columns are the columns of the audit table, in table order. A column
// added later comes with a migration of its own that adds it; migration 1
// creates the first v1Columns.
var columns = []column{
	{name: "id", sqlType: "uuid NOT NULL", dest: func(r *store.Record) any { return &textDest{&r.ID} }},
	{name: "ts", sqlType: "timestamptz NOT NULL",
		value: func(r *store.Record) (any, error) { return r.Timestamp, nil },
		dest:  func(r *store.Record) any { return &timeDest{&r.Timestamp} }},
	{name: "observed_ts", sqlType: "timestamptz",
		value: func(r *store.Record) (any, error) { return nullTime(r.ObservedTimestamp), nil },
		dest:  func(r *store.Record) any { return &timeDest{&r.ObservedTimestamp} }},
	textColumn("event_name", func(r *store.Record) *string { return &r.EventName }),
	intColumn("severity_number", "smallint", func(r *store.Record) *int { return &r.SeverityNumber }),
	textColumn("severity_text", func(r *store.Record) *string { return &r.SeverityText }),
	textColumn("service_name", func(r *store.Record) *string { return &r.ServiceName }),
	textColumn("scope_name", func(r *store.Record) *string { return &r.ScopeName }),
	textColumn("operation", func(r *store.Record) *string { return &r.Operation }),
	textColumn("trace_id", func(r *store.Record) *string { return &r.TraceID }),
	textColumn("span_id", func(r *store.Record) *string { return &r.SpanID }),
	textColumn("method", func(r *store.Record) *string { return &r.Method }),
	textColumn("scheme", func(r *store.Record) *string { return &r.Scheme }),
	textColumn("host", func(r *store.Record) *string { return &r.Host }),
	textColumn("path", func(r *store.Record) *string { return &r.Path }),
	textColumn("route", func(r *store.Record) *string { return &r.Route }),
	textColumn("query", func(r *store.Record) *string { return &r.Query }),
	intColumn("status", "int", func(r *store.Record) *int { return &r.Status }),
	{name: "duration_ms", sqlType: "double precision",
		value: func(r *store.Record) (any, error) { return nullFloat(r.DurationMS), nil },
		dest:  func(r *store.Record) any { return &floatDest{&r.DurationMS} }},
	textColumn("user_id", func(r *store.Record) *string { return &r.UserID }),
	textColumn("session_id", func(r *store.Record) *string { return &r.SessionID }),
	textColumn("client_address", func(r *store.Record) *string { return &r.ClientAddress }),
	textColumn("user_agent", func(r *store.Record) *string { return &r.UserAgent }),
	jsonColumn("request_headers", func(r *store.Record) any { return &r.RequestHeaders }),
	largeText(textColumn("request_body", func(r *store.Record) *string { return &r.RequestBody })),
	bytesColumn("request_body_binary", func(r *store.Record) *[]byte { return &r.RequestBodyBinary }),
	sizeColumn("request_body_size", func(r *store.Record) *int64 { return &r.RequestBodySize }),
	boolColumn("request_body_truncated", func(r *store.Record) *bool { return &r.RequestBodyTruncated }),
	jsonColumn("response_headers", func(r *store.Record) any { return &r.ResponseHeaders }),
	largeText(textColumn("response_body", func(r *store.Record) *string { return &r.ResponseBody })),
	bytesColumn("response_body_binary", func(r *store.Record) *[]byte { return &r.ResponseBodyBinary }),
	sizeColumn("response_body_size", func(r *store.Record) *int64 { return &r.ResponseBodySize }),
	boolColumn("response_body_truncated", func(r *store.Record) *bool { return &r.ResponseBodyTruncated }),
	textColumn("error_type", func(r *store.Record) *string { return &r.ErrorType }),
	jsonColumn("body", func(r *store.Record) any { return &r.LogBody }),
	jsonColumn("attributes", func(r *store.Record) any { return &r.Attributes }),
	jsonColumn("resource", func(r *store.Record) any { return &r.Resource }),
}

// v1Columns is how many of columns migration 1 created.
const v1Columns = 37

// columnNames are the names of columns, in order: the column list of COPY.
var columnNames = func() []string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return names
}()

// createTableV1 returns migration 1's CREATE TABLE of the audit table, with
// compression (" COMPRESSION lz4" or "") on its large columns and the
// partitioning clause (sqlPartitionBy or "") after it; %[1]s is the table,
// as in every statement of sql.go.
func createTableV1(compression, partitionBy string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS %[1]s (\n")
	for _, c := range columns[:v1Columns] {
		b.WriteString("\t" + c.name + " " + c.sqlType)
		if c.large {
			b.WriteString(compression)
		}
		b.WriteString(",\n")
	}
	b.WriteString("\tPRIMARY KEY (ts, id)\n)" + partitionBy)
	return b.String()
}

// sqlSelect selects every column of the table.
var sqlSelect = "SELECT " + strings.Join(columnNames, ", ") + " FROM %[1]s"

func textColumn(name string, field func(*store.Record) *string) column {
	return column{name: name, sqlType: "text",
		value: func(r *store.Record) (any, error) { return text(*field(r)), nil },
		dest:  func(r *store.Record) any { return &textDest{field(r)} }}
}

func largeText(c column) column {
	c.large = true
	return c
}

func intColumn(name, sqlType string, field func(*store.Record) *int) column {
	return column{name: name, sqlType: sqlType,
		value: func(r *store.Record) (any, error) {
			// Normalize keeps status within int32 and severity within int16.
			if n := *field(r); n != 0 {
				if sqlType == "smallint" {
					return int16(n), nil
				}
				return int32(n), nil
			}
			return nil, nil // 0 is NULL, as MongoDB leaves the field out
		},
		dest: func(r *store.Record) any { return &intDest{field(r)} }}
}

func sizeColumn(name string, field func(*store.Record) *int64) column {
	return column{name: name, sqlType: "bigint",
		value: func(r *store.Record) (any, error) { return *field(r), nil },
		dest:  func(r *store.Record) any { return &int64Dest{field(r)} }}
}

func boolColumn(name string, field func(*store.Record) *bool) column {
	return column{name: name, sqlType: "boolean",
		value: func(r *store.Record) (any, error) { return *field(r), nil },
		dest:  func(r *store.Record) any { return &boolDest{field(r)} }}
}

func bytesColumn(name string, field func(*store.Record) *[]byte) column {
	return column{name: name, sqlType: "bytea", large: true,
		value: func(r *store.Record) (any, error) {
			if b := *field(r); len(b) > 0 {
				return b, nil
			}
			return nil, nil
		},
		dest: func(r *store.Record) any { return field(r) }}
}

// jsonColumn is a jsonb column; field returns a pointer to the record's
// field (a header map, the log body, attributes or resource).
func jsonColumn(name string, field func(*store.Record) any) column {
	return column{name: name, sqlType: "jsonb", large: true,
		value: func(r *store.Record) (any, error) {
			v, err := jsonValue(field(r))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return v, nil
		},
		dest: func(r *store.Record) any { return &jsonDest{name, field(r)} }}
}

// rowError is a record that cannot be converted to a row: a data error,
// like one the server reports, isolated and stored degraded.
type rowError struct {
	id  string
	err error
}

func (e *rowError) Error() string { return fmt.Sprintf("record %s: %v", e.id, e.err) }

func (e *rowError) Unwrap() error { return e.err }

// toRow converts a normalized record, whose id is id, to the values of
// columns.
func toRow(r *store.Record, id [16]byte) ([]any, error) {
	row := make([]any, len(columns))
	row[0] = id
	for i, c := range columns[1:] {
		v, err := c.value(r)
		if err != nil {
			return nil, &rowError{r.ID, err}
		}
		row[i+1] = v
	}
	return row, nil
}

// scanRecord reads a row of sqlSelect.
func scanRecord(rows pgx.Rows) (store.Record, error) {
	var r store.Record
	dests := make([]any, len(columns))
	for i, c := range columns {
		dests[i] = c.dest(&r)
	}
	err := rows.Scan(dests...)
	return r, err
}

// text returns s fit for a text column, or nil for SQL NULL when empty.
func text(s string) any {
	if s == "" {
		return nil
	}
	return auditconv.StoredText(s)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// nullFloat stores 0 as NULL, as MongoDB leaves the field out.
func nullFloat(f float64) any {
	if f == 0 {
		return nil
	}
	return f
}

// Scan destinations: a NULL leaves the record's zero value.

type textDest struct{ p *string }

func (d *textDest) ScanText(v pgtype.Text) error { *d.p = v.String; return nil }

type timeDest struct{ p *time.Time }

func (d *timeDest) ScanTimestamptz(v pgtype.Timestamptz) error {
	if v.Valid {
		*d.p = v.Time.UTC()
	}
	return nil
}

type intDest struct{ p *int }

func (d *intDest) ScanInt64(v pgtype.Int8) error { *d.p = int(v.Int64); return nil }

type int64Dest struct{ p *int64 }

func (d *int64Dest) ScanInt64(v pgtype.Int8) error { *d.p = v.Int64; return nil }

type floatDest struct{ p *float64 }

func (d *floatDest) ScanFloat64(v pgtype.Float8) error { *d.p = v.Float64; return nil }

type boolDest struct{ p *bool }

func (d *boolDest) ScanBool(v pgtype.Bool) error { *d.p = v.Bool; return nil }

// jsonDest decodes a jsonb column, numbers as json.Number.
type jsonDest struct {
	name string
	p    any
}

func (d *jsonDest) ScanBytes(b []byte) error {
	if err := unmarshalJSON(b, d.p); err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	return nil
}
