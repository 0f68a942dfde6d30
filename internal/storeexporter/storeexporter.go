// Package storeexporter is what the postgres and mongo exporters share:
// connect lazily (an unreachable database delays records, it does not fail
// the collector's start), convert pdata with logconv before the queue
// (which holds the converted rows: rows.go, queueencoding.go), write through a
// store.Store, classify errors for exporterhelper's retries, run retention
// on a timer; the timeout, queue and retry settings both embed, handed to
// exporterhelper as they are, and the checks of the settings both have
// (settings.go); the instruments they record to (telemetry.go).
package storeexporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/logconv"
	"github.com/otelaudit/otelaudit/store"
)

// Settings describe one backend.
type Settings struct {
	// Name is the backend's name in logs and errors ("PostgreSQL").
	Name string
	// Open connects to the backend and migrates it.
	Open func(ctx context.Context) (store.Store, error)
	// Permanent reports connection errors no retry can fix (bad
	// credentials, unknown database): they fail the start. A
	// *store.ConfigError always is.
	Permanent func(error) bool
	// Retention > 0 runs Cleanup every min(1h, Retention/24).
	Retention time.Duration
	Logger    *zap.Logger
	// Telemetry are the exporter's generated instruments.
	Telemetry Telemetry
	// Integrity, when set, writes every batch with a signed checkpoint
	// (internal/integrity); the writer name defaults to the host name and
	// ID, the exporter's component id.
	Integrity *integrity.Config
	ID        string
}

// Exporter writes log records to a store.
type Exporter struct {
	set Settings

	mu    sync.Mutex
	store store.Store // nil until the backend was reached

	sealer *integrity.Sealer // nil without integrity

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// New returns an exporter for set.
func New(set Settings) *Exporter {
	set.Telemetry = set.Telemetry.withDefaults()
	return &Exporter{set: set, stop: make(chan struct{})}
}

// Start loads the signing key when integrity is on (a key that cannot be
// loaded, or that others may read, fails the start) and connects.
// Permanent errors fail the start; an unreachable backend does not:
// records wait in the queue until it is back.
func (e *Exporter) Start(ctx context.Context, _ component.Host) error {
	if ic := e.set.Integrity; ic != nil {
		signer, err := ic.Signer()
		if err != nil {
			return err
		}
		writer := ic.Writer
		if writer == "" {
			writer = integrity.DefaultWriter(e.set.ID)
		}
		if e.sealer, err = integrity.NewSealer(writer, signer); err != nil {
			return fmt.Errorf("integrity: %w", err)
		}
		e.set.Logger.Info("integrity checkpoints on", zap.String("writer", writer), zap.String("key", signer.Name()))
	}
	if _, err := e.connect(ctx); err != nil {
		if e.permanent(err) {
			return err
		}
		e.set.Logger.Warn(e.set.Name+" unreachable at start; records are queued until it is back", zap.Error(err))
	}
	if e.set.Retention > 0 {
		e.wg.Add(1)
		go e.retentionLoop()
	}
	return nil
}

func (e *Exporter) permanent(err error) bool {
	var cfgErr *store.ConfigError
	return errors.As(err, &cfgErr) || e.set.Permanent(err)
}

func (e *Exporter) connect(ctx context.Context) (store.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store != nil {
		return e.store, nil
	}
	s, err := e.set.Open(ctx)
	if err != nil {
		return nil, err
	}
	e.store = s
	e.set.Logger.Info("connected to " + e.set.Name)
	return s, nil
}

// Push is the exporterhelper push function. Connection errors are returned
// as they are (retried). Records the backend stored only in degraded form
// are logged (warning, with their ids) and count as delivered; records it
// refused even so, after it stored the rest of the batch, are logged
// (error) and returned as a permanent error: no retry can store them.
func (e *Exporter) Push(ctx context.Context, ld plog.Logs) error {
	return e.pushRecords(ctx, logconv.Records(ld))
}

// pushRequest is the push function of the exporter's requests.
func (e *Exporter) pushRequest(ctx context.Context, req xexporterhelper.Request) error {
	rr, ok := req.(*rowsRequest)
	if !ok {
		return consumererror.NewPermanent(fmt.Errorf("%s: cannot export a %T", e.set.Name, req))
	}
	return e.pushRecords(ctx, rr.records)
}

// pushRecords is Push of records logconv converted.
func (e *Exporter) pushRecords(ctx context.Context, records []store.Record) error {
	s, err := e.connect(ctx)
	if err != nil {
		if e.permanent(err) {
			return consumererror.NewPermanent(err)
		}
		return fmt.Errorf("%s: %w", e.set.Name, err)
	}
	start := time.Now()
	var res store.WriteResult
	if cs, ok := s.(store.CheckpointStore); ok && e.sealer != nil {
		res, err = e.sealer.Write(ctx, cs, records)
	} else {
		res, err = s.Write(ctx, records)
	}
	e.set.Telemetry.recordWrite(ctx, time.Since(start), res)
	var degraded *store.DegradedError
	if errors.As(err, &degraded) {
		e.set.Logger.Warn(e.set.Name+" refused records as they were; stored them without bodies, headers and attributes",
			zap.Int("count", len(degraded.IDs)), zap.Strings("ids", degraded.IDs), zap.Error(degraded.Err))
	}
	var rejected *store.RejectedError
	if errors.As(err, &rejected) {
		e.set.Logger.Error(e.set.Name+" refused records even in degraded form; the rest of the batch is stored",
			zap.Int("count", len(rejected.IDs)), zap.Strings("ids", rejected.IDs), zap.Error(rejected.Err))
		return consumererror.NewPermanent(err)
	}
	if degraded != nil {
		return nil
	}
	return err
}

// premaker is implemented by stores that make partitions ahead.
type premaker interface {
	Premake(ctx context.Context, now time.Time) error
}

func (e *Exporter) retentionLoop() {
	defer e.wg.Done()
	t := time.NewTicker(min(time.Hour, max(time.Minute, e.set.Retention/24)))
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

// runRetention removes records older than the retention, now.
func (e *Exporter) runRetention() {
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
	res, err := s.Cleanup(ctx, now.Add(-e.set.Retention), store.CleanupOptions{})
	if err != nil {
		e.set.Logger.Warn("retention cleanup failed", zap.Error(err))
		return
	}
	if n := len(res.Dropped); n > 0 {
		e.set.Telemetry.PartitionsDropped.Add(ctx, int64(n))
	}
	if res.Deleted > 0 {
		e.set.Logger.Info("retention cleanup", zap.Int64("deleted", res.Deleted), zap.Strings("dropped_partitions", res.Dropped))
	}
	if p, ok := s.(premaker); ok {
		if err := p.Premake(ctx, now); err != nil {
			e.set.Logger.Warn("making partitions ahead failed", zap.Error(err))
		}
	}
}

// Shutdown stops the retention timer and closes the store.
func (e *Exporter) Shutdown(context.Context) error {
	e.stopOnce.Do(func() { close(e.stop) })
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store != nil {
		return e.store.Close()
	}
	return nil
}
