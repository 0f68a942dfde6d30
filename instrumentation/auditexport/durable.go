package auditexport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// DurableProcessor is an sdklog.Processor that writes every record to a
// write-ahead spool on disk before OnEmit returns and exports the spool in
// order, in batches, retrying each batch until it is delivered. Use it in
// place of the SDK's BatchProcessor, with the exporter that would have been
// given to it.
//
// The sender exports a copy of each record kept in memory when it was
// spooled (WithMemoryQueue), as the BatchProcessor would; it reads records
// back from the spool only where it has no copy: after a restart, or when
// the memory queue was full.
//
// What it promises (docs/durability.md):
//   - A record whose OnEmit returned nil survives a crash of the process;
//     with WithSync(SyncAlways) it also survives a power loss, with the
//     default SyncInterval(100ms) a power loss can take the last interval.
//   - Records are delivered at least once: after a crash, at most what was
//     exported in the last 100 ms and the batch being exported are sent
//     again (the stores ignore a record id they hold).
//   - Records are dropped only when the spool is full (by the FullPolicy),
//     when the disk refuses a write, or when one is too large to export;
//     OnEmit then returns an error, and every drop is counted in the
//     otelaudit.spool.dropped metric by reason. Health reports whether
//     records are being accepted durably.
type DurableProcessor struct {
	exp   sdklog.Exporter
	cfg   durableConfig
	spool *spool
	mem   *memQueue  // nil when WithMemoryQueue turned it off
	rb    *rebuilder // used by the sender goroutine only
	// memRecs is the sender's buffer for a batch from memory.
	memRecs []sdklog.Record

	bufs   sync.Pool
	origin originCache

	stopCtx context.Context
	stop    context.CancelFunc
	done    chan struct{} // closed when the sender and syncer returned

	flushMu sync.Mutex
	flushes []*flushRequest
	flushCh chan struct{} // a token tells the sender a flush waits

	shutdownOnce sync.Once
	shutdownErr  error
}

type flushRequest struct {
	seg  uint64
	off  int64
	done chan struct{}
}

// NewDurableProcessor returns a processor that spools records in dir
// (created if absent) and exports them with exp. It recovers the records an
// earlier process left in dir and sends them first. dir must not be shared:
// a second processor on the same directory, in this process or another,
// gets an error.
func NewDurableProcessor(exp sdklog.Exporter, dir string, opts ...DurableOption) (*DurableProcessor, error) {
	if exp == nil {
		return nil, errors.New("auditexport: NewDurableProcessor: exporter is nil")
	}
	cfg, err := newDurableConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("auditexport: NewDurableProcessor: %w", err)
	}
	p := &DurableProcessor{exp: exp, cfg: cfg, rb: newRebuilder(), done: make(chan struct{}), flushCh: make(chan struct{}, 1),
		mem: newMemQueue(cfg.memRecords, cfg.memBytes)}
	if p.spool, err = openSpool(dir, &p.cfg); err != nil {
		return nil, fmt.Errorf("auditexport: spool %s: %w", dir, err)
	}
	p.bufs.New = func() any { return new([]byte) }
	p.stopCtx, p.stop = context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(p.send)
	if cfg.sync != SyncAlways {
		wg.Go(p.syncEvery)
	}
	go func() { wg.Wait(); close(p.done) }()
	return p, nil
}

// Enabled reports true: the processor takes every record.
func (p *DurableProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit appends r to the spool. When it returns nil, the record is written
// to the operating system (and, with SyncAlways, to stable storage). When
// the spool is full it drops the record or an old segment, or waits, as
// WithOnFull says; a record it does not keep is reported by the error.
func (p *DurableProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	if r == nil {
		return nil
	}
	bp := p.bufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 1<<20 { // do not pin the memory of a rare huge record
			p.bufs.Put(bp)
		}
	}()
	now := time.Now().UnixNano()
	buf := append((*bp)[:0], make([]byte, entryHeaderLen)...)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(now))
	buf = appendRecordBody(p.origin.append(buf, r), r)
	*bp = buf
	if n := len(buf) - entryHeaderLen; n > p.cfg.exportMaxBytes {
		p.spool.metrics.drop(dropTooLarge, 1)
		return fmt.Errorf("%w: %d bytes encoded, an export carries at most %d (WithExportMaxBytes)", ErrRecordTooLarge, n, p.cfg.exportMaxBytes)
	}
	frameEntry(buf)
	seq, pos, err := p.spool.append(buf)
	if err != nil {
		return err
	}
	if p.mem != nil {
		// The sender exports this copy instead of reading the entry back.
		p.mem.push(r, pos, now, len(buf)-entryHeaderLen)
	}
	if p.cfg.sync == SyncAlways {
		return p.spool.sync(seq)
	}
	return nil
}

// Health returns nil while records are accepted durably, and otherwise why
// not: the spool is full (records are being dropped), or writing, fsyncing
// or managing the spool's files fails. It is cheap enough to call on every
// request (audithttp.WithFailClosed).
func (p *DurableProcessor) Health() error { return *p.spool.health.Load() }

// ForceFlush exports every record spooled before the call and then flushes
// the exporter. It returns ctx's error when ctx ends first; the records stay
// in the spool.
func (p *DurableProcessor) ForceFlush(ctx context.Context) error {
	seg, off := p.spool.position()
	req := &flushRequest{seg: seg, off: off, done: make(chan struct{})}
	p.flushMu.Lock()
	p.flushes = append(p.flushes, req)
	p.flushMu.Unlock()
	select {
	case p.flushCh <- struct{}{}:
	default:
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		return fmt.Errorf("auditexport: flush: %w", ctx.Err())
	case <-p.done:
		return ErrClosed
	}
	if err := p.spool.syncAll(); err != nil {
		return err
	}
	return p.exp.ForceFlush(ctx)
}

// Shutdown exports what it can while ctx allows, stops the sender, closes
// the spool and shuts the exporter down. Records not exported stay in the
// spool for the next start; the error then says how many.
func (p *DurableProcessor) Shutdown(ctx context.Context) error {
	p.shutdownOnce.Do(func() {
		var errs []error
		if err := p.ForceFlush(ctx); err != nil {
			if _, n, _ := p.spool.pending(); n > 0 {
				err = fmt.Errorf("auditexport: %d records stay in the spool %s for the next start: %w", n, p.spool.dir, err)
			}
			errs = append(errs, err)
		}
		p.stop()
		select {
		case <-p.done:
		case <-ctx.Done():
			// An exporter that ignores its context: the spool is closed
			// under it, and what it was sending stays spooled.
			errs = append(errs, fmt.Errorf("auditexport: stop sender: %w", ctx.Err()))
		}
		if err := p.spool.close(); err != nil {
			errs = append(errs, err)
		}
		if err := p.exp.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("auditexport: shut down exporter: %w", err))
		}
		p.shutdownErr = errors.Join(errs...)
	})
	return p.shutdownErr
}

// syncEvery fsyncs the spool every sync interval (SyncInterval).
func (p *DurableProcessor) syncEvery() {
	t := time.NewTicker(time.Duration(p.cfg.sync))
	defer t.Stop()
	for {
		select {
		case <-p.stopCtx.Done():
			return
		case <-t.C:
			_ = p.spool.syncAll() // a failure shows in Health
		}
	}
}
