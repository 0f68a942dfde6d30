package auditexport

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// spoolWithoutExport emits records from..to-1 into dir while the exporter
// fails, and shuts the processor down: the records stay in the spool.
func spoolWithoutExport(t *testing.T, dir string, from, to, size int, opts ...DurableOption) {
	t.Helper()
	s := newSink()
	s.setFailing(true)
	h := newHarness(t, dir, s, opts...)
	if errs := h.emit(t, from, to, size); errs != 0 {
		t.Fatalf("%d emits failed", errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.p.Shutdown(ctx); err == nil || !strings.Contains(err.Error(), "stay in the spool") {
		t.Fatalf("shutdown with records left: err = %v", err)
	}
}

// TestRestartDeliversWhatWasLeft: records left in the spool by a processor
// that could not export are delivered by the next one on the same
// directory, in order.
func TestRestartDeliversWhatWasLeft(t *testing.T) {
	dir := t.TempDir()
	spoolWithoutExport(t, dir, 0, 50, 100)
	h := newHarness(t, dir, newSink())
	h.sink.wait(t, 50)
	if got := h.sink.ids(); !slices.Equal(got, seq(0, 50)) {
		t.Fatalf("got %v", got)
	}
}

// TestRestartResendsAtMostTheLastBatch: after a restart the records that
// were acknowledged are not sent again.
func TestRestartResendsAtMostTheLastBatch(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, newSink(), WithExportMaxBatchSize(10))
	h.emit(t, 0, 40, 10)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.close(t)
	h2 := newHarness(t, dir, newSink())
	h2.emit(t, 40, 45, 10)
	h2.sink.wait(t, 5)
	if err := h2.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h2.sink.ids(); !slices.Equal(got, seq(40, 45)) {
		t.Fatalf("after restart got %v, want only the new records", got)
	}
}

// TestSpoolDirectoryIsLocked: a second processor on a directory in use
// gets a clear error; once the first shuts down the directory is free.
func TestSpoolDirectoryIsLocked(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, newSink())
	_, err := NewDurableProcessor(newSink(), dir)
	if err == nil || !strings.Contains(err.Error(), "in use by another") {
		t.Fatalf("second processor: err = %v, want in use", err)
	}
	h.close(t)
	p, err := NewDurableProcessor(newSink(), dir)
	if err != nil {
		t.Fatalf("after shutdown: %v", err)
	}
	p.Shutdown(context.Background())
}

// TestTornTail: a crash in the middle of a write leaves the last entry cut
// short. The next start keeps every complete record, cuts the tail off,
// counts it and goes on appending.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	spoolWithoutExport(t, dir, 0, 20, 100)
	seg := segments(t, dir)[0]
	st, _ := os.Stat(seg)
	// Cut the last entry in the middle of its payload.
	if err := os.Truncate(seg, st.Size()-40); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, dir, newSink())
	h.emit(t, 20, 25, 100)
	h.sink.wait(t, 24)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.ids(); !slices.Equal(got, append(seq(0, 19), seq(20, 25)...)) {
		t.Fatalf("got %v, want 0..18 and 20..24", got)
	}
	if v := h.metric(t, "otelaudit.spool.damage", kind(damageTornTail)); v != 1 {
		t.Errorf("torn tail counted %v times, want 1", v)
	}
}

// TestCorruptEntryInTheMiddle: a damaged entry (checksum) is skipped and
// counted; the reader finds the next entry and delivers the rest.
func TestCorruptEntryInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	spoolWithoutExport(t, dir, 0, 30, 100)
	seg := segments(t, dir)[0]
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	// Entry 10 starts after the header and ten entries of equal size.
	entryLen := (len(b) - len(segmentHeader)) / 30
	b[len(segmentHeader)+10*entryLen+entryHeaderLen+20] ^= 0xff
	if err := os.WriteFile(seg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, dir, newSink())
	h.sink.wait(t, 29)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.ids(); !slices.Equal(got, append(seq(0, 10), seq(11, 30)...)) {
		t.Fatalf("got %v, want all but 10", got)
	}
	if v := h.metric(t, "otelaudit.spool.damage", kind(damageCorrupt)); v != 1 {
		t.Errorf("damage counted %v times, want 1", v)
	}
	if v := h.metric(t, "otelaudit.spool.dropped", reason(dropCorrupt)); v != 1 {
		t.Errorf("dropped{corrupt_entry} = %v, want 1", v)
	}
}

// TestUnreadableSegment: a segment that cannot be read (here, its header
// is gone) is set aside and counted; the other segments are delivered, and
// the next start does not trip on it again.
func TestUnreadableSegment(t *testing.T) {
	dir := t.TempDir()
	// Small segments: 20 records of ~150 bytes make several.
	spoolWithoutExport(t, dir, 0, 60, 100, WithMaxBytes(64<<10))
	segs := segments(t, dir)
	if len(segs) < 3 {
		t.Fatalf("%d segments, want at least 3", len(segs))
	}
	if err := os.WriteFile(segs[1], []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, dir, newSink(), WithMaxBytes(64<<10))
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := h.sink.ids()
	if len(got) == 0 || len(got) >= 60 || !slices.IsSorted(got) || got[0] != 0 || got[len(got)-1] != 59 {
		t.Fatalf("got %v: want the records of the other segments, in order", got)
	}
	if v := h.metric(t, "otelaudit.spool.damage", kind(damageUnreadable)); v != 1 {
		t.Errorf("unreadable counted %v times, want 1", v)
	}
	if _, err := os.Stat(segs[1] + damagedExt); err != nil {
		t.Errorf("segment not set aside: %v", err)
	}
	h.close(t)
	h2 := newHarness(t, dir, newSink())
	if v := h2.metric(t, "otelaudit.spool.damage"); v != 0 {
		t.Errorf("second start found %v damage, want none", v)
	}
}

// TestAckPastEverySegment: when the ack file names a segment later than any
// left (segments deleted by hand), new segments are numbered after it, so
// that the next start does not take their records for exported.
func TestAckPastEverySegment(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, newSink())
	h.emit(t, 0, 3, 10)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.close(t)
	for _, seg := range segments(t, dir) {
		os.Remove(seg)
	}
	spoolWithoutExport(t, dir, 3, 8, 10)
	h2 := newHarness(t, dir, newSink())
	h2.sink.wait(t, 5)
	if got := h2.sink.ids(); !slices.Equal(got, seq(3, 8)) {
		t.Fatalf("got %v", got)
	}
}
