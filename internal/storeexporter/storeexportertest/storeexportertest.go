// Package storeexportertest is the conformance suite every store exporter
// (postgres, mongo) runs, so that they behave the same from the outside:
// default and malformed configurations, end-to-end delivery, outages,
// out-of-range values, client records, integrity checkpoints and the
// generated metrics. Each exporter's own tests keep only what is specific
// to its store.
package storeexportertest

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/internal/testutil/testconfig"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
	"github.com/otelaudit/otelaudit/internal/testutil/testproxy"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// Backend is what differs between store exporters.
type Backend struct {
	// Factory is the exporter's factory.
	Factory exporter.Factory
	// Server returns the URL of the test server (testdb.PostgresDSN).
	Server func(t testing.TB) string
	// Configure points cfg at url, into a database (table, collection) of
	// the test's own, dropped when the test ends, and returns a store on
	// that database reached directly, not through url, for the test to
	// read what the exporter wrote.
	Configure func(t *testing.T, cfg component.Config, url string) store.Store
	// NotCreated, when set, reports the error of counting the records of a
	// database the exporter has not created yet.
	NotCreated func(error) bool
	// ExporterSettings returns cfg's timeout, queue and retry settings.
	ExporterSettings func(cfg component.Config) *storeexporter.ExporterSettings
	// SetIntegrity turns integrity checkpoints on in cfg.
	SetIntegrity func(cfg component.Config, ic *integrity.Config)
	// SetRetention sets how long cfg keeps records.
	SetRetention func(cfg component.Config, d time.Duration)
	// NewExporter builds the exporter without exporterhelper, for tests
	// that call its push function directly.
	NewExporter func(cfg component.Config, set exporter.Settings) (*storeexporter.Exporter, error)

	// AddressKey is the config key of the connection string ("dsn").
	AddressKey string
	// Malformed names the sections of the package's testdata/config.yaml
	// whose connection string the driver cannot parse, each with the
	// driver's reason the error must name; their password is s3cret.
	Malformed map[string]string

	// Logs, when set, replaces testlogs.Audit(first, n, nil) with records
	// carrying what the store must cope with beyond it.
	Logs func(first, n int) plog.Logs
	// CheckStored, when set, checks what Logs added on a stored record.
	CheckStored func(t *testing.T, r store.Record)
	// MaxBody is the largest body the store keeps whole.
	MaxBody int

	// Telemetry are the exporter's generated metrics.
	Telemetry Telemetry
}

// Telemetry are the generated settings and assertions of an exporter's
// metrics (its internal/metadatatest package).
type Telemetry struct {
	NewSettings       func(*componenttest.Telemetry) exporter.Settings
	RecordsWritten    AssertSum
	DuplicatesSkipped AssertSum
	// WriteDuration is the name of the write duration histogram.
	WriteDuration string
	// Check, when set, checks the store's own metrics after the run.
	Check func(t *testing.T, tel *componenttest.Telemetry, cfg component.Config)
}

// AssertSum is a generated assertion of a counter's data points.
type AssertSum func(t *testing.T, tel *componenttest.Telemetry, dps []metricdata.DataPoint[int64], opts ...metricdatatest.Option)

// Run runs the whole suite.
func Run(t *testing.T, b Backend) {
	t.Run("DefaultConfig", func(t *testing.T) { testDefaultConfig(t, b) })
	t.Run("MalformedAddressFailsValidation", func(t *testing.T) { testMalformedAddress(t, b) })
	t.Run("MalformedAddressIsPermanent", func(t *testing.T) { testMalformedAddressIsPermanent(t, b) })
	t.Run("ExportEndToEnd", func(t *testing.T) { testExportEndToEnd(t, b) })
	t.Run("OutageLosesNothing", func(t *testing.T) { testOutageLosesNothing(t, b) })
	t.Run("StartWhileUnreachableThenDeliver", func(t *testing.T) { testStartWhileUnreachable(t, b) })
	t.Run("OutOfRangeValuesNeverBlockTheBatch", func(t *testing.T) { testOutOfRange(t, b) })
	t.Run("ClientRecordsStoredInTheSameColumns", func(t *testing.T) { testClientRecords(t, b) })
	t.Run("IntegrityCheckpointsVerify", func(t *testing.T) { testIntegrityVerifies(t, b) })
	t.Run("IntegrityLooseKeyRefusesToStart", func(t *testing.T) { testIntegrityLooseKey(t, b) })
	t.Run("RetentionRemovesOldRecords", func(t *testing.T) { testRetention(t, b) })
	t.Run("Telemetry", func(t *testing.T) { testTelemetry(t, b) })
}

