package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/store"
)

func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c connFlags
	var d display
	var since, until, method, pathPrefix, status, user, trace, service, output, after string
	var limit int
	fs := newFlagSet("query", "query [flags]", `  auditctl query --since 1h
  auditctl query --since 2026-11-01T00:00:00Z --until 2026-11-02T00:00:00Z --method POST,PUT --status 5xx
  auditctl query --path-prefix /api/orders --user alice --output jsonl | jq .path
  auditctl query --backend mongo --trace 4bf92f3577b34da6a3ce929d0e0e4736 --output json`, stderr)
	c.register(fs, false)
	fs.StringVar(&since, "since", "", "records at or after: a duration back from now (1h, 7d) or an RFC 3339 time")
	fs.StringVar(&until, "until", "", "records before: a duration back from now or an RFC 3339 time")
	fs.StringVar(&method, "method", "", "HTTP methods, comma-separated (GET,POST)")
	fs.StringVar(&pathPrefix, "path-prefix", "", "URL path prefix (/api)")
	fs.StringVar(&status, "status", "", "status: a code (500), a class (4xx) or a range (400-499)")
	fs.StringVar(&user, "user", "", "user id")
	fs.StringVar(&trace, "trace", "", "trace id (hex)")
	fs.StringVar(&service, "service", "", "service name")
	fs.IntVar(&limit, "limit", 100, fmt.Sprintf("at most this many records (1-%d)", store.MaxLimit))
	fs.StringVar(&output, "output", "table", "table, json or jsonl")
	fs.StringVar(&after, "after", "", "continue after this cursor (printed under a full table page)")
	d.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	now := time.Now()
	f := store.Filter{PathPrefix: pathPrefix, UserID: user, TraceID: trace, ServiceName: service, Limit: limit}
	var err error
	if f.Since, err = parseTime("--since", since, now); err != nil {
		return err
	}
	if f.Until, err = parseTime("--until", until, now); err != nil {
		return err
	}
	if f.Methods, err = parseMethods(method); err != nil {
		return err
	}
	if f.StatusMin, f.StatusMax, err = parseStatus(status); err != nil {
		return err
	}
	if limit <= 0 || limit > store.MaxLimit {
		return usagef("--limit must be between 1 and %d", store.MaxLimit)
	}
	if after != "" {
		ts, id, ok := strings.Cut(after, ",")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil || !isRecordID(id) {
			return usagef("--after: %q is not a cursor (RFC3339Nano,id)", after)
		}
		f.After = store.Cursor{Timestamp: t, ID: id}
	}
	switch output {
	case "table", "json", "jsonl":
	default:
		return usagef("--output must be table, json or jsonl, not %q", output)
	}
	var recs []store.Record
	err = c.with(ctx, func(ctx context.Context, _ string, s store.Store) error {
		recs, err = s.Query(ctx, f)
		return err
	})
	if err != nil {
		return err
	}
	switch output {
	case "json":
		if recs == nil {
			recs = []store.Record{}
		}
		return d.json(stdout, jsonRecords(recs), "  ")
	case "jsonl":
		for _, r := range recs {
			if err := d.json(stdout, jsonRecord(r), ""); err != nil {
				return err
			}
		}
		return nil
	}
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
