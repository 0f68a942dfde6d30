package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/store"
)

func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var q queryFlags
	fs := q.register(stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	f, err := q.filter(time.Now())
	if err != nil {
		return err
	}
	var recs []store.Record
	err = q.conn.with(ctx, func(ctx context.Context, _ string, s store.Store) error {
		recs, err = s.Query(ctx, f)
		return err
	})
	if err != nil {
		return err
	}
	switch q.output {
	case "json":
		if recs == nil {
			recs = []store.Record{}
		}
		return q.display.json(stdout, recs, "  ")
	case "jsonl":
		for _, r := range recs {
			if err := q.display.json(stdout, r, ""); err != nil {
				return err
			}
		}
		return nil
	}
	return printTable(stdout, stderr, recs, f, q.display)
}

// queryFlags are the flags of auditctl query.
type queryFlags struct {
	conn                                                                                 connFlags
	display                                                                              display
	since, until, method, pathPrefix, status, user, trace, service, event, output, after string
	limit                                                                                int
}

func (q *queryFlags) register(stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet("query", "query [flags]", `  auditctl query --since 1h
  auditctl query --since 2026-11-01T00:00:00Z --until 2026-11-02T00:00:00Z --method POST,PUT --status 5xx
  auditctl query --path-prefix /api/orders --user alice --output jsonl | jq .path
  auditctl query --event client --since 1d --status 5xx
  auditctl query --backend mongo --trace 4bf92f3577b34da6a3ce929d0e0e4736 --output json`, stderr)
	q.conn.register(fs, false)
	fs.StringVar(&q.since, "since", "", "records at or after: a duration back from now (1h, 7d) or an RFC 3339 time")
	fs.StringVar(&q.until, "until", "", "records before: a duration back from now or an RFC 3339 time")
	fs.StringVar(&q.method, "method", "", "HTTP methods, comma-separated (GET,POST)")
	fs.StringVar(&q.pathPrefix, "path-prefix", "", "URL path prefix (/api)")
	fs.StringVar(&q.status, "status", "", "status: a code (500), a class (4xx) or a range (400-499)")
	fs.StringVar(&q.user, "user", "", "user id")
	fs.StringVar(&q.trace, "trace", "", "trace id (hex)")
	fs.StringVar(&q.service, "service", "", "service name")
	fs.StringVar(&q.event, "event", "", "server (requests the service handled) or client (calls it made)")
	fs.IntVar(&q.limit, "limit", 100, fmt.Sprintf("at most this many records (1-%d)", store.MaxLimit))
	fs.StringVar(&q.output, "output", "table", "table, json or jsonl")
	fs.StringVar(&q.after, "after", "", "continue after this cursor (printed under a full table page)")
	q.display.register(fs)
	return fs
}

// filter checks the flags and returns the filter they ask for.
func (q *queryFlags) filter(now time.Time) (store.Filter, error) {
	f := store.Filter{PathPrefix: q.pathPrefix, UserID: q.user, TraceID: q.trace, ServiceName: q.service, Limit: q.limit}
	var err error
	if f.Since, err = parseTime("--since", q.since, now); err != nil {
		return f, err
	}
	if f.Until, err = parseTime("--until", q.until, now); err != nil {
		return f, err
	}
	if f.Methods, err = parseMethods(q.method); err != nil {
		return f, err
	}
	if f.StatusMin, f.StatusMax, err = parseStatus(q.status); err != nil {
		return f, err
	}
	if f.EventName, err = parseEvent(q.event); err != nil {
		return f, err
	}
	if q.limit <= 0 || q.limit > store.MaxLimit {
		return f, usagef("--limit must be between 1 and %d", store.MaxLimit)
	}
	if q.after != "" {
		ts, id, ok := strings.Cut(q.after, ",")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil || !isRecordID(id) {
			return f, usagef("--after: %q is not a cursor (RFC3339Nano,id)", q.after)
		}
		f.After = store.Cursor{Timestamp: t, ID: id}
	}
	switch q.output {
	case "table", "json", "jsonl":
	default:
		return f, usagef("--output must be table, json or jsonl, not %q", q.output)
	}
	return f, nil
}

// printTable writes recs as a table, and under a full page the cursor that
// continues it.
func printTable(stdout, stderr io.Writer, recs []store.Record, f store.Filter, d display) error {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tMETHOD\tSTATUS\tDURATION\tUSER\tPATH\tID")
	for _, r := range recs {
		user := d.s(r.UserID)
		if user == "" {
			user = "-"
		}
		path := r.Path
		if r.Query != "" {
			path += "?" + r.Query
		}
		path = d.s(path)
		// Cut at a character, not inside one; --raw prints the whole path.
		if !d.raw && utf8.RuneCountInString(path) > 80 {
			path = string([]rune(path)[:77]) + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.Timestamp.Local().Format("2006-01-02 15:04:05.000"),
			d.s(r.Method), r.Status, formatDuration(r.DurationMS), user, path, d.s(r.ID))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(recs) == f.EffectiveLimit() {
		last := recs[len(recs)-1]
		fmt.Fprintf(stderr, "more records may follow: add --after %s,%s\n", last.Timestamp.Format(time.RFC3339Nano), escapeTerminal(last.ID))
	}
	fmt.Fprintf(stderr, "%d record(s)\n", len(recs))
	return nil
}
