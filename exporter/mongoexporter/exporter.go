package mongoexporter

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelaudit/otelaudit/exporter/mongoexporter/internal/metadata"
	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/mongostore"
)

func newExporter(cfg *Config, set exporter.Settings) (*storeexporter.Exporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("mongo: create telemetry: %w", err)
	}
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
		Integrity: cfg.Integrity,
		ID:        set.ID.String(),
		Telemetry: storeexporter.Telemetry{
			RecordsWritten:    tb.ExporterMongoRecordsWritten,
			DuplicatesSkipped: tb.ExporterMongoDuplicatesSkipped,
			RecordsDegraded:   tb.ExporterMongoRecordsDegraded,
			WriteDuration:     tb.ExporterMongoWriteDuration,
		},
	}), nil
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
