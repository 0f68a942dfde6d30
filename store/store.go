// Package store defines what every audit log backend shares: the Record
// stored for one exchange, the Filter that queries it, the Store interface
// that the PostgreSQL and MongoDB backends implement and that the exporters
// and auditctl use, and Normalize and Degraded, the one place that makes a
// record fit for storage.
//
// It imports only the standard library and auditconv (itself standard
// library only), for the attribute keys a store writes on the records it
// had to change (auditconv.StoreError, auditconv.StoreOriginalKey).
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Record is one stored audit record. Its fields are the stored columns
// (docs/storage.md); the JSON names are the column names, so that a record
// printed as JSON (auditctl) reads like a row. Binary bodies print as
// base64. The BSON names are the same: they are the fields of a MongoDB
// document (mongostore), which leaves out empty fields and keys the
// document by its own _id.
type Record struct {
	ID                string    `json:"id" bson:"-"`                                       // UUID, the idempotency key
	Timestamp         time.Time `json:"ts" bson:"ts"`                                      // when the request started
	ObservedTimestamp time.Time `json:"observed_ts,omitzero" bson:"observed_ts,omitempty"` // when the record was emitted
	EventName         string    `json:"event_name,omitempty" bson:"event_name,omitempty"`
	SeverityNumber    int       `json:"severity_number,omitempty" bson:"severity_number,omitempty"`
	SeverityText      string    `json:"severity_text,omitempty" bson:"severity_text,omitempty"`
	ServiceName       string    `json:"service_name,omitempty" bson:"service_name,omitempty"`
	ScopeName         string    `json:"scope_name,omitempty" bson:"scope_name,omitempty"`
	Operation         string    `json:"operation,omitempty" bson:"operation,omitempty"`
	TraceID           string    `json:"trace_id,omitempty" bson:"trace_id,omitempty"` // hex
	SpanID            string    `json:"span_id,omitempty" bson:"span_id,omitempty"`   // hex

	Method        string  `json:"method,omitempty" bson:"method,omitempty"`
	Scheme        string  `json:"scheme,omitempty" bson:"scheme,omitempty"`
	Host          string  `json:"host,omitempty" bson:"host,omitempty"`
	Path          string  `json:"path,omitempty" bson:"path,omitempty"`
	Route         string  `json:"route,omitempty" bson:"route,omitempty"`
	Query         string  `json:"query,omitempty" bson:"query,omitempty"`
	Status        int     `json:"status,omitempty" bson:"status,omitempty"`
	DurationMS    float64 `json:"duration_ms" bson:"duration_ms,omitempty"`
	UserID        string  `json:"user_id,omitempty" bson:"user_id,omitempty"`
	SessionID     string  `json:"session_id,omitempty" bson:"session_id,omitempty"`
	ClientAddress string  `json:"client_address,omitempty" bson:"client_address,omitempty"`
	UserAgent     string  `json:"user_agent,omitempty" bson:"user_agent,omitempty"`

	RequestHeaders        map[string][]string `json:"request_headers,omitempty" bson:"request_headers,omitempty"`
	RequestBody           string              `json:"request_body,omitempty" bson:"request_body,omitempty"`               // a body that is valid UTF-8
	RequestBodyBinary     []byte              `json:"request_body_binary,omitempty" bson:"request_body_binary,omitempty"` // a body that is not
	RequestBodySize       int64               `json:"request_body_size" bson:"request_body_size,omitempty"`
	RequestBodyTruncated  bool                `json:"request_body_truncated,omitempty" bson:"request_body_truncated,omitempty"`
	ResponseHeaders       map[string][]string `json:"response_headers,omitempty" bson:"response_headers,omitempty"`
	ResponseBody          string              `json:"response_body,omitempty" bson:"response_body,omitempty"`
	ResponseBodyBinary    []byte              `json:"response_body_binary,omitempty" bson:"response_body_binary,omitempty"`
	ResponseBodySize      int64               `json:"response_body_size" bson:"response_body_size,omitempty"`
	ResponseBodyTruncated bool                `json:"response_body_truncated,omitempty" bson:"response_body_truncated,omitempty"`
	ErrorType             string              `json:"error_type,omitempty" bson:"error_type,omitempty"`

	// LogBody is the body of the log record (column body), nil when
	// empty; the HTTP bodies are RequestBody and ResponseBody.
	LogBody    any            `json:"body,omitempty" bson:"body,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty" bson:"attributes,omitempty"` // every attribute not promoted to a field
	Resource   map[string]any `json:"resource,omitempty" bson:"resource,omitempty"`     // the resource attributes
}

// Cursor is a keyset position: records strictly older than it (by ts, then
// id) come next.
type Cursor struct {
	Timestamp time.Time
	ID        string
}

// IsZero reports whether c is the empty cursor (start from the newest).
func (c Cursor) IsZero() bool { return c.Timestamp.IsZero() && c.ID == "" }

