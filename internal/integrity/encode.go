// Package integrity makes an audit log tamper-evident: a canonical
// encoding of each stored record, its RFC 6962 leaf hash, the Merkle root
// of each written batch, and a checkpoint per batch, chained per writer
// and signed as a C2SP signed note; and the verification that recomputes
// all of it from what a store holds. docs/integrity.md describes the
// encoding and the checkpoint byte for byte.
package integrity

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// EncodingVersion is the version of the canonical record encoding; it
// opens every encoding, so that a later version hashes differently.
const EncodingVersion = 1

const encodingHeader = "otelaudit-record/v1\n"

// LeafHash returns the RFC 6962 leaf hash of r's canonical encoding.
func LeafHash(r *store.Record) [32]byte {
	return leafOf(AppendRecord(nil, r))
}

// AppendRecord appends the canonical encoding (version 1) of r, a record
// as a store reads it back: the header line, then one line per column
// with a value, in byte order of the column names: the name, a space, the
// value's length in bytes (decimal), a space, the value, a newline. Text
// and bytes are values as they are (text with NUL and invalid UTF-8 as
// U+FFFD); JSON-valued columns are canonical JSON. The encoding forgives
// exactly what the stores change on the way (NUL in text, time below the
// millisecond, number types, absent against empty), so that a record
// encodes the same written and read back.
func AppendRecord(dst []byte, r *store.Record) []byte {
	dst = append(dst, encodingHeader...)
	e := fieldWriter{dst: dst}
	// Column names in byte order.
	e.value("attributes", mapOrNil(r.Attributes))
	e.value("body", r.LogBody)
	e.str("client_address", r.ClientAddress)
	e.num("duration_ms", r.DurationMS)
	e.str("error_type", r.ErrorType)
	e.str("event_name", r.EventName)
	e.str("host", r.Host)
	e.str("id", canonicalID(r.ID))
	e.str("method", r.Method)
	e.time("observed_ts", r.ObservedTimestamp)
	e.str("operation", r.Operation)
	e.str("path", r.Path)
	e.str("query", r.Query)
	e.str("request_body", r.RequestBody)
	e.bytes("request_body_binary", r.RequestBodyBinary)
	e.int("request_body_size", r.RequestBodySize)
	e.bool("request_body_truncated", r.RequestBodyTruncated)
	e.headers("request_headers", r.RequestHeaders)
	e.value("resource", mapOrNil(r.Resource))
	e.str("response_body", r.ResponseBody)
	e.bytes("response_body_binary", r.ResponseBodyBinary)
	e.int("response_body_size", r.ResponseBodySize)
	e.bool("response_body_truncated", r.ResponseBodyTruncated)
	e.headers("response_headers", r.ResponseHeaders)
	e.str("route", r.Route)
	e.str("scheme", r.Scheme)
	e.str("scope_name", r.ScopeName)
	e.str("service_name", r.ServiceName)
	e.str("session_id", r.SessionID)
	e.int("severity_number", int64(r.SeverityNumber))
	e.str("severity_text", r.SeverityText)
	e.str("span_id", r.SpanID)
	e.int("status", int64(r.Status))
	e.str("trace_id", r.TraceID)
	e.time("ts", r.Timestamp)
	e.str("user_agent", r.UserAgent)
	e.str("user_id", r.UserID)
	return e.dst
}

// canonicalID is the lower-case form of a UUID id; other ids (no store
// keeps them) as they are.
func canonicalID(id string) string {
	if u, err := auditconv.ParseRecordID(id); err == nil {
		return auditconv.FormatRecordID(u)
	}
	return id
}

func mapOrNil(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// TimeLayout is how the encoding writes timestamps: UTC, truncated to the
// millisecond, which both PostgreSQL (microseconds) and BSON dates
// (milliseconds) keep.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// fieldWriter appends the column lines of an encoding, leaving out empty
// values.
type fieldWriter struct {
	dst     []byte
	scratch []byte
}

// field appends one column line.
func (e *fieldWriter) field(k string, v []byte) { e.dst = appendField(e.dst, k, v) }

func (e *fieldWriter) str(k, v string) {
	if v != "" {
		e.dst = appendField(e.dst, k, auditconv.StoredText(v))
	}
}

// appendField appends the line of column k with value v: the name, a
// space, v's length in bytes, a space, v, a newline.
func appendField[V string | []byte](dst []byte, k string, v V) []byte {
	dst = append(dst, k...)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(len(v)), 10)
	dst = append(dst, ' ')
	dst = append(dst, v...)
	return append(dst, '\n')
}

