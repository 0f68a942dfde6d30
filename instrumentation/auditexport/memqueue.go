package auditexport

import (
	"slices"
	"sync"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// entryPos is where an entry lies in the spool: its segment and the offsets
// of its first byte and of the byte after it.
type entryPos struct {
	seg        uint64
	start, end int64
}

// before reports whether the entry at p lies before offset off of segment
// seg.
func (p entryPos) before(seg uint64, off int64) bool {
	return p.seg < seg || p.seg == seg && p.start < off
}

// memEntry is a spooled record kept in memory.
type memEntry struct {
	rec      sdklog.Record
	pos      entryPos
	appended int64 // append time, Unix ns, as in the entry
	size     int   // payload bytes, as the export byte bound counts them
}

// memQueue keeps a copy of recently spooled records, so that the sender
// exports them as the BatchProcessor would, without reading, decoding and
// rebuilding them from disk. The spool stays the truth: the queue only
// holds records that are on disk too, the sender acknowledges them in the
// spool, and a record the queue has no room for is exported from disk.
// It is bounded by records and by encoded bytes.
type memQueue struct {
	maxRecords int
	maxBytes   int64

	mu      sync.Mutex
	entries []memEntry // entries[head:] are queued, in spool order
	head    int
	held    int   // entries queued or reserved
	bytes   int64 // their payload bytes
}

func newMemQueue(records int, bytes int64) *memQueue {
	if records <= 0 || bytes <= 0 {
		return nil
	}
	return &memQueue{maxRecords: records, maxBytes: bytes}
}

// push keeps a copy of r, spooled at pos, when the queue has room. The
// copy is made outside the lock, on a reserved place.
func (q *memQueue) push(r *sdklog.Record, pos entryPos, appended int64, size int) {
	q.mu.Lock()
	if q.held >= q.maxRecords || q.bytes+int64(size) > q.maxBytes {
		q.mu.Unlock()
		return
	}
	q.held++
	q.bytes += int64(size)
	q.mu.Unlock()

	e := memEntry{rec: r.Clone(), pos: pos, appended: appended, size: size}

	q.mu.Lock()
	defer q.mu.Unlock()
	// Concurrent emitters can arrive out of spool order; almost always
	// the entry goes last.
	i := len(q.entries)
	for i > q.head && pos.before(q.entries[i-1].pos.seg, q.entries[i-1].pos.start) {
		i--
	}
	q.entries = slices.Insert(q.entries, i, e)
}

// memRun is a run of queued entries that follow each other in one segment.
type memRun struct {
	recs     []sdklog.Record
	seg      uint64
	end      int64 // offset after the last entry
	appended int64 // append time of the first entry
	// more: older records wait behind the run (it was cut by the byte
	// bound, a segment's end or a record the queue did not keep).
	more bool
}

// take returns the run of entries that starts at offset off of segment
// seg, the spool's export position: at most maxRecords of them and, but
// for the first, maxBytes of payload. recs is reused for the run's
// records. Entries before the position were exported from disk or lie in
// a segment dropped meanwhile (and counted there): they are discarded.
// When no run starts at the position, ok is false and next is the
// position of the first queued entry, if hasNext: the spool is read from
// disk up to there.
func (q *memQueue) take(seg uint64, off int64, maxRecords, maxBytes int, recs []sdklog.Record) (run memRun, ok bool, next entryPos, hasNext bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.head < len(q.entries) && q.entries[q.head].pos.before(seg, off) {
		q.pop()
	}
	if q.head == len(q.entries) {
		return run, false, next, false
	}
	if h := q.entries[q.head].pos; h.seg != seg || h.start != off {
		return run, false, h, true
	}
	run = memRun{recs: recs[:0], seg: seg, end: off, appended: q.entries[q.head].appended}
	bytes := 0
	for len(run.recs) < maxRecords && q.head < len(q.entries) {
		e := &q.entries[q.head]
		if e.pos.seg != seg || e.pos.start != run.end || len(run.recs) > 0 && bytes+e.size > maxBytes {
			run.more = true
			break
		}
		run.recs = append(run.recs, e.rec)
		bytes += e.size
		run.end = e.pos.end
		q.pop()
	}
	return run, true, next, false
}

// pop removes the first queued entry; the lock is held.
func (q *memQueue) pop() {
	e := &q.entries[q.head]
	q.held--
	q.bytes -= int64(e.size)
	*e = memEntry{} // let the record's memory go
	q.head++
	switch {
	case q.head == len(q.entries):
		q.entries, q.head = q.entries[:0], 0
	case q.head >= 1024 && q.head*2 >= len(q.entries):
		n := copy(q.entries, q.entries[q.head:])
		clear(q.entries[n:])
		q.entries, q.head = q.entries[:n], 0
	}
}
