package store

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/auditconv"
)

// The range of timestamps every backend holds: OTLP timestamps cannot be
// older than the Unix epoch, and the last instant with a four-digit year is
// far beyond any clock. Both PostgreSQL (timestamptz) and MongoDB (BSON
// date) hold all of it.
var (
	MinTime = time.Unix(0, 0).UTC()
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
)

// Absent is the original kept for a timestamp the record did not have.
const Absent = "absent"

// Normalize returns records with every value made fit for every backend,
// by the same rules for all of them, so that the stores never disagree and
// never wrap, drop or silently rewrite a value:
//
//   - no timestamp: the observed timestamp, or now (the time the record is
//     received for storage) when it has neither;
//   - each HTTP body is held once: in the binary field when it has one
//     (the text is then dropped), in the text field when it is valid
//     UTF-8, otherwise moved, unchanged, to the binary field;
//   - a timestamp outside [MinTime, MaxTime] is clamped to it;
//   - a status outside int32, a severity number outside int16, a
//     non-finite duration are stored as 0 (NULL in PostgreSQL, absent in
//     MongoDB);
//   - each of these keeps its original, as text, in the attribute
//     auditconv.StoreOriginalKey(column);
//   - in attributes, body and resource, non-finite numbers become the
//     strings "NaN", "+Inf", "-Inf", strings that are not valid UTF-8
//     become bytes (kept exactly), and map keys that are not valid UTF-8
//     have the bad bytes replaced by U+FFFD, the original keys kept, Go
//     quoted, in auditconv.StoreOriginalKey("keys"); header names likewise.
//
// It returns records itself when no record needs a change (the common
// case: nothing is copied), otherwise a copy; the caller's records, maps
// and slices are never modified.
func Normalize(records []Record, now time.Time) []Record {
	var out []Record
	for i := range records {
		r, changed := normalize(&records[i], now)
		if !changed {
			continue
		}
		if out == nil {
			out = append([]Record(nil), records...)
		}
		out[i] = r
	}
	if out == nil {
		return records
	}
	return out
}

func normalize(in *Record, now time.Time) (Record, bool) {
	if clean(in) {
		return Record{}, false
	}
	r := *in
	orig := map[string]any{}
	switch {
	case r.Timestamp.IsZero() && r.ObservedTimestamp.IsZero():
		r.Timestamp = now.UTC()
		orig["ts"] = Absent
	case r.Timestamp.IsZero():
		r.Timestamp = r.ObservedTimestamp
	}
	r.RequestBody, r.RequestBodyBinary = splitBody(r.RequestBody, r.RequestBodyBinary)
	r.ResponseBody, r.ResponseBodyBinary = splitBody(r.ResponseBody, r.ResponseBodyBinary)
	fixScalars(&r, orig)
	var badKeys []any
	r.RequestHeaders = fixHeaders(r.RequestHeaders, &badKeys)
	r.ResponseHeaders = fixHeaders(r.ResponseHeaders, &badKeys)
	if r.LogBody != nil && !cleanValue(r.LogBody) {
		r.LogBody = fixValue(r.LogBody, &badKeys)
	}
	if r.Resource != nil && !cleanValue(r.Resource) {
		r.Resource = fixValue(r.Resource, &badKeys).(map[string]any)
	}
	if r.Attributes != nil && !cleanValue(r.Attributes) {
		r.Attributes = fixValue(r.Attributes, &badKeys).(map[string]any)
	}
	if len(badKeys) > 0 {
		orig["keys"] = badKeys
	}
	if len(orig) > 0 {
		attrs := make(map[string]any, len(r.Attributes)+len(orig))
		for k, v := range r.Attributes {
			attrs[k] = v
		}
		for k, v := range orig {
			attrs[auditconv.StoreOriginalKey(k)] = v
		}
		r.Attributes = attrs
	}
	return r, true
}

// fixScalars clamps the timestamps and zeroes the numbers no backend holds,
// keeping their originals in orig.
func fixScalars(r *Record, orig map[string]any) {
	if t, ok := clampTime(r.Timestamp); !ok {
		orig["ts"] = r.Timestamp.Format(time.RFC3339Nano)
		r.Timestamp = t
	}
	if t, ok := clampTime(r.ObservedTimestamp); !ok && !r.ObservedTimestamp.IsZero() {
		orig["observed_ts"] = r.ObservedTimestamp.Format(time.RFC3339Nano)
		r.ObservedTimestamp = t
	}
	if r.Status < math.MinInt32 || r.Status > math.MaxInt32 {
		orig["status"] = strconv.Itoa(r.Status)
		r.Status = 0
	}
	if r.SeverityNumber < math.MinInt16 || r.SeverityNumber > math.MaxInt16 {
		orig["severity_number"] = strconv.Itoa(r.SeverityNumber)
		r.SeverityNumber = 0
	}
	if !finite(r.DurationMS) {
		orig["duration_ms"] = formatNonFinite(r.DurationMS)
		r.DurationMS = 0
	}
}