// CursorAfter returns the cursor that continues after r.
func CursorAfter(r Record) Cursor { return Cursor{Timestamp: r.Timestamp, ID: r.ID} }

// Filter selects records. Zero fields do not filter. Results come newest
// first.
type Filter struct {
	Since, Until         time.Time // Since <= ts < Until
	Methods              []string  // any of these methods
	PathPrefix           string    // path starts with it
	StatusMin, StatusMax int       // StatusMin <= status <= StatusMax
	UserID               string
	TraceID              string
	ServiceName          string
	Route                string // the route template, exactly
	ClientAddress        string // the client address, exactly
	// Q searches, case-insensitively, for a substring of the path, query,
	// user id or the request and response bodies (text bodies only;
	// PostgreSQL searches the first 65536 characters of each body).
	Q         string
	EventName string // event_name: auditconv.EventHTTPServer or EventHTTPClient, for example
	Limit     int    // at most this many records; DefaultLimit when 0
	After     Cursor // keyset pagination: continue after this record
}

// DefaultLimit is the page size of a query without a Limit.
const DefaultLimit = 100

// MaxLimit bounds the page size of a query.
const MaxLimit = 10000

// EffectiveLimit returns the page size f asks for, within [1, MaxLimit].
func (f Filter) EffectiveLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}

// CleanupOptions tunes Cleanup.
type CleanupOptions struct {
	// BatchSize is how many rows one DELETE removes; DefaultCleanupBatch
	// when 0.
	BatchSize int
	// DryRun only counts what would be removed.
	DryRun bool
	// Progress, when set, is called after each dropped partition or
	// deleted batch, with what was done and the running total.
	Progress func(step string, total int64)
}

// DefaultCleanupBatch is the default Cleanup batch size.
const DefaultCleanupBatch = 5000

// CleanupResult says what Cleanup removed (or, with DryRun, would remove).
type CleanupResult struct {
	Deleted int64    // records removed, by dropping or deleting
	Dropped []string // partitions dropped whole
}

// WriteResult counts what a Write did with the records it was given. Every
// record is either Written, a duplicate, or rejected (its id in a
// *RejectedError).
type WriteResult struct {
	// Written counts the records newly stored, including the degraded
	// ones.
	Written int
	// Duplicates counts the records skipped because their id was stored
	// already, or came earlier in the same batch.
	Duplicates int
	// Degraded counts the records stored only in degraded form (see
	// Degraded), their ids in a *DegradedError.
	Degraded int
}

// Store is an audit log backend.
type Store interface {
	// Migrate creates or upgrades the schema; it is idempotent and safe to
	// run from several processes at once.
	Migrate(ctx context.Context) error
	// Write stores records, made fit by Normalize. It is idempotent on
	// Record.ID alone: the first record written with an id wins, and a
	// later one with the same id (a retried batch, or a reused id with
	// other content) is skipped and counted in WriteResult.Duplicates. One
	// bad record never fails the others: a record the server refuses is
	// stored Degraded and reported in a *DegradedError; one refused even
	// so is reported in a *RejectedError (both may be joined); any other
	// error is an outage worth retrying, and the WriteResult then counts
	// what was stored before it.
	Write(ctx context.Context, records []Record) (WriteResult, error)
	// Query returns the records f selects, newest first.
	Query(ctx context.Context, f Filter) ([]Record, error)
	// Count returns how many records f selects, ignoring Limit and After.
	Count(ctx context.Context, f Filter) (int64, error)
	// Get returns the record with id, or ErrNotFound.
	Get(ctx context.Context, id string) (Record, error)
	// Cleanup removes records older than before.
	Cleanup(ctx context.Context, before time.Time, opts CleanupOptions) (CleanupResult, error)
	// Close releases the store's connections.
	Close() error
}

// ErrNotFound is returned by Get for an unknown id.
var ErrNotFound = errors.New("store: record not found")

// RejectedError reports records a backend refused even in degraded form;
// every other record of the batch was written. Retrying cannot help them.
type RejectedError struct {
	IDs []string
	Err error
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("store: %d record(s) rejected (%s): %v", len(e.IDs), strings.Join(e.IDs, ", "), e.Err)
}

func (e *RejectedError) Unwrap() error { return e.Err }

// ConfigError is a configuration a backend cannot use (a malformed
// connection string, a bad table name): no retry can fix it.
type ConfigError struct {
	Err error
}

func (e *ConfigError) Error() string { return e.Err.Error() }

func (e *ConfigError) Unwrap() error { return e.Err }

