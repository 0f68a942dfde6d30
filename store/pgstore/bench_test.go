package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// rows4K returns n audit records of about 4 KB each.
func rows4K(n int, start time.Time) []store.Record {
	body := `{"items":[` + strings.Repeat(`{"sku":"SKU-00001","name":"Item","qty":1,"price":9.99},`, 28) + `{}]}`
	out := make([]store.Record, n)
	for i := range out {
		r := storetest.NewRecord(start.Add(time.Duration(i)*time.Microsecond), i)
		r.RequestBody, r.ResponseBody = body, body
		out[i] = r
	}
	return out
}

// BenchmarkWrite compares pgstore.Write (COPY with the idempotency
// fallback, partition routing, sanitising) with a raw pgx CopyFrom of the
// same rows into a plain table with the same columns and indexes; and so
// again without the search index, whose cost otherwise hides the rest
// (pgstore's second COPY, into the ids table, among it).
func BenchmarkWrite(b *testing.B) {
	dsn := testdb.PostgresDSN(b)
	b.Run("search_index=true", func(b *testing.B) { benchWrite(b, dsn, false) })
	b.Run("search_index=false", func(b *testing.B) { benchWrite(b, dsn, true) })
}

func benchWrite(b *testing.B, dsn string, noIndex bool) {
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("raw-copy/batch=%d", batch), func(b *testing.B) {
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(ctx)
			table := testdb.Name("rawcopy")
			// Same columns and compression as pgstore's table, no partitions.
			s := openBench(b, dsn, pgstore.PartitionNone, noIndex)
			if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING ALL)", table, s.Table())); err != nil {
				b.Fatal(err)
			}
			defer conn.Exec(ctx, "DROP TABLE "+table)
			start := time.Now().UTC()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				recs := rows4K(batch, start.Add(time.Duration(i)*time.Second))
				rows := make([][]any, len(recs))
				for j := range recs {
					rows[j] = pgstore.RowForBenchmark(&recs[j])
				}
				b.StartTimer()
				if _, err := conn.CopyFrom(ctx, pgx.Identifier{table}, pgstore.ColumnsForBenchmark, pgx.CopyFromRows(rows)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(fmt.Sprintf("pgstore/batch=%d", batch), func(b *testing.B) {
			s := openBench(b, dsn, pgstore.PartitionDay, noIndex)
			start := time.Now().UTC()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				recs := rows4K(batch, start.Add(time.Duration(i)*time.Second))
				b.StartTimer()
				if _, err := s.Write(context.Background(), recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func openBench(b *testing.B, dsn, partition string, noIndex bool) *pgstore.Store {
	table := testdb.Name("bench")
	testdb.DropTable(b, dsn, "public", table)
	s, err := pgstore.Open(context.Background(), pgstore.Config{DSN: dsn, Table: table, Partition: partition, NoSearchIndex: noIndex})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkWriteSearchIndex measures what the trigram search index
// (migration 4) costs ingest: the same 4 KB records written alternately
// into a table with the index and one without (NoSearchIndex), in the same
// run. index-cost is the time with the index over the time without.
func BenchmarkWriteSearchIndex(b *testing.B) {
	dsn := testdb.PostgresDSN(b)
	const batch = 1000
	open := func(noIndex bool) *pgstore.Store {
		table := testdb.Name("bench")
		testdb.DropTable(b, dsn, "public", table)
		s, err := pgstore.Open(context.Background(), pgstore.Config{DSN: dsn, Table: table, NoSearchIndex: noIndex})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		if err := s.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s
	}
	with, without := open(false), open(true)
	var tWith, tWithout time.Duration
	start := time.Now().UTC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, s := range []*pgstore.Store{without, with} {
			b.StopTimer()
			recs := rows4K(batch, start.Add(time.Duration(i)*time.Second))
			b.StartTimer()
			t0 := time.Now()
			if _, err := s.Write(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
			if j == 0 {
				tWithout += time.Since(t0)
			} else {
				tWith += time.Since(t0)
			}
		}
	}
	b.ReportMetric(float64(b.N*batch)/tWithout.Seconds(), "rows/s-no-index")
	b.ReportMetric(float64(b.N*batch)/tWith.Seconds(), "rows/s-index")
	b.ReportMetric(tWith.Seconds()/tWithout.Seconds(), "index-cost")
}
