package auditexport

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Defaults of NewDurableProcessor.
const (
	DefaultMaxBytes           = 1 << 30 // 1 GiB of records waiting to be exported
	DefaultSyncInterval       = 100 * time.Millisecond
	DefaultBlockTimeout       = 100 * time.Millisecond
	DefaultExportMaxBatch     = 512
	DefaultExportInterval     = time.Second
	DefaultExportTimeout      = 30 * time.Second
	DefaultExportMaxBytes     = 4 << 20  // below the OTLP receivers' request limits
	DefaultMemoryQueueRecords = 2048     // as the BatchProcessor's queue
	DefaultMemoryQueueBytes   = 16 << 20 // of encoded records
	maxSegmentBytes           = 64 << 20
	minSegmentBytes           = 4 << 10
	segmentsPerSpool          = 16
	rotationRetryInterval     = time.Second
	exportFailureLogInterval  = time.Minute
)

// SyncPolicy says when the spool forces its writes to stable storage
// (fsync). Every record is written to the operating system before OnEmit
// returns, so it survives a crash of the process whatever the policy; the
// policy decides what a power loss or kernel crash can take.
type SyncPolicy time.Duration

// SyncAlways makes OnEmit return only after the record is on stable storage.
// Concurrent emits share one fsync.
const SyncAlways SyncPolicy = 0

// SyncInterval forces writes to stable storage every d: a machine crash can
// lose the records of the last d.
func SyncInterval(d time.Duration) SyncPolicy { return SyncPolicy(d) }

// FullPolicy says what OnEmit does with a record when the spool holds
// MaxBytes of records that are not exported yet.
type FullPolicy time.Duration

const (
	// DropNewest refuses the new record.
	DropNewest FullPolicy = 0
	// DropOldest deletes the oldest segment of the spool (about a
	// sixteenth of MaxBytes) to make room for the new record.
	DropOldest FullPolicy = -1
)

// Block makes OnEmit wait up to timeout for the sender to make room, then
// refuse the record (as DropNewest does). It holds up the request that
// emits the record, so keep timeout short.
func Block(timeout time.Duration) FullPolicy {
	if timeout <= 0 {
		return DropNewest
	}
	return FullPolicy(timeout)
}

// DurableOption configures NewDurableProcessor.
type DurableOption interface{ apply(*durableConfig) }

type durableOptionFunc func(*durableConfig)

func (f durableOptionFunc) apply(c *durableConfig) { f(c) }

type durableConfig struct {
	sync           SyncPolicy
	maxBytes       int64
	onFull         FullPolicy
	exportMaxBatch int
	exportInterval time.Duration
	exportTimeout  time.Duration
	exportMaxBytes int
	memRecords     int
	memBytes       int64
	meterProvider  metric.MeterProvider
}

