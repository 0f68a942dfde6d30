package pgstore

import "github.com/otelaudit/otelaudit/store"

// RowForBenchmark exposes the COPY row of a record to the benchmark, so that
// the raw-COPY baseline sends exactly the same values.
func RowForBenchmark(r *store.Record) []any {
	row, err := toRow(r)
	if err != nil {
		panic(err)
	}
	return row
}
