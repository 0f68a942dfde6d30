package auditexport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
)

// Errors OnEmit returns for a record it did not keep.
var (
	// ErrSpoolFull: the spool holds WithMaxBytes of records not exported
	// yet and its policy refused the record.
	ErrSpoolFull = errors.New("auditexport: spool full")
	// ErrRecordTooLarge: the record is larger than WithExportMaxBytes or
	// WithMaxBytes.
	ErrRecordTooLarge = errors.New("auditexport: record too large")
	// ErrClosed: the processor was shut down.
	ErrClosed = errors.New("auditexport: processor shut down")
)

const ackFile = "ack"

// ackWriteInterval is how often, at most, the export position is written
// to the ack file (and whenever a segment is deleted, and at close): a
// crash sends again at most what was exported since, and the stores ignore
// a record id they hold. Writing it after every batch cost about a tenth of
// the sender's work.
const ackWriteInterval = 100 * time.Millisecond

// segment is one file of the spool.
type segment struct {
	id      uint64
	f       segmentFile
	size    int64 // end of the last complete entry
	unacked int64 // intact entries not exported yet
	broken  bool  // a write failed: the next append starts a new segment
}

// spool is the write-ahead log of the durable processor: appends at the
// tail, reads and acknowledgements at the head. One mutex guards its state;
// file reads and fsyncs happen outside it.
type spool struct {
	dir     string
	cfg     *durableConfig
	lock    *os.File
	metrics *spoolMetrics

	mu             sync.Mutex
	segs           []*segment // oldest first; the last is written to
	ackOff         int64      // offset in segs[0] of the first entry not exported
	pendingBytes   int64
	pendingRecords int64
	writeSeq       uint64 // appends so far
	syncedSeq      uint64 // appends known to be on stable storage
	nextRotate     time.Time
	space          chan struct{} // closed when room is made; then replaced
	closed         bool
	full           bool
	writeErr       error // the last append failed
	syncErr        error // the last fsync failed
	dirErr         error // creating, renaming or deleting a file in dir failed
	undeleted      []string

	data   chan struct{} // a token tells the sender records arrived
	syncMu sync.Mutex    // one fsync at a time; waiters share it
	health atomic.Pointer[error]
	// readBuf is the sender's read buffer, kept between batches.
	readBuf []byte
	// ackWritten is when the ack file was last written; ackStale is set
	// while the export position is ahead of it. Both under mu.
	ackWritten time.Time
	ackStale   bool
	oldest     atomic.Int64 // append time (Unix ns) of the oldest record in export, 0 when none
}

// openSpool locks dir, recovers what an earlier process left in it and
// starts a new segment to append to.
func openSpool(dir string, cfg *durableConfig) (*spool, error) {
	s := &spool{dir: dir, cfg: cfg, space: make(chan struct{}), data: make(chan struct{}, 1)}
	s.health.Store(new(error))
	var err error
	if s.metrics, err = newSpoolMetrics(cfg.meterProvider, s.pending); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.metrics.reg.Unregister()
		return nil, fmt.Errorf("create spool directory: %w", err)
	}
	if s.lock, err = lockDir(dir); err != nil {
		s.metrics.reg.Unregister()
		return nil, err
	}
	if err := s.recover(); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// recover loads the segments in dir. It never fails because of damage: a
// segment that cannot be read is set aside (renamed *.damaged), a last entry
// cut short by a crash is cut off, and both are counted and logged.
func (s *spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read spool directory: %w", err)
	}
	var ids []uint64
	for _, e := range entries {
		if id, ok := segmentID(e.Name()); ok && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ackSeg, ackOff := s.readAck()
	next := uint64(1)
	for i, id := range ids {
		next = id + 1
		path := filepath.Join(s.dir, segmentName(id))
		if id < ackSeg {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove exported segment: %w", err)
			}
			continue
		}
		start := int64(len(segmentHeader))
		if id == ackSeg {
			start = ackOff
		}
		seg, err := s.recoverSegment(path, id, start, i == len(ids)-1)
		if err != nil {
			s.setAside(path, err)
			continue
		}
		if seg.unacked == 0 {
			seg.f.Close()
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove exported segment: %w", err)
			}
			continue
		}
		if len(s.segs) == 0 {
			s.ackOff = start
		}
		s.segs = append(s.segs, seg)
		s.pendingBytes += seg.size - start
		s.pendingRecords += seg.unacked
	}
	// Segment ids only grow, past the acknowledged one too: a segment
	// numbered below it would be taken as exported at the next start.
	next = max(next, ackSeg+1)
	f, err := createSegment(s.dir, next, s.segmentSize(0))
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	if len(s.segs) == 0 {
		s.ackOff = int64(len(segmentHeader))
	}
	s.segs = append(s.segs, &segment{id: next, f: f, size: int64(len(segmentHeader))})
	return syncDir(s.dir)
}

