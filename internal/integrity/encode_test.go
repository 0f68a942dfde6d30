package integrity

import (
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/store"
)

// TestAppendRecordIsStable pins the canonical encoding (version 1) byte for
// byte: signed checkpoints in existing stores hash these bytes, so any
// change to them must come with a new EncodingVersion.
func TestAppendRecordIsStable(t *testing.T) {
	r := &store.Record{
		ID:                "0190C7A0-0000-7000-8000-000000000001",
		Timestamp:         time.Date(2026, 11, 29, 10, 0, 0, 123456789, time.FixedZone("x", 3600)),
		ObservedTimestamp: time.Date(2026, 11, 29, 9, 0, 1, 0, time.UTC),
		EventName:         "http.server.audit", SeverityNumber: 9, SeverityText: "INFO",
		ServiceName: "orders", ScopeName: "audithttp", Operation: "orders", TraceID: "0102", SpanID: "0304",
		Method: "POST", Scheme: "https", Host: "example.com", Path: "/api/orders", Route: "/api/{id}",
		Query: "id=7", Status: 201, DurationMS: 1.5, UserID: "u\x00é", SessionID: "s", ClientAddress: "10.0.0.1",
		UserAgent:            "bench/1",
		RequestHeaders:       map[string][]string{"b": {"2", "3"}, "a": {"\"1\""}},
		RequestBody:          `{"x":1}`,
		RequestBodySize:      7,
		RequestBodyTruncated: true,
		ResponseBodyBinary:   []byte{0, 0xff},
		ResponseBodySize:     2,
		ErrorType:            "timeout",
		LogBody:              "log",
		Attributes:           map[string]any{"n": 2.5, "k": []any{"v", true}},
		Resource:             map[string]any{"service.name": "orders"},
	}
	want := "otelaudit-record/v1\n" +
		"attributes 24 {\"k\":[\"v\",true],\"n\":2.5}\n" +
		"body 5 \"log\"\n" +
		"client_address 8 10.0.0.1\n" +
		"duration_ms 3 1.5\n" +
		"error_type 7 timeout\n" +
		"event_name 17 http.server.audit\n" +
		"host 11 example.com\n" +
		"id 36 0190c7a0-0000-7000-8000-000000000001\n" +
		"method 4 POST\n" +
		"observed_ts 24 2026-11-29T09:00:01.000Z\n" +
		"operation 6 orders\n" +
		"path 11 /api/orders\n" +
		"query 4 id=7\n" +
		"request_body 7 {\"x\":1}\n" +
		"request_body_size 1 7\n" +
		"request_body_truncated 4 true\n" +
		"request_headers 29 {\"a\":[\"\\\"1\\\"\"],\"b\":[\"2\",\"3\"]}\n" +
		"resource 25 {\"service.name\":\"orders\"}\n" +
		"response_body_binary 2 \x00\xff\n" +
		"response_body_size 1 2\n" +
		"route 9 /api/{id}\n" +
		"scheme 5 https\n" +
		"scope_name 9 audithttp\n" +
		"service_name 6 orders\n" +
		"session_id 1 s\n" +
		"severity_number 1 9\n" +
		"severity_text 4 INFO\n" +
		"span_id 4 0304\n" +
		"status 3 201\n" +
		"trace_id 4 0102\n" +
		"ts 24 2026-11-29T09:00:00.123Z\n" +
		"user_agent 7 bench/1\n" +
		"user_id 6 u\uFFFDé\n"
	if got := string(AppendRecord(nil, r)); got != want {
		t.Fatalf("encoding changed:\ngot  %q\nwant %q", got, want)
	}
}
