// Package pgstore stores audit records in PostgreSQL: one table,
// range-partitioned by ts, written with binary COPY, idempotent on the
// record id, with retention by dropping whole partitions.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/otelaudit/otelaudit/store"
)

// Store is a PostgreSQL audit store. It is safe for concurrent use.
type Store struct {
	cfg  Config
	pool *pgxpool.Pool

	mu         sync.Mutex
	partitions map[string]bool // partitions known to exist
	notice     string          // why the last Migrate left the search index out
}

var _ store.Store = (*Store)(nil)

// Open connects to PostgreSQL and checks the connection, so that a wrong
// password or an unreachable server is reported here, within cfg.Timeout.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("pgstore: config: %w", &store.ConfigError{Err: err})
	}
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("pgstore: config: %w", &store.ConfigError{Err: fmt.Errorf("dsn: %s", dsnError(err, cfg.DSN))})
	}
	if pc.ConnConfig.ConnectTimeout == 0 || pc.ConnConfig.ConnectTimeout > cfg.Timeout {
		pc.ConnConfig.ConnectTimeout = cfg.Timeout
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "otelaudit"
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC" // partition bounds are parsed in UTC
	if cfg.ReadOnly {
		// Every transaction of every connection, implicit ones included,
		// is read-only: the server refuses any write.
		pc.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connect to %s:%d as %s: %w", pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.User, err)
	}
	return &Store{cfg: cfg, pool: pool, partitions: map[string]bool{}}, nil
}

// Close releases the connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Config returns the store's configuration with defaults applied.
func (s *Store) Config() Config { return s.cfg }

// Table returns the qualified table name.
func (s *Store) Table() string { return s.cfg.Schema + "." + s.cfg.Table }

// sql formats a statement of sql.go for this store's table.
func (s *Store) sql(format string, extra ...any) string {
	args := append([]any{s.Table(), s.cfg.Table, s.cfg.Schema}, extra...)
	return fmt.Sprintf(format, args...)
}

// migration is one versioned step of the schema.
type migration struct {
	version     int
	description string
	apply       func(ctx context.Context, s *Store, tx pgx.Tx) error
}

var migrations = []migration{
	{1, "audit table, default partition, indexes", func(ctx context.Context, s *Store, tx pgx.Tx) error {
		var lz4 bool
		if err := tx.QueryRow(ctx, sqlHasLZ4).Scan(&lz4); err != nil {
			return fmt.Errorf("check lz4 support: %w", err)
		}
		compression, partitionBy := "", ""
		if lz4 {
			compression = " COMPRESSION lz4"
		}
		if s.cfg.Partition != PartitionNone {
			partitionBy = sqlPartitionBy
		}
		if _, err := tx.Exec(ctx, s.sql(createTableV1(compression, partitionBy))); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
		if s.cfg.Partition != PartitionNone {
			if _, err := tx.Exec(ctx, s.sql(sqlCreateDefaultPartition)); err != nil {
				return fmt.Errorf("create default partition: %w", err)
			}
		}
		for _, stmt := range strings.Split(s.sql(sqlIndexes), ";\n") {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("create index: %w", err)
			}
		}
		return nil
	}},
	{2, "ids table: the record id alone is the idempotency key", func(ctx context.Context, s *Store, tx pgx.Tx) error {
		for _, stmt := range []string{sqlCreateIDs, sqlIDsIndex, sqlBackfillIDs} {
			if _, err := tx.Exec(ctx, s.sql(stmt)); err != nil {
				return fmt.Errorf("ids table: %w", err)
			}
		}
		return nil
	}},
	{3, "integrity checkpoints and the retention cut", func(ctx context.Context, s *Store, tx pgx.Tx) error {
		for _, stmt := range []string{sqlCreateCheckpoints, sqlCreatePruned} {
			if _, err := tx.Exec(ctx, s.sql(stmt)); err != nil {
				return fmt.Errorf("checkpoints table: %w", err)
			}
		}
		return nil
	}},
	{4, "trigram index for search over paths, queries, users and bodies", func(ctx context.Context, s *Store, tx pgx.Tx) error {
		if s.cfg.NoSearchIndex {
			return errDeferred
		}
		// A savepoint, so that a refused CREATE EXTENSION leaves the
		// transaction, and the migrations before, intact.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		if _, err := sp.Exec(ctx, sqlCreateTrgm); err != nil {
			if rbErr := sp.Rollback(ctx); rbErr != nil {
				return fmt.Errorf("roll back to savepoint: %w", rbErr)
			}
			s.setNotice(fmt.Sprintf("search is not indexed: %q failed (%v); a superuser (or the database owner, pg_trgm being a trusted extension) can run it in this database, then run migrate again; search works meanwhile, unindexed", sqlCreateTrgm, err))
			return errDeferred
		}
		if err := sp.Commit(ctx); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
		if _, err := tx.Exec(ctx, s.sql(sqlSearchIndex)); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		return nil
	}},
}

// errDeferred is returned by a migration that is left for a later Migrate:
// it is not recorded as applied.
var errDeferred = errors.New("deferred")

func (s *Store) setNotice(msg string) {
	s.mu.Lock()
	s.notice = msg
	s.mu.Unlock()
}

// Notice returns why the last Migrate left an optional part of the schema
// out (the search index, when pg_trgm could not be created), or "".
func (s *Store) Notice() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notice
}

// Migrate creates or upgrades the schema. Versions applied are recorded in
// <table>_migrations; an advisory lock makes concurrent Migrate calls (several
// collectors starting at once) run one after the other. It then makes the
// partitions of the coming Premake days or months.
func (s *Store) Migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlLock, "otelaudit:"+s.Table()); err != nil {
			return fmt.Errorf("advisory lock: %w", err)
		}
		if s.cfg.CreateSchema {
			if _, err := tx.Exec(ctx, s.sql(sqlCreateSchema)); err != nil {
				return fmt.Errorf("create schema %s: %w", s.cfg.Schema, err)
			}
		}
		if _, err := tx.Exec(ctx, s.sql(sqlMigrationsTable)); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
		applied := map[int]bool{}
		rows, err := tx.Query(ctx, s.sql(sqlAppliedVersions))
		if err != nil {
			return fmt.Errorf("read applied migrations: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("read applied migrations: %w", err)
			}
			applied[v] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read applied migrations: %w", err)
		}
		s.setNotice("")
		for _, m := range migrations {
			if applied[m.version] {
				continue
			}
			err := m.apply(ctx, s, tx)
			if errors.Is(err, errDeferred) {
				continue
			}
			if err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.description, err)
			}
			if _, err := tx.Exec(ctx, s.sql(sqlRecordMigration), m.version, m.description); err != nil {
				return fmt.Errorf("record migration %d: %w", m.version, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate %s: %w", s.Table(), err)
	}
	if err := s.loadPartitions(ctx); err != nil {
		return err
	}
	return s.Premake(ctx, time.Now())
}
