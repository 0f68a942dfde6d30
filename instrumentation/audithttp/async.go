package audithttp

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of the pool that builds and emits records after the response is
// complete. Together they bound the memory that finished exchanges hold
// while they wait: at most queueLen of them, holding at most
// maxQueuedBytes of captured bodies. Past either limit a record is built
// where the exchange ends, as if WithAsync(false) were set: an overloaded
// pipeline slows the service down rather than losing records.
const (
	queueLen       = 256
	maxQueuedBytes = 16 << 20
	// batchWait is how long records gather before they are built, at
	// the service's next idle moments; twice that is the most a record
	// waits, so that a service that is never idle still emits its
	// records.
	batchWait = time.Millisecond
	// workerIdle is how long a worker with nothing to do waits before it
	// ends, so that an idle service keeps no goroutines.
	workerIdle = time.Second
)

// pending is an exchange whose response is complete and whose record is
// still to be built and emitted. emitRecord must not panic.
type pending interface {
	emitRecord()
}

// job is one pending record: size is the captured bytes it holds, gen the
// Flush generation it counts in, seq its place in the pool's queue.
type job struct {
	p    pending
	size int64
	gen  *generation
	seq  uint64
}

// run emits j's record; from is the pool that held it, nil when inline.
// Flush may return as soon as gen is done, so from's count is released
// before.
func (j job) run(from *pool) {
	defer j.gen.done()
	if from != nil {
		defer from.bytes.Add(-j.size)
	}
	j.p.emitRecord()
}

// serving counts the audited requests whose handler is running, in every
// handler of the process. A batch of records is built while it is zero, so
// that building them does not take the processors the requests need. It
// has a cache line of its own: every request writes it twice.
var serving struct {
	_ [64]byte
	n atomic.Int64
	_ [56]byte
}

// pool is a small bounded set of goroutines that emit records. Records
// gather in the queue until the batch timer ticks, then are built whenever
// the service is idle (no audited request running): a request that starts
// meanwhile pauses the batch after the record being built. At the next
// tick, when the queue passes its high-water mark, and on Flush, they are
// built whether the service is idle or not. Workers are started when
// records may run and end when idle.
type pool struct {
	// armed is set while ready records wait for the service to be idle:
	// the request that leaves it idle wakes a worker. A worker that finds
	// the service busy again and builds nothing does not set it again
	// before the next tick: otherwise a service busy but for instants
	// would wake it for nothing after every request. Every request reads
	// it as it ends: it has a cache line of its own.
	armed atomic.Bool
	_     [64]byte

	mu        sync.Mutex
	queue     []job // a ring of cap(queue) jobs: n of them from head
	head, n   int
	seq       uint64 // jobs queued so far
	ticks     uint64 // of the batch timer
	ready     uint64 // jobs up to this seq run while no request is running
	due       uint64 // jobs up to this seq run whether or not requests are running
	workers   int    // running
	sleeping  int    // of which waiting for wake
	timerSet  bool   // tick runs: the queue is not empty
	tick      *time.Timer
	wake      chan struct{}
	highWater int
	max       int // workers
	maxBytes  int64
	wait      time.Duration // between ticks
	bytes     atomic.Int64  // captured bytes of the queued and running jobs
}

func newPool(workers, queue int, maxBytes int64, wait time.Duration) *pool {
	p := &pool{
		queue:     make([]job, queue),
		highWater: max(queue/4, 1),
		max:       max(workers, 1),
		maxBytes:  maxBytes,
		wait:      wait,
	}
	p.wake = make(chan struct{}, p.max)
	p.tick = time.AfterFunc(time.Hour, p.ticked)
	p.tick.Stop()
	return p
}

// records is the pool every handler and transport shares, so that the
// memory bound and Flush hold for the whole process.
var records atomic.Pointer[pool]

// Half the processors build records, so that the other half always serve:
// a burst of records does not hold up the responses.
func init() {
	records.Store(newPool(runtime.GOMAXPROCS(0)/2, queueLen, maxQueuedBytes, batchWait))
}

// dispatch emits p's record: on the pool when async is set and the pool has
// room for it, else at once on the caller's goroutine. size is the captured
// bytes p holds.
func dispatch(async bool, p pending, size int64) {
	j := job{p: p, size: size, gen: track()}
	if async && records.Load().submit(j) {
		return
	}
	j.run(nil)
}

