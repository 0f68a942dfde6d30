package postgresexporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelaudit/otelaudit/internal/logconv"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
)

type pgExporter struct {
	cfg    *Config
	logger *zap.Logger

	mu    sync.Mutex
	store *pgstore.Store // nil until the database was reached

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

func newExporter(cfg *Config, set exporter.Settings) *pgExporter {
	return &pgExporter{cfg: cfg, logger: set.Logger, stop: make(chan struct{})}
}

// start connects and migrates. Errors that retrying cannot fix (a wrong
// password, an unknown database or role, a bad DSN) fail the collector's
// start; an unreachable server does not: records wait in the queue and the
// exporter connects when it comes back.
func (e *pgExporter) start(ctx context.Context, _ component.Host) error {
	if _, err := e.connect(ctx); err != nil {
		if permanentConnectError(err) {
			return err
		}
		e.logger.Warn("PostgreSQL unreachable at start; records are queued until it is back", zap.Error(err))
	}
	if e.cfg.Retention > 0 {
		e.wg.Add(1)
		go e.retentionLoop()
	}
	return nil
}

// connect returns the store, opening and migrating it on first use.
func (e *pgExporter) connect(ctx context.Context) (*pgstore.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store != nil {
		return e.store, nil
	}
	s, err := pgstore.Open(ctx, e.cfg.storeConfig())
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	e.store = s
	e.logger.Info("connected to PostgreSQL", zap.String("table", s.Table()), zap.String("partition", e.cfg.Partition))
	return s, nil
}

// permanentConnectError reports errors that no retry fixes: authentication
// and authorisation (class 28), an unknown database (3D000), a bad config.
func permanentConnectError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code[:2] == "28" || pgErr.Code == "3D000" || pgErr.Code == "42501"
	}
	var cfgErr *pgconn.ParseConfigError
	return errors.As(err, &cfgErr)
}

func (e *pgExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	s, err := e.connect(ctx)
	if err != nil {
		if permanentConnectError(err) {
			return consumererror.NewPermanent(err)
		}
		return fmt.Errorf("postgres exporter: %w", err) // retried
	}
	records := logconv.Records(ld)
	err = s.Write(ctx, records)
	var rejected *pgstore.RejectedError
	if errors.As(err, &rejected) {
		// The rest of the batch is stored; retrying cannot help these.
		e.logger.Error("PostgreSQL refused records", zap.Strings("ids", rejected.IDs), zap.Error(rejected.Err))
		return consumererror.NewPermanent(err)
	}
	return err
}

func (e *pgExporter) retentionLoop() {
	defer e.wg.Done()
	interval := min(time.Hour, max(time.Minute, e.cfg.Retention/24))
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		e.runRetention()
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
	}
}

func (e *pgExporter) runRetention() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	go func() {
		select {
		case <-e.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	s, err := e.connect(ctx)
	if err != nil {
		return // the next tick tries again
	}
	now := time.Now()
	res, err := s.Cleanup(ctx, now.Add(-e.cfg.Retention), store.CleanupOptions{})
	if err != nil {
		e.logger.Warn("retention cleanup failed", zap.Error(err))
		return
	}
	if res.Deleted > 0 {
		e.logger.Info("retention cleanup", zap.Int64("deleted", res.Deleted), zap.Strings("dropped_partitions", res.Dropped))
	}
	if err := s.Premake(ctx, now); err != nil {
		e.logger.Warn("making partitions ahead failed", zap.Error(err))
	}
}

func (e *pgExporter) shutdown(context.Context) error {
	e.stopOnce.Do(func() { close(e.stop) })
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store != nil {
		return e.store.Close()
	}
	return nil
}
