package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otelaudit/otelaudit/internal/testdb"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/mongostore"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "auditctl-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "auditctl")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build auditctl: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func auditctl(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("auditctl %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func TestUsageErrors(t *testing.T) {
	env := []string{"AUDIT_POSTGRES_DSN=postgres://x@127.0.0.1:1/x", "AUDIT_MONGO_URI="}
	cases := []struct {
		args []string
		want string
	}{
		{nil, "Usage: auditctl <command>"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"query", "--status", "4x"}, `unknown status "4x"`},
		{[]string{"query", "--status", "600"}, `unknown status "600"`},
		{[]string{"query", "--since", "yesterday"}, `--since: "yesterday" is neither a duration`},
		{[]string{"query", "--limit", "0"}, "--limit must be between 1 and 10000"},
		{[]string{"query", "--output", "xml"}, `--output must be table, json or jsonl, not "xml"`},
		{[]string{"query", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"query", "--backend", "oracle"}, `--backend must be postgres or mongo, not "oracle"`},
		{[]string{"query", "--backend", "mongo"}, "--uri (or $AUDIT_MONGO_URI) is required"},
		{[]string{"cleanup"}, "--days must be > 0"},
		{[]string{"cleanup", "--days", "-3"}, "--days must be > 0"},
		{[]string{"cleanup", "--days", "9", "--batch-size", "0"}, "--batch-size must be > 0"},
		{[]string{"show"}, "missing the record id"},
		{[]string{"migrate", "--partition", "week"}, `--partition must be day, month or none, not "week"`},
		{[]string{"query", "--backend", "all"}, `--backend must be postgres or mongo, not "all"`},
	}
	for _, c := range cases {
		r := auditctl(t, env, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("auditctl %v: exit %d, stderr %q; want exit 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	for _, cmd := range []string{"migrate", "query", "show", "cleanup"} {
		r := auditctl(t, env, cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stderr, "Examples:") || !strings.Contains(r.stderr, "-backend") {
			t.Errorf("%s --help: exit %d, %q", cmd, r.code, r.stderr)
		}
	}
}

func TestUnreachableDatabaseFailsWithinTheTimeout(t *testing.T) {
	for _, args := range [][]string{
		{"query", "--dsn", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable", "--timeout", "2s"},
		{"query", "--backend", "mongo", "--uri", "mongodb://127.0.0.1:1/", "--timeout", "2s"},
	} {
		r := auditctl(t, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "connect") {
			t.Errorf("%v: exit %d, %q", args, r.code, r.stderr)
		}
	}
}

// seeded is a store with records the query tests know.
type seeded struct {
	env  []string
	args []string // connection flags
	recs []store.Record
}

func seedPostgres(t *testing.T) seeded {
	dsn := testdb.PostgresDSN(t)
	table := testdb.Name("ctl")
	testdb.DropTable(t, dsn, "public", table)
	r := auditctl(t, nil, "migrate", "--dsn", dsn, "--table", table, "--partition", "day")
	if r.code != 0 || !strings.Contains(r.stdout, "migrated public."+table) {
		t.Fatalf("migrate: %d %s %s", r.code, r.stdout, r.stderr)
	}
	s, err := pgstore.Open(context.Background(), pgstore.Config{DSN: dsn, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return seed(t, s, nil, []string{"--table", table}, []string{"AUDIT_POSTGRES_DSN=" + dsn})
}

func seedMongo(t *testing.T) seeded {
	uri := testdb.MongoURI(t)
	db := testdb.Name("ctl")
	r := auditctl(t, nil, "migrate", "--backend", "mongo", "--uri", uri, "--database", db)
	if r.code != 0 || !strings.Contains(r.stdout, "migrated "+db) {
		t.Fatalf("migrate: %d %s %s", r.code, r.stdout, r.stderr)
	}
	s, err := mongostore.Open(context.Background(), mongostore.Config{URI: uri, Database: db, WriteConcern: "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.DropDatabase(context.Background()); s.Close() })
	return seed(t, s, nil, []string{"--backend", "mongo", "--database", db}, []string{"AUDIT_MONGO_URI=" + uri})
}

func seed(t *testing.T, s store.Store, _ []store.Record, args, env []string) seeded {
	base := time.Now().UTC().Truncate(time.Millisecond).Add(-2 * time.Hour)
	var recs []store.Record
	for i := 0; i < 30; i++ {
		recs = append(recs, storetest.NewRecord(base.Add(time.Duration(i)*time.Minute), i))
	}
	recs[0].RequestBody = ""
	recs[0].RequestBodyBinary = []byte("\x89PNG\r\n\x1a\n\x00\x00binary")
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return seeded{env: env, args: args, recs: recs}
}

func (s seeded) query(t *testing.T, args ...string) []string {
	t.Helper()
	r := auditctl(t, s.env, append(append([]string{"query", "--output", "jsonl", "--limit", "1000"}, s.args...), args...)...)
	if r.code != 0 {
		t.Fatalf("query %v: exit %d: %s", args, r.code, r.stderr)
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("jsonl line %q: %v", sc.Text(), err)
		}
		ids = append(ids, v.ID)
	}
	return ids
}

func (s seeded) want(pred func(store.Record) bool) []string {
	var out []string
	for i := len(s.recs) - 1; i >= 0; i-- { // newest first
		if pred(s.recs[i]) {
			out = append(out, s.recs[i].ID)
		}
	}
	return out
}

func testQueryFilters(t *testing.T, s seeded) {
	mid := s.recs[15].Timestamp
	cases := []struct {
		args []string
		pred func(store.Record) bool
	}{
		{nil, func(store.Record) bool { return true }},
		{[]string{"--since", mid.Format(time.RFC3339Nano)}, func(r store.Record) bool { return !r.Timestamp.Before(mid) }},
		{[]string{"--until", mid.Format(time.RFC3339Nano)}, func(r store.Record) bool { return r.Timestamp.Before(mid) }},
		{[]string{"--since", "3h"}, func(store.Record) bool { return true }},
		{[]string{"--method", "post,delete"}, func(r store.Record) bool { return r.Method == "POST" || r.Method == "DELETE" }},
		{[]string{"--path-prefix", "/api/v1/items/1"}, func(r store.Record) bool { return strings.HasPrefix(r.Path, "/api/v1/items/1") }},
		{[]string{"--status", "404"}, func(r store.Record) bool { return r.Status == 404 }},
		{[]string{"--status", "5xx"}, func(r store.Record) bool { return r.Status >= 500 }},
		{[]string{"--status", "200-299"}, func(r store.Record) bool { return r.Status >= 200 && r.Status <= 299 }},
		{[]string{"--user", "user-2"}, func(r store.Record) bool { return r.UserID == "user-2" }},
		{[]string{"--trace", s.recs[4].TraceID}, func(r store.Record) bool { return r.TraceID == s.recs[4].TraceID }},
		{[]string{"--service", "billing"}, func(r store.Record) bool { return r.ServiceName == "billing" }},
		{[]string{"--method", "GET", "--status", "2xx", "--service", "orders", "--until", mid.Format(time.RFC3339Nano)},
			func(r store.Record) bool {
				return r.Method == "GET" && r.Status/100 == 2 && r.ServiceName == "orders" && r.Timestamp.Before(mid)
			}},
	}
	for _, c := range cases {
		got, want := s.query(t, c.args...), s.want(c.pred)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("query %v: %d ids, want %d", c.args, len(got), len(want))
		}
	}
	// The table is aligned and readable.
	r := auditctl(t, s.env, append([]string{"query", "--limit", "5"}, s.args...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 6 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("table output: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	col := strings.Index(lines[0], "PATH")
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l[col:], "/api/v1/items/") {
			t.Errorf("PATH column not aligned:\n%s", r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "more records may follow: add --after ") {
		t.Errorf("no continuation hint: %s", r.stderr)
	}
	// Continuing with the printed cursor gives the next page.
	after := regexp.MustCompile(`--after (\S+)`).FindStringSubmatch(r.stderr)[1]
	next := s.query(t, "--after", after, "--limit", "5")
	all := s.want(func(store.Record) bool { return true })
	if strings.Join(next, ",") != strings.Join(all[5:10], ",") {
		t.Errorf("page after the cursor: %v, want %v", next, all[5:10])
	}
}

func testShowBinary(t *testing.T, s seeded) {
	r := auditctl(t, s.env, append([]string{"show", s.recs[0].ID}, s.args...)...)
	if r.code != 0 {
		t.Fatalf("show: %d %s", r.code, r.stderr)
	}
	for _, want := range []string{"id:", s.recs[0].ID, "binary", "89 50 4e 47", "|.PNG....", "Request headers:", "x-multi: a", "Response body"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = auditctl(t, s.env, append([]string{"show", s.recs[0].ID, "--output", "json"}, s.args...)...)
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["request_body_base64"] == nil {
		t.Errorf("show --output json: %v %v", err, v["request_body_base64"])
	}
	r = auditctl(t, s.env, append([]string{"show", storetest.NewID(time.Now())}, s.args...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "no record with id") {
		t.Errorf("show of an unknown id: %d %s", r.code, r.stderr)
	}
}

func TestPostgres(t *testing.T) {
	s := seedPostgres(t)
	t.Run("QueryFilters", func(t *testing.T) { testQueryFilters(t, s) })
	t.Run("ShowBinary", func(t *testing.T) { testShowBinary(t, s) })
}

func TestMongo(t *testing.T) {
	s := seedMongo(t)
	t.Run("QueryFilters", func(t *testing.T) { testQueryFilters(t, s) })
	t.Run("ShowBinary", func(t *testing.T) { testShowBinary(t, s) })
	t.Run("Cleanup", func(t *testing.T) {
		dry := auditctl(t, s.env, append([]string{"cleanup", "--days", "1", "--dry-run"}, s.args...)...)
		if dry.code != 0 || !strings.Contains(dry.stdout, "would remove 0 record(s)") {
			t.Errorf("dry run: %d %s %s", dry.code, dry.stdout, dry.stderr)
		}
	})
}

// TestCleanupMillionRows spreads 1 000 000 rows over 30 days and removes
// those older than 10 days: whole partitions dropped, the rest in batches,
// after a dry run that changes nothing.
func TestCleanupMillionRows(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	table := testdb.Name("ctl1m")
	testdb.DropTable(t, dsn, "public", table)
	if r := auditctl(t, nil, "migrate", "--dsn", dsn, "--table", table); r.code != 0 {
		t.Fatalf("migrate: %s", r.stderr)
	}
	s, err := pgstore.Open(context.Background(), pgstore.Config{DSN: dsn, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// One row per day through the store makes the partitions.
	now := time.Now().UTC()
	var recs []store.Record
	for d := 0; d < 31; d++ {
		recs = append(recs, storetest.NewRecord(now.AddDate(0, 0, -d), d))
	}
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "DELETE FROM "+table); err != nil {
		t.Fatal(err)
	}
	// Rows are at least 30 minutes away from the cutoff (now - 10 days),
	// so the expected counts do not depend on when the command runs.
	if _, err := conn.Exec(ctx, `INSERT INTO `+table+` (id, ts, method, path, status, duration_ms)
SELECT gen_random_uuid(), date_trunc('hour', now()) - (i % 30) * interval '1 day' - interval '30 minutes' - (i % 23) * interval '1 hour',
	'GET', '/bulk/' || i, 200, 1.5
FROM generate_series(1, 1000000) AS i`); err != nil {
		t.Fatal(err)
	}
	var older int64
	conn.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE ts < now() - interval '10 days'").Scan(&older)
	if older < 600000 {
		t.Fatalf("only %d rows older than 10 days", older)
	}
	env := []string{"AUDIT_POSTGRES_DSN=" + dsn}

	dry := auditctl(t, env, "cleanup", "--table", table, "--days", "10", "--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, fmt.Sprintf("would remove %d record(s)", older)) {
		t.Fatalf("dry run: %d\n%s\n%s", dry.code, dry.stdout, dry.stderr)
	}
	var total int64
	conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&total)
	if total != 1000000 {
		t.Fatalf("the dry run removed rows: %d left", total)
	}

	r := auditctl(t, env, "cleanup", "--table", table, "--days", "10", "--batch-size", "5000")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("removed %d record(s)", older)) {
		t.Fatalf("cleanup: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	m := regexp.MustCompile(`(\d+) whole partition\(s\)`).FindStringSubmatch(r.stdout)
	dropped, _ := strconv.Atoi(m[1])
	if dropped < 18 || strings.Count(r.stdout, "partition "+table+"_p") != dropped {
		t.Errorf("%d partitions dropped:\n%s", dropped, r.stdout)
	}
	conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&total)
	if total != 1000000-older {
		t.Errorf("%d rows left, want %d", total, 1000000-older)
	}
	var left int64
	conn.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE ts < now() - interval '10 days'").Scan(&left)
	if left != 0 {
		t.Errorf("%d rows older than the cutoff left", left)
	}
}