func (e *fieldWriter) int(k string, v int64) {
	if v != 0 {
		e.field(k, strconv.AppendInt(e.scratch[:0], v, 10))
	}
}

func (e *fieldWriter) num(k string, v float64) {
	if v != 0 {
		e.scratch = appendFloat(e.scratch[:0], v)
		e.field(k, e.scratch)
	}
}

func (e *fieldWriter) bool(k string, v bool) {
	if v {
		e.field(k, []byte("true"))
	}
}

func (e *fieldWriter) bytes(k string, v []byte) {
	if len(v) > 0 {
		e.field(k, v)
	}
}

func (e *fieldWriter) time(k string, t time.Time) {
	if !t.IsZero() {
		e.scratch = t.UTC().Truncate(time.Millisecond).AppendFormat(e.scratch[:0], TimeLayout)
		e.field(k, e.scratch)
	}
}

func (e *fieldWriter) headers(k string, h map[string][]string) {
	if len(h) == 0 {
		return
	}
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sortKeys(names)
	b := append(e.scratch[:0], '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(auditconv.AppendJSONText(b, n), ':', '[')
		for j, v := range h[n] {
			if j > 0 {
				b = append(b, ',')
			}
			b = auditconv.AppendJSONText(b, v)
		}
		b = append(b, ']')
	}
	e.scratch = append(b, '}')
	e.field(k, e.scratch)
}

// value writes a JSON-valued column; nil, "", and empty objects and
// arrays are absent.
func (e *fieldWriter) value(k string, v any) {
	if empty(v) {
		return
	}
	e.scratch = appendValue(e.scratch[:0], v)
	e.field(k, e.scratch)
}

func empty(v any) bool {
	if v == nil {
		return true
	}
	if s, ok := v.(string); ok {
		return s == ""
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice:
		return rv.Len() == 0
	}
	return false
}

// sortKeys sorts keys in the byte order of their canonical (sanitized)
// form.
func sortKeys(keys []string) {
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(auditconv.StoredText(a), auditconv.StoredText(b)) })
}

// appendValue appends v in canonical form. Strings and []byte (as
// base64) are JSON strings; every number is an integer when it is one and
// fits int64, otherwise the shortest decimal that reads back as the same
// float64; maps are objects with keys in byte order.
func appendValue(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return auditconv.AppendJSONText(dst, x)
	case bool:
		return strconv.AppendBool(dst, x)
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"')
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		return appendFloat(dst, x)
	case float32:
		return appendFloat(dst, float64(x))
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return strconv.AppendInt(dst, i, 10)
		}
		if f, err := x.Float64(); err == nil {
			return appendFloat(dst, f)
		}
		return auditconv.AppendJSONText(dst, string(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortKeys(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(auditconv.AppendJSONText(dst, k), ':')
			dst = appendValue(dst, x[k])
		}
		return append(dst, '}')
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, e)
		}
		return append(dst, ']')
	}
	return appendReflect(dst, reflect.ValueOf(v))
}

// appendReflect handles the named map and slice types drivers decode to
// (bson.M, bson.A), other integer kinds, and anything else through its
// JSON form.
func appendReflect(dst []byte, rv reflect.Value) []byte {
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			m := make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				m[it.Key().String()] = it.Value().Interface()
			}
			return appendValue(dst, m)
		}
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return appendValue(dst, rv.Bytes())
		}
		a := make([]any, rv.Len())
		for i := range a {
			a[i] = rv.Index(i).Interface()
		}
		return appendValue(dst, a)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(dst, rv.Uint(), 10)
	case reflect.String:
		return auditconv.AppendJSONText(dst, rv.String())
	}
	b, err := json.Marshal(rv.Interface())
	if err != nil {
		return auditconv.AppendJSONText(dst, err.Error())
	}
	return auditconv.AppendJSONText(dst, string(b))
}

// appendFloat writes an integral float that fits int64 as an integer (a
// store may read 2.0 back as the integer 2), any other as the shortest
// 'g' form; non-finite values (Normalize keeps none) as strings.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return auditconv.AppendJSONText(dst, strconv.FormatFloat(f, 'g', -1, 64))
	case f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63:
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// leafOf returns the leaf hash of an encoding.
func leafOf(enc []byte) [32]byte {
	var h [32]byte
	copy(h[:], rfc6962.DefaultHasher.HashLeaf(enc))
	return h
}
