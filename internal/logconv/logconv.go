// Package logconv maps OpenTelemetry log records (pdata) to store.Record:
// every attribute of the audit contract to its field, the rest to
// Attributes, the resource to Resource. It is the only place that mapping
// lives.
package logconv

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// Records converts every log record of ld.
func Records(ld plog.Logs) []store.Record {
	out := make([]store.Record, 0, ld.LogRecordCount())
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource().Attributes()
		var resource map[string]any
		if res.Len() > 0 {
			resource = res.AsRaw()
		}
		service := ""
		if v, ok := res.Get(auditconv.ServiceName); ok {
			service = v.AsString()
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				r := Record(lrs.At(k))
				r.ServiceName, r.ScopeName, r.Resource = service, sl.Scope().Name(), resource
				if r.ID == "" {
					r.ID = derivedID(rl.Resource(), sl.Scope(), lrs.At(k))
				}
				out = append(out, r)
			}
		}
	}
	return out
}

// Record converts one log record; resource and scope fields are left to
// the caller. A record without a valid audit.record.id has an empty ID.
// Timestamps that are absent stay zero: store.Normalize decides what a
// record without one gets.
func Record(lr plog.LogRecord) store.Record {
	r := store.Record{
		Timestamp:         asTime(lr.Timestamp()),
		ObservedTimestamp: asTime(lr.ObservedTimestamp()),
		EventName:         lr.EventName(),
		SeverityNumber:    int(lr.SeverityNumber()),
		SeverityText:      lr.SeverityText(),
	}
	if tid := lr.TraceID(); !tid.IsEmpty() {
		r.TraceID = hex.EncodeToString(tid[:])
	}
	if sid := lr.SpanID(); !sid.IsEmpty() {
		r.SpanID = hex.EncodeToString(sid[:])
	}
	if lr.Body().Type() != pcommon.ValueTypeEmpty {
		r.LogBody = lr.Body().AsRaw()
	}
	full, hasFull := "", false
	for k, v := range lr.Attributes().All() {
		if k == auditconv.URLFull && v.Type() == pcommon.ValueTypeStr {
			full, hasFull = v.Str(), true // after the loop: explicit parts win over it
			continue
		}
		if promote(&r, k, v) {
			continue
		}
		r.Attributes = addAttribute(r.Attributes, k, v.AsRaw())
	}
	if hasFull && !promoteURL(&r, full) {
		r.Attributes = addAttribute(r.Attributes, auditconv.URLFull, full)
	}
	return r
}

func addAttribute(m map[string]any, k string, v any) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	m[k] = v
	return m
}

// promoteURL fills the scheme, host, path and query of r that no attribute
// of their own set from url.full (an outbound call's record carries only
// the whole URL), so that client and server records fill the same
// columns. The userinfo and fragment are not stored; a URL that does not
// parse as an absolute URL is not promoted.
func promoteURL(r *store.Record, full string) bool {
	u, err := url.Parse(full)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false
	}
	fill := func(field *string, v string) {
		if *field == "" {
			*field = v
		}
	}
	fill(&r.Scheme, u.Scheme)
	fill(&r.Host, u.Hostname())
	fill(&r.Path, u.Path) // decoded, as the server side records it
	fill(&r.Query, u.RawQuery)
	return true
}

// stringFields are the attributes promoted to a string field of the record.
var stringFields = map[string]func(r *store.Record) *string{
	auditconv.Operation:         func(r *store.Record) *string { return &r.Operation },
	auditconv.HTTPRequestMethod: func(r *store.Record) *string { return &r.Method },
	auditconv.URLScheme:         func(r *store.Record) *string { return &r.Scheme },
	auditconv.ServerAddress:     func(r *store.Record) *string { return &r.Host },
	auditconv.URLPath:           func(r *store.Record) *string { return &r.Path },
	auditconv.URLQuery:          func(r *store.Record) *string { return &r.Query },
	auditconv.HTTPRoute:         func(r *store.Record) *string { return &r.Route },
	auditconv.ClientAddress:     func(r *store.Record) *string { return &r.ClientAddress },
	auditconv.UserAgentOriginal: func(r *store.Record) *string { return &r.UserAgent },
	auditconv.UserID:            func(r *store.Record) *string { return &r.UserID },
	auditconv.SessionID:         func(r *store.Record) *string { return &r.SessionID },
	auditconv.ErrorType:         func(r *store.Record) *string { return &r.ErrorType },
}

