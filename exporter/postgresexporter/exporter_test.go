package postgresexporter

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

	"github.com/otelaudit/otelaudit/exporter/postgresexporter/internal/metadata"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
	"github.com/otelaudit/otelaudit/internal/testutil/testproxy"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

type harness struct {
	exp   exporter.Logs
	store *pgstore.Store
	table string
}

func newHarness(t *testing.T, dsn string, mutate func(*Config)) *harness {
	t.Helper()
	table := testdb.Name("exp")
	testdb.DropTable(t, testdb.PostgresDSN(t), "public", table)
	cfg := createDefaultConfig().(*Config)
	cfg.DSN = configopaque.String(dsn)
	cfg.Table = table
	cfg.Timeout = 5 * time.Second
	cfg.BackOffConfig.InitialInterval = 50 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 200 * time.Millisecond
	cfg.BackOffConfig.MaxElapsedTime = 0
	q := cfg.QueueSettings.Get()
	q.Batch.Get().FlushTimeout = 50 * time.Millisecond
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A store of the test's own on the real server, to look at the rows.
	st, err := pgstore.Open(context.Background(), pgstore.Config{DSN: testdb.PostgresDSN(t), Table: table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &harness{exp: exp, store: st, table: table}
}

// count returns the rows of the test's table (0 before it exists).
func (h *harness) count(t *testing.T) int64 {
	n, err := h.store.Count(context.Background(), store.Filter{})
	if err != nil && !strings.Contains(err.Error(), "does not exist") {
		t.Fatal(err)
	}
	return n
}

// waitFor polls the table until it holds want rows; the deadline only
// bounds a failing test.
func (h *harness) waitFor(t *testing.T, want int64) {
	t.Helper()
	h.waitUntil(t, func(n int64) bool { return n >= want })
}

// waitUntil polls the row count until ok accepts it.
func (h *harness) waitUntil(t *testing.T, ok func(int64) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := h.count(t); !ok(n); n = h.count(t) {
		if time.Now().After(deadline) {
			t.Fatalf("row count %d not reached in 60 s", n)
		}
		<-tick.C
	}
}

func TestExportEndToEnd(t *testing.T) {
	h := newHarness(t, testdb.PostgresDSN(t), nil)
	if err := h.exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 5; b++ {
		if err := h.exp.ConsumeLogs(context.Background(), testlogs.Audit(b*100, 100, nil)); err != nil {
			t.Fatal(err)
		}
	}
	// Shutdown drains the queue.
	if err := h.exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.count(t); n != 500 {
		t.Fatalf("%d rows, want 500", n)
	}
	recs, err := h.store.Query(context.Background(), store.Filter{Limit: 1, PathPrefix: "/api/orders/499"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("query: %v %d", err, len(recs))
	}
	r := recs[0]
	if r.Method != "POST" || r.Status != 201 || r.ServiceName != "orders" || r.RequestBody != `{"item":"book","qty":1}` ||
		r.RequestHeaders["content-type"][0] != "application/json" {
		t.Errorf("stored record %+v", r)
	}
}

// TestOutageLosesNothing cuts PostgreSQL off (through a proxy) while
// batches arrive: the queue and retries deliver everything once it is
// back, without duplicates.
func TestOutageLosesNothing(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	u, _ := url.Parse(dsn)
	proxy := testproxy.New(t, u.Host)
	u.Host = proxy.Addr
	h := newHarness(t, u.String(), nil)
	if err := h.exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 3; b++ {
		if err := h.exp.ConsumeLogs(context.Background(), testlogs.Audit(b*50, 50, nil)); err != nil {
			t.Fatal(err)
		}
	}
	h.waitFor(t, 150)
	proxy.Down()
	for b := 3; b < 8; b++ {
		if err := h.exp.ConsumeLogs(context.Background(), testlogs.Audit(b*50, 50, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.count(t); n != 150 {
		t.Fatalf("%d rows while cut off, want 150", n)
	}
	proxy.Up()
	h.waitFor(t, 400)
	if err := h.exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.count(t); n != 400 {
		t.Errorf("%d rows after the outage, want exactly 400", n)
	}
}

func TestStartWhileUnreachableThenDeliver(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	u, _ := url.Parse(dsn)
	proxy := testproxy.New(t, u.Host)
	u.Host = proxy.Addr
	proxy.Down()
	h := newHarness(t, u.String(), nil)
	if err := h.exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatalf("an unreachable database must not fail the start: %v", err)
	}
	defer h.exp.Shutdown(context.Background())
	if err := h.exp.ConsumeLogs(context.Background(), testlogs.Audit(0, 10, nil)); err != nil {
		t.Fatal(err)
	}
	proxy.Up()
	h.waitFor(t, 10)
}

func TestStartFailsOnBadCredentials(t *testing.T) {
	u, _ := url.Parse(testdb.PostgresDSN(t))
	u.User = url.UserPassword("otelaudit_no_such_role", "pw")
	h := newHarness(t, u.String(), nil)
	err := h.exp.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "otelaudit_no_such_role") {
		t.Errorf("start with an unknown role: %v", err)
	}
	h.exp.Shutdown(context.Background())
}

func TestRetentionDropsOldPartitions(t *testing.T) {
	h := newHarness(t, testdb.PostgresDSN(t), func(c *Config) { c.Retention = 48 * time.Hour })
	old := storetest.NewRecord(time.Now().UTC().AddDate(0, 0, -5), 1)
	fresh := storetest.NewRecord(time.Now().UTC().Add(-time.Hour), 2)
	if err := h.store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Write(context.Background(), []store.Record{old, fresh}); err != nil {
		t.Fatal(err)
	}
	// The retention loop runs once at start.
	if err := h.exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	h.waitUntil(t, func(n int64) bool { return n == 1 })
	h.exp.Shutdown(context.Background())
	if _, err := h.store.Get(context.Background(), old.ID); err != store.ErrNotFound {
		t.Errorf("record older than the retention: %v", err)
	}
	if _, err := h.store.Get(context.Background(), fresh.ID); err != nil {
		t.Errorf("fresh record: %v", err)
	}
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

// TestOutOfRangeValuesNeverBlockTheBatch: the records of
// testlogs.OutOfRange are all stored, none wrapped (a status beyond int32
// is NULL with the original kept, not 200), the 30 MB body whole.
func TestOutOfRangeValuesNeverBlockTheBatch(t *testing.T) {
	h := newHarness(t, testdb.PostgresDSN(t), nil)
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
	testlogs.CheckOutOfRange(t, h.store, testlogs.BigBody, 1<<30)
}

// TestMalformedDSNIsPermanent: a DSN that passed no Validate (an exporter
// built in code) fails the start at once, as a configuration error naming
// dsn without the password, not as an unreachable database.
func TestMalformedDSNIsPermanent(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.DSN = "postgres://audit:s3cret@127.0.0.1:5432/audit?sslmode=bogus"
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = exp.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "dsn: invalid connection string") || !strings.Contains(err.Error(), "sslmode") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("start with sslmode=bogus: %v; want an error naming dsn and sslmode, without the password", err)
	}
	exp.Shutdown(context.Background())
}

// TestClientRecordsStoredInTheSameColumns: a record of an outbound call
// (url.full, http.client.request.duration) goes through logconv into the
// same columns as a server record, and event_name tells them apart.
func TestClientRecordsStoredInTheSameColumns(t *testing.T) {
	h := newHarness(t, testdb.PostgresDSN(t), nil)
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
