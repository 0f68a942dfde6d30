package mongostore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/mongostore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

func open(t *testing.T, cfg mongostore.Config) *mongostore.Store {
	t.Helper()
	if cfg.URI == "" {
		cfg.URI = testdb.MongoURI(t)
	}
	if cfg.Database == "" {
		cfg.Database = testdb.Name("audit")
	}
	cfg.WriteConcern = mongostore.WriteConcernOne
	s, err := mongostore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.DropDatabase(context.Background())
		s.Close()
	})
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, mongostore.Config{}) })
}

func TestHugeDocumentIsCutNotRefused(t *testing.T) {
	s := open(t, mongostore.Config{})
	r := storetest.NewRecord(time.Now().UTC().Truncate(time.Millisecond), 1)
	r.ResponseBody = strings.Repeat("x", 20<<20)
	r.ResponseBodySize = int64(len(r.ResponseBody))
	r.RequestBody = ""
	r.RequestBodyBinary = []byte{0xff, 0x00, 0xfe}
	if _, err := s.Write(context.Background(), []store.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ResponseBodyTruncated || len(got.ResponseBody) >= 16<<20 || len(got.ResponseBody) < 15<<20 || got.ResponseBodySize != 20<<20 {
		t.Errorf("20 MB body: stored %d bytes, truncated=%v, size=%d", len(got.ResponseBody), got.ResponseBodyTruncated, got.ResponseBodySize)
	}
	if got.Attributes["tenant"] != "acme" || got.RequestHeaders["accept"][0] != "application/json" {
		t.Errorf("cutting the body lost attributes or headers: %v %v", got.Attributes, got.RequestHeaders)
	}
	if string(got.RequestBodyBinary) != "\xff\x00\xfe" {
		t.Errorf("binary body: %q", got.RequestBodyBinary)
	}
}

func TestTTLOrCleanup(t *testing.T) {
	s := open(t, mongostore.Config{Retention: 48 * time.Hour})
	// FerretDB has no TTL indexes; MongoDB does. Either way Migrate succeeds,
	// and TTLSupported says truthfully whether the index exists.
	names, err := s.IndexNames(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	has := false
	for _, n := range names {
		has = has || n == "ts_ttl"
	}
	if has != s.TTLSupported {
		t.Errorf("TTLSupported = %v, but the ts_ttl index exists: %v (%v)", s.TTLSupported, has, names)
	}
	for _, want := range []string{"ts_desc", "path_ts", "status_ts", "user_ts", "trace_id"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("index %s missing: %v", want, names)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := mongostore.Open(context.Background(), mongostore.Config{URI: "mongodb://user:pw-secret@127.0.0.1:1/", Timeout: 2 * time.Second})
	if err == nil {
		t.Fatal("closed port: no error")
	}
	if strings.Contains(err.Error(), "pw-secret") {
		t.Errorf("error leaks the password: %v", err)
	}
	_, err = mongostore.Open(context.Background(), mongostore.Config{URI: "http://x", WriteConcern: "2", Database: "a.b"})
	for _, want := range []string{"uri:", "write_concern:", "database:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad config error %v does not name %s", err, want)
		}
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	s := open(t, mongostore.Config{Retention: 24 * time.Hour})
	for i := 0; i < 2; i++ {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate again (%d): %v", i, err)
		}
	}
	if _, err := s.Write(context.Background(), []store.Record{storetest.NewRecord(time.Now().UTC().Truncate(time.Millisecond), 1)}); err != nil {
		t.Fatalf("write after repeated migrations: %v", err)
	}
}
