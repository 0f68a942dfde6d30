package storeexporter

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// TestTelemetry pushes batches through an exporter on the real PostgreSQL
// and runs its retention once: records written, one write duration per
// batch and the partitions the cleanup dropped are recorded.
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

	// An old record in a partition of its own, for the retention to drop.
	seed, err := pgstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	if err := seed.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := seed.Write(context.Background(), []store.Record{storetest.NewRecord(time.Now().UTC().AddDate(0, 0, -5), 1)}); err != nil {
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
		Telemetry: Telemetry{RecordsWritten: written, WriteDuration: duration, PartitionsDropped: dropped},
	})
	defer e.Shutdown(context.Background())
	for _, n := range []int{7, 5} {
		if err := e.Push(context.Background(), testlogs.Audit(0, n, nil)); err != nil {
			t.Fatal(err)
		}
	}
	e.runRetention()

	if got := sumOf(t, tel, "written"); got != 12 {
		t.Errorf("records written: %d, want 12", got)
	}
	m, err := tel.GetMetric("duration")
	if err != nil {
		t.Fatal(err)
	}
	if dps := m.Data.(metricdata.Histogram[float64]).DataPoints; len(dps) != 1 || dps[0].Count != 2 || dps[0].Sum <= 0 {
		t.Errorf("write durations: %+v, want 2 writes", dps)
	}
	if got := sumOf(t, tel, "dropped"); got != 1 {
		t.Errorf("partitions dropped: %d, want 1", got)
	}
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
