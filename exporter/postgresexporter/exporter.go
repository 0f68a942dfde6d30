package postgresexporter

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelaudit/otelaudit/exporter/postgresexporter/internal/metadata"
	"github.com/otelaudit/otelaudit/internal/storeexporter"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

func newExporter(cfg *Config, set exporter.Settings) (*storeexporter.Exporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("postgres: create telemetry: %w", err)
	}
	return storeexporter.New(storeexporter.Settings{
		Name: "PostgreSQL",
		Open: func(ctx context.Context) (store.Store, error) {
			sc := cfg.storeConfig()
			sc.PartitionCreated = func(string) { tb.ExporterPostgresPartitionsCreated.Add(context.Background(), 1) }
			s, err := pgstore.Open(ctx, sc)
			if err != nil {
				return nil, err
			}
			if err := s.Migrate(ctx); err != nil {
				s.Close()
				return nil, err
			}
			if n := s.Notice(); n != "" {
				set.Logger.Warn(n)
			}
			return s, nil
		},
		Permanent: permanentConnectError,
		Retention: cfg.Retention,
		Logger:    set.Logger,
		Integrity: cfg.Integrity,
		ID:        set.ID.String(),
		Telemetry: storeexporter.Telemetry{
			RecordsWritten:    tb.ExporterPostgresRecordsWritten,
			DuplicatesSkipped: tb.ExporterPostgresDuplicatesSkipped,
			RecordsDegraded:   tb.ExporterPostgresRecordsDegraded,
			WriteDuration:     tb.ExporterPostgresWriteDuration,
			PartitionsDropped: tb.ExporterPostgresPartitionsDropped,
		},
	}), nil
}

// permanentConnectError reports errors that no retry fixes: authentication
// and authorisation (class 28), an unknown database (3D000), missing
// privileges (42501). (A bad DSN is a store.ConfigError, which
// storeexporter treats as permanent.)
func permanentConnectError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code[:2] == "28" || pgErr.Code == "3D000" || pgErr.Code == "42501")
}
