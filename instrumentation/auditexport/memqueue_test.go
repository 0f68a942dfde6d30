package auditexport

import (
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// TestMemoryQueueTakesRunsInSpoolOrder: entries pushed out of order come
// out in spool order; a run stops at a gap, at a segment's end and at the
// byte bound (but takes one entry larger than it); entries behind the
// export position are discarded; the bounds refuse what does not fit.
func TestMemoryQueueTakesRunsInSpoolOrder(t *testing.T) {
	q := newMemQueue(5, 1000)
	push := func(n int, seg uint64, start, end int64) {
		q.push(newRecord(n, 10), entryPos{seg: seg, start: start, end: end}, int64(n), int(end-start))
	}
	push(1, 1, 116, 216)
	push(0, 1, 16, 116) // a concurrent emitter came second
	push(3, 1, 316, 416)
	push(4, 2, 16, 116)
	push(5, 2, 116, 216)
	push(6, 2, 216, 316) // over the record bound: only on disk
	if q.held != 5 || q.bytes != 500 {
		t.Fatalf("held %d records, %d bytes; want 5, 500", q.held, q.bytes)
	}
	ids := func(recs []sdklog.Record) []int64 {
		var out []int64
		for _, r := range recs {
			r.WalkAttributes(func(kv attribute.KeyValue) bool {
				if kv.Key == "n" {
					out = append(out, kv.Value.AsInt64())
				}
				return true
			})
		}
		return out
	}

	run, ok, _, _ := q.take(1, 16, 10, 1<<20, nil)
	if !ok || !slices.Equal(ids(run.recs), []int64{0, 1}) || run.seg != 1 || run.end != 216 || run.appended != 0 || !run.more {
		t.Fatalf("first run: ok %v, records %v, seg %d, end %d, appended %d, more %v", ok, ids(run.recs), run.seg, run.end, run.appended, run.more)
	}
	// Entry 2 (216..316) is only on disk: the sender reads up to entry 3.
	if _, ok, next, has := q.take(1, 216, 10, 1<<20, nil); ok || !has || next != (entryPos{1, 316, 416}) {
		t.Fatalf("at the gap: ok %v, next %+v (%v), want the position of entry 3", ok, next, has)
	}
	// Entries 2 and 3 went from disk: entry 3 is discarded.
	if _, ok, next, has := q.take(1, 416, 10, 1<<20, nil); ok || !has || next != (entryPos{2, 16, 116}) {
		t.Fatalf("after the disk read: ok %v, next %+v (%v), want segment 2's first entry", ok, next, has)
	}
	if q.held != 2 {
		t.Errorf("held %d after discarding, want 2", q.held)
	}
	// The byte bound: the first entry always goes, the second does not fit.
	run, ok, _, _ = q.take(2, 16, 10, 50, nil)
	if !ok || !slices.Equal(ids(run.recs), []int64{4}) || !run.more {
		t.Fatalf("byte-bound run: ok %v, records %v, more %v", ok, ids(run.recs), run.more)
	}
	push(7, 2, 216, 316)
	run, ok, _, _ = q.take(2, 116, 10, 1<<20, nil)
	if !ok || !slices.Equal(ids(run.recs), []int64{5, 7}) || run.more {
		t.Fatalf("last run: ok %v, records %v, more %v", ok, ids(run.recs), run.more)
	}
	if _, ok, _, has := q.take(2, 316, 10, 1<<20, nil); ok || has || q.held != 0 || q.bytes != 0 {
		t.Fatalf("empty queue: ok %v, has %v, held %d, bytes %d", ok, has, q.held, q.bytes)
	}
	// The byte bound of the queue itself.
	push(8, 3, 16, 916)
	push(9, 3, 916, 1116) // 1100 bytes would pass 1000
	if q.held != 1 || q.bytes != 900 {
		t.Fatalf("held %d records, %d bytes; want 1, 900", q.held, q.bytes)
	}
}
