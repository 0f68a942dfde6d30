package audithttp

// UsePool replaces the pool records are emitted on with one of the given
// limits, for a test, and returns what restores the previous one.
func UsePool(workers, queue int, maxBytes int64) (restore func()) {
	old := records.Swap(newPool(workers, queue, maxBytes))
	return func() { records.Store(old) }
}

// QueuedBytes returns the captured bytes the pool holds.
func QueuedBytes() int64 { return records.Load().bytes.Load() }