func newDurableConfig(opts []DurableOption) (durableConfig, error) {
	c := durableConfig{
		sync:           SyncInterval(DefaultSyncInterval),
		maxBytes:       DefaultMaxBytes,
		onFull:         Block(DefaultBlockTimeout),
		exportMaxBatch: DefaultExportMaxBatch,
		exportInterval: DefaultExportInterval,
		exportTimeout:  DefaultExportTimeout,
		exportMaxBytes: DefaultExportMaxBytes,
		memRecords:     DefaultMemoryQueueRecords,
		memBytes:       DefaultMemoryQueueBytes,
	}
	for _, o := range opts {
		o.apply(&c)
	}
	switch {
	case c.sync < 0:
		return c, fmt.Errorf("WithSync: interval %s is negative", time.Duration(c.sync))
	case c.maxBytes <= 0:
		return c, fmt.Errorf("WithMaxBytes: %d is not positive", c.maxBytes)
	case c.onFull < DropOldest:
		return c, fmt.Errorf("WithOnFull: unknown policy %d", c.onFull)
	case c.exportMaxBatch <= 0:
		return c, fmt.Errorf("WithExportMaxBatchSize: %d is not positive", c.exportMaxBatch)
	case c.exportInterval <= 0:
		return c, fmt.Errorf("WithExportInterval: %s is not positive", c.exportInterval)
	case c.exportTimeout <= 0:
		return c, fmt.Errorf("WithExportTimeout: %s is not positive", c.exportTimeout)
	case c.exportMaxBytes <= 0:
		return c, fmt.Errorf("WithExportMaxBytes: %d is not positive", c.exportMaxBytes)
	case c.memRecords < 0 || c.memBytes < 0:
		return c, fmt.Errorf("WithMemoryQueue: %d records, %d bytes: negative", c.memRecords, c.memBytes)
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	return c, nil
}

// segmentBytes is the size at which the spool starts a new segment file:
// small enough that deleting exported segments frees space steadily and
// DropOldest discards a small part of the spool, large enough that files
// stay few.
func (c *durableConfig) segmentBytes() int64 {
	return min(max(c.maxBytes/segmentsPerSpool, minSegmentBytes), maxSegmentBytes)
}

// WithSync sets when the spool fsyncs: SyncAlways or SyncInterval(d). The
// default is SyncInterval(DefaultSyncInterval).
func WithSync(p SyncPolicy) DurableOption {
	return durableOptionFunc(func(c *durableConfig) { c.sync = p })
}

// WithMaxBytes bounds the encoded records waiting to be exported (default
// DefaultMaxBytes). Disk use can exceed it by up to two segments (a
// segment is a sixteenth of n, at most 64 MiB): the exported part of the
// oldest segment and, on Linux, where segments are preallocated, the
// unwritten rest of the one being written.
func WithMaxBytes(n int64) DurableOption {
	return durableOptionFunc(func(c *durableConfig) { c.maxBytes = n })
}

// WithOnFull sets what happens to a record when the spool is full: Block(d),
// DropNewest or DropOldest. The default is Block(DefaultBlockTimeout).
func WithOnFull(p FullPolicy) DurableOption {
	return durableOptionFunc(func(c *durableConfig) { c.onFull = p })
}

// WithExportMaxBatchSize sets the most records sent in one export (default
// DefaultExportMaxBatch).
func WithExportMaxBatchSize(n int) DurableOption {
	return durableOptionFunc(func(c *durableConfig) { c.exportMaxBatch = n })
}

// WithExportInterval sets how long the sender waits for a batch to fill
// before exporting what it has (default DefaultExportInterval).
func WithExportInterval(d time.Duration) DurableOption {
	return durableOptionFunc(func(c *durableConfig) { c.exportInterval = d })
}

// WithExportTimeout bounds one export attempt (default
// DefaultExportTimeout). A failed or timed-out attempt is retried with
// backoff, without end.
func WithExportTimeout(d time.Duration) DurableOption {
	return durableOptionFunc(func(c *durableConfig) { c.exportTimeout = d })
}

// WithExportMaxBytes bounds the encoded size of the records in one export,
// so that a request stays within the collector's limit (default
// DefaultExportMaxBytes). A batch is cut before the record that would pass
// the bound, so a large record travels alone; a record larger than n by
// itself could never be delivered and is refused by OnEmit with an error.
func WithExportMaxBytes(n int) DurableOption {
	return durableOptionFunc(func(c *durableConfig) { c.exportMaxBytes = n })
}

// WithMeterProvider sets where the spool's metrics go (default the global
// MeterProvider).
func WithMeterProvider(mp metric.MeterProvider) DurableOption {
	return durableOptionFunc(func(c *durableConfig) { c.meterProvider = mp })
}

// WithMemoryQueue bounds the copies of spooled records kept in memory, by
// count and by encoded bytes (default DefaultMemoryQueueRecords and
// DefaultMemoryQueueBytes); 0 for either turns the copies off. The sender
// exports a kept copy as it is, where it would otherwise read the record
// back from disk, decode it and rebuild it: the copies save that CPU while
// the exporter keeps up. Every record is on disk whatever the bound: a
// record that finds the memory queue full is exported from disk.
func WithMemoryQueue(records int, bytes int64) DurableOption {
	return durableOptionFunc(func(c *durableConfig) { c.memRecords, c.memBytes = records, bytes })
}
