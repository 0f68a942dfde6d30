package audithttp

import (
	"runtime"
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
	// workerIdle is how long a worker with nothing to do waits before it
	// ends, so that an idle service keeps no goroutines.
	workerIdle = time.Second
	// batchTick is how long a busy worker lets records gather before it
	// takes them: the most a record waits in a queue that is not full.
	batchTick = time.Millisecond
)

// pending is an exchange whose response is complete and whose record is
// still to be built and emitted. emitRecord must not panic.
type pending interface {
	emitRecord()
}

// job is one pending record: size is the captured bytes it holds, gen the
// Flush generation it counts in.
type job struct {
	p    pending
	size int64
	gen  *generation
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

// pool is a small bounded set of goroutines that emit records. Workers are
// started when records arrive and end when idle.
type pool struct {
	jobs       chan job
	workers    atomic.Int32
	maxWorkers int32
	bytes      atomic.Int64 // captured bytes of the queued and running jobs
	maxBytes   int64
}

func newPool(workers, queue int, maxBytes int64) *pool {
	return &pool{jobs: make(chan job, queue), maxWorkers: int32(max(workers, 1)), maxBytes: maxBytes}
}

// records is the pool every handler and transport shares, so that the
// memory bound and Flush hold for the whole process.
var records atomic.Pointer[pool]

// Half the processors build records, so that the other half always serve:
// a burst of records does not hold up the responses.
func init() { records.Store(newPool(runtime.GOMAXPROCS(0)/2, queueLen, maxQueuedBytes)) }

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

// submit queues j, or reports false when the queue or the byte budget is
// full.
func (p *pool) submit(j job) bool {
	if p.bytes.Add(j.size) > p.maxBytes {
		p.bytes.Add(-j.size)
		return false
	}
	select {
	case p.jobs <- j:
	default:
		p.bytes.Add(-j.size)
		return false
	}
	p.grow()
	return true
}

// grow starts a worker unless all are running.
func (p *pool) grow() {
	for {
		n := p.workers.Load()
		if n >= p.maxWorkers {
			return
		}
		if p.workers.CompareAndSwap(n, n+1) {
			go p.work()
			return
		}
	}
}

func (p *pool) work() {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		idle.Reset(workerIdle)
		select {
		case j := <-p.jobs:
			j.run(p)
		case <-idle.C:
			p.workers.Add(-1)
			// A job queued while this worker was leaving found every
			// worker running and started none: take it up again.
			if len(p.jobs) == 0 || !p.rejoin() {
				return
			}
		}
		// More records usually follow. Taking them in batches a tick
		// apart, rather than as each arrives, spares the handler that
		// queues one the cost of waking this goroutine.
		for {
			time.Sleep(batchTick)
			if !p.drain() {
				break
			}
		}
	}
}

// drain runs the queued jobs and reports whether there were any.
func (p *pool) drain() bool {
	ran := false
	for {
		select {
		case j := <-p.jobs:
			j.run(p)
			ran = true
		default:
			return ran
		}
	}
}

// rejoin counts a leaving worker back in, unless the pool is full again.
func (p *pool) rejoin() bool {
	for {
		n := p.workers.Load()
		if n >= p.maxWorkers {
			return false
		}
		if p.workers.CompareAndSwap(n, n+1) {
			return true
		}
	}
}
