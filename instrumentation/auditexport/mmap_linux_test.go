package auditexport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// activeSegment returns the segment appends go to, as the spool holds it.
func activeSegment(h *harness) *segment {
	h.p.spool.mu.Lock()
	defer h.p.spool.mu.Unlock()
	return h.p.spool.segs[len(h.p.spool.segs)-1]
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestSegmentsArePreallocatedAndMapped: a new segment is preallocated at
// the segment size and mapped; Shutdown cuts it to its entries, so that a
// clean shutdown leaves no zeros behind.
func TestSegmentsArePreallocatedAndMapped(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, newSink(), WithMaxBytes(16<<20))
	h.emit(t, 0, 10, 100)
	seg := activeSegment(h)
	if _, ok := seg.f.(*mappedSegment); !ok {
		t.Fatalf("active segment is a %T, want a mapped one", seg.f)
	}
	if got, want := fileSize(t, seg.f.Name()), h.p.cfg.segmentBytes(); got != want {
		t.Errorf("open segment is %d bytes, want preallocated %d", got, want)
	}
	used := seg.size
	h.close(t)
	if got := fileSize(t, seg.f.Name()); got != used {
		t.Errorf("after shutdown the segment is %d bytes, want its entries' %d", got, used)
	}
}

// TestTruncatedMappedSegment: the mapped segment file is cut short under
// the running processor (as by another program), so the next copy into the
// mapping faults (SIGBUS). The service does not crash: that record is
// refused and counted as a write error, Health reports it, and the records
// after it go to a new segment and are delivered.
func TestTruncatedMappedSegment(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, newSink())
	h.emit(t, 0, 5, 100)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	old := activeSegment(h)
	if _, ok := old.f.(*mappedSegment); !ok {
		t.Fatalf("active segment is a %T, want a mapped one", old.f)
	}
	if err := os.Truncate(old.f.Name(), 0); err != nil {
		t.Fatal(err)
	}
	err := h.p.OnEmit(context.Background(), newRecord(5, 100))
	if !errors.Is(err, errMappingFault) {
		t.Fatalf("emit into the truncated segment: err = %v, want a mapping fault", err)
	}
	if h.p.Health() == nil {
		t.Error("health is nil after a failed write")
	}
	if v := h.metric(t, "otelaudit.spool.dropped", reason(dropWriteError)); v != 1 {
		t.Errorf("dropped{write_error} = %v, want 1", v)
	}
	if errs := h.emit(t, 6, 10, 100); errs != 0 {
		t.Fatalf("%d emits failed after the fault", errs)
	}
	if seg := activeSegment(h); seg.id <= old.id {
		t.Errorf("records still go to segment %d, want a new one after %d", seg.id, old.id)
	}
	if err := h.p.Health(); err != nil {
		t.Errorf("health after records were accepted again: %v", err)
	}
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.ids(); !slices.Equal(got, append(seq(0, 5), seq(6, 10)...)) {
		t.Fatalf("got %v, want all but 5", got)
	}
}

// TestRecordLargerThanASegment: a record larger than the segment size gets
// a new segment preallocated to hold it, and is delivered with the others.
func TestRecordLargerThanASegment(t *testing.T) {
	h := newHarness(t, t.TempDir(), newSink(), WithMaxBytes(64<<10)) // 4 KiB segments
	h.emit(t, 0, 3, 100)
	h.emit(t, 3, 4, 20<<10)
	seg := activeSegment(h)
	m, ok := seg.f.(*mappedSegment)
	if !ok {
		t.Fatalf("segment of the large record is a %T, want a mapped one", seg.f)
	}
	if seg.unacked != 1 || int64(len(m.data)) < seg.size {
		t.Errorf("large record: %d records in a segment of %d mapped bytes holding %d", seg.unacked, len(m.data), seg.size)
	}
	h.emit(t, 4, 6, 100)
	if err := h.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.ids(); !slices.Equal(got, seq(0, 6)) {
		t.Fatalf("got %v", got)
	}
}

// TestPreallocateFallsBack: when the segment cannot be preallocated (here
// it is larger than any filesystem allows), the segment is written with
// the write path instead, and nothing of the attempt stays in the file.
func TestPreallocateFallsBack(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), segmentName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(segmentHeader); err != nil {
		t.Fatal(err)
	}
	sf, err := preallocate(f, 1<<60)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	if _, ok := sf.(fileSegment); !ok {
		t.Fatalf("got a %T, want the write path", sf)
	}
	entry := append(make([]byte, entryHeaderLen), "payload"...)
	frameEntry(entry)
	if err := sf.writeAt(entry, int64(len(segmentHeader))); err != nil {
		t.Fatal(err)
	}
	if got, want := fileSize(t, f.Name()), int64(len(segmentHeader)+len(entry)); got != want {
		t.Errorf("segment is %d bytes, want %d", got, want)
	}
}
