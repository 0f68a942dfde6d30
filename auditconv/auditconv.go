// Package auditconv is the record contract of otelaudit: the event names,
// attribute keys and severity rules that the HTTP wrapper writes and that the
// collector components, stores and CLI read. It plays the role semconv plays
// for OpenTelemetry: every key is defined here once and nowhere else.
//
// Keys follow the OpenTelemetry semantic conventions where one exists; the
// audit.* keys are otelaudit's own.
package auditconv

// Event names of audit log records.
const (
	// EventHTTPServer is the event name of a record describing one HTTP
	// exchange handled by a server.
	EventHTTPServer = "http.server.audit"
	// EventHTTPClient is the event name of a record describing one HTTP
	// exchange made by a client. Nothing writes it yet: it is reserved for
	// the audited outbound transport (an http.RoundTripper) planned next.
	EventHTTPClient = "http.client.audit"
)

// Attribute keys of an audit record (DESIGN.md §3).
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

	HTTPResponseStatusCode    = "http.response.status_code"    // int
	HTTPServerRequestDuration = "http.server.request.duration" // double, seconds

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

	ErrorType           = "error.type" // "panic", or the status code for >= 500
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

// ErrorTypePanic is the error.type value of a record whose handler panicked.
const ErrorTypePanic = "panic"

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
