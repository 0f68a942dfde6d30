package mongostore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/mongostore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

func records4K(n int, start time.Time) []store.Record {
	body := `{"items":[` + strings.Repeat(`{"sku":"SKU-00001","name":"Item","qty":1,"price":9.99},`, 28) + `{}]}`
	out := make([]store.Record, n)
	for i := range out {
		r := storetest.NewRecord(start.Add(time.Duration(i)*time.Millisecond), i)
		r.RequestBody, r.ResponseBody = body, body
		out[i] = r
	}
	return out
}

// BenchmarkWrite compares mongostore.Write with a raw unordered InsertMany
// of equivalent documents (same fields, plain maps), in the same run.
func BenchmarkWrite(b *testing.B) {
	uri := testdb.MongoURI(b)
	const batch = 500
	b.Run("raw-insertmany", func(b *testing.B) {
		client, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			b.Fatal(err)
		}
		db := client.Database(testdb.Name("rawbench"))
		defer func() { db.Drop(context.Background()); client.Disconnect(context.Background()) }()
		coll := db.Collection("request_logs")
		start := time.Now().UTC()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			recs := records4K(batch, start.Add(time.Duration(i)*time.Hour))
			docs := make([]any, len(recs))
			for j, r := range recs {
				docs[j] = bson.M{"_id": r.ID, "ts": r.Timestamp, "observed_ts": r.ObservedTimestamp, "event_name": r.EventName,
					"severity_number": r.SeverityNumber, "severity_text": r.SeverityText, "service_name": r.ServiceName,
					"scope_name": r.ScopeName, "operation": r.Operation, "trace_id": r.TraceID, "span_id": r.SpanID,
					"method": r.Method, "scheme": r.Scheme, "host": r.Host, "path": r.Path, "route": r.Route, "query": r.Query,
					"status": r.Status, "duration_ms": r.DurationMS, "user_id": r.UserID, "session_id": r.SessionID,
					"client_address": r.ClientAddress, "user_agent": r.UserAgent, "request_headers": r.RequestHeaders,
					"request_body": r.RequestBody, "request_body_size": r.RequestBodySize, "response_headers": r.ResponseHeaders,
					"response_body": r.ResponseBody, "response_body_size": r.ResponseBodySize, "attributes": r.Attributes,
					"resource": bson.M{"service_name": r.Resource["service.name"], "host_name": r.Resource["host.name"]}}
			}
			b.StartTimer()
			if _, err := coll.InsertMany(context.Background(), docs, options.InsertMany().SetOrdered(false)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("mongostore", func(b *testing.B) {
		s, err := mongostore.Open(context.Background(), mongostore.Config{URI: uri, Database: testdb.Name("bench"), WriteConcern: "1"})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { s.DropDatabase(context.Background()); s.Close() }()
		start := time.Now().UTC()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			recs := records4K(batch, start.Add(time.Duration(i)*time.Hour))
			b.StartTimer()
			if _, err := s.Write(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
	})
}