// startServing counts an audited request in; endServing counts it out and,
// when it was the last one running and ready records are waiting, wakes a
// worker to build them while the service is idle.
func startServing() { serving.n.Add(1) }

func endServing() {
	if serving.n.Add(-1) != 0 {
		return
	}
	if p := records.Load(); p.armed.Load() && p.armed.CompareAndSwap(true, false) {
		p.mu.Lock()
		p.signal()
		p.mu.Unlock()
	}
}

// submit queues j, or reports false when the queue or the byte budget is
// full.
func (p *pool) submit(j job) bool {
	bytes := p.bytes.Add(j.size)
	if bytes > p.maxBytes {
		p.bytes.Add(-j.size)
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == len(p.queue) {
		p.bytes.Add(-j.size)
		return false
	}
	p.seq++
	j.seq = p.seq
	p.queue[(p.head+p.n)%len(p.queue)] = j
	p.n++
	if p.n >= p.highWater || bytes >= p.maxBytes/4 {
		// Enough is waiting: take it all now rather than let the
		// queue reach its bounds and the requests build records.
		p.due = p.seq
		p.signal()
	}
	if !p.timerSet {
		p.timerSet = true
		p.tick.Reset(p.wait)
	}
	return true
}

// signal wakes a sleeping worker, or starts one if none sleeps. p.mu is
// held.
func (p *pool) signal() {
	if p.sleeping > 0 {
		select {
		case p.wake <- struct{}{}:
		default: // enough wake-ups are on their way
		}
		return
	}
	if p.workers < p.max {
		p.workers++
		go p.work()
	}
}

// ticked makes the jobs ready at the last tick due, and those queued
// since ready. It ticks again while jobs wait.
func (p *pool) ticked() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		p.timerSet = false
		return
	}
	p.due, p.ready = p.ready, p.seq
	p.ticks++
	p.tick.Reset(p.wait)
	p.signal()
}

// hurry makes every queued job due, for Flush.
func (p *pool) hurry() {
	p.mu.Lock()
	if p.n > 0 {
		p.due, p.ready = p.seq, p.seq
		for range min(p.n, p.max) {
			p.signal()
		}
	}
	p.mu.Unlock()
}

// take removes and returns the oldest job if it may run now: it is due,
// or it is ready and no request is running. p.mu is held.
func (p *pool) take() (job, bool) {
	if p.n == 0 {
		return job{}, false
	}
	j := p.queue[p.head]
	if j.seq > p.due && (j.seq > p.ready || serving.n.Load() != 0) {
		return job{}, false
	}
	p.queue[p.head] = job{}
	p.head = (p.head + 1) % len(p.queue)
	p.n--
	if p.n > 0 && p.sleeping > 0 {
		p.signal() // more for another worker, if it may run them
	}
	return j, true
}

// waitsForIdle reports whether the oldest job is ready but not due, so
// that the end of the last running request should wake a worker. p.mu is
// held.
func (p *pool) waitsForIdle() bool {
	if p.n == 0 {
		return false
	}
	seq := p.queue[p.head].seq
	return seq > p.due && seq <= p.ready
}

func (p *pool) work() {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	p.mu.Lock()
	armedAt := p.ticks - 1 // the tick at which this worker last set armed
	for {
		ran := false
		for {
			j, ok := p.take()
			if !ok {
				break
			}
			p.mu.Unlock()
			j.run(p)
			ran = true
			p.mu.Lock()
		}
		if !p.waitsForIdle() {
			p.armed.Store(false)
		} else if ran || armedAt != p.ticks {
			armedAt = p.ticks
			p.armed.Store(true)
			if serving.n.Load() == 0 {
				continue // the last request ended before armed was set
			}
		}
		empty := p.n == 0
		p.sleeping++
		p.mu.Unlock()
		if empty {
			idle.Reset(workerIdle)
		}
		select {
		case <-p.wake:
			p.mu.Lock()
			p.sleeping--
		case <-idle.C:
			p.mu.Lock()
			p.sleeping--
			if p.n == 0 {
				p.workers--
				p.mu.Unlock()
				return
			}
		}
		idle.Stop()
	}
}
