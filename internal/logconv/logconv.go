// Package logconv maps OpenTelemetry log records (pdata) to store.Record:
// every attribute of the audit contract to its field, the rest to
// Attributes, the resource to Resource. It is the only place that mapping
// lives.
package logconv

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"
	"time"
	"unicode/utf8"

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
func Record(lr plog.LogRecord) store.Record {
	r := store.Record{
		Timestamp:         asTime(lr.Timestamp()),
		ObservedTimestamp: asTime(lr.ObservedTimestamp()),
		EventName:         lr.EventName(),
		SeverityNumber:    int(lr.SeverityNumber()),
		SeverityText:      lr.SeverityText(),
	}
	if lr.Timestamp() == 0 {
		r.Timestamp = r.ObservedTimestamp
		if lr.ObservedTimestamp() == 0 {
			r.Timestamp, r.ObservedTimestamp = time.Time{}, time.Time{}
		}
	}
	if lr.ObservedTimestamp() == 0 {
		r.ObservedTimestamp = time.Time{}
	}
	if tid := lr.TraceID(); !tid.IsEmpty() {
		r.TraceID = hex.EncodeToString(tid[:])
	}
	if sid := lr.SpanID(); !sid.IsEmpty() {
		r.SpanID = hex.EncodeToString(sid[:])
	}
	if lr.Body().Type() != pcommon.ValueTypeEmpty {
		r.Body = lr.Body().AsRaw()
	}
	for k, v := range lr.Attributes().All() {
		switch k {
		case auditconv.RecordID:
			if id := v.AsString(); isUUID(id) {
				r.ID = strings.ToLower(id)
				continue
			}
			// Not a UUID (another producer): kept as an attribute; the
			// stored id is derived from the record.
		case auditconv.Operation:
			r.Operation = v.AsString()
			continue
		case auditconv.HTTPRequestMethod:
			r.Method = v.AsString()
			continue
		case auditconv.URLScheme:
			r.Scheme = v.AsString()
			continue
		case auditconv.ServerAddress:
			r.Host = v.AsString()
			continue
		case auditconv.URLPath:
			r.Path = v.AsString()
			continue
		case auditconv.URLQuery:
			r.Query = v.AsString()
			continue
		case auditconv.HTTPRoute:
			r.Route = v.AsString()
			continue
		case auditconv.HTTPResponseStatusCode:
			if n, ok := intOf(v); ok {
				r.Status = int(n)
				continue
			}
		case auditconv.HTTPServerRequestDuration:
			if v.Type() == pcommon.ValueTypeDouble {
				r.DurationMS = v.Double() * 1000
				continue
			}
		case auditconv.ClientAddress:
			r.ClientAddress = v.AsString()
			continue
		case auditconv.UserAgentOriginal:
			r.UserAgent = v.AsString()
			continue
		case auditconv.UserID:
			r.UserID = v.AsString()
			continue
		case auditconv.SessionID:
			r.SessionID = v.AsString()
			continue
		case auditconv.ErrorType:
			r.ErrorType = v.AsString()
			continue
		case auditconv.HTTPRequestBodyContent:
			r.RequestBody, r.RequestBodyBinary = bodyOf(v)
			continue
		case auditconv.HTTPResponseBodyContent:
			r.ResponseBody, r.ResponseBodyBinary = bodyOf(v)
			continue
		case auditconv.HTTPRequestBodySize:
			if n, ok := intOf(v); ok {
				r.RequestBodySize = n
				continue
			}
		case auditconv.HTTPResponseBodySize:
			if n, ok := intOf(v); ok {
				r.ResponseBodySize = n
				continue
			}
		case auditconv.RequestBodyTruncated:
			if v.Type() == pcommon.ValueTypeBool {
				r.RequestBodyTruncated = v.Bool()
				continue
			}
		case auditconv.ResponseBodyTruncated:
			if v.Type() == pcommon.ValueTypeBool {
				r.ResponseBodyTruncated = v.Bool()
				continue
			}
		default:
			if name, ok := strings.CutPrefix(k, auditconv.HTTPRequestHeaderPrefix); ok {
				r.RequestHeaders = addHeader(r.RequestHeaders, name, v)
				continue
			}
			if name, ok := strings.CutPrefix(k, auditconv.HTTPResponseHeaderPrefix); ok {
				r.ResponseHeaders = addHeader(r.ResponseHeaders, name, v)
				continue
			}
		}
		if r.Attributes == nil {
			r.Attributes = map[string]any{}
		}
		r.Attributes[k] = v.AsRaw()
	}
	return r
}

// asTime converts an OTLP timestamp (nanoseconds since the epoch, unsigned)
// without wrapping: pcommon's AsTime reads it as signed, which turns the
// years 2262 to 2554 into 1677 to 1969.
func asTime(ts pcommon.Timestamp) time.Time {
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

// bodyOf returns a body as text when it is valid UTF-8, as bytes otherwise.
func bodyOf(v pcommon.Value) (string, []byte) {
	switch v.Type() {
	case pcommon.ValueTypeBytes:
		b := v.Bytes().AsRaw()
		if utf8.Valid(b) {
			return string(b), nil
		}
		return "", b
	case pcommon.ValueTypeStr:
		s := v.Str()
		if utf8.ValidString(s) {
			return s, nil
		}
		return "", []byte(s)
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

func isUUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
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
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(u)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
