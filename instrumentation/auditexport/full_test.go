package auditexport

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

const fullMax = 64 << 10

// fill emits n records while the exporter fails and returns how many
// OnEmit refused, checking that each refusal is ErrSpoolFull.
func fill(t *testing.T, h *harness, from, n int) int {
	t.Helper()
	refused := 0
	for i := from; i < from+n; i++ {
		if err := h.p.OnEmit(context.Background(), newRecord(i, 100)); err != nil {
			if !errors.Is(err, ErrSpoolFull) {
				t.Fatalf("record %d: %v", i, err)
			}
			refused++
		}
	}
	return refused
}

// TestFullDropNewest: with the spool full, new records are refused, each
// counted; the ones accepted are delivered once the exporter recovers.
func TestFullDropNewest(t *testing.T) {
	s := newSink()
	s.setFailing(true)
	h := newHarness(t, t.TempDir(), s, WithMaxBytes(fullMax), WithOnFull(DropNewest))
	const n = 1000
	refused := fill(t, h, 0, n)
	if refused == 0 || refused == n {
		t.Fatalf("%d of %d refused: the spool should take some and refuse some", refused, n)
	}
	if h.p.Health() == nil || !errors.Is(h.p.Health(), ErrSpoolFull) {
		t.Errorf("health while full: %v", h.p.Health())
	}
	if v := h.metric(t, "otelaudit.spool.dropped", reason(dropFullNewest)); v != float64(refused) {
		t.Errorf("dropped{full_newest} = %v, want %d", v, refused)
	}
	if v := h.metric(t, "otelaudit.spool.pending.records"); v != float64(n-refused) {
		t.Errorf("pending records %v, want %d", v, n-refused)
	}
	s.setFailing(false)
	h.sink.wait(t, n-refused)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.ids(); !slices.Equal(got, seq(0, n-refused)) {
		t.Fatalf("delivered %d records, want the first %d in order", len(got), n-refused)
	}
	// Accepting again clears the health error.
	h.emit(t, n, n+1, 100)
	if err := h.p.Health(); err != nil {
		t.Errorf("health after recovery: %v", err)
	}
	if v := h.metric(t, "otelaudit.spool.dropped"); v != float64(refused) {
		t.Errorf("dropped (all reasons) = %v, want %d", v, refused)
	}
}

// TestFullDropOldest: with the spool full, the oldest segment goes; every
// record is either delivered or counted as dropped, and the delivered ones
// are the newest.
func TestFullDropOldest(t *testing.T) {
	s := newSink()
	s.setFailing(true)
	h := newHarness(t, t.TempDir(), s, WithMaxBytes(fullMax), WithOnFull(DropOldest))
	const n = 1000
	if refused := fill(t, h, 0, n); refused != 0 {
		t.Fatalf("%d refused: DropOldest takes every record", refused)
	}
	if !errors.Is(h.p.Health(), ErrSpoolFull) {
		t.Errorf("health while dropping: %v", h.p.Health())
	}
	h.expectNewestDelivered(t, s, n)
}

// TestFullBlock: a blocked OnEmit waits for room and takes the record when
// the exporter catches up; when the wait times out the record is refused
// and counted.
func TestFullBlock(t *testing.T) {
	s := newSink()
	s.setFailing(true)
	h := newHarness(t, t.TempDir(), s, WithMaxBytes(fullMax), WithOnFull(Block(20*time.Millisecond)),
		WithExportInterval(time.Millisecond))
	// Fill until the first refusal (after a 20 ms wait).
	accepted := 0
	for ; ; accepted++ {
		if err := h.p.OnEmit(context.Background(), newRecord(accepted, 100)); err != nil {
			if !errors.Is(err, ErrSpoolFull) {
				t.Fatal(err)
			}
			break
		}
	}
	if v := h.metric(t, "otelaudit.spool.dropped", reason(dropFullNewest)); v != 1 {
		t.Errorf("dropped{full_newest} = %v, want 1", v)
	}
	// Now block for long enough that the exporter's recovery makes room.
	h.p.cfg.onFull = Block(time.Minute)
	errc := make(chan error, 1)
	go func() { errc <- h.p.OnEmit(context.Background(), newRecord(accepted+1, 100)) }()
	waitFor(t, "the exporter to be tried", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.attempts > 0 })
	s.setFailing(false)
	if err := <-errc; err != nil {
		t.Fatalf("blocked emit: %v", err)
	}
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := append(seq(0, accepted), int64(accepted+1))
	if got := h.sink.ids(); !slices.Equal(got, want) {
		t.Fatalf("delivered %d records, want %d", len(got), len(want))
	}
}
