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
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
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
		{nil, "Usage: auditctl [connection flags] <command>"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"query", "--status", "4x"}, `unknown status "4x"`},
		{[]string{"query", "--status", "600"}, `unknown status "600"`},
		{[]string{"query", "--since", "yesterday"}, `--since: "yesterday" is neither a duration`},
		{[]string{"query", "--limit", "0"}, "--limit must be between 1 and 10000"},
		{[]string{"query", "--output", "xml"}, `--output must be table, json or jsonl, not "xml"`},
		{[]string{"query", "--event", "outbound"}, `--event must be server or client, not "outbound"`},
		{[]string{"query", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"query", "--backend", "oracle"}, `--backend must be postgres or mongo, not "oracle"`},
		{[]string{"query", "--backend", "mongo"}, "--uri (or $AUDIT_MONGO_URI) is required"},
		{[]string{"cleanup"}, "--days must be > 0"},
		{[]string{"cleanup", "--days", "-3"}, "--days must be > 0"},
		{[]string{"cleanup", "--days", "9", "--batch-size", "0"}, "--batch-size must be > 0"},
		{[]string{"show"}, "missing the record id"},
		{[]string{"migrate", "--partition", "week"}, `--partition must be day, month or none, not "week"`},
		{[]string{"query", "--backend", "all"}, `--backend must be postgres or mongo, not "all"`},
		// Times beyond the years 1-9999 are refused before any store sees them.
		{[]string{"query", "--since", "99999999d"}, `--since: "99999999d" is out of range: the time must fall in the years 1 to 9999`},
		{[]string{"query", "--since", "800000d"}, `--since: "800000d" is out of range`},
		{[]string{"query", "--until", "99999999999999999999999d"}, `--until: "99999999999999999999999d" is out of range`},
		{[]string{"query", "--since", "9999999999h"}, `--since: "9999999999h" is out of range`},
		{[]string{"query", "--since", "0000-06-01T00:00:00Z"}, `--since: "0000-06-01T00:00:00Z" is out of range`},
		{[]string{"query", "--limit", "99999999999999999999"}, `invalid value "99999999999999999999" for flag -limit: value out of range`},
		{[]string{"query", "--after", "2026-01-01T00:00:00Z,nope"}, `--after: "2026-01-01T00:00:00Z,nope" is not a cursor`},
		{[]string{"show", "not-a-uuid"}, `not a record id: "not-a-uuid"`},
		{[]string{"--output", "json", "query"}, "flag provided but not defined: -output (only connection flags may come before the command)"},
	}
	for _, c := range cases {
		r := auditctl(t, env, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("auditctl %v: exit %d, stderr %q; want exit 2 and %q", c.args, r.code, r.stderr, c.want)
		}
		// A mistake in a command's flags gets its one-line error and a
		// pointer to --help, not the whole help.
		if len(c.args) > 0 && c.args[0] != "frobnicate" && (strings.Count(r.stderr, "\n") > 2 || strings.Contains(r.stderr, "Flags:")) {
			t.Errorf("auditctl %v: more than the error:\n%s", c.args, r.stderr)
		}
	}
	for _, cmd := range []string{"migrate", "query", "show", "cleanup"} {
		r := auditctl(t, env, cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stderr, "Examples:") || !strings.Contains(r.stderr, "-backend") {
			t.Errorf("%s --help: exit %d, %q", cmd, r.code, r.stderr)
		}
	}
}

