package auditexport

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// resourceProbe is a processor that keeps the resource of the records its
// provider emits: the provider merges the resource it is given into a new
// one. Placed before the processor under test, it has the resource before
// that processor sees a record.
type resourceProbe struct {
	res atomic.Pointer[resource.Resource]
}

func (p *resourceProbe) OnEmit(_ context.Context, r *sdklog.Record) error {
	p.res.CompareAndSwap(nil, r.Resource())
	return nil
}
func (*resourceProbe) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*resourceProbe) Shutdown(context.Context) error                         { return nil }
func (*resourceProbe) ForceFlush(context.Context) error                       { return nil }

// pathCounter passes exports on to next and counts the records delivered
// from memory and from disk. A record exported from memory still carries
// the emitting provider's resource (the same pointer); one read back from
// disk carries a resource decoded from the spool.
type pathCounter struct {
	next  sdklog.Exporter
	probe resourceProbe

	mu           sync.Mutex
	memory, disk int
}

func (c *pathCounter) Export(ctx context.Context, recs []sdklog.Record) error {
	if err := c.next.Export(ctx, recs); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range recs {
		if recs[i].Resource() == c.probe.res.Load() {
			c.memory++
		} else {
			c.disk++
		}
	}
	return nil
}
func (c *pathCounter) Shutdown(ctx context.Context) error   { return c.next.Shutdown(ctx) }
func (c *pathCounter) ForceFlush(ctx context.Context) error { return c.next.ForceFlush(ctx) }

func (c *pathCounter) counts() (memory, disk int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.memory, c.disk
}

// newPathHarness is newHarness with the exporter wrapped in a pathCounter
// that knows the provider's resource.
func newPathHarness(t *testing.T, s *sink, opts ...DurableOption) (*harness, *pathCounter) {
	t.Helper()
	res := resource.NewSchemaless(attribute.String("service.name", "memory-test"))
	pc := &pathCounter{next: s}
	h := &harness{dir: t.TempDir(), sink: s, reader: sdkmetric.NewManualReader()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	p, err := NewDurableProcessor(pc, h.dir, append([]DurableOption{WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	h.lp = sdklog.NewLoggerProvider(sdklog.WithProcessor(&pc.probe), sdklog.WithProcessor(p), sdklog.WithResource(res))
	h.logger = h.lp.Logger("memory-test")
	t.Cleanup(func() { h.close(t) })
	return h, pc
}

// emitLogged emits records from..to-1 (attribute "n", a body of size
// bytes) through the harness's logger, as a service does.
func (h *harness) emitLogged(from, to, size int, attrs ...attribute.KeyValue) {
	for i := from; i < to; i++ {
		var r log.Record
		r.SetEventName("http.server.audit")
		r.SetBody(attribute.StringValue(string(make([]byte, size))))
		r.AddAttributes(attribute.Int("n", i))
		r.AddAttributes(attrs...)
		h.logger.Emit(context.Background(), r)
	}
}
