package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/auditconv"
)

// Times a filter may name: the years 1 to 9999. Beyond them the stores
// disagree (PostgreSQL refuses some with an SQL error) and RFC 3339 has no
// form, so they are usage errors.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// maxDays bounds "Nd" before any arithmetic, so that no day count
// overflows on the way to the range check.
const maxDays = 9999 * 366

// durationSyntax matches what time.ParseDuration reads, so that a
// well-formed duration it refuses is reported as out of range.
var durationSyntax = regexp.MustCompile(`^(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// parseTime parses an absolute time (RFC 3339) or a duration back from now
// ("1h", "90m", "7d"); a time outside the years 1 to 9999 is a usage error.
func parseTime(flagName, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	outOfRange := usagef("%s: %q is out of range: the time must fall in the years 1 to 9999", flagName, s)
	inRange := func(t time.Time) (time.Time, error) {
		if t.Before(minTime) || !t.Before(maxTime) {
			return time.Time{}, outOfRange
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return inRange(t)
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return inRange(t)
	}
	if d, ok := strings.CutSuffix(s, "d"); ok && d != "" && strings.Trim(d, "0123456789") == "" {
		n, err := strconv.Atoi(d)
		if err != nil || n > maxDays {
			return time.Time{}, outOfRange
		}
		return inRange(now.AddDate(0, 0, -n))
	}
	d, err := time.ParseDuration(s)
	if err != nil && durationSyntax.MatchString(s) {
		return time.Time{}, outOfRange // too long for a time.Duration (about 292 years)
	}
	if err != nil || d < 0 {
		return time.Time{}, usagef("%s: %q is neither a duration (1h, 30m, 7d) nor a time (RFC 3339)", flagName, s)
	}
	return inRange(now.Add(-d))
}

// isRecordID reports whether s is a record id: a UUID in its canonical
// text form, the key of a record in every store.
func isRecordID(s string) bool {
	_, err := auditconv.ParseRecordID(s)
	return err == nil
}

// parseStatus parses 500, 5xx or 400-499 into an inclusive range.
func parseStatus(s string) (lo, hi int, err error) {
	lo, hi, err = auditconv.ParseStatusRange(s)
	if err != nil {
		return 0, 0, usageError{err.Error()}
	}
	return lo, hi, nil
}

// parseMethods splits GET,POST into upper-case methods.
func parseMethods(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, m := range strings.Split(s, ",") {
		m = strings.ToUpper(strings.TrimSpace(m))
		if m == "" || strings.ContainsAny(m, " /") {
			return nil, usagef("--method: %q is not an HTTP method", m)
		}
		out = append(out, m)
	}
	return out, nil
}

func formatDuration(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.0fµs", ms*1000)
	case ms < 1000:
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.2fs", ms/1000)
}

// parseEvent maps --event (server or client) to the event name records of
// that side carry; "" selects both.
func parseEvent(s string) (string, error) {
	switch strings.ToLower(s) {
	case "":
		return "", nil
	case "server":
		return auditconv.EventHTTPServer, nil
	case "client":
		return auditconv.EventHTTPClient, nil
	}
	return "", usagef("--event must be server or client, not %q", s)
}