// clean reports whether r needs no change, without allocating.
func clean(r *Record) bool {
	if r.Timestamp.IsZero() {
		return false
	}
	if _, ok := clampTime(r.Timestamp); !ok {
		return false
	}
	if _, ok := clampTime(r.ObservedTimestamp); !ok && !r.ObservedTimestamp.IsZero() {
		return false
	}
	if !cleanBody(r.RequestBody, r.RequestBodyBinary) || !cleanBody(r.ResponseBody, r.ResponseBodyBinary) {
		return false
	}
	return r.Status >= math.MinInt32 && r.Status <= math.MaxInt32 &&
		r.SeverityNumber >= math.MinInt16 && r.SeverityNumber <= math.MaxInt16 && finite(r.DurationMS) &&
		cleanHeaders(r.RequestHeaders) && cleanHeaders(r.ResponseHeaders) &&
		cleanValue(r.LogBody) && cleanValue(r.Resource) && cleanValue(r.Attributes)
}

// clampTime returns t within [MinTime, MaxTime] and whether it already was.
func clampTime(t time.Time) (time.Time, bool) {
	switch {
	case t.Before(MinTime):
		return MinTime, false
	case t.After(MaxTime):
		return MaxTime, false
	}
	return t, true
}

// cleanBody reports whether a body is held once, in the right field.
func cleanBody(text string, bin []byte) bool {
	if len(bin) > 0 {
		return text == ""
	}
	return utf8.ValidString(text)
}

// splitBody returns a body held once: binary when there is binary, text
// when it is valid UTF-8, otherwise the text's bytes as binary.
func splitBody(text string, bin []byte) (string, []byte) {
	switch {
	case len(bin) > 0:
		return "", bin
	case utf8.ValidString(text):
		return text, nil
	}
	return "", []byte(text)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// formatNonFinite renders NaN and the infinities as "NaN", "+Inf", "-Inf".
func formatNonFinite(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func cleanHeaders(h map[string][]string) bool {
	for k := range h {
		if !utf8.ValidString(k) {
			return false
		}
	}
	return true
}

func fixHeaders(h map[string][]string, bad *[]any) map[string][]string {
	if cleanHeaders(h) {
		return h
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[fixKey(k, bad)] = v
	}
	return out
}

func fixKey(k string, bad *[]any) string {
	if utf8.ValidString(k) {
		return k
	}
	*bad = append(*bad, strconv.Quote(k))
	return strings.ToValidUTF8(k, "\uFFFD")
}

// cleanValue reports whether a value tree (pcommon's AsRaw types) holds
// nothing Normalize changes.
func cleanValue(v any) bool {
	switch x := v.(type) {
	case float64:
		return finite(x)
	case float32:
		return finite(float64(x))
	case string:
		return utf8.ValidString(x)
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !cleanValue(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !cleanValue(e) {
				return false
			}
		}
	}
	return true
}

// fixValue returns a copy of a value tree with what cleanValue refuses
// fixed; clean subtrees are shared, not copied.
func fixValue(v any, bad *[]any) any {
	if cleanValue(v) {
		return v
	}
	switch x := v.(type) {
	case float64:
		return formatNonFinite(x)
	case float32:
		return formatNonFinite(float64(x))
	case string:
		return []byte(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fixKey(k, bad)] = fixValue(e, bad)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fixValue(e, bad)
		}
		return out
	}
	return v
}

// Degraded returns the form of r a backend stores when the server refuses
// the full record: every column but the bodies, headers, body and
// resource, and instead of the other attributes only
// auditconv.StoreError, the reason. Both bodies are flagged truncated (they
// were cut to nothing). It holds no value Normalize would change.
func Degraded(r Record, reason string) Record {
	r.RequestBody, r.ResponseBody, r.RequestBodyBinary, r.ResponseBodyBinary = "", "", nil, nil
	r.RequestBodyTruncated, r.ResponseBodyTruncated = true, true
	r.RequestHeaders, r.ResponseHeaders, r.LogBody, r.Resource = nil, nil, nil, nil
	r.Attributes = map[string]any{auditconv.StoreError: strings.ToValidUTF8(reason, "\uFFFD")}
	if !finite(r.DurationMS) {
		r.DurationMS = 0
	}
	return r
}

// DegradedError reports records a backend stored only in degraded form
// (see Degraded). They and every other record of the batch are stored: it
// is a warning for the operator, not a failure, and retrying changes
// nothing.
type DegradedError struct {
	IDs []string
	Err error // why the server refused the full records
}

func (e *DegradedError) Error() string {
	return fmt.Sprintf("store: %d record(s) stored without bodies, headers and attributes (%s): %v",
		len(e.IDs), strings.Join(e.IDs, ", "), e.Err)
}

func (e *DegradedError) Unwrap() error { return e.Err }
