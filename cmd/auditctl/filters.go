package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseTime parses an absolute time (RFC 3339) or a duration back from now
// ("1h", "90m", "7d").
func parseTime(flagName, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, usagef("%s: %q is neither a duration (1h, 30m, 7d) nor a time (RFC 3339)", flagName, s)
	}
	return now.Add(-d), nil
}

// parseStatus parses 500, 5xx or 400-499 into an inclusive range.
func parseStatus(s string) (lo, hi int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	bad := usagef("unknown status %q: want a code (500), a class (5xx) or a range (400-499)", s)
	switch {
	case len(s) == 3 && (strings.HasSuffix(s, "xx") || strings.HasSuffix(s, "XX")):
		c := s[0] - '0'
		if c < 1 || c > 5 {
			return 0, 0, bad
		}
		return int(c) * 100, int(c)*100 + 99, nil
	case strings.Contains(s, "-"):
		a, b, _ := strings.Cut(s, "-")
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || x < 100 || y > 599 || x > y {
			return 0, 0, bad
		}
		return x, y, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, bad
	}
	return n, n, nil
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
