package mongostore

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// TestDroppedConnectionIsolatesTheDocument sends the server a chunk of 300
// documents of which one holds a NaN double, past Normalize (which would
// have made it text): FerretDB closes the connection on it. The chunk must
// not fail as an outage: the document is found, stored degraded (without
// the NaN), the other 299 stored as they are.
func TestDroppedConnectionIsolatesTheDocument(t *testing.T) {
	s, err := Open(context.Background(), Config{URI: testdb.MongoURI(t), Database: testdb.Name("poison"), WriteConcern: WriteConcernOne})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.DropDatabase(context.Background())
		s.Close()
	})
	ts := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	recs := make([]store.Record, 300)
	docs := make([][]byte, len(recs))
	ptrs := make([]*store.Record, len(recs))
	for i := range recs {
		recs[i] = storetest.NewRecord(ts.Add(time.Duration(i)*time.Millisecond), i)
		if i == 150 {
			recs[i].Attributes = map[string]any{"ratio": math.NaN()}
			recs[i].DurationMS = math.Inf(1)
		}
		d, _, err := fit(toDocument(&recs[i], recs[i].ID))
		if err != nil {
			t.Fatal(err)
		}
		docs[i], ptrs[i] = d, &recs[i]
	}
	raw := make([]bson.Raw, len(docs))
	for i := range docs {
		raw[i] = docs[i]
	}
	var rep store.WriteReport
	written := make([]bool, len(raw))
	if err := s.insert(context.Background(), raw, ptrs, written, &rep, true); err != nil {
		t.Fatalf("a document the server drops the connection on was taken for an outage: %v", err)
	}
	_, err = rep.Result(nil)
	var degraded *store.DegradedError
	if !errors.As(err, &degraded) || len(degraded.IDs) != 1 || degraded.IDs[0] != recs[150].ID || rep.Degraded != 1 {
		t.Fatalf("%v; want exactly record 150 degraded", err)
	}
	if written[150] {
		t.Error("the poison document counted as written as it was")
	}
	if n, err := s.Count(context.Background(), store.Filter{}); err != nil || n != 300 {
		t.Fatalf("%d documents (%v), want 300", n, err)
	}
	got, err := s.Get(context.Background(), recs[150].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != recs[150].Path || got.Status != recs[150].Status || got.DurationMS != 0 ||
		got.Attributes[auditconv.StoreError] == nil || got.Attributes["ratio"] != nil || got.RequestBody != "" || !got.RequestBodyTruncated {
		t.Errorf("degraded record: %+v", got)
	}
	if got, err := s.Get(context.Background(), recs[151].ID); err != nil || got.RequestBody != recs[151].RequestBody || got.Attributes["tenant"] != "acme" {
		t.Errorf("a neighbour of the poison document: %+v (%v)", got, err)
	}
}