// recoverSegment opens a segment and counts its intact entries from start.
// Its data ends where only zeros follow (the unwritten rest of a
// preallocated segment), which is cut off. In the last segment, whatever
// else follows the last intact entry is what a crash cut short: it is cut
// off and reported.
func (s *spool) recoverSegment(path string, id uint64, start int64, last bool) (*segment, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*segment, error) { f.Close(); return nil, err }
	if err := checkHeader(f); err != nil {
		return fail(err)
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	limit := st.Size()
	seg := &segment{id: id, f: fileSegment{f}, size: limit}
	end := start     // end of the last intact entry
	dataEnd := limit // where only zeros follow
	cr := newChunkReader(f, limit, nil)
	for off := start; off < limit; {
		_, next, err := readEntry(cr, off, limit)
		switch {
		case err == nil:
			seg.unacked++
			off, end = next, next
		case errors.Is(err, errDamaged), errors.Is(err, errTorn):
			zero, err := allZero(f, off, limit)
			if err != nil {
				return fail(err)
			}
			if zero {
				dataEnd, off = off, limit
			} else if off, err = resync(f, off, limit); err != nil {
				return fail(err)
			}
		default:
			return fail(err)
		}
	}
	cut := dataEnd
	if last {
		cut = end
	}
	if cut < limit {
		seg.size = cut
		if err := f.Truncate(cut); err != nil {
			// Reads stop at cut all the same: the segment is not damaged.
			otel.Handle(fmt.Errorf("auditexport: spool %s: cut off the end of segment %d: %w", s.dir, id, err))
		}
	}
	if last && end < dataEnd {
		s.report(damageTornTail, fmt.Errorf("auditexport: spool %s: segment %d: what follows its last intact entry (offset %d) was cut short by a crash and is cut off (the records before it are kept)", s.dir, id, end))
	}
	return seg, nil
}

// report logs damage through the OpenTelemetry error handler and counts it.
func (s *spool) report(kind string, err error) {
	otel.Handle(err)
	s.metrics.damaged(kind)
}

// setAside renames a segment that cannot be read to *.damaged, so that it
// is neither read again at every start nor deleted: an operator may want it.
func (s *spool) setAside(path string, cause error) {
	err := os.Rename(path, path+damagedExt)
	if err != nil {
		err = fmt.Errorf("%w (and renaming it failed: %w)", cause, err)
	} else {
		err = cause
	}
	s.report(damageUnreadable, fmt.Errorf("auditexport: spool %s: segment %s is unreadable and set aside: %w", s.dir, filepath.Base(path), err))
}

// readAck returns the position of the first record not exported, or zero
// (start at the oldest segment) when no valid ack file exists: at worst
// records are sent again, and the stores ignore a record id they have.
func (s *spool) readAck() (uint64, int64) {
	b, err := os.ReadFile(filepath.Join(s.dir, ackFile))
	if err != nil || len(b) != 20 || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		if err != nil && !errors.Is(err, os.ErrNotExist) || err == nil {
			otel.Handle(fmt.Errorf("auditexport: spool %s: ack file unreadable, records may be sent again: %v", s.dir, err))
		}
		return 0, 0
	}
	return binary.LittleEndian.Uint64(b), int64(binary.LittleEndian.Uint64(b[8:]))
}

