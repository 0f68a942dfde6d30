// Package auditexport holds what a service needs around its OpenTelemetry
// log exporter so that audit records survive a collector restart.
//
// The OTLP exporters retry only some failures: a collector that is being
// restarted refuses connections, and the records of that moment are
// dropped. Retrying wraps an exporter so that every failed export is tried
// again, with backoff, until the export's deadline (the BatchProcessor's
// export timeout, 30 s by default).
//
//	exp, _ := otlploghttp.New(ctx)
//	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(
//		sdklog.NewBatchProcessor(auditexport.Retrying(exp))))
package auditexport

import (
	"context"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Backoff bounds of Retrying.
const (
	initialBackoff = 100 * time.Millisecond
	maxBackoff     = 2 * time.Second
)

// Retrying returns an exporter that retries every failed Export of next
// until it succeeds or the export's context ends.
func Retrying(next sdklog.Exporter) sdklog.Exporter { return &retrying{next: next} }

type retrying struct{ next sdklog.Exporter }

func (r *retrying) Export(ctx context.Context, records []sdklog.Record) error {
	wait := initialBackoff
	for {
		err := r.next.Export(ctx, records)
		if err == nil {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err // the last failure says more than "context deadline exceeded"
		case <-t.C:
		}
		wait = min(wait*2, maxBackoff)
	}
}

func (r *retrying) Shutdown(ctx context.Context) error   { return r.next.Shutdown(ctx) }
func (r *retrying) ForceFlush(ctx context.Context) error { return r.next.ForceFlush(ctx) }
