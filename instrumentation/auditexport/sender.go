package auditexport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// send is the sender goroutine: it exports the spool in order. A batch
// leaves when it is full, when the oldest record in it waited the export
// interval, or when a flush asks for it.
func (p *DurableProcessor) send() {
	defer p.rb.shutdown()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var waitStart time.Time
	more := false // the last batch ended at a segment's end, not for want of records
	for {
		records, unread := p.spool.unread()
		flush := p.flushWanted()
		if records >= int64(p.cfg.exportMaxBatch) ||
			unread && (flush || more || !waitStart.IsZero() && time.Since(waitStart) >= p.cfg.exportInterval) {
			waitStart = time.Time{}
			var sent bool
			if sent, more = p.sendBatch(); sent {
				p.completeFlushes()
				continue
			}
			if p.stopCtx.Err() != nil {
				return
			}
		}
		if !unread {
			p.completeFlushes()
		}
		var tick <-chan time.Time
		if unread {
			if waitStart.IsZero() {
				waitStart = time.Now()
			}
			timer.Reset(max(p.cfg.exportInterval-time.Since(waitStart), 0))
			tick = timer.C
		}
		select {
		case <-p.stopCtx.Done():
			return
		case <-p.spool.data:
		case <-p.flushCh:
		case <-tick:
		}
		timer.Stop()
	}
}

// sendBatch exports one batch and acknowledges it: from memory when the
// memory queue holds the next entries to export, otherwise read from disk
// up to the first entry the memory queue holds. It reports false when
// nothing was done: nothing to read, or the processor stops; and whether
// older records wait behind the batch, which then should not wait for the
// export interval.
func (p *DurableProcessor) sendBatch() (sent, more bool) {
	var stop *entryPos
	if p.mem != nil {
		seg, off := p.spool.exportPosition()
		run, ok, next, hasNext := p.mem.take(seg, off, p.cfg.exportMaxBatch, p.cfg.exportMaxBytes, p.memRecs)
		if ok {
			return p.sendRun(run)
		}
		if hasNext {
			stop = &next
		}
	}
	return p.sendFromDisk(stop)
}

// sendRun exports a run of records kept in memory and acknowledges them.
// It tries once: when that fails, the same entries are read back from disk
// and retried from there like any others. The copy in memory is the record
// as the service emitted it, which an exporter may refuse for good where
// the spooled encoding goes through (invalid UTF-8 is replaced there).
func (p *DurableProcessor) sendRun(run memRun) (sent, more bool) {
	p.memRecs = run.recs
	defer clear(p.memRecs) // the exporter does not keep them; nor do we
	p.spool.oldest.Store(run.appended)
	if p.spool.evicted(run.seg) {
		return true, true // dropped since take: counted there
	}
	ctx, cancel := context.WithTimeout(p.stopCtx, p.cfg.exportTimeout)
	err := p.exp.Export(ctx, run.recs)
	cancel()
	if err != nil {
		p.spool.metrics.failures.Add(context.Background(), 1)
		return p.stopCtx.Err() == nil, true
	}
	p.spool.ackTo(run.seg, run.end, int64(len(run.recs)))
	p.spool.metrics.exported.Add(context.Background(), int64(len(run.recs)))
	return true, run.more
}

// sendFromDisk reads one batch from the spool, before stop if stop is not
// nil, exports it until it is delivered and acknowledges it.
func (p *DurableProcessor) sendFromDisk(stop *entryPos) (sent, more bool) {
	b, ok := p.spool.read(p.cfg.exportMaxBatch, p.cfg.exportMaxBytes, stop)
	if !ok {
		return false, false
	}
	recs := make([]sdklog.Record, 0, len(b.payloads))
	for _, pl := range b.payloads {
		if len(pl) < 8 {
			p.undecodable(b.seg, fmt.Errorf("entry of %d bytes", len(pl)))
			continue
		}
		if len(recs) == 0 {
			p.spool.oldest.Store(int64(binary.LittleEndian.Uint64(pl)))
		}
		d, err := decodeRecord(pl[8:])
		if err == nil {
			var r sdklog.Record
			if r, err = p.rb.rebuild(&d); err == nil {
				recs = append(recs, r)
				continue
			}
		}
		p.undecodable(b.seg, err)
	}
	if len(recs) > 0 && !p.export(b.seg, recs) {
		return p.stopCtx.Err() == nil, true // dropped meanwhile: go on with the rest
	}
	p.spool.ack(b)
	p.spool.metrics.exported.Add(context.Background(), int64(len(recs)))
	return true, b.more
}

// undecodable reports an intact entry whose record cannot be decoded (an
// entry written by a newer version, or damage the checksum missed).
func (p *DurableProcessor) undecodable(seg uint64, err error) {
	p.spool.report(damageCorrupt, fmt.Errorf("auditexport: spool %s: segment %d: undecodable record skipped: %w", p.spool.dir, seg, err))
	p.spool.metrics.drop(dropDecode, 1)
}

// errSegmentDropped ends the retries of a batch whose segment was dropped.
var errSegmentDropped = errors.New("segment dropped")

// export sends recs until the exporter takes them. It gives up only when
// the processor stops or the segment the batch came from was dropped
// (DropOldest, unreadable) meanwhile: its records were counted as dropped
// then, so they are not sent after it (only an export already under way
// when the segment goes can deliver them).
func (p *DurableProcessor) export(seg uint64, recs []sdklog.Record) bool {
	failures := 0
	var lastLog time.Time
	err := retry(p.stopCtx, func() error {
		if p.spool.evicted(seg) {
			return errSegmentDropped
		}
		ctx, cancel := context.WithTimeout(p.stopCtx, p.cfg.exportTimeout)
		defer cancel()
		return p.exp.Export(ctx, recs)
	}, func(err error) bool {
		if errors.Is(err, errSegmentDropped) {
			return false
		}
		failures++
		p.spool.metrics.failures.Add(context.Background(), 1)
		if time.Since(lastLog) >= exportFailureLogInterval {
			lastLog = time.Now()
			otel.Handle(fmt.Errorf("auditexport: export of %d records failed (attempt %d, retrying until it succeeds; they are safe in the spool %s): %w", len(recs), failures, p.spool.dir, err))
		}
		return p.stopCtx.Err() == nil
	})
	if err == nil && failures > 0 {
		otel.Handle(fmt.Errorf("auditexport: export recovered after %d failed attempts", failures))
	}
	return err == nil
}

func (p *DurableProcessor) flushWanted() bool {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	return len(p.flushes) > 0
}

// completeFlushes ends the ForceFlush calls whose records were exported.
func (p *DurableProcessor) completeFlushes() {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	kept := p.flushes[:0]
	for _, f := range p.flushes {
		if p.spool.exportedUpTo(f.seg, f.off) {
			close(f.done)
		} else {
			kept = append(kept, f)
		}
	}
	clear(p.flushes[len(kept):])
	p.flushes = kept
}
