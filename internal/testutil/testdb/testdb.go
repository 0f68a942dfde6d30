// Package testdb gives tests their own PostgreSQL tables and MongoDB
// databases on the real test servers (scripts/services.sh up), named per
// test and dropped when it ends. Without a server a test fails when CI is
// set and is skipped otherwise.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Default addresses of the test servers (the README's Tests section).
const (
	DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	DefaultMongoURI    = "mongodb://127.0.0.1:27017/"
)

// PostgresDSN returns the DSN of the test PostgreSQL server.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("AUDIT_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = DefaultPostgresDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	conn.Close(ctx)
	return dsn
}

// MongoURI returns the URI of the test MongoDB-wire server.
func MongoURI(t testing.TB) string {
	t.Helper()
	uri := os.Getenv("AUDIT_TEST_MONGO_URI")
	if uri == "" {
		uri = DefaultMongoURI
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("AUDIT_TEST_MONGO_URI: %v", err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		unavailable(t, "MongoDB-wire server", err)
	}
	c.Close()
	return uri
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unavailable (run scripts/services.sh up): %v", what, err)
	}
	t.Skipf("%s unavailable (run scripts/services.sh up): %v", what, err)
}

// Name returns a fresh lower-case identifier with prefix, for a table or
// database of one test.
func Name(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// DropTable drops a table (with its partitions), its migrations and ids tables
// when the test ends.
func DropTable(t testing.TB, dsn, schema, table string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop %s: %v", table, err)
			return
		}
		defer conn.Close(ctx)
		for _, q := range []string{
			"DROP TABLE IF EXISTS " + schema + "." + table + " CASCADE",
			"DROP TABLE IF EXISTS " + schema + "." + table + "_migrations",
			"DROP TABLE IF EXISTS " + schema + "." + table + "_ids",
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
}

// RawCopyRate is the baseline of the write benchmarks: it reads every row of
// table, then times a raw pgx CopyFrom of those very rows, batch rows at a
// time, into a plain table with the same columns, and returns rows/s.
func RawCopyRate(tb testing.TB, dsn, table string, batch int) float64 {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	plain := table + "_raw"
	if _, err := conn.Exec(ctx, "CREATE TABLE "+plain+" (LIKE "+table+" INCLUDING ALL)"); err != nil {
		tb.Fatal(err)
	}
	defer conn.Exec(ctx, "DROP TABLE "+plain)
	rows, err := conn.Query(ctx, "SELECT * FROM "+table)
	if err != nil {
		tb.Fatal(err)
	}
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	var data [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			tb.Fatal(err)
		}
		data = append(data, v)
	}
	rows.Close()
	if len(data) == 0 {
		tb.Fatalf("RawCopyRate: %s is empty", table)
	}
	start := time.Now()
	for i := 0; i < len(data); i += batch {
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{plain}, cols, pgx.CopyFromRows(data[i:min(i+batch, len(data))])); err != nil {
			tb.Fatal(err)
		}
	}
	return float64(len(data)) / time.Since(start).Seconds()
}
