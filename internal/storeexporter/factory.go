package storeexporter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// DefaultTimeout bounds one write.
const DefaultTimeout = 30 * time.Second

// BatchedQueue is exporterhelper's queue with batching on, in batches of
// minSize to maxSize records: stores write best in bulk.
func BatchedQueue(minSize, maxSize int64) configoptional.Optional[exporterhelper.QueueBatchConfig] {
	q := exporterhelper.NewDefaultQueueConfig()
	b := exporterhelper.NewDefaultBatchConfig()
	b.MinSize = minSize
	b.MaxSize = maxSize
	b.FlushTimeout = 500 * time.Millisecond
	q.Batch = configoptional.Some(b)
	return configoptional.Some(q)
}

// Helper is the part of an exporter's configuration exporterhelper uses.
type Helper struct {
	Timeout exporterhelper.TimeoutConfig
	Queue   configoptional.Optional[exporterhelper.QueueBatchConfig]
	Retry   configretry.BackOffConfig
}

// NewLogs wraps e in exporterhelper: timeout, queue and retries.
func NewLogs(ctx context.Context, set exporter.Settings, cfg component.Config, e *Exporter, h Helper) (exporter.Logs, error) {
	return exporterhelper.NewLogs(ctx, set, cfg, e.Push,
		exporterhelper.WithStart(e.Start),
		exporterhelper.WithShutdown(e.Shutdown),
		exporterhelper.WithTimeout(h.Timeout),
		exporterhelper.WithQueue(h.Queue),
		exporterhelper.WithRetry(h.Retry),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
	)
}

// ValidateRetentionAndTimeout checks the settings both exporters have, with
// errors naming their keys.
func ValidateRetentionAndTimeout(retention, timeout time.Duration) error {
	var errs []error
	if retention != 0 && retention < time.Hour {
		errs = append(errs, fmt.Errorf("retention: %s is shorter than an hour; 0 keeps records for ever", retention))
	}
	if timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be > 0"))
	}
	return errors.Join(errs...)
}
