// Package postgresexporter is the collector exporter of type `postgres`:
// it stores log records in a partitioned PostgreSQL table through pgstore,
// idempotently, behind exporterhelper's queue and retries.
package postgresexporter

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

// Type is the component type of the exporter.
var Type = component.MustNewType("postgres")

const stability = component.StabilityLevelBeta

// NewFactory returns the factory of the postgres exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(Type, createDefaultConfig, exporter.WithLogs(createLogs, stability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Table:        pgstore.DefaultTable,
		Schema:       pgstore.DefaultSchema,
		Partition:    pgstore.PartitionDay,
		Premake:      pgstore.DefaultPremake,
		CreateSchema: true,
		// COPY wants batches in the thousands.
		ExporterSettings: storeexporter.DefaultExporterSettings(1000, 10000),
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	return storeexporter.NewLogs(ctx, set, cfg, newExporter(c, set), c.ExporterSettings)
}