// TestConnectionFlagsBeforeTheCommand: connection flags count before the
// command name as after it, and after it they win.
func TestConnectionFlagsBeforeTheCommand(t *testing.T) {
	env := []string{"AUDIT_POSTGRES_DSN=postgres://x@127.0.0.1:1/x", "AUDIT_MONGO_URI="}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--backend", "mongo", "query"}, 2, "--uri (or $AUDIT_MONGO_URI) is required"},
		{[]string{"--backend=mongo", "show", "0193a0c2-7f4e-7c21-9a3b-5f0e2d1c4b6a"}, 2, "--uri (or $AUDIT_MONGO_URI) is required"},
		{[]string{"--backend", "mongo", "query", "--backend", "oracle"}, 2, `--backend must be postgres or mongo, not "oracle"`},
		{[]string{"--backend", "all", "cleanup", "--days", "3"}, 2, "--uri (or $AUDIT_MONGO_URI) is required"},
		{[]string{"--dsn", "postgres://postgres@127.0.0.1:1/postgres", "--timeout", "2s", "query"}, 1, "connect to 127.0.0.1:1"},
		{[]string{"--backend", "mongo"}, 2, "Usage: auditctl [connection flags] <command> [flags]"},
	}
	for _, c := range cases {
		r := auditctl(t, env, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("auditctl %v: exit %d, stderr %q; want exit %d and %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
	if r := auditctl(t, env, "--backend", "mongo", "--help"); r.code != 0 || !strings.Contains(r.stderr, "Connection flags (before or after the command)") {
		t.Errorf("--help after a connection flag: exit %d, %q", r.code, r.stderr)
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
	env   []string
	args  []string // connection flags
	recs  []store.Record
	write func(t *testing.T, recs ...store.Record)
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
	t.Cleanup(func() { s.Close() })
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
	for i := 1; i < len(recs); i += 4 {
		recs[i].EventName = auditconv.EventHTTPClient // outbound calls among the requests
	}
	if _, err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, recs ...store.Record) {
		t.Helper()
		if _, err := s.Write(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
	return seeded{env: env, args: args, recs: recs, write: write}
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
		{[]string{"--event", "client"}, func(r store.Record) bool { return r.EventName == auditconv.EventHTTPClient }},
		{[]string{"--event", "server", "--method", "POST"}, func(r store.Record) bool {
			return r.EventName == auditconv.EventHTTPServer && r.Method == "POST"
		}},
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
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["request_body_binary"] == nil {
		t.Errorf("show --output json: %v %v", err, v["request_body_binary"])
	}
	r = auditctl(t, s.env, append([]string{"show", storetest.NewID(time.Now())}, s.args...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "no record with id") {
		t.Errorf("show of an unknown id: %d %s", r.code, r.stderr)
	}
}

// testFlagsBeforeCommand: the store's connection flags given before the
// command select the same store as after it.
func testFlagsBeforeCommand(t *testing.T, s seeded) {
	args := append(append([]string{}, s.args...), "query", "--output", "jsonl", "--limit", "1000")
	r := auditctl(t, s.env, args...)
	if r.code != 0 || strings.Count(r.stdout, "\n") != len(s.recs) {
		t.Errorf("auditctl %v: exit %d, %d lines, want %d\n%s", args, r.code, strings.Count(r.stdout, "\n"), len(s.recs), r.stderr)
	}
	args = append(append([]string{}, s.args...), "show", s.recs[3].ID)
	if r := auditctl(t, s.env, args...); r.code != 0 || !strings.Contains(r.stdout, s.recs[3].Path) {
		t.Errorf("auditctl %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
}

// testMalformedID: a malformed id is the same usage error on every store,
// and an id in capitals finds its record on every store.
func testMalformedID(t *testing.T, s seeded) {
	for _, id := range []string{"nope", s.recs[2].ID + "0", strings.ReplaceAll(s.recs[2].ID, "-", ""), "'; DROP TABLE x; --"} {
		r := auditctl(t, s.env, append([]string{"show", id}, s.args...)...)
		want := fmt.Sprintf("auditctl show: not a record id: %q", id)
		if r.code != 2 || !strings.HasPrefix(r.stderr, want) {
			t.Errorf("show %q: exit %d, %q; want exit 2 and %q", id, r.code, r.stderr, want)
		}
	}
	r := auditctl(t, s.env, append([]string{"show", strings.ToUpper(s.recs[2].ID)}, s.args...)...)
	if r.code != 0 || !strings.Contains(r.stdout, s.recs[2].ID) {
		t.Errorf("show of the id in capitals: exit %d\n%s", r.code, r.stderr)
	}
}

// unsafeForTerminal returns what in out a terminal would act on rather
// than print: control characters other than the line breaks of the output,
// bidi controls, line separators and invalid UTF-8.
func unsafeForTerminal(out string) []string {
	var bad []string
	if !utf8.ValidString(out) {
		bad = append(bad, "invalid UTF-8")
	}
	for _, r := range out {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029') {
			bad = append(bad, fmt.Sprintf("%U", r))
		}
	}
	return bad
}

// testTerminalInjection stores a record whose client-supplied strings
// carry terminal escapes (clear screen, window title, hidden text, a
// carriage return over the row, bidi overrides) and checks that every
// output of query and show prints them escaped, and --raw as stored.
func testTerminalInjection(t *testing.T, s seeded) {
	ts := time.Now().UTC().Truncate(time.Millisecond).Add(-30 * time.Minute)
	h := storetest.NewRecord(ts, 1)
	h.ServiceName = "hostile"
	h.Path = "/x\x1b[2J\x1b[H\x1b]0;pwned\x07/y\rGET 200 forged"
	h.Query = "q=\x1b[8mhidden"
	h.UserID = "eve\x1b[8m\u202eadmin"
	h.UserAgent = "curl\x1b]2;title\x1b\\"
	h.RequestHeaders = map[string][]string{"x-evil\x1b[1m": {"v\x07\x1b[31mred\r\nx-forged: 1", "\u2066iso\u2069"}}
	h.RequestBody = "line one\x1b[2K\rforged\nline two \u009b31m\x7f"
	h.RequestBodySize = int64(len(h.RequestBody))
	h.ResponseBody = "{\"msg\":\"\u202eevil\u0085\x7f\"}"
	h.ResponseBodySize = int64(len(h.ResponseBody))
	h.Attributes = map[string]any{"note": "bell\x07 del\x7f bidi\u202d"}
	h.LogBody = "log \x1b[5m body"
	s.write(t, h)

	run := func(args ...string) result {
		t.Helper()
		r := auditctl(t, s.env, append(args, s.args...)...)
		if r.code != 0 {
			t.Fatalf("auditctl %v: exit %d: %s", args, r.code, r.stderr)
		}
		return r
	}
	table := run("query", "--service", "hostile")
	show := run("show", h.ID)
	for name, r := range map[string]result{
		"query":                table,
		"show":                 show,
		"query --output json":  run("query", "--service", "hostile", "--output", "json"),
		"query --output jsonl": run("query", "--service", "hostile", "--output", "jsonl"),
		"show --output json":   run("show", h.ID, "--output", "json"),
	} {
		if bad := unsafeForTerminal(r.stdout + r.stderr); len(bad) > 0 {
			t.Errorf("%s prints %v raw:\n%s", name, bad, r.stdout)
		}
	}
	for _, want := range []string{`/x\x1b[2J\x1b[H\x1b]0;pwned\x07/y\rGET 200 forged?q=\x1b[8mhidden`, `eve\x1b[8m\u202eadmin`} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("query output lacks %s:\n%s", want, table.stdout)
		}
	}
	if lines := strings.Split(strings.TrimSpace(table.stdout), "\n"); len(lines) != 2 {
		t.Errorf("query output has %d lines, want the header and one row:\n%s", len(lines), table.stdout)
	}
	for _, want := range []string{
		`user:            eve\x1b[8m\u202eadmin`,
		`user agent:      curl\x1b]2;title\x1b\`,
		`  x-evil\x1b[1m: v\x07\x1b[31mred\r\nx-forged: 1`,
		`  x-evil\x1b[1m: \u2066iso\u2069`,
		"  line one\\x1b[2K\\rforged\\n\n  line two \\u009b31m\\x7f\n",
		`"msg": "\u202eevil\u0085\x7f"`,
		`"note": "bell\u0007 del\x7f bidi\u202d"`,
		`"log \u001b[5m body"`,
	} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("show output lacks %q:\n%s", want, show.stdout)
		}
	}
	// JSON stays exact: the escapes decode to the stored strings.
	var v struct {
		Path   string              `json:"path"`
		User   string              `json:"user_id"`
		Header map[string][]string `json:"request_headers"`
	}
	if err := json.Unmarshal([]byte(run("show", h.ID, "--output", "json").stdout), &v); err != nil ||
		v.Path != h.Path || v.User != h.UserID || v.Header["x-evil\x1b[1m"][1] != "\u2066iso\u2069" {
		t.Errorf("show --output json decodes to %q %q %q (%v)", v.Path, v.User, v.Header, err)
	}

	// --raw prints the bytes as stored, for pipes.
	rawTable := run("query", "--service", "hostile", "--raw")
	rawShow := run("show", h.ID, "--raw")
	if !strings.Contains(rawTable.stdout, h.Path+"?"+h.Query) || !strings.Contains(rawTable.stdout, h.UserID) {
		t.Errorf("query --raw does not print the path and user as stored:\n%q", rawTable.stdout)
	}
	for _, want := range []string{h.UserID, h.UserAgent, "x-evil\x1b[1m: v\x07\x1b[31mred\r\nx-forged: 1", "line one\x1b[2K\rforged\n", "\u202eevil\u0085\x7f"} {
		if !strings.Contains(rawShow.stdout, want) {
			t.Errorf("show --raw lacks %q:\n%q", want, rawShow.stdout)
		}
	}
}

func TestPostgres(t *testing.T) {
	s := seedPostgres(t)
	t.Run("QueryFilters", func(t *testing.T) { testQueryFilters(t, s) })
	t.Run("ShowBinary", func(t *testing.T) { testShowBinary(t, s) })
	t.Run("FlagsBeforeCommand", func(t *testing.T) { testFlagsBeforeCommand(t, s) })
	t.Run("MalformedID", func(t *testing.T) { testMalformedID(t, s) })
	t.Run("TerminalInjection", func(t *testing.T) { testTerminalInjection(t, s) }) // adds a record: last
}

func TestMongo(t *testing.T) {
	s := seedMongo(t)
	t.Run("QueryFilters", func(t *testing.T) { testQueryFilters(t, s) })
	t.Run("ShowBinary", func(t *testing.T) { testShowBinary(t, s) })
	t.Run("FlagsBeforeCommand", func(t *testing.T) { testFlagsBeforeCommand(t, s) })
	t.Run("MalformedID", func(t *testing.T) { testMalformedID(t, s) })
	t.Run("TerminalInjection", func(t *testing.T) { testTerminalInjection(t, s) }) // adds a record: last
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
	if _, err := s.Write(context.Background(), recs); err != nil {
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
