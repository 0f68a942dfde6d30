package postgresexporter

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelaudit/otelaudit/exporter/postgresexporter/internal/metadata"
	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

// NewFactory returns the factory of the postgres exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig, exporter.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Table:        pgstore.DefaultTable,
		Schema:       pgstore.DefaultSchema,
		Partition:    pgstore.PartitionDay,
		Premake:      pgstore.DefaultPremake,
		CreateSchema: true,
		SearchIndex:  true,
		// COPY wants batches in the thousands.
		ExporterSettings: storeexporter.DefaultExporterSettings(1000, 10000),
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newExporter(c, set)
	if err != nil {
		return nil, err
	}
	return storeexporter.NewLogs(ctx, set, e, c.ExporterSettings)
}
