// Package store defines what every audit log backend shares: the Record
// stored for one exchange, the Filter that queries it, and the Store
// interface that the PostgreSQL and MongoDB backends implement and that the
// exporters and auditctl use.
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

// Record is one stored audit record. Its fields are the columns of
// DESIGN.md §4; the field comments give the column names.
type Record struct {
	ID                string    // id: UUID, the idempotency key
	Timestamp         time.Time // ts: when the request started
	ObservedTimestamp time.Time // observed_ts
	EventName         string    // event_name
	SeverityNumber    int       // severity_number
	SeverityText      string    // severity_text
	ServiceName       string    // service_name
	ScopeName         string    // scope_name
	Operation         string    // operation
	TraceID           string    // trace_id, hex
	SpanID            string    // span_id, hex

	Method        string  // method
	Scheme        string  // scheme
	Host          string  // host
	Path          string  // path
	Route         string  // route
	Query         string  // query
	Status        int     // status
	DurationMS    float64 // duration_ms
	UserID        string  // user_id
	SessionID     string  // session_id
	ClientAddress string  // client_address
	UserAgent     string  // user_agent

	RequestHeaders        map[string][]string // request_headers
	RequestBody           string              // request_body
	RequestBodyBinary     []byte              // request_body_binary: a body that is not valid UTF-8
	RequestBodySize       int64               // request_body_size
	RequestBodyTruncated  bool                // request_body_truncated
	ResponseHeaders       map[string][]string // response_headers
	ResponseBody          string              // response_body
	ResponseBodyBinary    []byte              // response_body_binary
	ResponseBodySize      int64               // response_body_size
	ResponseBodyTruncated bool                // response_body_truncated
	ErrorType             string              // error_type

	Body       any            // body: the log record body (nil when empty)
	Attributes map[string]any // attributes: every attribute not promoted to a field
	Resource   map[string]any // resource: the resource attributes
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
	Limit                int    // at most this many records; DefaultLimit when 0
	After                Cursor // keyset pagination: continue after this record
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

// Store is an audit log backend.
type Store interface {
	// Migrate creates or upgrades the schema; it is idempotent and safe to
	// run from several processes at once.
	Migrate(ctx context.Context) error
	// Write stores records, made fit by Normalize. It is idempotent on
	// Record.ID alone: the first record written with an id wins, and a
	// later one with the same id (a retried batch, or a reused id with
	// other content) is skipped. One bad record never fails the others: a
	// record the server refuses is stored Degraded and reported in a
	// *DegradedError; one refused even so is reported in a *RejectedError
	// (both may be joined); any other error is an outage worth retrying.
	Write(ctx context.Context, records []Record) error
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
