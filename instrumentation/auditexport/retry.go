// Package auditexport holds what a service needs between its audit records
// and its OpenTelemetry log exporter so that no record is lost unseen.
//
// NewDurableProcessor replaces the SDK's BatchProcessor, which keeps records
// in memory and drops the oldest when its queue is full: it writes every
// record to a spool on disk before OnEmit returns, exports from the spool
// in batches, retrying without end, and drops records only by an explicit,
// counted policy when the spool is full. See docs/durability.md.
//
//	exp, _ := otlploghttp.New(ctx)
//	dp, err := auditexport.NewDurableProcessor(exp, "/var/lib/myservice/audit-spool")
//	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(dp))
//
// Retrying is the lighter choice for a BatchProcessor: it retries every
// failed export, with backoff, until the export's deadline (the
// BatchProcessor's export timeout, 30 s by default). Records of a longer
// outage, and those in memory when the service crashes, are lost.
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
	return retry(ctx, func() error { return r.next.Export(ctx, records) }, func(error) bool { return true })
}

// retry calls try until it succeeds, ctx ends or again (given the failure)
// says to stop, waiting with exponential backoff between attempts. It
// returns nil or the last failure: that says more than "context deadline
// exceeded".
func retry(ctx context.Context, try func() error, again func(error) bool) error {
	wait := initialBackoff
	for {
		err := try()
		if err == nil {
			return nil
		}
		if !again(err) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(wait*2, maxBackoff)
	}
}

func (r *retrying) Shutdown(ctx context.Context) error   { return r.next.Shutdown(ctx) }
func (r *retrying) ForceFlush(ctx context.Context) error { return r.next.ForceFlush(ctx) }