// promote sets the field of r that attribute k maps to, and reports
// whether there was one that takes v (a value of another type than the
// contract's stays an attribute).
func promote(r *store.Record, k string, v pcommon.Value) bool {
	if field, ok := stringFields[k]; ok {
		*field(r) = v.AsString()
		return true
	}
	switch k {
	case auditconv.RecordID:
		// An id that is not a UUID (another producer) stays an attribute;
		// the stored id is derived from the record.
		id, err := auditconv.ParseRecordID(v.AsString())
		if err == nil {
			r.ID = auditconv.FormatRecordID(id)
		}
		return err == nil
	case auditconv.HTTPResponseStatusCode:
		n, ok := intOf(v)
		r.Status = int(n)
		return ok
	case auditconv.HTTPServerRequestDuration, auditconv.HTTPClientRequestDuration:
		if v.Type() == pcommon.ValueTypeDouble {
			r.DurationMS = v.Double() * 1000
			return true
		}
	case auditconv.HTTPRequestBodyContent:
		r.RequestBody, r.RequestBodyBinary = bodyOf(v)
		return true
	case auditconv.HTTPResponseBodyContent:
		r.ResponseBody, r.ResponseBodyBinary = bodyOf(v)
		return true
	case auditconv.HTTPRequestBodySize:
		n, ok := intOf(v)
		r.RequestBodySize = n
		return ok
	case auditconv.HTTPResponseBodySize:
		n, ok := intOf(v)
		r.ResponseBodySize = n
		return ok
	case auditconv.RequestBodyTruncated:
		r.RequestBodyTruncated = v.Type() == pcommon.ValueTypeBool && v.Bool()
		return v.Type() == pcommon.ValueTypeBool
	case auditconv.ResponseBodyTruncated:
		r.ResponseBodyTruncated = v.Type() == pcommon.ValueTypeBool && v.Bool()
		return v.Type() == pcommon.ValueTypeBool
	}
	if name, ok := strings.CutPrefix(k, auditconv.HTTPRequestHeaderPrefix); ok {
		r.RequestHeaders = addHeader(r.RequestHeaders, name, v)
		return true
	}
	if name, ok := strings.CutPrefix(k, auditconv.HTTPResponseHeaderPrefix); ok {
		r.ResponseHeaders = addHeader(r.ResponseHeaders, name, v)
		return true
	}
	return false
}

// asTime converts an OTLP timestamp (nanoseconds since the epoch, unsigned)
// without wrapping: pcommon's AsTime reads it as signed, which turns the
// years 2262 to 2554 into 1677 to 1969. 0, absent, is the zero time.
func asTime(ts pcommon.Timestamp) time.Time {
	if ts == 0 {
		return time.Time{}
	}
	return time.Unix(int64(ts/1e9), int64(ts%1e9)).UTC()
}

// intOf returns an integer value, or a double that is one; anything else
// (a fraction, NaN, out of int64's range) is not converted, so that the
// attribute is kept as it is.
func intOf(v pcommon.Value) (int64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		d := v.Double()
		if d != math.Trunc(d) || d < math.MinInt64 || d >= math.MaxInt64 {
			return 0, false
		}
		return int64(d), true
	}
	return 0, false
}

// bodyOf returns a body: bytes as binary, anything else as text
// (store.Normalize moves text that is not valid UTF-8 to binary).
func bodyOf(v pcommon.Value) (string, []byte) {
	if v.Type() == pcommon.ValueTypeBytes {
		return "", v.Bytes().AsRaw()
	}
	return v.AsString(), nil
}

func addHeader(h map[string][]string, name string, v pcommon.Value) map[string][]string {
	if h == nil {
		h = map[string][]string{}
	}
	if v.Type() == pcommon.ValueTypeSlice {
		s := v.Slice()
		vals := make([]string, s.Len())
		for i := range vals {
			vals[i] = s.At(i).AsString()
		}
		h[name] = vals
		return h
	}
	h[name] = []string{v.AsString()}
	return h
}

// derivedID returns a UUID (version 8) that is a function of the record's
// content, so that a record without audit.record.id written twice (a retried
// batch) is still stored once.
func derivedID(res pcommon.Resource, scope pcommon.InstrumentationScope, lr plog.LogRecord) string {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res.CopyTo(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	scope.CopyTo(sl.Scope())
	lr.CopyTo(sl.LogRecords().AppendEmpty())
	b, _ := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	sum := sha256.Sum256(b)
	u := [16]byte(sum[:16])
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return auditconv.FormatRecordID(u)
}
