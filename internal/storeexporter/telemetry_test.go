package storeexporter

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// TestTelemetry pushes batches through an exporter on the real PostgreSQL
// and runs its retention once: records newly written, duplicates skipped
// (a batch pushed again), records stored degraded (one PostgreSQL refuses),
// one write duration per batch and the partitions the cleanup dropped are
// recorded.
func TestTelemetry(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	table := testdb.Name("tel")
	testdb.DropTable(t, dsn, "public", table)
	cfg := pgstore.Config{DSN: dsn, Table: table}

	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	meter := tel.NewTelemetrySettings().MeterProvider.Meter("test")
	written, _ := meter.Int64Counter("written")
	duration, _ := meter.Float64Histogram("duration")
	dropped, _ := meter.Int64Counter("dropped")
	dups, _ := meter.Int64Counter("duplicates")
	degraded, _ := meter.Int64Counter("degraded")

	// An old record in a partition of its own, for the retention to drop.
	seed, err := pgstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	if err := seed.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Write(context.Background(), []store.Record{storetest.NewRecord(time.Now().UTC().AddDate(0, 0, -5), 1)}); err != nil {
		t.Fatal(err)
	}

	e := New(Settings{
		Name: "PostgreSQL",
		Open: func(ctx context.Context) (store.Store, error) {
			return pgstore.Open(ctx, cfg)
		},
		Permanent: func(error) bool { return false },
		Retention: 48 * time.Hour,
		Logger:    zap.NewNop(),
		Telemetry: Telemetry{RecordsWritten: written, WriteDuration: duration, PartitionsDropped: dropped,
			DuplicatesSkipped: dups, RecordsDegraded: degraded},
	})
	defer e.Shutdown(context.Background())
	seven := testlogs.Audit(0, 7, nil)
	for _, ld := range []plog.Logs{seven, testlogs.Audit(0, 5, nil), seven, tooDeep()} {
		if err := e.Push(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
	}
	e.runRetention()

	if got := sumOf(t, tel, "written"); got != 13 {
		t.Errorf("records written: %d, want 13 (7, 5 and the degraded one)", got)
	}
	if got := sumOf(t, tel, "duplicates"); got != 7 {
		t.Errorf("duplicates skipped: %d, want 7", got)
	}
	if got := sumOf(t, tel, "degraded"); got != 1 {
		t.Errorf("records degraded: %d, want 1", got)
	}
	m, err := tel.GetMetric("duration")
	if err != nil {
		t.Fatal(err)
	}
	if dps := m.Data.(metricdata.Histogram[float64]).DataPoints; len(dps) != 1 || dps[0].Count != 4 || dps[0].Sum <= 0 {
		t.Errorf("write durations: %+v, want 4 writes", dps)
	}
	if got := sumOf(t, tel, "dropped"); got != 1 {
		t.Errorf("partitions dropped: %d, want 1", got)
	}
}

// tooDeep returns one audit record with an attribute nested deeper than
// PostgreSQL parses jsonb (it runs out of stack): the server refuses it.
func tooDeep() plog.Logs {
	ld := testlogs.Audit(0, 1, nil)
	m := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutEmptyMap("deep")
	for range 100000 {
		m = m.PutEmptyMap("d")
	}
	return ld
}

func sumOf(t *testing.T, tel *componenttest.Telemetry, name string) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	return n
}
