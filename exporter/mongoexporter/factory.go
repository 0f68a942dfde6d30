package mongoexporter

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelaudit/otelaudit/exporter/mongoexporter/internal/metadata"
	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/store/mongostore"
)

// NewFactory returns the factory of the mongo exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig, exporter.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Database:      mongostore.DefaultDatabase,
		Collection:    mongostore.DefaultCollection,
		CreateIndexes: true,
		WriteConcern:  mongostore.WriteConcernMajority,
		// Documents in the thousands per InsertMany.
		ExporterSettings: storeexporter.DefaultExporterSettings(500, 5000),
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
