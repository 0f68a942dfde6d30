package mongoexporter

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/exporter/mongoexporter/internal/metadata"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
	"github.com/otelaudit/otelaudit/internal/testutil/testproxy"
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

type harness struct {
	exp   exporter.Logs
	store *mongostore.Store
}

func newHarness(t *testing.T, uri string, mutate ...func(*Config)) *harness {
	t.Helper()
	db := testdb.Name("exp")
	cfg := createDefaultConfig().(*Config)
	cfg.URI = configopaque.String(uri)
	cfg.Database = db
	cfg.WriteConcern = "1"
	cfg.Timeout = 3 * time.Second
	cfg.BackOffConfig.InitialInterval = 50 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 200 * time.Millisecond
	cfg.BackOffConfig.MaxElapsedTime = 0
	cfg.QueueSettings.Get().Batch.Get().FlushTimeout = 50 * time.Millisecond
	for _, m := range mutate {
		m(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := mongostore.Open(context.Background(), mongostore.Config{URI: testdb.MongoURI(t), Database: db, WriteConcern: "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.DropDatabase(context.Background())
		st.Close()
	})
	return &harness{exp: exp, store: st}
}

func (h *harness) count(t *testing.T) int64 {
	n, err := h.store.Count(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls the collection until it holds want documents; the deadline
// only bounds a failing test.
func (h *harness) waitFor(t *testing.T, want int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for n := h.count(t); n < want; n = h.count(t) {
		if time.Now().After(deadline) {
			t.Fatalf("%d documents after 60 s, want %d", n, want)
		}
		<-tick.C
	}
}

func TestExportEndToEnd(t *testing.T) {
	h := newHarness(t, testdb.MongoURI(t))
	if err := h.exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 3; b++ {
		if err := h.exp.ConsumeLogs(context.Background(), auditLogs(b*40, 40)); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.count(t); n != 120 {
		t.Fatalf("%d documents, want 120", n)
	}
	recs, err := h.store.Query(context.Background(), store.Filter{PathPrefix: "/api/orders/119"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("query: %v, %d", err, len(recs))
	}
	if recs[0].RequestHeaders["x.dotted"][0] != "d" || recs[0].Attributes["$weird.key"] != "kept" || recs[0].ServiceName != "orders" {
		t.Errorf("stored %+v", recs[0])
	}
}

// TestServerOutageLosesNothing stops the server (for this test: the proxy
// in front of it) during a stream of writes; the queue holds the records
// and delivers them when it is back, without duplicates.
func TestServerOutageLosesNothing(t *testing.T) {
	real := testdb.MongoURI(t)
	u, _ := url.Parse(real)
	proxy := testproxy.New(t, u.Host)
	u.Host = proxy.Addr
	h := newHarness(t, u.String())
	if err := h.exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	if err := h.exp.ConsumeLogs(context.Background(), auditLogs(0, 50)); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, 50)
	proxy.Down()
	for b := 1; b < 5; b++ {
		if err := h.exp.ConsumeLogs(context.Background(), auditLogs(b*50, 50)); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.count(t); n != 50 {
		t.Fatalf("%d documents while the server was away, want 50", n)
	}
	proxy.Up()
	h.waitFor(t, 250)
	if err := h.exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.count(t); n != 250 {
		t.Errorf("%d documents after the outage, want exactly 250", n)
	}
}

// TestOutOfRangeValuesNeverBlockTheBatch exports 300 records among which a
// NaN attribute, a +Inf duration, a status beyond int32, the largest OTLP
// timestamps, none at all, keys that are not UTF-8, a reused id and a
// 30 MB body (testlogs.OutOfRange): every record is stored, none wrapped,
// the body cut to fit 16 MiB and flagged truncated.
func TestOutOfRangeValuesNeverBlockTheBatch(t *testing.T) {
	// The test server takes seconds to store 16 MiB: the default timeout.
	h := newHarness(t, testdb.MongoURI(t), func(c *Config) { c.Timeout = 30 * time.Second })
	if err := h.exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	if err := h.exp.ConsumeLogs(context.Background(), testlogs.OutOfRange(testlogs.BigBody)); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, testlogs.OutOfRangeStored)
	if err := h.exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	testlogs.CheckOutOfRange(t, h.store, testlogs.BigBody, 16<<20)
}

// TestMalformedURIIsPermanent: a URI that passed no Validate (an exporter
// built in code) fails the start at once instead of waiting for a server.
func TestMalformedURIIsPermanent(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.URI = "mongodb://audit:s3cret@127.0.0.1:27017/?authMechanism=BOGUS"
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = exp.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "uri") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("start with a malformed uri: %v; want an error naming uri, without the password", err)
	}
	exp.Shutdown(context.Background())
}

// TestClientRecordsStoredInTheSameColumns: a record of an outbound call
// (url.full, http.client.request.duration) goes through logconv into the
// same columns as a server record, and event_name tells them apart.
func TestClientRecordsStoredInTheSameColumns(t *testing.T) {
	h := newHarness(t, testdb.MongoURI(t))
	if err := h.exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	if err := h.exp.ConsumeLogs(context.Background(), testlogs.Client()); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, testlogs.ClientStored)
	if err := h.exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	testlogs.CheckClient(t, h.store)
}
