package mongoexporter

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/exporter/mongoexporter/internal/metadatatest"
	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/internal/storeexporter/storeexportertest"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/mongostore"
)

// auditLogs adds keys MongoDB-compatible servers refuse to the standard
// audit records.
func auditLogs(first, n int) plog.Logs {
	return testlogs.Audit(first, n, func(_ int, lr plog.LogRecord) {
		lr.Attributes().PutEmptySlice("http.request.header.x.dotted").AppendEmpty().SetStr("d")
		lr.Attributes().PutStr("$weird.key", "kept")
	})
}

// configure points cfg at uri, into a database of the test's own dropped
// when the test ends, and opens a store on it at the test server.
func configure(t *testing.T, c component.Config, uri string) store.Store {
	t.Helper()
	cfg := c.(*Config)
	cfg.URI = configopaque.String(uri)
	cfg.Database = testdb.Name("exp")
	cfg.WriteConcern = "1"
	st, err := mongostore.Open(context.Background(), mongostore.Config{URI: testdb.MongoURI(t), Database: cfg.Database, WriteConcern: "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.DropDatabase(context.Background())
		st.Close()
	})
	return st
}

// backend is what the conformance suite needs of the mongo exporter.
func backend() storeexportertest.Backend {
	return storeexportertest.Backend{
		Factory:          NewFactory(),
		Server:           testdb.MongoURI,
		Configure:        configure,
		ExporterSettings: func(c component.Config) *storeexporter.ExporterSettings { return &c.(*Config).ExporterSettings },
		SetIntegrity:     func(c component.Config, ic *integrity.Config) { c.(*Config).Integrity = ic },
		SetRetention:     func(c component.Config, d time.Duration) { c.(*Config).Retention = d },
		NewExporter: func(c component.Config, set exporter.Settings) (*storeexporter.Exporter, error) {
			return newExporter(c.(*Config), set)
		},
		AddressKey: "uri",
		Malformed:  map[string]string{"bad_uri": "auth mechanism", "bad_port": "port"},
		Logs:       auditLogs,
		CheckStored: func(t *testing.T, r store.Record) {
			if r.RequestHeaders["x.dotted"][0] != "d" || r.Attributes["$weird.key"] != "kept" {
				t.Errorf("keys MongoDB refuses: stored %+v", r)
			}
		},
		// A document is at most 16 MiB.
		MaxBody: 16 << 20,
		Telemetry: storeexportertest.Telemetry{
			NewSettings:       metadatatest.NewSettings,
			RecordsWritten:    metadatatest.AssertEqualExporterMongoRecordsWritten,
			DuplicatesSkipped: metadatatest.AssertEqualExporterMongoDuplicatesSkipped,
			WriteDuration:     "otelcol_exporter_mongo_write_duration",
		},
	}
}

func TestConformance(t *testing.T) {
	storeexportertest.Run(t, backend())
}
