package storeexportertest

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/store"
)

// Harness is one exporter under test, built by its factory (queue, batches
// and retries included), and a store on the database it writes to, for the
// test to read what it wrote.
type Harness struct {
	Exp    exporter.Logs
	Store  store.Store
	Config component.Config

	backend Backend
}

// New builds b's exporter writing through url (the test server's, or a
// proxy's in front of it) into a database of the test's own, with short
// retry and batching delays so that tests wait little; edit, when set,
// changes the config before it is validated.
func New(t *testing.T, b Backend, url string, edit func(component.Config)) *Harness {
	t.Helper()
	cfg := b.Factory.CreateDefaultConfig()
	st := b.Configure(t, cfg, url)
	s := b.ExporterSettings(cfg)
	s.Timeout = 5 * time.Second
	s.BackOffConfig.InitialInterval = 50 * time.Millisecond
	s.BackOffConfig.MaxInterval = 200 * time.Millisecond
	s.BackOffConfig.MaxElapsedTime = 0
	s.QueueSettings.Get().Batch.Get().FlushTimeout = 50 * time.Millisecond
	if edit != nil {
		edit(cfg)
	}
	if err := confmap.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	exp, err := b.Factory.CreateLogs(context.Background(), exportertest.NewNopSettings(b.Factory.Type()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Harness{Exp: exp, Store: st, Config: cfg, backend: b}
}

// Start starts the exporter; an error fails the test.
func (h *Harness) Start(t *testing.T) {
	t.Helper()
	if err := h.Exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
}

// Consume hands ld to the exporter's queue; an error fails the test.
func (h *Harness) Consume(t *testing.T, ld plog.Logs) {
	t.Helper()
	if err := h.Exp.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
}

// Shutdown stops the exporter, which drains its queue first; an error
// fails the test.
func (h *Harness) Shutdown(t *testing.T) {
	t.Helper()
	if err := h.Exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Count returns the records stored (0 before the exporter created the
// database).
func (h *Harness) Count(t *testing.T) int64 {
	t.Helper()
	n, err := h.Store.Count(context.Background(), store.Filter{})
	if err != nil && (h.backend.NotCreated == nil || !h.backend.NotCreated(err)) {
		t.Fatal(err)
	}
	return n
}

// WaitFor polls the store until it holds at least want records.
func (h *Harness) WaitFor(t *testing.T, want int64) {
	t.Helper()
	h.WaitUntil(t, func(n int64) bool { return n >= want })
}

// WaitUntil polls the record count until ok accepts it; the deadline only
// bounds a failing test.
func (h *Harness) WaitUntil(t *testing.T, ok func(int64) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := h.Count(t); !ok(n); n = h.Count(t) {
		if time.Now().After(deadline) {
			t.Fatalf("record count %d not reached in 60 s", n)
		}
		<-tick.C
	}
}
