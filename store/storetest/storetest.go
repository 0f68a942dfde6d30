// Package storetest is the conformance suite every store.Store backend
// runs, so that PostgreSQL and MongoDB behave the same from the outside:
// write, idempotent rewrite, every Filter field, pagination, Cleanup with
// and without DryRun, hostile values, and the canonical form integrity
// checkpoints hash surviving the round trip.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/store"
)

// Factory opens a fresh, migrated, empty store for one test; the factory
// arranges for it to be closed and dropped when the test ends.
type Factory func(t *testing.T) store.Store

// base is the reference time of the suite's records: an hour ago, so that
// a day's worth fits before now.
func base() time.Time { return time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour) }

// NewID returns a UUIDv7 for ts.
func NewID(ts time.Time) string {
	id, err := uuid.NewV7()
	if err != nil {
		panic(err)
	}
	ms := uint64(ts.UnixMilli())
	for i := 0; i < 6; i++ {
		id[i] = byte(ms >> (40 - 8*i))
	}
	return id.String()
}

// NewRecord returns a realistic audit record at ts.
func NewRecord(ts time.Time, i int) store.Record {
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	statuses := []int{200, 201, 404, 500, 302}
	return store.Record{
		ID:                NewID(ts),
		Timestamp:         ts,
		ObservedTimestamp: ts.Add(3 * time.Millisecond),
		EventName:         auditconv.EventHTTPServer,
		SeverityNumber:    9,
		SeverityText:      "INFO",
		ServiceName:       []string{"orders", "billing"}[i%2],
		ScopeName:         "github.com/otelaudit/otelaudit/instrumentation/audithttp",
		Operation:         "api",
		TraceID:           fmt.Sprintf("%032x", i+1),
		SpanID:            fmt.Sprintf("%016x", i+1),
		Method:            methods[i%len(methods)],
		Scheme:            "https",
		Host:              "api.example.com",
		Path:              fmt.Sprintf("/api/v1/items/%d", i),
		Route:             "GET /api/v1/items/{id}",
		Query:             "page=1&token=****",
		Status:            statuses[i%len(statuses)],
		DurationMS:        float64(i%100) + 0.25,
		UserID:            fmt.Sprintf("user-%d", i%3),
		SessionID:         auditconv.KeyedHashPrefix + "abc",
		ClientAddress:     "203.0.113.7",
		UserAgent:         "curl/8",
		RequestHeaders:    map[string][]string{"accept": {"application/json"}, "x-multi": {"a", "b"}},
		RequestBody:       `{"item":"book","qty":1}`,
		RequestBodySize:   23,
		ResponseHeaders:   map[string][]string{"content-type": {"application/json"}},
		ResponseBody:      `{"ok":true}`,
		ResponseBodySize:  11,
		Attributes:        map[string]any{"tenant": "acme", "n": int64(i), "flag": true},
		Resource:          map[string]any{auditconv.ServiceName: []string{"orders", "billing"}[i%2], "host.name": "node-1"},
	}
}

