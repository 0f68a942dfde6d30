// Package auditconv is the record contract of otelaudit: the event names,
// attribute keys and severity rules that the HTTP wrapper writes and that the
// collector components, stores and CLI read. It plays the role semconv plays
// for OpenTelemetry: every key is defined here once and nowhere else.
//
// Keys follow the OpenTelemetry semantic conventions where one exists; the
// audit.* keys are otelaudit's own.
package auditconv

import (
	"fmt"
	"strconv"
	"strings"
)

// Event names of audit log records.
const (
	// EventHTTPServer is the event name of a record describing one HTTP
	// exchange handled by a server.
	EventHTTPServer = "http.server.audit"
	// EventHTTPClient is the event name of a record describing one HTTP
	// exchange made by a client (audithttp.NewTransport).
	EventHTTPClient = "http.client.audit"
)

// Attribute keys of an audit record.
const (
	RecordID  = "audit.record.id" // string, UUIDv7: the idempotency key in every store
	Operation = "audit.operation" // string, the operation given to the wrapper

	HTTPRequestMethod = "http.request.method"
	URLScheme         = "url.scheme"
	ServerAddress     = "server.address"
	ServerPort        = "server.port" // int
	URLPath           = "url.path"
	URLQuery          = "url.query" // raw query, masked
	HTTPRoute         = "http.route"

	// Keys of a whole URL, from producers other than the wrapper (the
	// semantic conventions' url.full and url.original, and the deprecated
	// http.url and http.target): masked like a URL.
	URLFull     = "url.full"
	URLOriginal = "url.original"
	HTTPURL     = "http.url"
	HTTPTarget  = "http.target"

	// HTTPResponseStatusClass is the status class ("2xx" … "5xx", or
	// "unknown") by which the sampling processor counts dropped records.
	HTTPResponseStatusClass = "http.response.status_class"

	HTTPResponseStatusCode    = "http.response.status_code"    // int
	HTTPServerRequestDuration = "http.server.request.duration" // double, seconds
	HTTPClientRequestDuration = "http.client.request.duration" // double, seconds, of an outbound call

	ClientAddress     = "client.address"
	UserAgentOriginal = "user_agent.original"
	UserID            = "user.id"
	SessionID         = "session.id" // HMAC-hashed, never raw

	HTTPRequestBodyContent  = "http.request.body.content"  // string, or bytes when not valid UTF-8
	HTTPResponseBodyContent = "http.response.body.content" // string, or bytes when not valid UTF-8
	HTTPRequestBodySize     = "http.request.body.size"     // int, full size, not the captured size
	HTTPResponseBodySize    = "http.response.body.size"    // int, full size, not the captured size

	RequestBodyTruncated  = "audit.request.body.truncated"  // bool, present and true only when cut
	ResponseBodyTruncated = "audit.response.body.truncated" // bool, present and true only when cut

	ErrorType = "error.type" // "panic", the status code for >= 500, or an outbound call's failure

	ExceptionType       = "exception.type"
	ExceptionMessage    = "exception.message"
	ExceptionStacktrace = "exception.stacktrace"

	SamplingRate = "audit.sampling.rate" // double, set by the sampling processor when rate < 1
	MaskingCount = "audit.masking.count" // int, set by the masking processor when it masked anything

	ServiceName = "service.name" // resource attribute

	// StoreError is set by a store on a record it could only store in
	// degraded form (without bodies, headers, body, resource and other
	// attributes): the reason the server refused the full record.
	StoreError = "audit.store.error"
	// StoreOriginalPrefix, followed by a column name (status, duration_ms,
	// ts, observed_ts, severity_number) or "keys", names the attribute that
	// keeps, as text, a value a store could not hold as it was and stored
	// changed (see StoreOriginalKey).
	StoreOriginalPrefix = "audit.store.original."
)

// StoreOriginalKey returns the attribute key that keeps the original of
// column when a store had to change its value.
func StoreOriginalKey(column string) string { return StoreOriginalPrefix + column }

// Header attribute key prefixes: one attribute per header, named by the
// prefix and the lower-case header name, holding a string slice.
const (
	HTTPRequestHeaderPrefix  = "http.request.header."
	HTTPResponseHeaderPrefix = "http.response.header."
)

// RequestHeaderKey returns the attribute key for request header name.
func RequestHeaderKey(name string) string { return HTTPRequestHeaderPrefix + lower(name) }

// ResponseHeaderKey returns the attribute key for response header name.
func ResponseHeaderKey(name string) string { return HTTPResponseHeaderPrefix + lower(name) }

// KeyedHashPrefix starts a keyed hash value (session.id, and values masked
// in hash mode): "hmac:" and the lower-case hex HMAC-SHA256 of the value.
const KeyedHashPrefix = "hmac:"

// IsKeyedHash reports whether s is a keyed hash value: KeyedHashPrefix and
// 64 lower-case hex digits.
func IsKeyedHash(s string) bool {
	if len(s) != len(KeyedHashPrefix)+64 || s[:len(KeyedHashPrefix)] != KeyedHashPrefix {
		return false
	}
	for i := len(KeyedHashPrefix); i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ParseRecordID parses a record id (audit.record.id): a UUID in its
// canonical text form, 8-4-4-4-12 hex digits of either case.
func ParseRecordID(s string) ([16]byte, error) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("id %q is not a UUID", s)
	}
	j := 0
	for i := 0; i < len(s); i += 2 {
		if s[i] == '-' {
			i--
			continue
		}
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return u, fmt.Errorf("id %q is not a UUID", s)
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, nil
}

// FormatRecordID returns the canonical, lower-case text form of a record
// id.
func FormatRecordID(u [16]byte) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, digits[c>>4], digits[c&0xF])
	}
	return string(b)
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// ErrorTypePanic is the error.type value of a record whose handler panicked.
const ErrorTypePanic = "panic"

// error.type values of an outbound call that failed; other failures have
// the Go type of the error (such as "*net.OpError").
const (
	ErrorTypeTimeout       = "timeout"        // a deadline or a network timeout
	ErrorTypeCanceled      = "canceled"       // the caller's context was canceled
	ErrorTypeUnexpectedEOF = "unexpected_eof" // the connection closed mid-body
)

// Severity numbers and texts of the OpenTelemetry log data model used by
// audit records.
const (
	SeverityNumberInfo  = 9
	SeverityNumberWarn  = 13
	SeverityNumberError = 17

	SeverityTextInfo  = "INFO"
	SeverityTextWarn  = "WARN"
	SeverityTextError = "ERROR"
)

// Severity returns the severity number and text of a record for an exchange
// that ended with status, or with a panic: INFO below 400, WARN for 4xx,
// ERROR for 5xx and above or a panic.
func Severity(status int, panicked bool) (number int, text string) {
	switch {
	case panicked || status >= 500:
		return SeverityNumberError, SeverityTextError
	case status >= 400:
		return SeverityNumberWarn, SeverityTextWarn
	default:
		return SeverityNumberInfo, SeverityTextInfo
	}
}

// lower is an ASCII strings.ToLower that does not allocate for names that
// are already lower-case (header names are ASCII tokens).
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// ParseStatusRange parses a status filter, a code (500), a class (5xx) or
// a range (400-499), into an inclusive range; "" is 0, 0 (no filter).
func ParseStatusRange(s string) (lo, hi int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	bad := fmt.Errorf("unknown status %q: want a code (500), a class (5xx) or a range (400-499)", s)
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
