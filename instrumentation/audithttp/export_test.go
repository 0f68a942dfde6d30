package audithttp

import "time"

// UsePool replaces the pool records are emitted on with one of the given
// limits, for a test, and returns what restores the previous one.
func UsePool(workers, queue int, maxBytes int64) (restore func()) {
	return UseWaitingPool(workers, queue, maxBytes, batchWait)
}

// UseWaitingPool is UsePool with records waiting at most wait for the
// service to be idle.
func UseWaitingPool(workers, queue int, maxBytes int64, wait time.Duration) (restore func()) {
	old := records.Swap(newPool(workers, queue, maxBytes, wait))
	return func() { records.Store(old) }
}

// QueuedBytes returns the captured bytes the pool holds.
func QueuedBytes() int64 { return records.Load().bytes.Load() }

// Tick does what the pool's batch timer does when it fires.
func Tick() { records.Load().ticked() }