func (b Backend) logs(first, n int) plog.Logs {
	if b.Logs != nil {
		return b.Logs(first, n)
	}
	return testlogs.Audit(first, n, nil)
}

// proxied returns a proxy in front of the test server and the server's URL
// with the proxy's address.
func (b Backend) proxied(t *testing.T) (*testproxy.Proxy, string) {
	t.Helper()
	u, err := url.Parse(b.Server(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := testproxy.New(t, u.Host)
	u.Host = proxy.Addr
	return proxy, u.String()
}

// testDefaultConfig: the default config is a valid config struct, queues
// and batches, retries, and fails validation only for want of a server.
func testDefaultConfig(t *testing.T, b Backend) {
	cfg := b.Factory.CreateDefaultConfig()
	if err := componenttest.CheckConfigStruct(cfg); err != nil {
		t.Fatal(err)
	}
	s := b.ExporterSettings(cfg)
	if !s.QueueSettings.HasValue() || !s.QueueSettings.Get().Batch.HasValue() {
		t.Error("sending_queue with batching must be on by default")
	}
	if !s.BackOffConfig.Enabled {
		t.Error("retry_on_failure must be on by default")
	}
	if err := confmap.Validate(cfg); err == nil || !strings.Contains(err.Error(), b.AddressKey) {
		t.Errorf("default config without a %s: %v", b.AddressKey, err)
	}
}

// testMalformedAddress: a connection string the driver cannot parse fails
// validation, with the key and the driver's reason, never the password.
func testMalformedAddress(t *testing.T, b Backend) {
	for name, want := range b.Malformed {
		t.Run(name, func(t *testing.T) {
			_, err := testconfig.Component(t, b.Factory, name)
			checkMalformed(t, b, err, want)
		})
	}
}

// checkMalformed checks the error of a connection string with password
// s3cret that the driver cannot parse for want.
func checkMalformed(t *testing.T, b Backend, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), b.AddressKey+": invalid connection string") || !strings.Contains(err.Error(), want) {
		t.Errorf("%v; want an error naming %s and %s", err, b.AddressKey, want)
	}
	t.Logf("%v", err)
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// testMalformedAddressIsPermanent: a connection string that passed no
// Validate (an exporter built in code) fails the start at once, as a
// configuration error naming the key without the password, instead of
// waiting for a server.
func testMalformedAddressIsPermanent(t *testing.T, b Backend) {
	for name, want := range b.Malformed {
		t.Run(name, func(t *testing.T) {
			// The section fails validation; the exporter is built regardless.
			cfg, _ := testconfig.Component(t, b.Factory, name)
			exp, err := b.Factory.CreateLogs(context.Background(), exportertest.NewNopSettings(b.Factory.Type()), cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = exp.Start(context.Background(), componenttest.NewNopHost())
			checkMalformed(t, b, err, want)
			exp.Shutdown(context.Background())
		})
	}
}

// testExportEndToEnd: batches go through the queue into the store, the
// shutdown drains the queue, and a record reads back as it was sent.
func testExportEndToEnd(t *testing.T, b Backend) {
	h := New(t, b, b.Server(t), nil)
	h.Start(t)
	for i := 0; i < 5; i++ {
		h.Consume(t, b.logs(i*100, 100))
	}
	h.Shutdown(t)
	if n := h.Count(t); n != 500 {
		t.Fatalf("%d records, want 500", n)
	}
	recs, err := h.Store.Query(context.Background(), store.Filter{Limit: 1, PathPrefix: "/api/orders/499"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("query: %v %d", err, len(recs))
	}
	r := recs[0]
	if r.Method != "POST" || r.Status != 201 || r.ServiceName != "orders" || r.RequestBody != `{"item":"book","qty":1}` ||
		r.RequestHeaders["content-type"][0] != "application/json" {
		t.Errorf("stored record %+v", r)
	}
	if b.CheckStored != nil {
		b.CheckStored(t, r)
	}
}

// testOutageLosesNothing cuts the server off (through a proxy) while
// batches arrive: the queue and retries deliver everything once it is
// back, without duplicates.
func testOutageLosesNothing(t *testing.T, b Backend) {
	proxy, addr := b.proxied(t)
	h := New(t, b, addr, nil)
	h.Start(t)
	for i := 0; i < 3; i++ {
		h.Consume(t, b.logs(i*50, 50))
	}
	h.WaitFor(t, 150)
	retries := h.Retries()
	proxy.Down()
	for i := 3; i < 8; i++ {
		h.Consume(t, b.logs(i*50, 50))
	}
	// The server stays away until a write failed: a driver's own retries
	// must not hide whether the exporter's retry and queue hold the batch.
	h.WaitForRetry(t, retries)
	if n := h.Count(t); n != 150 {
		t.Fatalf("%d records while cut off, want 150", n)
	}
	proxy.Up()
	h.WaitFor(t, 400)
	h.Shutdown(t)
	if n := h.Count(t); n != 400 {
		t.Errorf("%d records after the outage, want exactly 400", n)
	}
}

// testStartWhileUnreachable: an unreachable server does not fail the
// start; the records wait in the queue until it is back.
func testStartWhileUnreachable(t *testing.T, b Backend) {
	proxy, addr := b.proxied(t)
	proxy.Down()
	h := New(t, b, addr, nil)
	if err := h.Exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatalf("an unreachable server must not fail the start: %v", err)
	}
	defer h.Exp.Shutdown(context.Background())
	h.Consume(t, b.logs(0, 10))
	proxy.Up()
	h.WaitFor(t, 10)
}

// testOutOfRange: the records of testlogs.OutOfRange are all stored, none
// wrapped, the 30 MB body whole or cut to MaxBody and flagged truncated.
func testOutOfRange(t *testing.T, b Backend) {
	// A slow test server takes seconds to store a 16 MiB document.
	h := New(t, b, b.Server(t), func(cfg component.Config) { b.ExporterSettings(cfg).Timeout = 30 * time.Second })
	h.Start(t)
	h.Consume(t, testlogs.OutOfRange(testlogs.BigBody))
	h.WaitFor(t, testlogs.OutOfRangeStored)
	h.Shutdown(t)
	testlogs.CheckOutOfRange(t, h.Store, testlogs.BigBody, b.MaxBody)
}

// testClientRecords: a record of an outbound call (url.full,
// http.client.request.duration) goes through logconv into the same columns
// as a server record, and event_name tells them apart.
func testClientRecords(t *testing.T, b Backend) {
	h := New(t, b, b.Server(t), nil)
	h.Start(t)
	h.Consume(t, testlogs.Client())
	h.WaitFor(t, testlogs.ClientStored)
	h.Shutdown(t)
	testlogs.CheckClient(t, h.Store)
}

// newKey writes a key pair into a temporary directory and returns the
// private key file's path.
func newKey(t *testing.T) string {
	t.Helper()
	key := filepath.Join(t.TempDir(), "audit.key")
	if _, err := integrity.GenerateKey(key, "otelaudit-test"); err != nil {
		t.Fatal(err)
	}
	return key
}

// testIntegrityVerifies: every batch written with integrity on is covered
// by a checkpoint of the configured writer that verifies.
func testIntegrityVerifies(t *testing.T, b Backend) {
	key := newKey(t)
	writer := "node-1/" + b.Factory.Type().String()
	h := New(t, b, b.Server(t), func(cfg component.Config) {
		b.SetIntegrity(cfg, &integrity.Config{KeyFile: key, Writer: writer})
	})
	h.Start(t)
	for i := 0; i < 4; i++ {
		h.Consume(t, testlogs.Audit(i*50, 50, nil))
	}
	h.Shutdown(t)
	v, err := integrity.LoadVerifier(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	cs, ok := h.Store.(store.CheckpointStore)
	if !ok {
		t.Fatalf("%T keeps no checkpoints", h.Store)
	}
	rep, err := integrity.Verify(context.Background(), cs, v, integrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact || rep.Records != 200 || rep.Covered != 200 || rep.Checkpoints == 0 || rep.Writers[writer] == 0 {
		t.Fatalf("verify: %+v", rep)
	}
}

// testIntegrityLooseKey: a signing key others may read fails the start,
// naming key_file and the mode.
// testRetention: with a retention of two days, the retention the exporter
// runs as it starts removes a record five days old and keeps a fresh one.
func testRetention(t *testing.T, b Backend) {
	h := New(t, b, b.Server(t), func(cfg component.Config) { b.SetRetention(cfg, 48*time.Hour) })
	old := storetest.NewRecord(time.Now().UTC().AddDate(0, 0, -5), 1)
	fresh := storetest.NewRecord(time.Now().UTC().Add(-time.Hour), 2)
	ctx := context.Background()
	if err := h.Store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.Write(ctx, []store.Record{old, fresh}); err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	h.WaitUntil(t, func(n int64) bool { return n == 1 })
	h.Shutdown(t)
	if _, err := h.Store.Get(ctx, old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("record older than the retention: %v", err)
	}
	if _, err := h.Store.Get(ctx, fresh.ID); err != nil {
		t.Errorf("fresh record: %v", err)
	}
}

func testIntegrityLooseKey(t *testing.T, b Backend) {
	key := newKey(t)
	h := New(t, b, b.Server(t), func(cfg component.Config) { b.SetIntegrity(cfg, &integrity.Config{KeyFile: key}) })
	if err := os.Chmod(key, 0o640); err != nil {
		t.Fatal(err)
	}
	err := h.Exp.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "0640") || !strings.Contains(err.Error(), "key_file") {
		t.Fatalf("start with a key others may read: %v", err)
	}
	h.Exp.Shutdown(context.Background())
}

// testTelemetry checks that the exporter records its generated metrics on
// the real server: the records of a batch written, the same batch again
// counted as duplicates, one write duration per batch, and what
// Telemetry.Check adds.
func testTelemetry(t *testing.T, b Backend) {
	cfg := b.Factory.CreateDefaultConfig()
	b.Configure(t, cfg, b.Server(t))
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	e, err := b.NewExporter(cfg, b.Telemetry.NewSettings(tel))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	// Stamped now, after Start: the test's records are an hour old, which
	// in the first hour of a UTC day is yesterday, and a day before the
	// partitions Start made would make one more.
	ld := b.logs(0, 9)
	stampNow(ld)
	for range 2 {
		if err := e.Push(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
	}
	b.Telemetry.RecordsWritten(t, tel, []metricdata.DataPoint[int64]{{Value: 9}}, metricdatatest.IgnoreTimestamp())
	b.Telemetry.DuplicatesSkipped(t, tel, []metricdata.DataPoint[int64]{{Value: 9}}, metricdatatest.IgnoreTimestamp())
	m, err := tel.GetMetric(b.Telemetry.WriteDuration)
	if err != nil {
		t.Fatal(err)
	}
	if hist, ok := m.Data.(metricdata.Histogram[float64]); !ok || len(hist.DataPoints) != 1 || hist.DataPoints[0].Count != 2 {
		t.Errorf("write durations: %+v, want two in one histogram", m.Data)
	}
	if b.Telemetry.Check != nil {
		b.Telemetry.Check(t, tel, cfg)
	}
}

// stampNow sets the time of every record of ld to now.
func stampNow(ld plog.Logs) {
	now := pcommon.NewTimestampFromTime(time.Now())
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				lr.SetTimestamp(now)
				lr.SetObservedTimestamp(now)
			}
		}
	}
}
