package mongostore

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/store"
)

const shapeID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

// shapeRecord sets every field, with keys that need encoding and a string
// that is not valid UTF-8; each map holds one key so that its encoding has
// one order.
func shapeRecord() store.Record {
	ts := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	return store.Record{
		ID: shapeID, Timestamp: ts, ObservedTimestamp: ts.Add(time.Second), EventName: "http.server.request",
		SeverityNumber: 9, SeverityText: "INFO", ServiceName: "shop\xff", ScopeName: "audithttp", Operation: "GET /items/{id}",
		TraceID: "0af7651916cd43dd8448eb211c80319c", SpanID: "b7ad6b7169203331", Method: "GET", Scheme: "https",
		Host: "shop.example", Path: "/items/1", Route: "/items/{id}", Query: "a=1", Status: 200, DurationMS: 12.5,
		UserID: "u1", SessionID: "s1", ClientAddress: "192.0.2.1", UserAgent: "curl/8",
		RequestHeaders: map[string][]string{"x.trace": {"a", "b"}}, RequestBody: `{"q":1}`, RequestBodySize: 7,
		RequestBodyTruncated: true, ResponseHeaders: map[string][]string{"$set": {"c"}},
		ResponseBodyBinary: []byte{0xff, 0, 0xfe}, ResponseBodySize: 3, ResponseBodyTruncated: true, ErrorType: "timeout",
		LogBody:    map[string]any{"a.b": "c"},
		Attributes: map[string]any{"tenant.id": map[string]any{"50%": int64(1)}},
		Resource:   map[string]any{"service.name": "shop"},
	}
}

// shapeDocument is shapeRecord's document as the store has always written
// it, field by field: documents in users' databases look like this.
func shapeDocument() bson.D {
	ts := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	return bson.D{
		{Key: "_id", Value: shapeID}, {Key: "ts", Value: bson.NewDateTimeFromTime(ts)},
		{Key: "observed_ts", Value: bson.NewDateTimeFromTime(ts.Add(time.Second))},
		{Key: "event_name", Value: "http.server.request"}, {Key: "severity_number", Value: int32(9)},
		{Key: "severity_text", Value: "INFO"}, {Key: "service_name", Value: "shop\uFFFD"},
		{Key: "scope_name", Value: "audithttp"}, {Key: "operation", Value: "GET /items/{id}"},
		{Key: "trace_id", Value: "0af7651916cd43dd8448eb211c80319c"}, {Key: "span_id", Value: "b7ad6b7169203331"},
		{Key: "method", Value: "GET"}, {Key: "scheme", Value: "https"}, {Key: "host", Value: "shop.example"},
		{Key: "path", Value: "/items/1"}, {Key: "route", Value: "/items/{id}"}, {Key: "query", Value: "a=1"},
		{Key: "status", Value: int32(200)}, {Key: "duration_ms", Value: 12.5}, {Key: "user_id", Value: "u1"},
		{Key: "session_id", Value: "s1"}, {Key: "client_address", Value: "192.0.2.1"}, {Key: "user_agent", Value: "curl/8"},
		{Key: "request_headers", Value: bson.D{{Key: "x%2Etrace", Value: bson.A{"a", "b"}}}},
		{Key: "request_body", Value: `{"q":1}`}, {Key: "request_body_size", Value: int64(7)},
		{Key: "request_body_truncated", Value: true},
		{Key: "response_headers", Value: bson.D{{Key: "%24set", Value: bson.A{"c"}}}},
		{Key: "response_body_binary", Value: bson.Binary{Data: []byte{0xff, 0, 0xfe}}},
		{Key: "response_body_size", Value: int64(3)}, {Key: "response_body_truncated", Value: true},
		{Key: "error_type", Value: "timeout"},
		{Key: "body", Value: bson.D{{Key: "a%2Eb", Value: "c"}}},
		{Key: "attributes", Value: bson.D{{Key: "tenant%2Eid", Value: bson.D{{Key: "50%25", Value: int64(1)}}}}},
		{Key: "resource", Value: bson.D{{Key: "service%2Ename", Value: "shop"}}},
	}
}

// TestDocumentShape checks that a record is encoded byte for byte as the
// store has always encoded it, and that an empty record leaves out every
// field but _id and ts.
func TestDocumentShape(t *testing.T) {
	r := shapeRecord()
	got, dropped, err := fit(toDocument(&r, shapeID))
	if err != nil || dropped {
		t.Fatalf("fit: dropped=%v, %v", dropped, err)
	}
	want, err := bson.Marshal(shapeDocument())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("document\n got %v\nwant %v", bson.Raw(got), bson.Raw(want))
	}
	if !reflect.DeepEqual(r, shapeRecord()) {
		t.Errorf("encoding changed the caller's record: %+v", r)
	}

	ts := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	empty := store.Record{Timestamp: ts, Attributes: map[string]any{}, RequestHeaders: map[string][]string{}}
	got, _, err = fit(toDocument(&empty, shapeID))
	if err != nil {
		t.Fatal(err)
	}
	want, _ = bson.Marshal(bson.D{{Key: "_id", Value: shapeID}, {Key: "ts", Value: bson.NewDateTimeFromTime(ts)}})
	if !bytes.Equal(got, want) {
		t.Errorf("empty record\n got %v\nwant %v", bson.Raw(got), bson.Raw(want))
	}
}

// TestStoredDocumentsStillRead inserts a document in the shape the store
// has always written, with the driver alone, and reads it back through the
// store.
func TestStoredDocumentsStillRead(t *testing.T) {
	s, err := Open(context.Background(), Config{URI: testdb.MongoURI(t), Database: testdb.Name("shape"), WriteConcern: WriteConcernOne})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.DropDatabase(context.Background())
		s.Close()
	})
	if _, err := s.coll.InsertOne(context.Background(), shapeDocument()); err != nil {
		t.Fatal(err)
	}
	want := shapeRecord()
	want.ServiceName = "shop\uFFFD"
	got, err := s.Get(context.Background(), shapeID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Get\n got %+v\nwant %+v", got, want)
	}
	recs, err := s.Query(context.Background(), store.Filter{})
	if err != nil || len(recs) != 1 || !reflect.DeepEqual(recs[0], want) {
		t.Errorf("Query: %+v (%v)\nwant %+v", recs, err, want)
	}
}
