package auditexport

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// TestConcurrentEmittersExactlyOnce: emitters on every core, a memory
// queue that holds one record, or a few by its byte bound (records of
// varied sizes, so that a large one finds no room where a smaller one
// behind it does, leaving gaps), so that the sender mixes batches from
// memory and from disk: every record is delivered exactly once, in each
// emitter's order. The same with the memory queue off, everything from
// disk.
func TestConcurrentEmittersExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name         string
		queue        DurableOption
		memory, disk bool
	}{
		{"one-record", WithMemoryQueue(1, 1<<20), true, true},
		{"byte-bound", WithMemoryQueue(1000, 2000), true, true},
		{"off", WithMemoryQueue(0, 0), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, paths := newPathHarness(t, newSink(), tc.queue, WithExportMaxBatchSize(16), WithExportInterval(time.Millisecond))
			const emitters, each = 8, 300
			var wg sync.WaitGroup
			for e := range emitters {
				wg.Go(func() {
					for i := range each {
						h.emitLogged(i, i+1, 50+i*97%900, attribute.String("emitter", fmt.Sprint(e)))
						if i%20 == 19 {
							// Let the sender catch up now and then, so
							// that the memory queue empties and fills.
							if err := h.p.ForceFlush(context.Background()); err != nil {
								t.Error(err)
							}
						}
					}
				})
			}
			wg.Wait()
			if err := h.p.ForceFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := map[string][]int64{}
			h.sink.mu.Lock()
			for _, r := range h.sink.recs {
				var em string
				var n int64
				r.WalkAttributes(func(kv attribute.KeyValue) bool {
					switch kv.Key {
					case "emitter":
						em = kv.Value.AsString()
					case "n":
						n = kv.Value.AsInt64()
					}
					return true
				})
				got[em] = append(got[em], n)
			}
			total := len(h.sink.recs)
			h.sink.mu.Unlock()
			if total != emitters*each {
				t.Errorf("%d records delivered, want %d", total, emitters*each)
			}
			for e := range emitters {
				if ns := got[fmt.Sprint(e)]; !slices.Equal(ns, seq(0, each)) {
					t.Errorf("emitter %d: %d records delivered, not 0..%d once each in order", e, len(ns), each-1)
				}
			}
			mem, disk := paths.counts()
			if (mem > 0) != tc.memory || (disk > 0) != tc.disk {
				t.Errorf("%d records exported from memory, %d from disk; want memory %v, disk %v", mem, disk, tc.memory, tc.disk)
			}
			if v := h.metric(t, "otelaudit.spool.exported"); v != emitters*each {
				t.Errorf("exported metric %v, want %d", v, emitters*each)
			}
		})
	}
}

// TestMemoryQueueDropOldest: with the exporter down, DropOldest deletes
// segments whose records are also in memory. Once the exporter is back,
// the drop count is exact, the records kept are delivered once and in
// order (partly from memory), and no dropped record is.
func TestMemoryQueueDropOldest(t *testing.T) {
	s := newSink()
	s.setFailing(true)
	h, paths := newPathHarness(t, s, WithMaxBytes(fullMax), WithOnFull(DropOldest))
	const n = 1000
	h.emitLogged(0, n, 100)
	dropped := h.expectNewestDelivered(t, s, n)
	if v := h.metric(t, "otelaudit.spool.dropped"); v != float64(dropped) {
		t.Errorf("dropped (all reasons) = %v, want %d", v, dropped)
	}
	if v := h.metric(t, "otelaudit.spool.exported"); v != float64(n-dropped) {
		t.Errorf("exported metric %v, want %d", v, n-dropped)
	}
	if mem, _ := paths.counts(); mem == 0 {
		t.Error("nothing exported from memory")
	}
}