// Redact returns msg with every password that connString holds replaced by
// xxxxx: the userinfo password of a URL (postgres://, mongodb://) and
// password= or sslpassword= values of a query or of key=value settings,
// raw and percent-decoded. Connection strings that do not parse are where
// drivers' own redaction is least sure, so errors about them pass here.
func Redact(msg, connString string) string {
	var secrets []string
	if i := strings.Index(connString, "://"); i >= 0 {
		// The userinfo ends at an '@'; the last one when the password
		// holds an unescaped '@', the first when the query does.
		rest := connString[i+3:]
		for _, at := range []int{strings.LastIndex(rest, "@"), strings.Index(rest, "@")} {
			if at < 0 {
				continue
			}
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				secrets = append(secrets, pw)
			}
		}
	}
	for _, m := range passwordSetting.FindAllStringSubmatch(connString, -1) {
		secrets = append(secrets, strings.Trim(m[2], "'"))
	}
	// Longest first, so that a secret holding another is masked whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if s == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, s, "xxxxx")
		if u, err := url.PathUnescape(s); err == nil && u != "" {
			msg = strings.ReplaceAll(msg, u, "xxxxx")
		}
		if u, err := url.QueryUnescape(s); err == nil && u != "" {
			msg = strings.ReplaceAll(msg, u, "xxxxx")
		}
	}
	return msg
}

var passwordSetting = regexp.MustCompile(`(?i)(^|[\s?&])(?:ssl)?password\s*=\s*('[^']*'|[^\s&]*)`)

// WriteReport gathers what a backend's Write did, record by record, and
// gives its results: the WriteResult and the *DegradedError and
// *RejectedError of the records that were not stored as they were.
type WriteReport struct {
	WriteResult
	degraded DegradedError
	rejected RejectedError
}

// Degrade counts the record with id as written in degraded form, because
// the server refused it for cause.
func (w *WriteReport) Degrade(id string, cause error) {
	w.Written++
	w.Degraded++
	w.degraded.IDs = append(w.degraded.IDs, id)
	w.degraded.Err = cause
}

// Reject counts the record with id as refused for good, for err.
func (w *WriteReport) Reject(id string, err error) {
	w.rejected.IDs = append(w.rejected.IDs, id)
	w.rejected.Err = err
}

// Result returns the counts and, when records were degraded or rejected,
// a *DegradedError, a *RejectedError or both joined. An outage (not nil)
// is returned alone: the batch is retried whole, and the records refused
// so far are refused again then.
func (w *WriteReport) Result(outage error) (WriteResult, error) {
	if outage != nil {
		return w.WriteResult, outage
	}
	var errs []error
	if len(w.rejected.IDs) > 0 {
		errs = append(errs, &w.rejected)
	}
	if len(w.degraded.IDs) > 0 {
		errs = append(errs, &w.degraded)
	}
	if len(errs) == 1 {
		return w.WriteResult, errs[0]
	}
	return w.WriteResult, errors.Join(errs...)
}

// Bucket counts the records of one time slot by status class.
type Bucket struct {
	Start, End time.Time
	// ByClass[c] counts the records with status in [c*100, c*100+99];
	// ByClass[0] those without a status (or outside 100-599).
	ByClass [6]int64
}

// Timeliner is a Store that counts the records of a filter per time slot
// and status class in one query; see Timeline.
type Timeliner interface {
	Timeline(ctx context.Context, f Filter, buckets int) ([]Bucket, error)
}

// Timeline returns the counts of the records f selects in buckets equal
// slots of [f.Since, f.Until), which must both be set. A store that is not
// a Timeliner is asked one Count per slot and class.
func Timeline(ctx context.Context, s Store, f Filter, buckets int) ([]Bucket, error) {
	if f.Since.IsZero() || f.Until.IsZero() || !f.Since.Before(f.Until) || buckets < 1 {
		return nil, fmt.Errorf("store: timeline: want Since < Until and buckets > 0")
	}
	f.After, f.Limit = Cursor{}, 0
	if t, ok := s.(Timeliner); ok {
		return t.Timeline(ctx, f, buckets)
	}
	out := Slots(f.Since, f.Until, buckets)
	for i := range out {
		g := f
		g.Since, g.Until = out[i].Start, out[i].End
		total, err := s.Count(ctx, g)
		if err != nil {
			return nil, fmt.Errorf("store: timeline: %w", err)
		}
		out[i].ByClass[0] = total // less the classes counted below
		for c := 1; c <= 5; c++ {
			h := g
			h.StatusMin, h.StatusMax = max(f.StatusMin, c*100), c*100+99
			if f.StatusMax > 0 {
				h.StatusMax = min(f.StatusMax, h.StatusMax)
			}
			if h.StatusMin > h.StatusMax {
				continue
			}
			n, err := s.Count(ctx, h)
			if err != nil {
				return nil, fmt.Errorf("store: timeline: %w", err)
			}
			out[i].ByClass[c] = n
			out[i].ByClass[0] -= n
		}
	}
	return out, nil
}

// Slots divides [since, until) into n equal buckets, without counts.
func Slots(since, until time.Time, n int) []Bucket {
	step := until.Sub(since) / time.Duration(n)
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * step)
		out[i].End = since.Add(time.Duration(i+1) * step)
	}
	out[n-1].End = until
	return out
}
