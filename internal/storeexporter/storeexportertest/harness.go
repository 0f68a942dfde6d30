package storeexportertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

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
	logs    *observer.ObservedLogs
}

// retryLog is what exporterhelper logs when a write failed and will be
// retried.
const retryLog = "Exporting failed. Will retry the request after interval."

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
	set := exportertest.NewNopSettings(b.Factory.Type())
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	exp, err := b.Factory.CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Harness{Exp: exp, Store: st, Config: cfg, backend: b, logs: logs}
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

// WaitUntil polls the record count until ok accepts it.
func (h *Harness) WaitUntil(t *testing.T, ok func(int64) bool) {
	t.Helper()
	var n int64
	poll(t, func() bool { n = h.Count(t); return ok(n) }, func() string { return fmt.Sprintf("record count %d", n) })
}

// Retries returns how many failed writes the exporter will retry or has
// retried.
func (h *Harness) Retries() int { return h.logs.FilterMessage(retryLog).Len() }

// WaitForRetry waits until more than after writes failed to be retried.
func (h *Harness) WaitForRetry(t *testing.T, after int) {
	t.Helper()
	poll(t, func() bool { return h.Retries() > after }, func() string { return fmt.Sprintf("%d retried writes, want more than %d", h.Retries(), after) })
}

// poll calls done until it returns true; the deadline only bounds a
// failing test, which state describes.
func poll(t *testing.T, done func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("%s after 60 s", state())
		}
		<-tick.C
	}
}