// writeAck records the export position. It is not fsynced: losing it
// means sending records again, never losing them.
func (s *spool) writeAck(id uint64, off int64) error {
	var b [20]byte
	binary.LittleEndian.PutUint64(b[:], id)
	binary.LittleEndian.PutUint64(b[8:], uint64(off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	tmp := filepath.Join(s.dir, ackFile+".tmp")
	if err := os.WriteFile(tmp, b[:], 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.dir, ackFile))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// append writes one framed entry (frameEntry) and returns the append's
// sequence number for sync and where the entry lies. What it does when the
// spool is full depends on the FullPolicy; the returned error names why a
// record was not kept.
func (s *spool) append(entry []byte) (uint64, entryPos, error) {
	need := int64(len(entry))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.metrics.drop(dropClosed, 1)
		return 0, entryPos{}, ErrClosed
	}
	if need > s.cfg.maxBytes {
		s.metrics.drop(dropTooLarge, 1)
		return 0, entryPos{}, fmt.Errorf("%w: %d bytes encoded, the spool holds %d", ErrRecordTooLarge, need, s.cfg.maxBytes)
	}
	var deadline time.Time
	wasFull := false
	for s.pendingBytes+need > s.cfg.maxBytes {
		wasFull = true
		switch p := s.cfg.onFull; {
		case p == DropOldest && s.evictOldest():
			continue
		case p > 0: // Block
			if deadline.IsZero() {
				deadline = time.Now().Add(time.Duration(p))
			}
			if wait := time.Until(deadline); wait > 0 {
				s.waitForSpace(wait)
				if s.closed {
					s.metrics.drop(dropClosed, 1)
					return 0, entryPos{}, ErrClosed
				}
				continue
			}
		}
		s.setFull(true)
		s.metrics.drop(dropFullNewest, 1)
		return 0, entryPos{}, fmt.Errorf("%w: %d bytes of records wait for export", ErrSpoolFull, s.pendingBytes)
	}
	if wasFull {
		// Set also under DropOldest, which accepts the record but loses
		// others.
		s.setFull(true)
	} else {
		s.clearFull(need)
	}
	active := s.segs[len(s.segs)-1]
	if (active.broken || active.size+need > s.cfg.segmentBytes() && active.unacked > 0) && !time.Now().Before(s.nextRotate) {
		if err := s.rotateFor(need); err != nil {
			// Keep appending to the current segment: the record is as safe
			// there, and the directory may recover.
			s.nextRotate = time.Now().Add(rotationRetryInterval)
			s.setDirErr(fmt.Errorf("create segment: %w", err))
		} else {
			active = s.segs[len(s.segs)-1]
		}
	}
	if err := active.f.writeAt(entry, active.size); err != nil {
		s.setWriteErr(fmt.Errorf("write segment %d: %w", active.id, err))
		s.metrics.drop(dropWriteError, 1)
		s.abandon(active)
		return 0, entryPos{}, fmt.Errorf("auditexport: spool %s: write: %w", s.dir, err)
	}
	active.size += need
	active.unacked++
	s.pendingBytes += need
	s.pendingRecords++
	s.writeSeq++
	s.setWriteErr(nil)
	// The sender needs waking only for the first record (to start its
	// export interval) and for a full batch; waking it for every record
	// would cost each request a scheduler round trip.
	if s.pendingRecords == 1 || s.pendingRecords >= int64(s.cfg.exportMaxBatch) {
		select {
		case s.data <- struct{}{}:
		default:
		}
	}
	return s.writeSeq, entryPos{seg: active.id, start: active.size - need, end: active.size}, nil
}

// waitForSpace waits, with s.mu released, until an export makes room or
// wait passes.
func (s *spool) waitForSpace(wait time.Duration) {
	ch := s.space
	t := time.NewTimer(wait)
	s.mu.Unlock()
	select {
	case <-ch:
	case <-t.C:
	}
	t.Stop()
	s.mu.Lock()
}

func (s *spool) madeSpace() {
	close(s.space)
	s.space = make(chan struct{})
}

// abandon gives up a segment a write failed on: the next append starts a
// new one, at once when this one holds records. An empty one may fail again
// in its successor, so then the next try waits, lest a failing disk get a
// file per record.
func (s *spool) abandon(active *segment) {
	active.broken = true
	if active.size == int64(len(segmentHeader)) {
		if next := time.Now().Add(rotationRetryInterval); next.After(s.nextRotate) {
			s.nextRotate = next
		}
		return
	}
	if time.Now().Before(s.nextRotate) {
		return
	}
	if err := s.rotate(); err != nil {
		s.nextRotate = time.Now().Add(rotationRetryInterval)
		s.setDirErr(fmt.Errorf("create segment: %w", err))
	}
}

// segmentSize is the size a new segment is preallocated at: a record larger
// than a segment gets one of its own size.
func (s *spool) segmentSize(need int64) int64 {
	return max(s.cfg.segmentBytes(), int64(len(segmentHeader))+need)
}

// rotate starts a new segment of the usual size.
func (s *spool) rotate() error { return s.rotateFor(0) }

// rotateFor closes the active segment for writing (after an fsync, so that
// whatever the sync policy, only the active segment can hold unsynced
// records; then it is cut to its entries) and starts a new one with room
// for need bytes.
func (s *spool) rotateFor(need int64) error {
	old := s.segs[len(s.segs)-1]
	f, err := createSegment(s.dir, old.id+1, s.segmentSize(need))
	if err != nil {
		return err
	}
	if err := old.f.finish(old.size); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("fsync segment %d: %w", old.id, err)
	}
	s.syncedSeq = s.writeSeq
	if err := syncDir(s.dir); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("fsync directory: %w", err)
	}
	s.segs = append(s.segs, &segment{id: old.id + 1, f: f, size: int64(len(segmentHeader))})
	s.nextRotate = time.Time{}
	s.setDirErr(nil)
	return nil
}

