package mongoexporter

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelaudit/otelaudit/exporter/mongoexporter/internal/metadatatest"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/store/mongostore"
)

// TestTelemetry checks that the exporter records its generated metrics on
// the real server: the records of a batch written, the same batch again
// counted as duplicates, and one write duration per batch.
func TestTelemetry(t *testing.T) {
	uri := testdb.MongoURI(t)
	cfg := createDefaultConfig().(*Config)
	cfg.URI, cfg.Database, cfg.WriteConcern = configopaque.String(uri), testdb.Name("tel"), "1"
	t.Cleanup(func() {
		if st, err := mongostore.Open(context.Background(), cfg.storeConfig()); err == nil {
			st.DropDatabase(context.Background())
			st.Close()
		}
	})
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
	ld := auditLogs(0, 9)
	for range 2 {
		if err := e.Push(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
	}
	metadatatest.AssertEqualExporterMongoRecordsWritten(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 9}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualExporterMongoDuplicatesSkipped(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 9}}, metricdatatest.IgnoreTimestamp())
	m, err := tel.GetMetric("otelcol_exporter_mongo_write_duration")
	if err != nil {
		t.Fatal(err)
	}
	if dps := m.Data.(metricdata.Histogram[float64]).DataPoints; len(dps) != 1 || dps[0].Count != 2 {
		t.Errorf("write durations: %+v, want two", dps)
	}
}
