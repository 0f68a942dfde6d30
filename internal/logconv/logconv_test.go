package logconv

import (
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditconv"
)

func TestAuditRecordMapping(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "orders")
	rl.Resource().Attributes().PutStr("host.name", "n1")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("audithttp")
	lr := sl.LogRecords().AppendEmpty()
	ts := time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(ts.Add(time.Millisecond)))
	lr.SetEventName(auditconv.EventHTTPServer)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
	lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	lr.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	a := lr.Attributes()
	a.PutStr(auditconv.RecordID, "0193AAAA-0000-7000-8000-000000000001")
	a.PutStr(auditconv.Operation, "api")
	a.PutStr(auditconv.HTTPRequestMethod, "POST")
	a.PutStr(auditconv.URLScheme, "https")
	a.PutStr(auditconv.ServerAddress, "api.example.com")
	a.PutInt(auditconv.ServerPort, 443)
	a.PutStr(auditconv.URLPath, "/x")
	a.PutStr(auditconv.URLQuery, "a=1")
	a.PutStr(auditconv.HTTPRoute, "POST /x")
	a.PutInt(auditconv.HTTPResponseStatusCode, 404)
	a.PutDouble(auditconv.HTTPServerRequestDuration, 0.0125)
	a.PutStr(auditconv.ClientAddress, "10.0.0.1")
	a.PutStr(auditconv.UserAgentOriginal, "ua")
	a.PutStr(auditconv.UserID, "u1")
	a.PutStr(auditconv.SessionID, "hmac:x")
	a.PutStr(auditconv.ErrorType, "x")
	h := a.PutEmptySlice("http.request.header.x-multi")
	h.AppendEmpty().SetStr("a")
	h.AppendEmpty().SetStr("b")
	a.PutEmptySlice("http.response.header.content-type").AppendEmpty().SetStr("application/json")
	a.PutStr(auditconv.HTTPRequestBodyContent, `{"a":1}`)
	a.PutEmptyBytes(auditconv.HTTPResponseBodyContent).FromRaw([]byte{0xff, 0x00})
	a.PutInt(auditconv.HTTPRequestBodySize, 7)
	a.PutInt(auditconv.HTTPResponseBodySize, 9000)
	a.PutBool(auditconv.ResponseBodyTruncated, true)
	a.PutStr("tenant", "acme")

	recs := Records(ld)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	checks := map[string][2]any{
		"id":       {r.ID, "0193aaaa-0000-7000-8000-000000000001"},
		"ts":       {r.Timestamp, ts},
		"service":  {r.ServiceName, "orders"},
		"scope":    {r.ScopeName, "audithttp"},
		"severity": {r.SeverityNumber, 13},
		"trace":    {r.TraceID, "0102030405060708090a0b0c0d0e0f10"},
		"span":     {r.SpanID, "0102030405060708"},
		"method":   {r.Method, "POST"},
		"host":     {r.Host, "api.example.com"},
		"status":   {r.Status, 404},
		"duration": {r.DurationMS, 12.5},
		"route":    {r.Route, "POST /x"},
		"reqbody":  {r.RequestBody, `{"a":1}`},
		"respbin":  {string(r.ResponseBodyBinary), "\xff\x00"},
		"respsize": {r.ResponseBodySize, int64(9000)},
		"trunc":    {r.ResponseBodyTruncated, true},
		"multi":    {len(r.RequestHeaders["x-multi"]), 2},
		"ct":       {r.ResponseHeaders["content-type"][0], "application/json"},
		"tenant":   {r.Attributes["tenant"], "acme"},
		"port":     {r.Attributes["server.port"], int64(443)},
		"svcres":   {r.Resource["host.name"], "n1"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
	if _, ok := r.Attributes[auditconv.HTTPRequestMethod]; ok || len(r.Attributes) != 2 {
		t.Errorf("promoted attributes kept in attributes: %v", r.Attributes)
	}
}

func TestRecordsWithoutIDGetAStableDerivedID(t *testing.T) {
	build := func(body string) plog.Logs {
		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Unix(100, 0)))
		lr.Body().SetStr(body)
		lr.Attributes().PutStr(auditconv.RecordID, "not-a-uuid")
		return ld
	}
	a, b, c := Records(build("x"))[0], Records(build("x"))[0], Records(build("y"))[0]
	if a.ID != b.ID || a.ID == c.ID || a.ID[14] != '8' {
		t.Errorf("derived ids %s %s %s", a.ID, b.ID, c.ID)
	}
	if _, err := auditconv.ParseRecordID(a.ID); err != nil {
		t.Error(err)
	}
	// The missing timestamp stays missing: store.Normalize decides.
	if a.Attributes[auditconv.RecordID] != "not-a-uuid" || a.LogBody != "x" || !a.Timestamp.IsZero() || a.ObservedTimestamp != time.Unix(100, 0).UTC() {
		t.Errorf("record %+v", a)
	}
}

