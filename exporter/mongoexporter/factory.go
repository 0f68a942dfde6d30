// Package mongoexporter is the collector exporter of type `mongo`: it
// stores log records in a MongoDB collection through mongostore,
// idempotently on _id, behind exporterhelper's queue and retries.
package mongoexporter

import (
	"context"
	"errors"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/store"
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
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: storeexporter.DefaultTimeout},
		QueueSettings: storeexporter.BatchedQueue(500, 5000), // documents in the thousands per InsertMany
		BackOffConfig: configretry.NewDefaultBackOffConfig(),
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	return storeexporter.NewLogs(ctx, set, cfg, newExporter(c, set),
		storeexporter.Helper{Timeout: c.TimeoutConfig, Queue: c.QueueSettings, Retry: c.BackOffConfig})
}

func newExporter(cfg *Config, set exporter.Settings) *storeexporter.Exporter {
	return storeexporter.New(storeexporter.Settings{
		Name: "MongoDB",
		Open: func(ctx context.Context) (store.Store, error) {
			s, err := mongostore.Open(ctx, cfg.storeConfig())
			if err != nil {
				return nil, err
			}
			if cfg.CreateIndexes {
				if err := s.Migrate(ctx); err != nil {
					s.Close()
					return nil, err
				}
				if cfg.Retention > 0 && !s.TTLSupported {
					set.Logger.Info("the server has no TTL indexes; retention runs as periodic cleanup")
				}
			}
			return s, nil
		},
		Permanent: permanentConnectError,
		Retention: cfg.Retention,
		Logger:    set.Logger,
	})
}

// permanentConnectError reports errors no retry fixes: failed
// authentication (18), missing privileges (13). (A bad connection string
// or configuration is a store.ConfigError, which storeexporter treats as
// permanent.)
func permanentConnectError(err error) bool {
	var cmdErr mongo.CommandError
	if errors.As(err, &cmdErr) {
		return cmdErr.Code == 18 || cmdErr.Code == 13
	}
	msg := err.Error()
	return strings.Contains(msg, "auth error") || strings.Contains(msg, "AuthenticationFailed")
}