// evictOldest deletes the oldest segment with its records (DropOldest). It
// reports false when nothing could be evicted.
func (s *spool) evictOldest() bool {
	if len(s.segs) == 1 {
		if s.segs[0].unacked == 0 {
			return false
		}
		if err := s.rotate(); err != nil {
			s.setDirErr(fmt.Errorf("create segment: %w", err))
			return false
		}
	}
	s.dropHead(dropFullOldest)
	return true
}

// dropHead removes the oldest segment, counting its records not exported
// as dropped for reason.
func (s *spool) dropHead(reason string) {
	head := s.segs[0]
	s.metrics.drop(reason, head.unacked)
	s.pendingRecords -= head.unacked
	s.pendingBytes -= head.size - s.ackOff
	s.segs = s.segs[1:]
	s.ackOff = int64(len(segmentHeader))
	head.f.Close()
	if err := os.Remove(head.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.undeleted = append(s.undeleted, head.f.Name())
		s.setDirErr(fmt.Errorf("remove segment: %w", err))
	}
	s.madeSpace()
}

// sync makes every append up to seq durable; concurrent callers share one
// fsync (group commit).
func (s *spool) sync(seq uint64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	if s.syncedSeq >= seq || s.closed {
		s.mu.Unlock()
		return nil
	}
	f, target := s.segs[len(s.segs)-1].f, s.writeSeq
	s.mu.Unlock()
	// Earlier segments were fsynced when they were rotated; the active
	// one stays open until Close, which takes syncMu.
	err := f.Sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.setSyncErr(fmt.Errorf("fsync: %w", err))
		return fmt.Errorf("auditexport: spool %s: fsync: %w", s.dir, err)
	}
	s.syncedSeq = max(s.syncedSeq, target)
	s.setSyncErr(nil)
	return nil
}

// syncAll fsyncs every append so far (SyncInterval's tick, Close).
func (s *spool) syncAll() error {
	s.mu.Lock()
	seq := s.writeSeq
	s.mu.Unlock()
	return s.sync(seq)
}

// batch is a run of entries of one segment read for export.
type batch struct {
	seg      uint64
	end      int64    // offset after the last entry read
	payloads [][]byte // entry payloads
	bytes    int
	more     bool // newer segments follow
}

