package pgstore

import (
	"context"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// RowForBenchmark exposes the COPY row of a record to the benchmark, so that
// the raw-COPY baseline sends exactly the same values.
func RowForBenchmark(r *store.Record) []any {
	id, err := auditconv.ParseRecordID(r.ID)
	if err != nil {
		panic(err)
	}
	row, err := toRow(r, id)
	if err != nil {
		panic(err)
	}
	return row
}

// ColumnsForBenchmark are the columns of the COPY rows.
var ColumnsForBenchmark = columnNames

// CreateTableV1 exposes migration 1's CREATE TABLE to the test that pins
// it.
var CreateTableV1 = createTableV1

// ExplainSearch returns the plan of a search for q, sequential scans
// disabled so that an index that can serve it shows.
func ExplainSearch(t *testing.T, s *Store, q string) string {
	t.Helper()
	ctx := context.Background()
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if _, err := c.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	defer c.Exec(ctx, "RESET enable_seqscan")
	w, args := where(store.Filter{Q: q}, false)
	rows, err := c.Query(ctx, "EXPLAIN "+s.sql(sqlSelect)+w, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	return plan.String()
}
