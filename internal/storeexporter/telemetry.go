package storeexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/otelaudit/otelaudit/store"
)

// Telemetry are the instruments an exporter records to: the ones mdatagen
// generated from the exporter's metadata.yaml. A nil instrument is not
// recorded (the mongo exporter has no partitions).
type Telemetry struct {
	// RecordsWritten counts the records a Write newly stored, degraded
	// ones included; not duplicates, not refused ones.
	RecordsWritten metric.Int64Counter
	// DuplicatesSkipped counts the records not written again because their
	// id was stored already.
	DuplicatesSkipped metric.Int64Counter
	// RecordsDegraded counts the records stored in degraded form.
	RecordsDegraded metric.Int64Counter
	// WriteDuration records how long each Write took, in seconds.
	WriteDuration metric.Float64Histogram
	// PartitionsDropped counts the partitions the retention cleanup dropped.
	PartitionsDropped metric.Int64Counter
}

// withDefaults replaces nil instruments with no-op ones.
func (t Telemetry) withDefaults() Telemetry {
	var m noop.Meter
	for _, c := range []*metric.Int64Counter{&t.RecordsWritten, &t.DuplicatesSkipped, &t.RecordsDegraded, &t.PartitionsDropped} {
		if *c == nil {
			*c, _ = m.Int64Counter("")
		}
	}
	if t.WriteDuration == nil {
		t.WriteDuration, _ = m.Float64Histogram("")
	}
	return t
}

// recordWrite records one Write that took d and did res.
func (t Telemetry) recordWrite(ctx context.Context, d time.Duration, res store.WriteResult) {
	t.WriteDuration.Record(ctx, d.Seconds())
	for _, c := range []struct {
		counter metric.Int64Counter
		n       int
	}{{t.RecordsWritten, res.Written}, {t.DuplicatesSkipped, res.Duplicates}, {t.RecordsDegraded, res.Degraded}} {
		if c.n > 0 {
			c.counter.Add(ctx, int64(c.n))
		}
	}
}
