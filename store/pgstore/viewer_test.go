package pgstore_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// A ReadOnly store reads, and the server refuses its writes, the ones
// Write sends and any other.
func TestReadOnlyRefusesWrites(t *testing.T) {
	rw := open(t, pgstore.Config{})
	rec := storetest.NewRecord(time.Now().UTC(), 1)
	if _, err := rw.Write(context.Background(), []store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	cfg := rw.Config()
	cfg.ReadOnly = true
	ro, err := pgstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Get(context.Background(), rec.ID); err != nil {
		t.Fatalf("read through the read-only store: %v", err)
	}
	_, err = ro.Write(context.Background(), []store.Record{storetest.NewRecord(time.Now().UTC(), 2)})
	if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Errorf("write through the read-only store: %v, want a read-only transaction error", err)
	}
	if _, err := ro.Cleanup(context.Background(), time.Now().Add(time.Hour), store.CleanupOptions{}); err == nil {
		t.Error("cleanup through the read-only store succeeded")
	}
	if n, err := rw.Count(context.Background(), store.Filter{}); err != nil || n != 1 {
		t.Errorf("count after refused writes = %d, %v; want 1", n, err)
	}
}

// Migrate makes the trigram index, and a search uses it.
func TestSearchIndexUsed(t *testing.T) {
	s := open(t, pgstore.Config{Partition: pgstore.PartitionNone})
	if s.Notice() != "" {
		t.Fatalf("notice after migrate: %s", s.Notice())
	}
	plan := pgstore.ExplainSearch(t, s, "refund")
	if !strings.Contains(plan, "_search_trgm") {
		t.Errorf("search plan does not use the trigram index:\n%s", plan)
	}
}

// Without the right to create pg_trgm, Migrate succeeds, says why search
// is not indexed, and search still works; once the extension exists, the
// next Migrate adds the index.
func TestSearchIndexFallback(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	ctx := context.Background()
	c := conn(t)
	db := testdb.Name("notrgm")
	role := testdb.Name("viewer")
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"CREATE DATABASE " + db + " OWNER postgres",
		"GRANT CONNECT, TEMP ON DATABASE " + db + " TO " + role,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	adminDSN := u.String()
	// The role owns its schema, but may not create extensions in the
	// database (pg_trgm is trusted: that needs CREATE on the database).
	if _, err := adminExec(t, adminDSN, "CREATE SCHEMA app AUTHORIZATION "+role); err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	s, err := pgstore.Open(ctx, pgstore.Config{DSN: u.String(), Table: "audit", Schema: "app", Partition: pgstore.PartitionNone})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate without the right to create pg_trgm: %v", err)
	}
	if n := s.Notice(); !strings.Contains(n, "search is not indexed") || !strings.Contains(n, "CREATE EXTENSION IF NOT EXISTS pg_trgm") {
		t.Errorf("notice = %q, want the reason search is not indexed", n)
	}
	rec := storetest.NewRecord(time.Now().UTC(), 1)
	rec.ResponseBody = "refund issued"
	if _, err := s.Write(ctx, []store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Query(ctx, store.Filter{Q: "REFUND"})
	if err != nil || len(got) != 1 {
		t.Fatalf("unindexed search = %d records, %v; want 1", len(got), err)
	}
	if _, err := adminExec(t, adminDSN, "CREATE EXTENSION IF NOT EXISTS pg_trgm"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.Notice(); n != "" {
		t.Errorf("notice after the extension was created: %q", n)
	}
	if plan := pgstore.ExplainSearch(t, s, "refund"); !strings.Contains(plan, "_search_trgm") {
		t.Errorf("search plan after the second migrate does not use the trigram index:\n%s", plan)
	}
}

// adminExec runs one statement on dsn.
func adminExec(t *testing.T, dsn, q string) (pgconn.CommandTag, error) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	return c.Exec(context.Background(), q)
}