// TestForceFlushExportsFromMemory: a flush exports every record emitted
// before it, all from memory, without waiting for the export interval.
func TestForceFlushExportsFromMemory(t *testing.T) {
	h, paths := newPathHarness(t, newSink(), WithExportInterval(time.Hour))
	h.emitLogged(0, 100, 100)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.ids(); !slices.Equal(got, seq(0, 100)) {
		t.Fatalf("delivered %v, want 0..99", got)
	}
	if mem, disk := paths.counts(); mem != 100 || disk != 0 {
		t.Errorf("%d from memory, %d from disk; want 100 from memory", mem, disk)
	}
	if v := h.metric(t, "otelaudit.spool.pending.records"); v != 0 {
		t.Errorf("pending records %v, want 0", v)
	}
}

// gate is an exporter whose exports wait until it is opened.
type gate struct {
	entered chan struct{}
	open    chan struct{}
}

func (g *gate) Export(ctx context.Context, _ []sdklog.Record) error {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (*gate) Shutdown(context.Context) error   { return nil }
func (*gate) ForceFlush(context.Context) error { return nil }

// TestOldestAgeWhileExportingFromMemory: while a batch from memory is
// being exported, the pending metrics count it and the age of the oldest
// pending record is measured from its append time.
func TestOldestAgeWhileExportingFromMemory(t *testing.T) {
	g := &gate{entered: make(chan struct{}, 1), open: make(chan struct{})}
	res := resource.NewSchemaless(attribute.String("service.name", "memory-test"))
	pc := &pathCounter{next: g}
	h := &harness{reader: sdkmetric.NewManualReader()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	defer mp.Shutdown(context.Background())
	p, err := NewDurableProcessor(pc, t.TempDir(), WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(&pc.probe), sdklog.WithProcessor(p), sdklog.WithResource(res))
	var r log.Record
	r.AddAttributes(attribute.Int("n", 0))
	lp.Logger("memory-test").Emit(context.Background(), r)
	flushed := make(chan error, 1)
	go func() { flushed <- p.ForceFlush(context.Background()) }()
	<-g.entered
	if v := h.metric(t, "otelaudit.spool.pending.records"); v != 1 {
		t.Errorf("pending records %v during the export, want 1", v)
	}
	if v := h.metric(t, "otelaudit.spool.oldest.age"); v <= 0 {
		t.Errorf("oldest age %v during the export, want > 0", v)
	}
	close(g.open)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if mem, disk := pc.counts(); mem != 1 || disk != 0 {
		t.Errorf("%d from memory, %d from disk; want 1 from memory", mem, disk)
	}
	if v := h.metric(t, "otelaudit.spool.pending.records"); v != 0 {
		t.Errorf("pending records %v after the export, want 0", v)
	}
}

// TestRefusedFromMemoryIsSentFromDisk: OTLP cannot carry a string that is
// not valid UTF-8, so the exporter refuses the batch holding the copy in
// memory, every time. The batch is then read back from disk, where the
// bad bytes became U+FFFD, and delivered: neither it nor the record beside
// it is held up.
func TestRefusedFromMemoryIsSentFromDisk(t *testing.T) {
	recv := &otlpReceiver{}
	pc := &pathCounter{next: otlpExporter(t, recv)}
	dp, err := NewDurableProcessor(pc, t.TempDir(), WithExportInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(&pc.probe), sdklog.WithProcessor(dp))
	defer lp.Shutdown(context.Background())
	for _, v := range []string{"a\xffb", "fine"} {
		var r log.Record
		r.AddAttributes(attribute.String("user.id", v))
		lp.Logger("t").Emit(context.Background(), r)
	}
	if err := lp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := recv.get()
	if len(b) != 1 || !bytes.Contains(b[0], []byte("a\uFFFDb")) || !bytes.Contains(b[0], []byte("fine")) {
		t.Fatalf("requests %q, want one holding a\uFFFDb and fine", b)
	}
	if mem, disk := pc.counts(); mem != 0 || disk != 2 {
		t.Errorf("%d from memory, %d from disk; want both from disk", mem, disk)
	}
}
