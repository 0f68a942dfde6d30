package viewer_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/viewer"
	"github.com/otelaudit/otelaudit/store/mongostore"
)

// The viewer over MongoDB: the list with a search and the timeline (by
// Count), a record, an export.
func TestMongo(t *testing.T) {
	ctx := context.Background()
	s, err := mongostore.Open(ctx, mongostore.Config{URI: testdb.MongoURI(t), Database: testdb.Name("viewer"), WriteConcern: mongostore.WriteConcernOne})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.DropDatabase(context.Background())
		s.Close()
	})
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	recs := seed(t, s)
	srv, _ := serve(t, s, func(c *viewer.Config) { c.Backend = "mongo" })
	c := loggedIn(t, srv.URL)

	resp, page := get(t, c, srv.URL+"/?status=5xx&q=Refund&range=24h")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list = %s:\n%s", resp.Status, page)
	}
	if got := listed(page); len(got) != 6 || got[0] != recs[25].ID {
		t.Errorf("listed %v, want the 6 refund 500s, newest %s", got, recs[25].ID)
	}
	mustContain(t, page, `<rect class="c5xx"`)
	if _, page := get(t, c, srv.URL+"/records/"+recs[25].ID); !strings.Contains(page, "refund 25 failed") {
		t.Error("the record page lacks the response body")
	}
	_, body := get(t, c, srv.URL+"/export.csv?status=200")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 25 {
		t.Errorf("csv: %d rows, %v; want 24 records and the header", len(rows), err)
	}
}
