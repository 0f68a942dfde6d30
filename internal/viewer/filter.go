package viewer

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// The query parameters of the list and the exports. They are the whole
// state of a view, so that a URL can be bookmarked and pasted.
var filterParams = []string{"range", "since", "until", "method", "status", "path", "route", "user", "client", "service", "trace_id", "q"}

// rangePresets are the relative time ranges the list offers.
var rangePresets = []struct {
	Value, Label string
	D            time.Duration
}{
	{"15m", "last 15 minutes", 15 * time.Minute},
	{"1h", "last hour", time.Hour},
	{"24h", "last 24 hours", 24 * time.Hour},
	{"7d", "last 7 days", 7 * 24 * time.Hour},
	{"30d", "last 30 days", 30 * 24 * time.Hour},
}

// timeLayouts are the absolute times accepted: RFC 3339 and what an HTML
// datetime-local input sends (taken as UTC).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// view is a parsed list query: the store filter and the parameters it came
// from.
type view struct {
	Filter store.Filter
	Values url.Values // the filter parameters, cleaned, without the cursor
}

// parseView reads the filter parameters of q; a bad one is an error naming
// it.
func parseView(q url.Values, now time.Time) (view, error) {
	v := view{Values: url.Values{}}
	for _, k := range filterParams {
		for _, x := range q[k] {
			if x = strings.TrimSpace(x); x != "" {
				v.Values.Add(k, x)
			}
		}
	}
	f := &v.Filter
	get := v.Values.Get
	if r := get("range"); r != "" {
		ok := false
		for _, p := range rangePresets {
			if p.Value == r {
				f.Since, ok = now.Add(-p.D), true
			}
		}
		if !ok {
			return v, fmt.Errorf("range: %q is not one of 15m, 1h, 24h, 7d, 30d", r)
		}
	}
	for _, t := range []struct {
		key string
		dst *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		s := get(t.key)
		if s == "" {
			continue
		}
		var err error
		*t.dst, err = parseTime(s)
		if err != nil {
			return v, fmt.Errorf("%s: %w", t.key, err)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return v, fmt.Errorf("since must come before until")
	}
	for _, m := range v.Values["method"] {
		for _, x := range strings.Split(m, ",") {
			x = strings.ToUpper(strings.TrimSpace(x))
			if x == "" {
				continue
			}
			if strings.Trim(x, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				return v, fmt.Errorf("method: %q is not an HTTP method", x)
			}
			f.Methods = append(f.Methods, x)
		}
	}
	var err error
	if f.StatusMin, f.StatusMax, err = auditconv.ParseStatusRange(get("status")); err != nil {
		return v, fmt.Errorf("status: %w", err)
	}
	f.PathPrefix = get("path")
	f.Route = get("route")
	f.UserID = get("user")
	f.ClientAddress = get("client")
	f.ServiceName = get("service")
	f.TraceID = get("trace_id")
	f.Q = get("q")
	return v, nil
}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1 || t.Year() > 9999 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2006-01-02T15:04 UTC, or RFC 3339)", s)
}

// link returns the list URL of v with the parameters in set changed (an
// empty value removes one).
func (v view) link(path string, set ...string) string {
	q := url.Values{}
	for k, x := range v.Values {
		q[k] = append([]string(nil), x...)
	}
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" {
			q.Del(set[i])
		} else {
			q.Set(set[i], set[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// zoom returns the list URL of v narrowed to [since, until).
func (v view) zoom(since, until time.Time) string {
	return v.link("/", "range", "", "since", since.UTC().Format(time.RFC3339), "until", until.UTC().Format(time.RFC3339))
}

// encodeCursor and parseCursor carry a keyset position in the URL.
func encodeCursor(c store.Cursor) string {
	return strconv.FormatInt(c.Timestamp.UnixNano(), 10) + "_" + c.ID
}

func parseCursor(s string) (store.Cursor, error) {
	ns, id, ok := strings.Cut(s, "_")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil {
		return store.Cursor{}, fmt.Errorf("after: %q is not a page position", s)
	}
	if _, err := auditconv.ParseRecordID(id); err != nil {
		return store.Cursor{}, fmt.Errorf("after: %w", err)
	}
	return store.Cursor{Timestamp: time.Unix(0, n).UTC(), ID: id}, nil
}
