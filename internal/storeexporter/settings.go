package storeexporter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
)

// DefaultTimeout bounds one write.
const DefaultTimeout = 30 * time.Second

// ExporterSettings are the timeout, queue and retry settings both exporters
// embed (with `mapstructure:",squash"`), so that their keys are timeout,
// sending_queue and retry_on_failure as in every exporterhelper exporter.
type ExporterSettings struct {
	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	QueueSettings                configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	configretry.BackOffConfig    `mapstructure:"retry_on_failure"`
}

// DefaultExporterSettings are the defaults of ExporterSettings: the default
// timeout and retries, and exporterhelper's queue with batching on, in
// batches of minBatch to maxBatch records: stores write best in bulk.
func DefaultExporterSettings(minBatch, maxBatch int64) ExporterSettings {
	q := exporterhelper.NewDefaultQueueConfig()
	b := exporterhelper.NewDefaultBatchConfig()
	b.MinSize = minBatch
	b.MaxSize = maxBatch
	b.FlushTimeout = 500 * time.Millisecond
	q.Batch = configoptional.Some(b)
	return ExporterSettings{
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: DefaultTimeout},
		QueueSettings: configoptional.Some(q),
		BackOffConfig: configretry.NewDefaultBackOffConfig(),
	}
}

// NewLogs wraps e in exporterhelper with the timeout, queue and retries of
// s. Logs are converted to rows as they arrive, and the queue, the batches
// and a persistent queue hold the rows (rowsEncoding), not pdata.
func NewLogs(ctx context.Context, set exporter.Settings, e *Exporter, s ExporterSettings) (exporter.Logs, error) {
	return xexporterhelper.NewLogsRequest(ctx, set, toRows, e.pushRequest,
		exporterhelper.WithStart(e.Start),
		exporterhelper.WithShutdown(e.Shutdown),
		exporterhelper.WithTimeout(s.TimeoutConfig),
		xexporterhelper.WithQueueBatch(s.QueueSettings, queueBatchSettings()),
		exporterhelper.WithRetry(s.BackOffConfig),
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
