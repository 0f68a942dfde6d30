package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/store"
)

func runShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c connFlags
	var d display
	var output string
	fs := newFlagSet("show", "show ID [flags]", `  auditctl show 0193a0c2-7f4e-7c21-9a3b-5f0e2d1c4b6a
  auditctl show 0193a0c2-7f4e-7c21-9a3b-5f0e2d1c4b6a --backend mongo --output json`, stderr)
	c.register(fs, false)
	fs.StringVar(&output, "output", "text", "text or json")
	d.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	// Flags may come after the id too.
	rest := fs.Args()
	if len(rest) == 0 {
		return usagef("missing the record id")
	}
	id := rest[0]
	if err := parse(fs, rest[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if output != "text" && output != "json" {
		return usagef("--output must be text or json, not %q", output)
	}
	// Checked here, not by each store, so that both answer alike.
	if !isRecordID(id) {
		return usagef("not a record id: %q (a record id is a UUID, as in the ID column of auditctl query)", id)
	}
	var r store.Record
	err := c.with(ctx, func(ctx context.Context, _ string, s store.Store) error {
		var err error
		r, err = s.Get(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no record with id %s", id)
	}
	if err != nil {
		return err
	}
	if output == "json" {
		return d.json(stdout, r, "  ")
	}
	printRecord(stdout, r, d)
	return nil
}

// printRecord writes r for a person: the exchange, then headers and bodies.
// Every string of the record goes through d.
func printRecord(w io.Writer, r store.Record, d display) {
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "%-16s %s\n", name+":", d.s(value))
		}
	}
	field("id", r.ID)
	field("time", r.Timestamp.Format(time.RFC3339Nano))
	line := fmt.Sprintf("%s %s", r.Method, r.Path)
	if r.Query != "" {
		line += "?" + r.Query
	}
	field("request", line)
	field("status", fmt.Sprintf("%d", r.Status))
	field("duration", formatDuration(r.DurationMS))
	field("severity", r.SeverityText)
	field("event", r.EventName)
	field("service", r.ServiceName)
	field("operation", r.Operation)
	field("route", r.Route)
	field("host", r.Host)
	field("scheme", r.Scheme)
	field("user", r.UserID)
	field("session", r.SessionID)
	field("client", r.ClientAddress)
	field("user agent", r.UserAgent)
	field("trace", r.TraceID)
	field("span", r.SpanID)
	field("error", r.ErrorType)
	printHeaders(w, "Request headers", r.RequestHeaders, d)
	printBody(w, "Request body", r.RequestBody, r.RequestBodyBinary, r.RequestBodySize, r.RequestBodyTruncated, d)
	printHeaders(w, "Response headers", r.ResponseHeaders, d)
	printBody(w, "Response body", r.ResponseBody, r.ResponseBodyBinary, r.ResponseBodySize, r.ResponseBodyTruncated, d)
	if len(r.Attributes) > 0 {
		fmt.Fprintln(w, "\nAttributes:")
		printJSON(w, r.Attributes, d)
	}
	if r.LogBody != nil {
		fmt.Fprintln(w, "\nLog body:")
		printJSON(w, r.LogBody, d)
	}
}

func printHeaders(w io.Writer, title string, h map[string][]string, d display) {
	if len(h) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(w, "  %s: %s\n", d.s(k), d.s(v))
		}
	}
}

func printBody(w io.Writer, title, text string, bin []byte, size int64, truncated bool, d display) {
	if text == "" && len(bin) == 0 {
		if size > 0 {
			fmt.Fprintf(w, "\n%s: %d bytes, not captured\n", title, size)
		}
		return
	}
	note := fmt.Sprintf("%d bytes", size)
	if truncated {
		note += ", truncated"
	}
	if len(bin) > 0 {
		fmt.Fprintf(w, "\n%s (%s, binary; %d bytes stored):\n", title, note, len(bin))
		dump := bin
		if len(dump) > 512 {
			dump = dump[:512]
		}
		// hex.Dump shows only printable ASCII; it needs no escaping.
		for _, l := range strings.Split(strings.TrimRight(hex.Dump(dump), "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
		if len(bin) > len(dump) {
			fmt.Fprintf(w, "  … %d more bytes\n", len(bin)-len(dump))
		}
		return
	}
	fmt.Fprintf(w, "\n%s (%s):\n", title, note)
	var pretty bytes.Buffer
	if json.Indent(&pretty, []byte(text), "", "  ") == nil {
		// The line breaks are ours: a JSON string holds no raw newline.
		printLines(w, pretty.String(), "", d)
		return
	}
	// A text body keeps its lines, each break shown as \n, so that no
	// line of the body can pass for a line of auditctl's own.
	printLines(w, text, `\n`, d)
}

// printJSON writes v as indented JSON, two spaces in.
func printJSON(w io.Writer, v any, d display) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(w, "  (cannot print: %v)\n", err)
		return
	}
	printLines(w, strings.TrimSuffix(b.String(), "\n"), "", d)
}

// printLines writes the lines of s, two spaces in; unless --raw, each is
// escaped and ends in mark where s had a line break.
func printLines(w io.Writer, s, mark string, d display) {
	if d.raw {
		mark = ""
	}
	for l := range strings.Lines(s) {
		if body, ok := strings.CutSuffix(l, "\n"); ok {
			fmt.Fprintf(w, "  %s%s\n", d.s(body), mark)
		} else {
			fmt.Fprintf(w, "  %s\n", d.s(l))
		}
	}
}
