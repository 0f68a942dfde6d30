package pgstore_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testproxy"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

func open(t *testing.T, cfg pgstore.Config) *pgstore.Store {
	t.Helper()
	if cfg.DSN == "" {
		cfg.DSN = testdb.PostgresDSN(t)
	}
	if cfg.Table == "" {
		cfg.Table = testdb.Name("audit")
	}
	testdb.DropTable(t, cfg.DSN, "public", cfg.Table)
	s, err := pgstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, p := range []string{pgstore.PartitionDay, pgstore.PartitionMonth, pgstore.PartitionNone} {
		t.Run(p, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgstore.Config{Partition: p}) })
		})
	}
}

func conn(t *testing.T) *pgx.Conn {
	c, err := pgx.Connect(context.Background(), testdb.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestSchema(t *testing.T) {
	s := open(t, pgstore.Config{Premake: 3})
	c := conn(t)
	table := s.Config().Table
	var parts []string
	rows, _ := c.Query(context.Background(), `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, "public."+table)
	for rows.Next() {
		var n string
		rows.Scan(&n)
		parts = append(parts, n)
	}
	rows.Close()
	today := time.Now().UTC()
	want := []string{table + "_default"}
	for i := 0; i <= 3; i++ {
		want = append(want, table+"_p"+today.AddDate(0, 0, i).Format("20060102"))
	}
	for _, w := range want {
		if !contains(parts, w) {
			t.Errorf("partition %s missing; have %v", w, parts)
		}
	}
	var comp string
	c.QueryRow(context.Background(), `SELECT attcompression::text FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'request_body'`, "public."+table).Scan(&comp)
	if comp != "l" {
		t.Errorf("request_body compression %q, want lz4", comp)
	}
	var idx []string
	rows, _ = c.Query(context.Background(), `SELECT indexname FROM pg_indexes WHERE tablename = $1`, table)
	for rows.Next() {
		var n string
		rows.Scan(&n)
		idx = append(idx, n)
	}
	rows.Close()
	for _, w := range []string{"_ts_brin", "_path_ts", "_status_ts", "_user_ts", "_trace", "_pkey"} {
		if !contains(idx, table+w) {
			t.Errorf("index %s missing; have %v", table+w, idx)
		}
	}
}

// TestCreateTableV1 pins migration 1: its CREATE TABLE, built from the
// column list, is the statement that version created, byte for byte, so
// that databases migrated before and after have the same table.
func TestCreateTableV1(t *testing.T) {
	const v1 = `CREATE TABLE IF NOT EXISTS %[1]s (
	id uuid NOT NULL,
	ts timestamptz NOT NULL,
	observed_ts timestamptz,
	event_name text,
	severity_number smallint,
	severity_text text,
	service_name text,
	scope_name text,
	operation text,
	trace_id text,
	span_id text,
	method text,
	scheme text,
	host text,
	path text,
	route text,
	query text,
	status int,
	duration_ms double precision,
	user_id text,
	session_id text,
	client_address text,
	user_agent text,
	request_headers jsonb%[4]s,
	request_body text%[4]s,
	request_body_binary bytea%[4]s,
	request_body_size bigint,
	request_body_truncated boolean,
	response_headers jsonb%[4]s,
	response_body text%[4]s,
	response_body_binary bytea%[4]s,
	response_body_size bigint,
	response_body_truncated boolean,
	error_type text,
	body jsonb%[4]s,
	attributes jsonb%[4]s,
	resource jsonb%[4]s,
	PRIMARY KEY (ts, id)
)%[5]s`
	for _, args := range [][2]string{{" COMPRESSION lz4", " PARTITION BY RANGE (ts)"}, {"", ""}} {
		want := strings.NewReplacer("%[4]s", args[0], "%[5]s", args[1]).Replace(v1)
		if got := pgstore.CreateTableV1(args[0], args[1]); got != want {
			t.Errorf("migration 1 CREATE TABLE changed:\n got %s\nwant %s", got, want)
		}
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestConcurrentMigrate(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	table := testdb.Name("audit")
	testdb.DropTable(t, dsn, "public", table)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := pgstore.Open(context.Background(), pgstore.Config{DSN: dsn, Table: table})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			errs <- s.Migrate(context.Background())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent migrate: %v", err)
		}
	}
	var n, distinct int
	conn(t).QueryRow(context.Background(), "SELECT count(*), count(DISTINCT version) FROM public."+table+"_migrations").Scan(&n, &distinct)
	if n != 4 || distinct != 4 {
		t.Errorf("%d migration rows (%d versions), want each of the 4 versions once", n, distinct)
	}
}

func TestPartitionsMadeOnDemand(t *testing.T) {
	s := open(t, pgstore.Config{Premake: -1})
	old := time.Now().UTC().AddDate(0, 0, -20)
	rec := storetest.NewRecord(old, 1)
	if _, err := s.Write(context.Background(), []store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	var part string
	conn(t).QueryRow(context.Background(), "SELECT tableoid::regclass::text FROM public."+s.Config().Table+" WHERE id = $1", rec.ID).Scan(&part)
	if want := s.Config().Table + "_p" + old.Format("20060102"); part != want {
		t.Errorf("row in %q, want %q", part, want)
	}
}

func TestOpenErrors(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword("no_such_role_otelaudit", "wrong-password")
	_, err := pgstore.Open(context.Background(), pgstore.Config{DSN: u.String(), Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "no_such_role_otelaudit") {
		t.Errorf("unknown role: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error leaks the password: %v", err)
	}
	_, err = pgstore.Open(context.Background(), pgstore.Config{DSN: "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable", Timeout: 2 * time.Second})
	if err == nil {
		t.Error("closed port: no error")
	}
	_, err = pgstore.Open(context.Background(), pgstore.Config{DSN: dsn, Table: "Bad-Name", Partition: "week"})
	if err == nil || !strings.Contains(err.Error(), "table:") || !strings.Contains(err.Error(), "partition:") {
		t.Errorf("bad config: %v", err)
	}
}

// TestOutageMidStream cuts the connections through a proxy between
// batches: writes fail while it is down and succeed once it is back, and
// retrying the failed batches loses and duplicates nothing.
func TestOutageMidStream(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	u, _ := url.Parse(dsn)
	proxy := testproxy.New(t, u.Host)
	u.Host = proxy.Addr
	s := open(t, pgstore.Config{DSN: u.String(), Timeout: 5 * time.Second})

	ts := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	var batches [][]store.Record
	for b := 0; b < 10; b++ {
		var recs []store.Record
		for i := 0; i < 20; i++ {
			recs = append(recs, storetest.NewRecord(ts.Add(time.Duration(b*20+i)*time.Millisecond), i))
		}
		batches = append(batches, recs)
	}
	var pending [][]store.Record
	for b, recs := range batches {
		if b == 4 {
			proxy.Down()
		}
		if b == 7 {
			proxy.Up()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := s.Write(ctx, recs)
		cancel()
		if b >= 4 && b < 7 && err == nil {
			t.Errorf("batch %d written while the database was cut off", b)
		}
		if err != nil {
			var rej *store.RejectedError
			if errors.As(err, &rej) {
				t.Fatalf("an outage was reported as rejected data: %v", err)
			}
			pending = append(pending, recs)
		}
	}
	// The exporter's retry: every failed batch again, and one that
	// succeeded, as a retry after a lost acknowledgement would.
	for _, recs := range append(pending, batches[2]) {
		if _, err := s.Write(context.Background(), recs); err != nil {
			t.Fatalf("retry after the outage: %v", err)
		}
	}
	n, err := s.Count(context.Background(), store.Filter{})
	if err != nil || n != 200 {
		t.Errorf("%d records after the outage, want 200 (%v)", n, err)
	}
}

// TestPartitionCreated: the store reports each partition it creates, ahead
// of time or for a record, once; not the ones that exist already, made by
// itself or by another store on the same table.
func TestPartitionCreated(t *testing.T) {
	var mu sync.Mutex
	var created []string
	cfg := pgstore.Config{Premake: 2, PartitionCreated: func(name string) {
		mu.Lock()
		defer mu.Unlock()
		created = append(created, name)
	}}
	s := open(t, cfg)
	table := s.Config().Table
	now := time.Now().UTC()
	var want []string
	for i := 0; i <= 2; i++ {
		want = append(want, table+"_p"+now.AddDate(0, 0, i).Format("20060102"))
	}
	old := now.AddDate(0, 0, -5)
	if _, err := s.Write(context.Background(), []store.Record{storetest.NewRecord(old, 1), storetest.NewRecord(old, 2)}); err != nil {
		t.Fatal(err)
	}
	want = append(want, table+"_p"+old.Format("20060102"))
	if err := s.Premake(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	cfg.DSN, cfg.Table = s.Config().DSN, table
	other, err := pgstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(created, want) {
		t.Errorf("partitions reported created: %v, want %v", created, want)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	s := open(t, pgstore.Config{})
	for i := 0; i < 2; i++ {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate again (%d): %v", i, err)
		}
	}
	if _, err := s.Write(context.Background(), []store.Record{storetest.NewRecord(time.Now().UTC(), 1)}); err != nil {
		t.Fatalf("write after repeated migrations: %v", err)
	}
}
