package postgresexporter

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelaudit/otelaudit/exporter/postgresexporter/internal/metadata"
	"github.com/otelaudit/otelaudit/exporter/postgresexporter/internal/metadatatest"
	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/internal/storeexporter/storeexportertest"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

// configure points cfg at dsn, into a table of the test's own dropped when
// the test ends, and opens a store on it at the test server.
func configure(t *testing.T, c component.Config, dsn string) store.Store {
	t.Helper()
	cfg := c.(*Config)
	cfg.DSN = configopaque.String(dsn)
	cfg.Table = testdb.Name("exp")
	server := testdb.PostgresDSN(t)
	testdb.DropTable(t, server, "public", cfg.Table)
	// Not migrated: the exporter creates the table.
	st, err := pgstore.Open(context.Background(), pgstore.Config{DSN: server, Table: cfg.Table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// backend is what the conformance suite needs of the postgres exporter.
func backend() storeexportertest.Backend {
	return storeexportertest.Backend{
		Factory:          NewFactory(),
		Server:           testdb.PostgresDSN,
		Configure:        configure,
		NotCreated:       func(err error) bool { return strings.Contains(err.Error(), "does not exist") },
		ExporterSettings: func(c component.Config) *storeexporter.ExporterSettings { return &c.(*Config).ExporterSettings },
		SetIntegrity:     func(c component.Config, ic *integrity.Config) { c.(*Config).Integrity = ic },
		SetRetention:     func(c component.Config, d time.Duration) { c.(*Config).Retention = d },
		NewExporter: func(c component.Config, set exporter.Settings) (*storeexporter.Exporter, error) {
			return newExporter(c.(*Config), set)
		},
		AddressKey: "dsn",
		Malformed:  map[string]string{"bad_dsn": "sslmode", "bad_dsn_kv": "port"},
		// A text value is at most 1 GiB: the 30 MB body is kept whole.
		MaxBody: 1 << 30,
		Telemetry: storeexportertest.Telemetry{
			NewSettings:       metadatatest.NewSettings,
			RecordsWritten:    metadatatest.AssertEqualExporterPostgresRecordsWritten,
			DuplicatesSkipped: metadatatest.AssertEqualExporterPostgresDuplicatesSkipped,
			WriteDuration:     "otelcol_exporter_postgres_write_duration",
			// The partitions are created ahead of time at start: today and
			// the premake days after it.
			Check: func(t *testing.T, tel *componenttest.Telemetry, c component.Config) {
				metadatatest.AssertEqualExporterPostgresPartitionsCreated(t, tel,
					[]metricdata.DataPoint[int64]{{Value: int64(c.(*Config).Premake) + 1}}, metricdatatest.IgnoreTimestamp())
			},
		},
	}
}

func TestConformance(t *testing.T) {
	storeexportertest.Run(t, backend())
}

// TestStartFailsOnBadCredentials: an unknown role is an error no retry
// fixes; it fails the start, naming the role.
func TestStartFailsOnBadCredentials(t *testing.T) {
	u, _ := url.Parse(testdb.PostgresDSN(t))
	u.User = url.UserPassword("otelaudit_no_such_role", "pw")
	h := storeexportertest.New(t, backend(), u.String(), nil)
	err := h.Exp.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "otelaudit_no_such_role") {
		t.Errorf("start with an unknown role: %v", err)
	}
	h.Exp.Shutdown(context.Background())
}

// BenchmarkExport measures the exporter end to end: pdata in, rows
// committed (the push function, without the queue's batching delay); the
// baseline is a raw pgx CopyFrom of the very rows it stored.
func BenchmarkExport(b *testing.B) {
	dsn := testdb.PostgresDSN(b)
	table := testdb.Name("expbench")
	testdb.DropTable(b, dsn, "public", table)
	cfg := createDefaultConfig().(*Config)
	cfg.DSN, cfg.Table = configopaque.String(dsn), table
	e, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ld := testlogs.Audit(i*1000, 1000, nil)
		b.StartTimer()
		if err := e.Push(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N*1000) / b.Elapsed().Seconds()
	b.StopTimer()
	raw := testdb.RawCopyRate(b, dsn, table, 1000)
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(raw, "raw-copy-rows/s")
	b.ReportMetric(rate/raw, "exporter/raw")
}
