// Package postgresexporter is the collector exporter of type `postgres`:
// it stores log records in a partitioned PostgreSQL table through pgstore,
// idempotently, behind exporterhelper's queue and retries.
package postgresexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelaudit/otelaudit/store/pgstore"
)

// Type is the component type of the exporter.
var Type = component.MustNewType("postgres")

const stability = component.StabilityLevelBeta

// NewFactory returns the factory of the postgres exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(Type, createDefaultConfig, exporter.WithLogs(createLogs, stability))
}

// defaultQueue is exporterhelper's queue with batching on: rows are written
// with COPY, which wants batches in the thousands.
func defaultQueue() exporterhelper.QueueBatchConfig {
	q := exporterhelper.NewDefaultQueueConfig()
	b := exporterhelper.NewDefaultBatchConfig()
	b.MinSize = 1000
	b.MaxSize = 10000
	b.FlushTimeout = 500 * time.Millisecond
	q.Batch = configoptional.Some(b)
	return q
}

func createDefaultConfig() component.Config {
	return &Config{
		Table:         pgstore.DefaultTable,
		Schema:        pgstore.DefaultSchema,
		Partition:     pgstore.PartitionDay,
		Premake:       pgstore.DefaultPremake,
		CreateSchema:  true,
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: 30 * time.Second},
		QueueSettings: configoptional.Some(defaultQueue()),
		BackOffConfig: configretry.NewDefaultBackOffConfig(),
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e := newExporter(c, set)
	return exporterhelper.NewLogs(ctx, set, cfg, e.Push,
		exporterhelper.WithStart(e.Start),
		exporterhelper.WithShutdown(e.Shutdown),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithQueue(c.QueueSettings),
		exporterhelper.WithRetry(c.BackOffConfig),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
	)
}
