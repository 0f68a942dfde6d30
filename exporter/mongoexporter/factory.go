// Package mongoexporter is the collector exporter of type `mongo`: it
// stores log records in a MongoDB collection through mongostore,
// idempotently on _id, behind exporterhelper's queue and retries.
package mongoexporter

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/store/mongostore"
)

// Type is the component type of the exporter.
var Type = component.MustNewType("mongo")

const stability = component.StabilityLevelBeta

// NewFactory returns the factory of the mongo exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(Type, createDefaultConfig, exporter.WithLogs(createLogs, stability))
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
	return storeexporter.NewLogs(ctx, set, cfg, newExporter(c, set), c.ExporterSettings)
}
