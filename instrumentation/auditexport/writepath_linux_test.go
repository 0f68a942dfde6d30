package auditexport

import "testing"

// TestWritePath runs the spool's tests on the write path (one pwrite per
// entry), which filesystems without fallocate and systems other than Linux
// use.
func TestWritePath(t *testing.T) {
	mapSegments.Store(false)
	defer mapSegments.Store(true)
	t.Run("SegmentsAreWritten", func(t *testing.T) {
		h := newHarness(t, t.TempDir(), newSink(), WithMaxBytes(16<<20))
		h.emit(t, 0, 10, 100)
		seg := activeSegment(h)
		if _, ok := seg.f.(fileSegment); !ok {
			t.Fatalf("active segment is a %T, want the write path's", seg.f)
		}
		if got := fileSize(t, seg.f.Name()); got != seg.size {
			t.Errorf("open segment is %d bytes, want its entries' %d", got, seg.size)
		}
	})
	for name, test := range map[string]func(*testing.T){
		"DurableDeliversInOrder":       TestDurableDeliversInOrder,
		"RestartDeliversWhatWasLeft":   TestRestartDeliversWhatWasLeft,
		"TornTail":                     TestTornTail,
		"CorruptEntryInTheMiddle":      TestCorruptEntryInTheMiddle,
		"UnreadableSegment":            TestUnreadableSegment,
		"ReadOnlyDirectoryFailsClosed": TestReadOnlyDirectoryFailsClosed,
		"OversizedRecord":              TestOversizedRecord,
	} {
		t.Run(name, test)
	}
}
