package postgresexporter

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelaudit/otelaudit/exporter/postgresexporter/internal/metadatatest"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
)

// TestTelemetry checks that the exporter records its generated metrics on
// the real server: the records of a batch written, the same batch again
// counted as duplicates, one write duration per batch, and the partitions
// created ahead of time at start (today and the premake days after it).
func TestTelemetry(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	cfg := createDefaultConfig().(*Config)
	cfg.DSN, cfg.Table = configopaque.String(dsn), testdb.Name("tel")
	testdb.DropTable(t, dsn, "public", cfg.Table)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	e, err := newExporter(cfg, metadatatest.NewSettings(tel))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	ld := testlogs.Audit(0, 9, nil)
	for range 2 {
		if err := e.Push(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
	}
	metadatatest.AssertEqualExporterPostgresRecordsWritten(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 9}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualExporterPostgresDuplicatesSkipped(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 9}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualExporterPostgresPartitionsCreated(t, tel,
		[]metricdata.DataPoint[int64]{{Value: int64(cfg.Premake) + 1}}, metricdatatest.IgnoreTimestamp())
	m, err := tel.GetMetric("otelcol_exporter_postgres_write_duration")
	if err != nil {
		t.Fatal(err)
	}
	if dps := m.Data.(metricdata.Histogram[float64]).DataPoints; len(dps) != 1 || dps[0].Count != 2 {
		t.Errorf("write durations: %+v, want two", dps)
	}
}
