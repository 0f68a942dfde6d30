package auditexport

import (
	"context"
	"slices"
	"testing"
	"time"
)

func seq(from, to int) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, int64(i))
	}
	return out
}

// TestDurableDeliversInOrder: records are exported in order, in batches,
// and the metrics say so.
func TestDurableDeliversInOrder(t *testing.T) {
	h := newHarness(t, t.TempDir(), newSink(), WithExportMaxBatchSize(7), WithExportInterval(10*time.Millisecond))
	if errs := h.emit(t, 0, 100, 100); errs != 0 {
		t.Fatalf("%d emits failed", errs)
	}
	h.sink.wait(t, 100)
	if got := h.sink.ids(); !slices.Equal(got, seq(0, 100)) {
		t.Fatalf("got %v", got)
	}
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := h.metric(t, "otelaudit.spool.exported"); v != 100 {
		t.Errorf("exported metric %v, want 100", v)
	}
	if v := h.metric(t, "otelaudit.spool.pending.records"); v != 0 {
		t.Errorf("pending records %v, want 0", v)
	}
	if err := h.p.Health(); err != nil {
		t.Errorf("health: %v", err)
	}
}