// read returns up to maxRecords entries (at most maxBytes of them, but at
// least one) from the head, skipping damaged ones. It stops before stop
// when stop is in the head segment (the entry there is in memory). An
// empty batch whose end moved still has to be acknowledged. ok is false
// when there is nothing to read.
func (s *spool) read(maxRecords, maxBytes int, stop *entryPos) (b batch, ok bool) {
	s.mu.Lock()
	if s.closed || s.pendingRecords == 0 && len(s.segs) == 1 && s.ackOff == s.segs[0].size {
		s.mu.Unlock()
		return b, false
	}
	head := s.segs[0]
	b.seg, b.end = head.id, s.ackOff
	f, limit, active := head.f, head.size, len(s.segs) == 1
	b.more = !active
	if stop != nil && stop.seg == head.id && stop.start < limit {
		limit, b.more = stop.start, true
	}
	s.mu.Unlock()

	cr := newChunkReader(f, limit, s.readBuf)
	defer func() { s.readBuf = cr.spare }()
	for len(b.payloads) < maxRecords {
		p, next, err := readEntry(cr, b.end, limit)
		switch {
		case err == nil:
			if len(b.payloads) > 0 && b.bytes+len(p) > maxBytes {
				return b, true
			}
			b.payloads = append(b.payloads, p)
			b.bytes += len(p)
			b.end = next
		case errors.Is(err, io.EOF):
			return b, len(b.payloads) > 0 || !active || b.end != s.ackOffOf(b.seg)
		case errors.Is(err, errDamaged), errors.Is(err, errTorn):
			from := b.end
			b.end, err = resync(f, from, limit)
			if err != nil {
				return s.unreadable(b, err)
			}
			s.report(damageCorrupt, fmt.Errorf("auditexport: spool %s: segment %d: %d damaged bytes at offset %d skipped", s.dir, b.seg, b.end-from, from))
			s.metrics.drop(dropCorrupt, 1)
		default:
			return s.unreadable(b, err)
		}
	}
	return b, true
}

// ackOffOf is the export position in segment id, or -1 when id is not the head.
func (s *spool) ackOffOf(id uint64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.segs[0].id != id {
		return -1
	}
	return s.ackOff
}

// unreadable sets aside a head segment that failed to read (unless it was
// evicted meanwhile), dropping its records, so that the sender moves on.
func (s *spool) unreadable(b batch, err error) (batch, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.segs[0].id != b.seg {
		return batch{}, false
	}
	head := s.segs[0]
	name := head.f.Name()
	if len(s.segs) == 1 {
		if rerr := s.rotate(); rerr != nil {
			s.setDirErr(fmt.Errorf("create segment: %w", rerr))
			otel.Handle(fmt.Errorf("auditexport: spool %s: read segment %d: %w", s.dir, b.seg, err))
			return batch{}, false
		}
	}
	s.metrics.drop(dropUnreadable, head.unacked)
	s.pendingRecords -= head.unacked
	s.pendingBytes -= head.size - s.ackOff
	s.segs = s.segs[1:]
	s.ackOff = int64(len(segmentHeader))
	head.f.Close()
	s.setAside(name, err)
	s.madeSpace()
	return batch{}, false
}

// ack records that the entries of b were exported: the head advances, and
// an exhausted segment other than the active one is deleted.
func (s *spool) ack(b batch) { s.ackTo(b.seg, b.end, int64(len(b.payloads))) }

// ackTo records that the n entries of segment seg before end were
// exported.
func (s *spool) ackTo(seg uint64, end, n int64) {
	s.mu.Lock()
	if s.closed || s.segs[0].id != seg {
		s.mu.Unlock() // evicted meanwhile: its records were counted as dropped
		return
	}
	head := s.segs[0]
	head.unacked -= n
	s.pendingRecords -= n
	s.pendingBytes -= end - s.ackOff
	s.ackOff = end
	var remove []*segment
	for len(s.segs) > 1 && s.ackOff == s.segs[0].size {
		head := s.segs[0]
		// Entries the reader could not read were counted as dropped.
		s.pendingRecords -= head.unacked
		remove = append(remove, head)
		s.segs = s.segs[1:]
		s.ackOff = int64(len(segmentHeader))
	}
	s.clearFull(0)
	ackSeg, ackOff := s.segs[0].id, s.ackOff
	writeAck := len(remove) > 0 || time.Since(s.ackWritten) >= ackWriteInterval
	if writeAck {
		s.ackWritten, s.ackStale = time.Now(), false
	} else {
		s.ackStale = true
	}
	undeleted := s.undeleted
	s.undeleted = nil
	s.madeSpace()
	s.mu.Unlock()

	// File work outside the lock: the sender is the only one doing it.
	var errs []error
	if writeAck {
		if err := s.writeAck(ackSeg, ackOff); err != nil {
			errs = append(errs, fmt.Errorf("write ack: %w", err))
		}
	}
	for _, seg := range remove {
		seg.f.Close()
		undeleted = append(undeleted, seg.f.Name())
	}
	var still []string
	for _, name := range undeleted {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove exported segment: %w", err))
			still = append(still, name)
		}
	}
	s.mu.Lock()
	s.undeleted = append(s.undeleted, still...)
	// Only file work done here may clear a directory error: a batch that
	// wrote nothing says nothing about the directory (a failed rotation
	// must stay in Health until something writes there again).
	if writeAck || len(undeleted) > 0 {
		s.setDirErr(errors.Join(errs...))
	}
	s.mu.Unlock()
}

