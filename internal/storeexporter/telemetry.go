package storeexporter

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/otelaudit/otelaudit/store"
)

// Telemetry are the instruments an exporter records to: the ones mdatagen
// generated from the exporter's metadata.yaml. A nil instrument is not
// recorded (the mongo exporter has no partitions).
type Telemetry struct {
	// RecordsWritten counts the records of a batch the store reported
	// written: all of them when Write succeeds, all but the refused ones
	// when it returns a store.RejectedError.
	RecordsWritten metric.Int64Counter
	// WriteDuration records how long each Write took, in seconds.
	WriteDuration metric.Float64Histogram
	// PartitionsDropped counts the partitions the retention cleanup dropped.
	PartitionsDropped metric.Int64Counter
}

// withDefaults replaces nil instruments with no-op ones.
func (t Telemetry) withDefaults() Telemetry {
	var m noop.Meter
	if t.RecordsWritten == nil {
		t.RecordsWritten, _ = m.Int64Counter("")
	}
	if t.WriteDuration == nil {
		t.WriteDuration, _ = m.Float64Histogram("")
	}
	if t.PartitionsDropped == nil {
		t.PartitionsDropped, _ = m.Int64Counter("")
	}
	return t
}

// recordWrite records one Write of n records that took d and returned err.
func (t Telemetry) recordWrite(ctx context.Context, n int, d time.Duration, err error) {
	t.WriteDuration.Record(ctx, d.Seconds())
	var rejected *store.RejectedError
	switch {
	case err == nil:
	case errors.As(err, &rejected):
		n -= len(rejected.IDs) // the rest of the batch is stored
	default:
		return
	}
	if n > 0 {
		t.RecordsWritten.Add(ctx, int64(n))
	}
}