// Run runs the whole suite.
func Run(t *testing.T, open Factory) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("IdempotentRewrite", func(t *testing.T) { testIdempotent(t, open(t)) })
	t.Run("Filters", func(t *testing.T) { testFilters(t, open(t)) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, open(t)) })
	t.Run("Cleanup", func(t *testing.T) { testCleanup(t, open(t)) })
	t.Run("HostileValues", func(t *testing.T) { testHostile(t, open(t)) })
	t.Run("GetUnknown", func(t *testing.T) { testGetUnknown(t, open(t)) })
	t.Run("ReusedID", func(t *testing.T) { testReusedID(t, open(t)) })
	t.Run("ValuesOutOfRange", func(t *testing.T) { testValuesOutOfRange(t, open(t)) })
	t.Run("Timeline", func(t *testing.T) { testTimeline(t, open(t)) })
	t.Run("RecordIDs", func(t *testing.T) { testRecordIDs(t, open(t)) })
	t.Run("CanonicalForm", func(t *testing.T) { testCanonicalForm(t, open(t)) })
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// normalize renders a record as JSON, so that equal content compares equal
// whatever number types a backend decodes to.
func normalize(t *testing.T, r store.Record) string {
	t.Helper()
	roundNumbers := func(v any) any {
		b, _ := json.Marshal(v)
		var out any
		json.Unmarshal(b, &out)
		return out
	}
	r.Attributes, _ = roundNumbers(r.Attributes).(map[string]any)
	r.Resource, _ = roundNumbers(r.Resource).(map[string]any)
	r.LogBody = roundNumbers(r.LogBody)
	if len(r.RequestHeaders) == 0 {
		r.RequestHeaders = nil
	}
	if len(r.ResponseHeaders) == 0 {
		r.ResponseHeaders = nil
	}
	if len(r.RequestBodyBinary) == 0 {
		r.RequestBodyBinary = nil
	}
	if len(r.ResponseBodyBinary) == 0 {
		r.ResponseBodyBinary = nil
	}
	r.Timestamp, r.ObservedTimestamp = r.Timestamp.UTC(), r.ObservedTimestamp.UTC()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testRoundTrip(t *testing.T, s store.Store) {
	ts := base()
	recs := []store.Record{NewRecord(ts, 1), NewRecord(ts.Add(time.Second), 2)}
	recs[1].RequestBody = ""
	recs[1].RequestBodyBinary = []byte{0x00, 0xff, 0xfe, 'b', 'i', 'n'}
	recs[1].RequestBodyTruncated = true
	recs[1].LogBody = map[string]any{"msg": "hello", "nested": map[string]any{"list": []any{int64(1), "two"}}}
	recs[1].ErrorType = "500"
	if _, err := s.Write(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	for _, want := range recs {
		got, err := s.Get(ctx(t), want.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", want.ID, err)
		}
		if g, w := normalize(t, got), normalize(t, want); g != w {
			t.Errorf("round trip differs:\n got %s\nwant %s", g, w)
		}
	}
}

func testIdempotent(t *testing.T, s store.Store) {
	ts := base()
	var recs []store.Record
	for i := 0; i < 50; i++ {
		recs = append(recs, NewRecord(ts.Add(time.Duration(i)*time.Second), i))
	}
	for i, want := range []store.WriteResult{{Written: 50}, {Duplicates: 50}} {
		if res, err := s.Write(ctx(t), recs); err != nil || res != want {
			t.Fatalf("write %d: %+v, %v; want %+v", i+1, res, err, want)
		}
	}
	// A retry after partial success: half old, half new, and a duplicate
	// inside the batch.
	more := append([]store.Record{}, recs[25:]...)
	for i := 50; i < 60; i++ {
		more = append(more, NewRecord(ts.Add(time.Duration(i)*time.Second), i))
	}
	more = append(more, more[len(more)-1])
	if res, err := s.Write(ctx(t), more); err != nil || res != (store.WriteResult{Written: 10, Duplicates: 26}) {
		t.Fatalf("retry after partial success: %+v, %v; want 10 written, 26 duplicates", res, err)
	}
	n, err := s.Count(ctx(t), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 60 {
		t.Errorf("%d records after rewrites, want 60", n)
	}
}

func ids(rs []store.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func testFilters(t *testing.T, s store.Store) {
	ts := base()
	var recs []store.Record
	for i := 0; i < 40; i++ {
		recs = append(recs, NewRecord(ts.Add(time.Duration(i)*time.Minute), i))
	}
	recs[3].Path = "/admin/users"
	recs[4].Path = "/admin_x" // '_' must not act as a wildcard
	recs[5].Path = "/adminX/%"
	recs[6].Route = "POST /refunds"
	recs[8].ClientAddress = "2001:db8::9"
	recs[9].RequestBody = `{"reason":"Refund please"}`
	recs[10].ResponseBody = "order REFUNDED"
	recs[11].Query = "q=refund_50%25"
	recs[12].UserID = "refunder"
	recs[13].RequestBody = "100%_off"                                               // '%' and '_' must be literal in a search
	recs[14].RequestBody, recs[14].RequestBodyBinary = "", []byte("refund\x00\xff") // binary bodies are not searched
	for i := 2; i < len(recs); i += 7 {
		recs[i].EventName = auditconv.EventHTTPClient // outbound calls, stored alongside
	}
	if _, err := s.Write(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	want := func(pred func(store.Record) bool) []string {
		var out []store.Record
		for _, r := range recs {
			if pred(r) {
				out = append(out, r)
			}
		}
		slices.SortFunc(out, func(a, b store.Record) int { return b.Timestamp.Compare(a.Timestamp) })
		return ids(out)
	}
	cases := []struct {
		name string
		f    store.Filter
		pred func(store.Record) bool
	}{
		{"all", store.Filter{}, func(store.Record) bool { return true }},
		{"since", store.Filter{Since: ts.Add(30 * time.Minute)}, func(r store.Record) bool { return !r.Timestamp.Before(ts.Add(30 * time.Minute)) }},
		{"until", store.Filter{Until: ts.Add(10 * time.Minute)}, func(r store.Record) bool { return r.Timestamp.Before(ts.Add(10 * time.Minute)) }},
		{"methods", store.Filter{Methods: []string{"post", "DELETE"}}, func(r store.Record) bool { return r.Method == "POST" || r.Method == "DELETE" }},
		{"path prefix", store.Filter{PathPrefix: "/admin/"}, func(r store.Record) bool { return strings.HasPrefix(r.Path, "/admin/") }},
		{"path prefix literal", store.Filter{PathPrefix: "/admin_"}, func(r store.Record) bool { return strings.HasPrefix(r.Path, "/admin_") }},
		{"path prefix percent", store.Filter{PathPrefix: "/adminX/%"}, func(r store.Record) bool { return strings.HasPrefix(r.Path, "/adminX/%") }},
		{"status range", store.Filter{StatusMin: 400, StatusMax: 499}, func(r store.Record) bool { return r.Status >= 400 && r.Status <= 499 }},
		{"status min", store.Filter{StatusMin: 500}, func(r store.Record) bool { return r.Status >= 500 }},
		{"user", store.Filter{UserID: "user-1"}, func(r store.Record) bool { return r.UserID == "user-1" }},
		{"trace", store.Filter{TraceID: recs[7].TraceID}, func(r store.Record) bool { return r.TraceID == recs[7].TraceID }},
		{"service", store.Filter{ServiceName: "billing"}, func(r store.Record) bool { return r.ServiceName == "billing" }},
		{"route", store.Filter{Route: "POST /refunds"}, func(r store.Record) bool { return r.Route == "POST /refunds" }},
		{"client address", store.Filter{ClientAddress: "2001:db8::9"}, func(r store.Record) bool { return r.ClientAddress == "2001:db8::9" }},
		{"search", store.Filter{Q: "rEfUnD"}, func(r store.Record) bool { return searchHit(r, "refund") }},
		{"search wildcards literal", store.Filter{Q: "%_"}, func(r store.Record) bool { return searchHit(r, "%_") }},
		{"search path", store.Filter{Q: "/ADMIN_X"}, func(r store.Record) bool { return searchHit(r, "/admin_x") }},
		{"search and filter", store.Filter{Q: "refund", StatusMin: 400}, func(r store.Record) bool { return searchHit(r, "refund") && r.Status >= 400 }},
		{"client events", store.Filter{EventName: auditconv.EventHTTPClient}, func(r store.Record) bool { return r.EventName == auditconv.EventHTTPClient }},
		{"server events", store.Filter{EventName: auditconv.EventHTTPServer, Methods: []string{"POST"}},
			func(r store.Record) bool { return r.EventName == auditconv.EventHTTPServer && r.Method == "POST" }},
		{"combined", store.Filter{Methods: []string{"GET"}, StatusMax: 299, ServiceName: "orders", Since: ts.Add(5 * time.Minute)},
			func(r store.Record) bool {
				return r.Method == "GET" && r.Status <= 299 && r.ServiceName == "orders" && !r.Timestamp.Before(ts.Add(5*time.Minute))
			}},
		{"limit", store.Filter{Limit: 3}, nil},
	}
	for _, c := range cases {
		got, err := s.Query(ctx(t), c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var w []string
		if c.pred != nil {
			w = want(c.pred)
		} else {
			w = want(func(store.Record) bool { return true })[:3]
		}
		if strings.Join(ids(got), ",") != strings.Join(w, ",") {
			t.Errorf("%s: got %d records %v, want %d %v", c.name, len(got), ids(got), len(w), w)
		}
		if c.pred != nil {
			n, err := s.Count(ctx(t), c.f)
			if err != nil || n != int64(len(w)) {
				t.Errorf("%s: Count = %d, %v; want %d", c.name, n, err, len(w))
			}
		}
	}
}

// searchHit reports whether lower-case term is in one of the fields
// Filter.Q searches.
func searchHit(r store.Record, term string) bool {
	for _, v := range []string{r.Path, r.Query, r.UserID, r.RequestBody, r.ResponseBody} {
		if strings.Contains(strings.ToLower(v), term) {
			return true
		}
	}
	return false
}

func testPagination(t *testing.T, s store.Store) {
	ts := base()
	var recs []store.Record
	for i := 0; i < 25; i++ {
		recs = append(recs, NewRecord(ts.Add(time.Duration(i/2)*time.Second), i)) // pairs share a timestamp
	}
	if _, err := s.Write(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	f := store.Filter{Limit: 4}
	var prev store.Record
	pages := 0
	for {
		page, err := s.Query(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		pages++
		for _, r := range page {
			if seen[r.ID] {
				t.Fatalf("record %s on two pages", r.ID)
			}
			seen[r.ID] = true
			if prev.ID != "" && (r.Timestamp.After(prev.Timestamp) || (r.Timestamp.Equal(prev.Timestamp) && r.ID > prev.ID)) {
				t.Errorf("not newest first: %s after %s", r.ID, prev.ID)
			}
			prev = r
		}
		f.After = store.CursorAfter(page[len(page)-1])
	}
	if len(seen) != 25 || pages != 7 {
		t.Errorf("paged through %d records in %d pages, want 25 in 7", len(seen), pages)
	}
}

func testCleanup(t *testing.T, s store.Store) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	var recs []store.Record
	for day := 0; day < 5; day++ {
		for i := 0; i < 7; i++ {
			recs = append(recs, NewRecord(now.Add(-time.Duration(day)*24*time.Hour-time.Duration(i)*time.Minute), i))
		}
	}
	if _, err := s.Write(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	cutoff := now.Add(-36 * time.Hour)
	var older int64
	for _, r := range recs {
		if r.Timestamp.Before(cutoff) {
			older++
		}
	}
	dry, err := s.Cleanup(ctx(t), cutoff, store.CleanupOptions{DryRun: true, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Deleted != older {
		t.Errorf("dry run counts %d, want %d", dry.Deleted, older)
	}
	if n, _ := s.Count(ctx(t), store.Filter{}); n != int64(len(recs)) {
		t.Fatalf("dry run removed records: %d left of %d", n, len(recs))
	}
	var steps int
	res, err := s.Cleanup(ctx(t), cutoff, store.CleanupOptions{BatchSize: 4, Progress: func(string, int64) { steps++ }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != older || steps == 0 {
		t.Errorf("cleanup deleted %d in %d steps, want %d", res.Deleted, steps, older)
	}
	n, _ := s.Count(ctx(t), store.Filter{})
	if n != int64(len(recs))-older {
		t.Errorf("%d records left, want %d", n, int64(len(recs))-older)
	}
	if left, _ := s.Count(ctx(t), store.Filter{Until: cutoff}); left != 0 {
		t.Errorf("%d records older than the cutoff survived", left)
	}
}

// Hostile returns records that stores must keep without failing the batch
// they travel in: NUL bytes, invalid UTF-8, huge bodies, many attributes,
// keys with '.' and '$', SQL- and query-looking text, far-off timestamps.
func Hostile(ts time.Time) []store.Record {
	var out []store.Record
	r := NewRecord(ts, 100)
	r.Path = "/x'; DROP TABLE audit_logs; --"
	r.UserID = `"; db.dropDatabase(); {"$ne": 1}`
	r.Query = "q=' OR '1'='1"
	r.RequestBody = "text with NUL \x00 inside"
	r.RequestHeaders = map[string][]string{"x-nul": {"a\x00b"}, "x.dotted": {"v"}, "$dollar": {"d"}}
	r.Attributes = map[string]any{"a.b.c": "dotted", "$where": "sleep(1)", "nul\x00key": "v\x00", "nested": map[string]any{"$gt": "", "x.y": int64(1)}}
	out = append(out, r)

	r = NewRecord(ts.Add(time.Millisecond), 101)
	r.RequestBody = ""
	r.RequestBodyBinary = []byte("invalid \xc3\x28 utf-8 \xff")
	r.ResponseBody = strings.Repeat("big body ", 5<<20/9) // ~5 MB
	r.ResponseBodySize = int64(len(r.ResponseBody))
	out = append(out, r)

	r = NewRecord(ts.Add(2*time.Millisecond), 102)
	r.Attributes = map[string]any{}
	for i := 0; i < 10000; i++ {
		r.Attributes[fmt.Sprintf("attr.%05d", i)] = i
	}
	out = append(out, r)

	r = NewRecord(time.Unix(1, 0).UTC(), 103)
	r.ObservedTimestamp = time.Unix(2, 0).UTC()
	out = append(out, r)

	r = NewRecord(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 104)
	r.ObservedTimestamp = r.Timestamp
	out = append(out, r)
	return out
}

func testHostile(t *testing.T, s store.Store) {
	ts := base()
	recs := append([]store.Record{NewRecord(ts.Add(-time.Second), 1)}, Hostile(ts)...)
	if _, err := s.Write(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	n, err := s.Count(ctx(t), store.Filter{})
	if err != nil || n != int64(len(recs)) {
		t.Fatalf("%d records stored of %d (%v)", n, len(recs), err)
	}
	h := Hostile(ts)
	got, err := s.Get(ctx(t), recs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != h[0].Path || got.UserID != h[0].UserID || got.Query != h[0].Query {
		t.Errorf("SQL/query-looking text changed: %q %q %q", got.Path, got.UserID, got.Query)
	}
	if !strings.HasPrefix(got.RequestBody, "text with NUL ") || !strings.Contains(got.RequestBody, "inside") {
		t.Errorf("NUL body: %q", got.RequestBody)
	}
	if got.Attributes["a.b.c"] != "dotted" || got.Attributes["$where"] != "sleep(1)" {
		t.Errorf("keys with '.' or '$' not kept: %v", got.Attributes)
	}
	if got.RequestHeaders["x.dotted"][0] != "v" || got.RequestHeaders["$dollar"][0] != "d" {
		t.Errorf("header keys with '.' or '$' not kept: %v", got.RequestHeaders)
	}
	got, err = s.Get(ctx(t), recs[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.RequestBodyBinary) != string(h[1].RequestBodyBinary) {
		t.Errorf("binary body changed: %q", got.RequestBodyBinary)
	}
	if len(got.ResponseBody) != len(h[1].ResponseBody) {
		t.Errorf("5 MB body: %d bytes back", len(got.ResponseBody))
	}
	got, err = s.Get(ctx(t), recs[3].ID)
	if err != nil || len(got.Attributes) != 10000 {
		t.Errorf("10 000 attributes: %d back (%v)", len(got.Attributes), err)
	}
	for _, i := range []int{4, 5} {
		got, err := s.Get(ctx(t), recs[i].ID)
		if err != nil || !got.Timestamp.Equal(recs[i].Timestamp) {
			t.Errorf("timestamp %s: got %s (%v)", recs[i].Timestamp, got.Timestamp, err)
		}
	}
}

// testRecordIDs: a record whose id is not a UUID is rejected, the rest of
// its batch written; an upper-case id is stored and found in its canonical,
// lower-case form.
func testRecordIDs(t *testing.T, s store.Store) {
	ts := base()
	good, bad, upper := NewRecord(ts, 1), NewRecord(ts.Add(time.Second), 2), NewRecord(ts.Add(2*time.Second), 3)
	bad.ID = "not-a-uuid"
	upper.ID = strings.ToUpper(upper.ID)
	res, err := s.Write(ctx(t), []store.Record{good, bad, upper})
	var rejected *store.RejectedError
	if !errors.As(err, &rejected) || !slices.Equal(rejected.IDs, []string{"not-a-uuid"}) || res != (store.WriteResult{Written: 2}) {
		t.Fatalf("Write: %+v, %v; want 2 written and not-a-uuid rejected", res, err)
	}
	for _, id := range []string{upper.ID, strings.ToLower(upper.ID)} {
		got, err := s.Get(ctx(t), id)
		if err != nil || got.ID != strings.ToLower(upper.ID) {
			t.Errorf("Get(%s): %q, %v", id, got.ID, err)
		}
	}
	if _, err := s.Get(ctx(t), "not-a-uuid"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(not-a-uuid): %v, want an invalid-id error", err)
	}
}

func testGetUnknown(t *testing.T, s store.Store) {
	if _, err := s.Get(ctx(t), NewID(time.Now())); err != store.ErrNotFound {
		t.Errorf("Get of an unknown id: %v, want store.ErrNotFound", err)
	}
}

// testReusedID: the record id alone is the idempotency key. A later record
// with a stored id is skipped whatever its timestamp and content, in a
// later batch or in the same one: the first write wins.
func testReusedID(t *testing.T, s store.Store) {
	ts := base()
	first := NewRecord(ts, 1)
	first.Path = "/first"
	if _, err := s.Write(ctx(t), []store.Record{first}); err != nil {
		t.Fatal(err)
	}
	again := NewRecord(ts.Add(26*time.Hour), 2) // another day: another partition
	again.ID, again.Path = first.ID, "/second"
	sameBatchA := NewRecord(ts.Add(time.Minute), 3)
	sameBatchA.Path = "/batch-first"
	sameBatchB := NewRecord(ts.Add(-48*time.Hour), 4)
	sameBatchB.ID, sameBatchB.Path = sameBatchA.ID, "/batch-second"
	other := NewRecord(ts.Add(2*time.Minute), 5)
	if res, err := s.Write(ctx(t), []store.Record{again, sameBatchA, sameBatchB, other}); err != nil || res != (store.WriteResult{Written: 2, Duplicates: 2}) {
		t.Fatalf("write: %+v, %v; want 2 written, 2 duplicates", res, err)
	}
	n, err := s.Count(ctx(t), store.Filter{})
	if err != nil || n != 3 {
		t.Errorf("%d records (%v), want 3: one per id", n, err)
	}
	for _, want := range []store.Record{first, sameBatchA, other} {
		got, err := s.Get(ctx(t), want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Path != want.Path || !got.Timestamp.Equal(want.Timestamp) {
			t.Errorf("id %s: stored %s at %s, want the first write %s at %s", want.ID, got.Path, got.Timestamp, want.Path, want.Timestamp)
		}
	}
}

// OutOfRange returns records with values no store can hold as they are:
// a status beyond int32, a severity beyond int16, non-finite numbers,
// timestamps beyond the range or absent, keys and text that are not
// UTF-8.
func OutOfRange(ts time.Time) []store.Record {
	var out []store.Record
	r := NewRecord(ts, 200)
	r.Status = 1<<32 + 200
	r.SeverityNumber = 70000
	r.DurationMS = math.Inf(1)
	r.Attributes = map[string]any{"nan": math.NaN(), "list": []any{math.Inf(-1), 1.5}, "ok": "kept"}
	r.LogBody = map[string]any{"x": math.NaN()}
	out = append(out, r)

	r = NewRecord(ts.Add(time.Millisecond), 201)
	r.Status = 1 << 31
	r.DurationMS = math.NaN()
	r.Timestamp = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	r.ObservedTimestamp = r.Timestamp
	out = append(out, r)

	r = NewRecord(ts.Add(2*time.Millisecond), 202)
	r.Timestamp, r.ObservedTimestamp = time.Time{}, time.Time{}
	r.Attributes = map[string]any{"bad\xffkey": "v", "text": "not \xc3\x28 utf-8", "ok": "kept"}
	r.RequestHeaders = map[string][]string{"x-\xfe": {"h"}, "accept": {"*/*"}}
	out = append(out, r)
	return out
}

func testValuesOutOfRange(t *testing.T, s store.Store) {
	ts := base()
	recs := OutOfRange(ts)
	before := time.Now().Add(-time.Second)
	if _, err := s.Write(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second)
	if n, err := s.Count(ctx(t), store.Filter{}); err != nil || n != int64(len(recs)) {
		t.Fatalf("%d records stored of %d (%v)", n, len(recs), err)
	}
	got := make([]store.Record, len(recs))
	for i, r := range recs {
		g, err := s.Get(ctx(t), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		got[i] = g
	}
	orig := func(r store.Record, col string) any { return r.Attributes[auditconv.StoreOriginalKey(col)] }

	g := got[0]
	if g.Status != 0 || orig(g, "status") != "4294967496" {
		t.Errorf("status 2^32+200: stored %d, original %v; want 0 (NULL) and the original kept", g.Status, orig(g, "status"))
	}
	if g.SeverityNumber != 0 || orig(g, "severity_number") != "70000" {
		t.Errorf("severity 70000: stored %d, original %v", g.SeverityNumber, orig(g, "severity_number"))
	}
	if g.DurationMS != 0 || orig(g, "duration_ms") != "+Inf" {
		t.Errorf("duration +Inf: stored %v, original %v", g.DurationMS, orig(g, "duration_ms"))
	}
	if g.Attributes["nan"] != "NaN" || fmt.Sprint(g.Attributes["list"]) != "[-Inf 1.5]" || g.Attributes["ok"] != "kept" {
		t.Errorf("non-finite attributes: %v", g.Attributes)
	}
	if b, _ := g.LogBody.(map[string]any); b["x"] != "NaN" {
		t.Errorf("non-finite body: %v", g.LogBody)
	}

	g = got[1]
	if g.Status != 0 || orig(g, "status") != "2147483648" || orig(g, "duration_ms") != "NaN" {
		t.Errorf("status 2^31, duration NaN: stored %d, %v; originals %v", g.Status, g.DurationMS, g.Attributes)
	}
	if !g.Timestamp.Equal(store.MaxTime) || orig(g, "ts") != "12000-01-01T00:00:00Z" || orig(g, "observed_ts") != "12000-01-01T00:00:00Z" {
		t.Errorf("year 12000: stored %s, originals %v %v", g.Timestamp, orig(g, "ts"), orig(g, "observed_ts"))
	}

	g = got[2]
	if g.Timestamp.Before(before) || g.Timestamp.After(after) || orig(g, "ts") != store.Absent {
		t.Errorf("no timestamp: stored %s (written between %s and %s), original %v", g.Timestamp, before, after, orig(g, "ts"))
	}
	if g.Attributes["bad\uFFFDkey"] != "v" || g.Attributes["ok"] != "kept" || g.RequestHeaders["x-\uFFFD"][0] != "h" || g.RequestHeaders["accept"][0] != "*/*" {
		t.Errorf("keys that are not UTF-8: attributes %v, headers %v", g.Attributes, g.RequestHeaders)
	}
	if keys := fmt.Sprint(orig(g, "keys")); !strings.Contains(keys, `"bad\xffkey"`) || !strings.Contains(keys, `"x-\xfe"`) {
		t.Errorf("original keys: %s", keys)
	}
	if g.RequestBody != recs[2].RequestBody {
		t.Errorf("request body lost: %q", g.RequestBody)
	}

	// Everything else is the record as Normalize makes it, in both stores.
	want := store.Normalize(recs, g.Timestamp)
	for i := range recs {
		if w, gn := normalize(t, want[i]), normalize(t, got[i]); w != gn {
			t.Errorf("record %d:\n got %s\nwant %s", i, gn, w)
		}
	}
}

// OddValues returns records whose values stores are most likely to change
// on the way: NUL in text, keys and header values; binary bodies and
// attributes; numbers of every form (integers beyond 2^53, integral and
// huge floats, tiny and negative zero floats); empty bodies, maps and
// lists; timestamps with nanoseconds; an upper-case id.
func OddValues(ts time.Time) []store.Record {
	r := NewRecord(ts.Add(123456789), 300)
	r.ID = strings.ToUpper(r.ID)
	r.ObservedTimestamp = ts.Add(987654321)
	r.RequestBody = "nul \x00 in the body"
	r.ResponseBody = "tabs\tand\nnewlines \"quoted\" \\ \u2028 \U0001F600"
	r.RequestHeaders = map[string][]string{"x-nul": {"a\x00b"}, "x.dot": {}, "$d": {"1", "2"}}
	r.Attributes = map[string]any{
		"big": int64(math.MaxInt64), "neg": int64(math.MinInt64), "beyond53": int64(1<<53 + 1),
		"float_int": 2.0, "huge": 1e300, "tiny": 1e-7, "negzero": math.Copysign(0, -1), "pi": math.Pi,
		"e18": 1e18, "e20": 1.5e20, "bytes": []byte{0, 1, 0xff}, "empty_map": map[string]any{}, "empty_list": []any{},
		"nested":     map[string]any{"list": []any{int64(1), "two", 3.5, nil, true, map[string]any{"k\x00": "v\x00"}}},
		"nul\x00key": "v", "a.b": "dot", "$x": "dollar", "pct%25": "percent", "unicode": "é ü 日本",
	}
	r.Resource = map[string]any{"service.name": "odd", "n": int64(7)}
	r.LogBody = map[string]any{"msg": "hello", "n": 1.25}
	out := []store.Record{r}

	r = NewRecord(ts.Add(time.Millisecond+999999), 301)
	r.RequestBody, r.RequestBodyBinary = "", []byte{0xff, 0xfe, 0x00, 'x'}
	r.ResponseBody = "invalid \xc3\x28 utf-8 becomes binary"
	r.LogBody = "a string body"
	r.Attributes = map[string]any{"invalid": "bad \xff text"}
	out = append(out, r)

	r = NewRecord(ts.Add(2*time.Millisecond), 302)
	r.LogBody = ""
	r.Attributes, r.Resource, r.RequestHeaders, r.ResponseHeaders = nil, map[string]any{}, nil, map[string][]string{}
	r.RequestBody, r.ResponseBody, r.DurationMS, r.Status = "", "", 0, 0
	out = append(out, r)

	r = NewRecord(ts.Add(3*time.Millisecond), 303)
	r.LogBody = []any{int64(1), 2.5, "x"}
	out = append(out, r)
	return append(out, Hostile(ts.Add(10*time.Millisecond))...)
}

// testCanonicalForm: the canonical encoding that integrity checkpoints
// hash is the same for a record as written (normalized) and as read back,
// for every odd value.
func testCanonicalForm(t *testing.T, s store.Store) {
	recs := store.Normalize(OddValues(base()), time.Now())
	if _, err := s.Write(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		got, err := s.Get(ctx(t), recs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		want := integrity.AppendRecord(nil, &recs[i])
		if enc := integrity.AppendRecord(nil, &got); string(enc) != string(want) {
			t.Errorf("record %d: canonical form changed by the round trip:\nwritten %.600s\nread    %.600s", i, want, enc)
		}
	}
}

func testTimeline(t *testing.T, s store.Store) {
	ts := base()
	var recs []store.Record
	for i := 0; i < 40; i++ {
		recs = append(recs, NewRecord(ts.Add(time.Duration(i)*time.Minute), i))
	}
	recs[0].Status = 0
	if _, err := s.Write(ctx(t), recs); err != nil {
		t.Fatal(err)
	}
	for _, f := range []store.Filter{
		{Since: ts, Until: ts.Add(40 * time.Minute)},
		{Since: ts.Add(5 * time.Minute), Until: ts.Add(25 * time.Minute), StatusMin: 400, Methods: []string{"GET", "PUT"}},
		{Since: ts, Until: ts.Add(40 * time.Minute), Q: "USER-1"}, // a search, as the viewer's list narrows its timeline
	} {
		got, err := store.Timeline(ctx(t), s, f, 4)
		if err != nil {
			t.Fatal(err)
		}
		want := store.Slots(f.Since, f.Until, 4)
		for _, r := range recs {
			if r.Timestamp.Before(f.Since) || !r.Timestamp.Before(f.Until) || r.Status < f.StatusMin ||
				(len(f.Methods) > 0 && !slices.Contains(f.Methods, r.Method)) || (f.Q != "" && r.UserID != "user-1") {
				continue
			}
			i := int(r.Timestamp.Sub(f.Since) * 4 / f.Until.Sub(f.Since))
			want[i].ByClass[r.Status/100]++
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("timeline of %+v:\n got %v\nwant %v", f, got, want)
		}
	}
}