// evicted reports whether segment id was dropped (DropOldest, unreadable).
func (s *spool) evicted(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed || s.segs[0].id > id
}

// exportPosition is where the next entry to export lies: the head
// segment and the offset in it.
func (s *spool) exportPosition() (uint64, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.segs[0].id, s.ackOff
}

// position is where the next append goes: ForceFlush waits until the
// export position reaches it.
func (s *spool) position() (uint64, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.segs[len(s.segs)-1]
	return a.id, a.size
}

// exportedUpTo reports whether everything before (id, off) was exported.
func (s *spool) exportedUpTo(id uint64, off int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.segs[0].id
	return s.closed || h > id || h == id && s.ackOff >= off
}

// pending reports what waits for export, for the metrics.
func (s *spool) pending() (bytes, records int64, oldestAge float64) {
	s.mu.Lock()
	bytes, records = s.pendingBytes, s.pendingRecords
	s.mu.Unlock()
	if t := s.oldest.Load(); t != 0 && records > 0 {
		oldestAge = max(time.Since(time.Unix(0, t)).Seconds(), 0)
	}
	return bytes, records, oldestAge
}

// clearFull ends the full state once a segment's worth of room is free
// besides need, so that health does not flap at the bound.
func (s *spool) clearFull(need int64) {
	if s.full && s.pendingBytes+need <= s.cfg.maxBytes-s.cfg.segmentBytes() {
		s.setFull(false)
	}
}

func (s *spool) setFull(full bool) {
	if s.full != full {
		s.full = full
		s.updateHealth()
	}
}

func (s *spool) setWriteErr(err error) {
	if s.writeErr != nil || err != nil {
		s.writeErr = err
		s.updateHealth()
	}
}

func (s *spool) setSyncErr(err error) {
	if s.syncErr != nil || err != nil {
		s.syncErr = err
		s.updateHealth()
	}
}

func (s *spool) setDirErr(err error) {
	if s.dirErr != nil || err != nil {
		s.dirErr = err
		s.updateHealth()
	}
}

func (s *spool) updateHealth() {
	var errs []error
	if s.full {
		errs = append(errs, ErrSpoolFull)
	}
	if s.writeErr != nil {
		errs = append(errs, s.writeErr)
	}
	if s.syncErr != nil {
		errs = append(errs, s.syncErr)
	}
	if s.dirErr != nil {
		errs = append(errs, s.dirErr)
	}
	var err error
	if len(errs) > 0 {
		err = fmt.Errorf("auditexport: spool %s: %w", s.dir, errors.Join(errs...))
	}
	s.health.Store(&err)
}

// close fsyncs and closes the spool; the records not exported stay in it.
func (s *spool) close() error {
	err := s.syncAll()
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.madeSpace()
	if s.ackStale {
		if aerr := s.writeAck(s.segs[0].id, s.ackOff); aerr != nil {
			err = errors.Join(err, fmt.Errorf("auditexport: spool %s: write ack: %w", s.dir, aerr))
		}
	}
	// Cut the active segment to its entries: a clean shutdown leaves no
	// preallocated zeros behind.
	active := s.segs[len(s.segs)-1]
	if ferr := active.f.finish(active.size); ferr != nil {
		err = errors.Join(err, fmt.Errorf("auditexport: spool %s: close segment %d: %w", s.dir, active.id, ferr))
	}
	s.closeFiles()
	return err
}

func (s *spool) closeFiles() {
	for _, seg := range s.segs {
		seg.f.Close()
	}
	s.metrics.reg.Unregister()
	if s.lock != nil {
		s.lock.Close() // releases the flock
	}
}

// unread reports the records waiting for export, and whether any bytes
// (records, or damage to skip) wait to be read.
func (s *spool) unread() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingRecords, s.pendingBytes > 0
}
