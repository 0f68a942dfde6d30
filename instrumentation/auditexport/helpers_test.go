package auditexport

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// sink is an in-memory exporter: it keeps the records it takes and fails
// while failing is set.
type sink struct {
	mu       sync.Mutex
	recs     []sdklog.Record
	failing  bool
	attempts int
	changed  chan struct{}
}

func newSink() *sink { return &sink{changed: make(chan struct{})} }

func (s *sink) Export(_ context.Context, recs []sdklog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.failing {
		return errors.New("collector unavailable")
	}
	for _, r := range recs {
		s.recs = append(s.recs, r.Clone())
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}
func (*sink) Shutdown(context.Context) error   { return nil }
func (*sink) ForceFlush(context.Context) error { return nil }

func (s *sink) setFailing(f bool) {
	s.mu.Lock()
	s.failing = f
	s.mu.Unlock()
}

// ids returns the "n" attribute of every record received, in order.
func (s *sink) ids() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	for _, r := range s.recs {
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			if kv.Key == "n" {
				out = append(out, kv.Value.AsInt64())
			}
			return true
		})
	}
	return out
}

// wait waits until the sink holds n records.
func (s *sink) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		s.mu.Lock()
		have, ch := len(s.recs), s.changed
		s.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waited for %d records, have %d", n, have)
		}
	}
}

// waitFor polls cond until it holds; it fails the test after a generous
// bound. It is used for states that have no event to wait on.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// harness is a processor on a spool directory with a metric reader and a
// logger provider that emits through it.
type harness struct {
	dir    string
	sink   *sink
	p      *DurableProcessor
	reader *sdkmetric.ManualReader
	lp     *sdklog.LoggerProvider
	logger log.Logger
}

func newHarness(t *testing.T, dir string, exp sdklog.Exporter, opts ...DurableOption) *harness {
	t.Helper()
	h := &harness{dir: dir, reader: sdkmetric.NewManualReader()}
	if s, ok := exp.(*sink); ok {
		h.sink = s
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	p, err := NewDurableProcessor(exp, dir, append([]DurableOption{WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	h.lp = sdklog.NewLoggerProvider(sdklog.WithProcessor(p),
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "spool-test"))))
	h.logger = h.lp.Logger("spool-test")
	t.Cleanup(func() { h.close(t) })
	return h
}

// close shuts the provider (and so the processor) down, once.
func (h *harness) close(t *testing.T) {
	if h.lp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.lp.Shutdown(ctx) // records left in the spool are reported as an error
	h.lp = nil
}

// emit emits records numbered from..to-1 (attribute "n") with a body of
// size bytes, directly through the processor so that its error is seen.
func (h *harness) emit(t *testing.T, from, to, size int) (errs int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := h.p.OnEmit(context.Background(), newRecord(i, size)); err != nil {
			errs++
		}
	}
	return errs
}

// newRecord builds a record the way the SDK does (through a provider), for
// tests that call OnEmit directly.
func newRecord(n, size int) *sdklog.Record {
	keep := &keepProcessor{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(keep),
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "spool-test"))))
	var r log.Record
	r.SetTimestamp(time.Unix(1700000000, int64(n)))
	r.SetEventName("http.server.audit")
	r.SetBody(attribute.StringValue(string(make([]byte, size))))
	r.AddAttributes(attribute.Int("n", n))
	lp.Logger("spool-test").Emit(context.Background(), r)
	return &keep.rec
}

// metric returns the value of a counter or gauge, summed over the data
// points whose attributes include attrs.
func (h *harness) metric(t *testing.T, name string, attrs ...attribute.KeyValue) float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var sum float64
	match := func(set attribute.Set) bool {
		for _, kv := range attrs {
			if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
				return false
			}
		}
		return true
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					if match(dp.Attributes) {
						sum += float64(dp.Value)
					}
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					if match(dp.Attributes) {
						sum += float64(dp.Value)
					}
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					if match(dp.Attributes) {
						sum += dp.Value
					}
				}
			}
		}
	}
	return sum
}

func reason(r string) attribute.KeyValue { return attribute.String("reason", r) }
func kind(k string) attribute.KeyValue   { return attribute.String("kind", k) }

// expectNewestDelivered checks a spool that DropOldest emptied of its
// oldest records while s refused: some were dropped, and once s accepts
// again the rest, the newest of the n emitted, are delivered once each,
// in order. It returns how many were dropped.
func (h *harness) expectNewestDelivered(t *testing.T, s *sink, n int) (dropped int) {
	t.Helper()
	dropped = int(h.metric(t, "otelaudit.spool.dropped", reason(dropFullOldest)))
	if dropped == 0 {
		t.Fatal("nothing dropped")
	}
	s.setFailing(false)
	h.sink.wait(t, n-dropped)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.ids(); !slices.Equal(got, seq(dropped, n)) {
		t.Fatalf("delivered %d records, want the last %d (%d dropped) once each, in order", len(got), n-dropped, dropped)
	}
	return dropped
}
