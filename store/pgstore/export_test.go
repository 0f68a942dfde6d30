package pgstore

import (
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
