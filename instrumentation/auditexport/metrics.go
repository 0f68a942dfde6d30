package auditexport

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// meterName is the instrumentation scope of the spool's metrics.
const meterName = "github.com/otelaudit/otelaudit/instrumentation/auditexport"

// Reasons of otelaudit.spool.dropped.
const (
	dropFullNewest = "full_newest"   // spool full: the new record refused (DropNewest, Block timed out)
	dropFullOldest = "full_oldest"   // spool full: an old segment deleted (DropOldest)
	dropTooLarge   = "too_large"     // larger than WithExportMaxBytes or WithMaxBytes
	dropWriteError = "write_error"   // the spool could not write the record
	dropClosed     = "closed"        // emitted after Shutdown
	dropUnreadable = "unreadable"    // in a segment that could not be read back
	dropDecode     = "undecodable"   // an intact entry whose record could not be decoded
	dropCorrupt    = "corrupt_entry" // a damaged entry skipped by the reader
)

// Kinds of otelaudit.spool.damage.
const (
	damageTornTail   = "torn_tail"          // a last entry cut short by a crash, cut off at start
	damageCorrupt    = "corrupt_entry"      // damaged bytes skipped by the reader
	damageUnreadable = "unreadable_segment" // a segment set aside as damaged
)

type spoolMetrics struct {
	exported metric.Int64Counter
	dropped  metric.Int64Counter
	failures metric.Int64Counter
	damage   metric.Int64Counter
	reg      metric.Registration
}

// pendingFunc reports the records waiting to be exported: bytes, records,
// and the age in seconds of the oldest.
type pendingFunc func() (bytes, records int64, oldestAge float64)

func newSpoolMetrics(mp metric.MeterProvider, pending pendingFunc) (*spoolMetrics, error) {
	m := mp.Meter(meterName)
	var s spoolMetrics
	var err error
	if s.exported, err = m.Int64Counter("otelaudit.spool.exported",
		metric.WithUnit("{record}"), metric.WithDescription("Records exported from the spool.")); err != nil {
		return nil, fmt.Errorf("create metric: %w", err)
	}
	if s.dropped, err = m.Int64Counter("otelaudit.spool.dropped",
		metric.WithUnit("{record}"), metric.WithDescription("Records lost, by reason.")); err != nil {
		return nil, fmt.Errorf("create metric: %w", err)
	}
	if s.failures, err = m.Int64Counter("otelaudit.spool.export.failures",
		metric.WithUnit("{export}"), metric.WithDescription("Failed export attempts (each is retried).")); err != nil {
		return nil, fmt.Errorf("create metric: %w", err)
	}
	if s.damage, err = m.Int64Counter("otelaudit.spool.damage",
		metric.WithUnit("{event}"), metric.WithDescription("Damage found in the spool, by kind.")); err != nil {
		return nil, fmt.Errorf("create metric: %w", err)
	}
	bytes, err := m.Int64ObservableGauge("otelaudit.spool.pending.bytes",
		metric.WithUnit("By"), metric.WithDescription("Encoded records in the spool not exported yet."))
	if err != nil {
		return nil, fmt.Errorf("create metric: %w", err)
	}
	records, err := m.Int64ObservableGauge("otelaudit.spool.pending.records",
		metric.WithUnit("{record}"), metric.WithDescription("Records in the spool not exported yet."))
	if err != nil {
		return nil, fmt.Errorf("create metric: %w", err)
	}
	age, err := m.Float64ObservableGauge("otelaudit.spool.oldest.age",
		metric.WithUnit("s"), metric.WithDescription("Time since the oldest record not exported yet was spooled."))
	if err != nil {
		return nil, fmt.Errorf("create metric: %w", err)
	}
	s.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		b, r, a := pending()
		o.ObserveInt64(bytes, b)
		o.ObserveInt64(records, r)
		o.ObserveFloat64(age, a)
		return nil
	}, bytes, records, age)
	if err != nil {
		return nil, fmt.Errorf("register metric callback: %w", err)
	}
	return &s, nil
}

func (s *spoolMetrics) drop(reason string, n int64) {
	if n > 0 {
		s.dropped.Add(context.Background(), n, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
	}
}

func (s *spoolMetrics) damaged(kind string) {
	s.damage.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", kind))))
}