// TestTimestampsAndNumbersNeverWrap: OTLP timestamps are unsigned, so the
// largest are in 2554, not 1969; a status sent as a double that is no
// int64 is kept as the attribute it was, never converted to a wrong number.
func TestTimestampsAndNumbersNeverWrap(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.SetTimestamp(pcommon.Timestamp(math.MaxUint64))
	lr.SetObservedTimestamp(pcommon.Timestamp(1 << 63))
	lr.Attributes().PutDouble(auditconv.HTTPResponseStatusCode, 1e30)
	lr.Attributes().PutDouble(auditconv.HTTPRequestBodySize, math.NaN())
	r := Record(lr)
	if r.Timestamp.Year() != 2554 || r.ObservedTimestamp.Year() != 2262 {
		t.Errorf("timestamps %s, %s: want 2554 and 2262", r.Timestamp, r.ObservedTimestamp)
	}
	if r.Status != 0 || r.Attributes[auditconv.HTTPResponseStatusCode] != 1e30 {
		t.Errorf("status 1e30: promoted as %d, attributes %v", r.Status, r.Attributes)
	}
	if r.RequestBodySize != 0 || r.Attributes[auditconv.HTTPRequestBodySize] == nil {
		t.Errorf("body size NaN: promoted as %d, attributes %v", r.RequestBodySize, r.Attributes)
	}
	lr.Attributes().PutDouble(auditconv.HTTPResponseStatusCode, 503)
	if r := Record(lr); r.Status != 503 {
		t.Errorf("status 503.0: %d", r.Status)
	}
}

func TestClientRecordFillsTheURLColumns(t *testing.T) {
	for _, c := range []struct {
		name                      string
		attrs                     func(pcommon.Map)
		scheme, host, path, query string
		keepsFull                 bool
	}{
		{"client record", func(a pcommon.Map) {
			a.PutStr(auditconv.URLFull, "https://user@pay.example.com:8443/v1/charges/a%2Fb?api_key=****&n=1")
			a.PutStr(auditconv.ServerAddress, "pay.example.com")
			a.PutDouble(auditconv.HTTPClientRequestDuration, 0.25)
		}, "https", "pay.example.com", "/v1/charges/a/b", "api_key=****&n=1", false},
		{"explicit parts win", func(a pcommon.Map) {
			a.PutStr(auditconv.URLPath, "/explicit")
			a.PutStr(auditconv.URLFull, "http://h.example/other?q=1")
		}, "http", "h.example", "/explicit", "q=1", false},
		{"not an absolute URL", func(a pcommon.Map) {
			a.PutStr(auditconv.URLFull, "/relative?q=1")
		}, "", "", "", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			lr := plog.NewLogRecord()
			lr.SetEventName(auditconv.EventHTTPClient)
			c.attrs(lr.Attributes())
			r := Record(lr)
			if r.Scheme != c.scheme || r.Host != c.host || r.Path != c.path || r.Query != c.query {
				t.Errorf("scheme %q host %q path %q query %q", r.Scheme, r.Host, r.Path, r.Query)
			}
			if _, kept := r.Attributes[auditconv.URLFull]; kept != c.keepsFull {
				t.Errorf("url.full kept as an attribute: %v, want %v", kept, c.keepsFull)
			}
			if r.EventName != auditconv.EventHTTPClient {
				t.Errorf("event %q", r.EventName)
			}
		})
	}
	lr := plog.NewLogRecord()
	lr.Attributes().PutDouble(auditconv.HTTPClientRequestDuration, 0.25)
	if r := Record(lr); r.DurationMS != 250 || len(r.Attributes) != 0 {
		t.Errorf("client duration: %v ms, attributes %v", r.DurationMS, r.Attributes)
	}
}
