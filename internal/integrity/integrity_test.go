package integrity_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/mod/sumdb/note"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testproxy"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/mongostore"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// backend is a store under test with the raw access an attacker with
// database credentials has.
type backend struct {
	s store.CheckpointStore
	// exec changes the store behind its back: what is "records" or
	// "checkpoints", the selector an id or writer/seq.
	alterBody        func(id string)
	deleteRecord     func(id string)
	deleteCheckpoint func(writer string, seq int64)
	editCheckpoint   func(writer string, seq int64)
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func openPostgres(t testing.TB, dsn string) backend {
	t.Helper()
	table := testdb.Name("audit")
	testdb.DropTable(t, testdb.PostgresDSN(t), "public", table)
	if dsn == "" {
		dsn = testdb.PostgresDSN(t)
	}
	s, err := pgstore.Open(context.Background(), pgstore.Config{DSN: dsn, Table: table, Partition: pgstore.PartitionDay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(context.Background(), testdb.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	exec := func(q string, args ...any) {
		t.Helper()
		tag, err := c.Exec(ctx(t), q, args...)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("%s: %v rows, %v", q, tag.RowsAffected(), err)
		}
	}
	tbl := "public." + table
	return backend{
		s: s,
		alterBody: func(id string) {
			exec("UPDATE "+tbl+" SET response_body = overlay(response_body placing 'X' from 2 for 1) WHERE id = $1", id)
		},
		deleteRecord: func(id string) { exec("DELETE FROM "+tbl+" WHERE id = $1", id) },
		deleteCheckpoint: func(w string, seq int64) {
			exec("DELETE FROM "+tbl+"_checkpoints WHERE writer = $1 AND seq = $2", w, seq)
		},
		editCheckpoint: func(w string, seq int64) {
			exec("UPDATE "+tbl+"_checkpoints SET note = replace(convert_from(note, 'UTF8'), 'count ', 'count 1')::bytea WHERE writer = $1 AND seq = $2", w, seq)
		},
	}
}

func openMongo(t testing.TB) backend {
	t.Helper()
	uri := testdb.MongoURI(t)
	db := testdb.Name("audit")
	s, err := mongostore.Open(context.Background(), mongostore.Config{URI: uri, Database: db, WriteConcern: mongostore.WriteConcernOne})
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
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	coll := client.Database(db).Collection(s.Config().Collection)
	cps := client.Database(db).Collection(s.Config().Collection + "_checkpoints")
	one := func(n int64, err error) {
		t.Helper()
		if err != nil || n != 1 {
			t.Fatalf("%d documents changed, %v", n, err)
		}
	}
	return backend{
		s: s,
		alterBody: func(id string) {
			var d struct {
				Body string `bson:"response_body"`
			}
			if err := coll.FindOne(ctx(t), bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
				t.Fatal(err)
			}
			r, err := coll.UpdateOne(ctx(t), bson.D{{Key: "_id", Value: id}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "response_body", Value: d.Body[:1] + "X" + d.Body[2:]}}}})
			one(r.ModifiedCount, err)
		},
		deleteRecord: func(id string) {
			r, err := coll.DeleteOne(ctx(t), bson.D{{Key: "_id", Value: id}})
			one(r.DeletedCount, err)
		},
		deleteCheckpoint: func(w string, seq int64) {
			r, err := cps.DeleteOne(ctx(t), bson.D{{Key: "_id", Value: fmt.Sprintf("%s/%d", w, seq)}})
			one(r.DeletedCount, err)
		},
		editCheckpoint: func(w string, seq int64) {
			sel := bson.D{{Key: "_id", Value: fmt.Sprintf("%s/%d", w, seq)}}
			var d struct {
				Note []byte `bson:"note"`
			}
			if err := cps.FindOne(ctx(t), sel).Decode(&d); err != nil {
				t.Fatal(err)
			}
			edited := strings.Replace(string(d.Note), "count ", "count 1", 1)
			r, err := cps.UpdateOne(ctx(t), sel, bson.D{{Key: "$set", Value: bson.D{{Key: "note", Value: []byte(edited)}}}})
			one(r.ModifiedCount, err)
		},
	}
}

// eachBackend runs f on a fresh PostgreSQL store and a fresh MongoDB one.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Run("postgres", func(t *testing.T) { f(t, openPostgres(t, "")) })
	t.Run("mongo", func(t *testing.T) { f(t, openMongo(t)) })
}

type keys struct {
	signer   note.Signer
	verifier note.Verifier
}

func newKeys(t *testing.T) keys {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "otelaudit-test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return keys{s, v}
}

func sealer(t *testing.T, k keys, writer string) *integrity.Sealer {
	t.Helper()
	z, err := integrity.NewSealer(writer, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// batches returns n batches of size records, a millisecond apart.
func batches(ts time.Time, n, size int) [][]store.Record {
	out := make([][]store.Record, n)
	for i := range out {
		for j := 0; j < size; j++ {
			k := i*size + j
			out[i] = append(out[i], storetest.NewRecord(ts.Add(time.Duration(k)*time.Millisecond), k))
		}
	}
	return out
}

func writeAll(t *testing.T, z *integrity.Sealer, s store.CheckpointStore, bs [][]store.Record) {
	t.Helper()
	for _, b := range bs {
		if _, err := z.Write(ctx(t), s, b); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, b backend, k keys, opts integrity.Options) integrity.Report {
	t.Helper()
	rep, err := integrity.Verify(ctx(t), b.s, k.verifier, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func wantIntact(t *testing.T, rep integrity.Report, records int64) {
	t.Helper()
	if !rep.Intact || len(rep.Problems) > 0 || rep.Records != records || rep.Covered != records {
		t.Fatalf("verify: intact=%v, %d records (%d covered), want %d intact; problems: %+v", rep.Intact, rep.Records, rep.Covered, records, rep.Problems)
	}
}

// wantOnly checks that the report names exactly the problems want, by
// kind and id (or kind and seq for checkpoints).
func wantOnly(t *testing.T, rep integrity.Report, want ...integrity.Problem) {
	t.Helper()
	var got []string
	for _, p := range rep.Problems {
		got = append(got, fmt.Sprintf("%s %s %d", p.Kind, p.ID, p.Seq))
	}
	var exp []string
	for _, p := range want {
		exp = append(exp, fmt.Sprintf("%s %s %d", p.Kind, p.ID, p.Seq))
	}
	slices.Sort(got)
	slices.Sort(exp)
	if rep.Intact || !slices.Equal(got, exp) {
		t.Fatalf("problems:\n%s\nwant:\n%s\n(%+v)", strings.Join(got, "\n"), strings.Join(exp, "\n"), rep.Problems)
	}
}

func base() time.Time { return time.Now().UTC().Add(-time.Hour) }

func TestCleanStoreVerifies(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		k := newKeys(t)
		z := sealer(t, k, "node-1/test")
		writeAll(t, z, b.s, batches(base(), 3, 20))
		odd := storetest.OddValues(base().Add(time.Minute))
		if _, err := z.Write(ctx(t), b.s, odd); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, b, k, integrity.Options{})
		wantIntact(t, rep, int64(60+len(odd)))
		if rep.Checkpoints != 4 || rep.Writers["node-1/test"] != 4 {
			t.Errorf("%d checkpoints, writers %v; want 4 of node-1/test", rep.Checkpoints, rep.Writers)
		}
	})
}

func TestTamperingIsNamed(t *testing.T) {
	const w = "node-1/test"
	cases := []struct {
		name   string
		tamper func(t *testing.T, b backend, recs [][]store.Record) []integrity.Problem
	}{
		{"body byte changed", func(t *testing.T, b backend, recs [][]store.Record) []integrity.Problem {
			b.alterBody(recs[1][3].ID)
			return []integrity.Problem{{Kind: integrity.Altered, ID: recs[1][3].ID, Seq: 2}}
		}},
		{"record deleted", func(t *testing.T, b backend, recs [][]store.Record) []integrity.Problem {
			b.deleteRecord(recs[2][0].ID)
			return []integrity.Problem{{Kind: integrity.Missing, ID: recs[2][0].ID, Seq: 3}}
		}},
		{"record forged", func(t *testing.T, b backend, recs [][]store.Record) []integrity.Problem {
			forged := storetest.NewRecord(recs[0][0].Timestamp.Add(time.Second), 999)
			if _, err := b.s.Write(ctx(t), []store.Record{forged}); err != nil {
				t.Fatal(err)
			}
			return []integrity.Problem{{Kind: integrity.Uncovered, ID: forged.ID}}
		}},
		{"checkpoint deleted", func(t *testing.T, b backend, recs [][]store.Record) []integrity.Problem {
			b.deleteCheckpoint(w, 2)
			want := []integrity.Problem{{Kind: integrity.Checkpoint, Seq: 3}}
			for _, r := range recs[1] {
				want = append(want, integrity.Problem{Kind: integrity.Uncovered, ID: r.ID})
			}
			return want
		}},
		{"checkpoint edited", func(t *testing.T, b backend, recs [][]store.Record) []integrity.Problem {
			b.editCheckpoint(w, 1)
			want := []integrity.Problem{{Kind: integrity.Checkpoint, Seq: 1}}
			for _, r := range recs[0] {
				want = append(want, integrity.Problem{Kind: integrity.Uncovered, ID: r.ID})
			}
			return want
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, b backend) {
				k := newKeys(t)
				recs := batches(base(), 3, 5)
				writeAll(t, sealer(t, k, w), b.s, recs)
				wantIntact(t, verify(t, b, k, integrity.Options{}), 15)
				want := c.tamper(t, b, recs)
				for i := range want {
					if want[i].ID != "" {
						want[i].ID = strings.ToLower(want[i].ID)
					}
				}
				wantOnly(t, verify(t, b, k, integrity.Options{}), want...)
			})
		})
	}
}

func TestWrongPublicKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		k := newKeys(t)
		writeAll(t, sealer(t, k, "w"), b.s, batches(base(), 2, 3))
		rep := verify(t, b, newKeys(t), integrity.Options{})
		if rep.Intact || !slices.ContainsFunc(rep.Problems, func(p integrity.Problem) bool {
			return strings.Contains(p.Detail, "no checkpoint is signed by the public key given")
		}) {
			t.Fatalf("verify with another key: %+v", rep.Problems)
		}
	})
}

// TestLegitimateHistoriesVerify: concurrent writers, retried batches, a
// crash between records and checkpoint (the batch delivered again), and
// retention all verify clean.
func TestLegitimateHistoriesVerify(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		k := newKeys(t)
		ts := base()
		// Two collectors at once, and a batch each delivered twice.
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			z := sealer(t, k, fmt.Sprintf("node-%d/test", w))
			bs := batches(ts.Add(time.Duration(w)*time.Minute), 4, 10)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, batch := range bs {
					for range 1 + i%2 {
						if _, err := z.Write(context.Background(), b.s, batch); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		// A crash after the records, before the checkpoint: the records
		// are stored alone, then the batch comes again from the queue.
		crashed := batches(ts.Add(2*time.Minute), 1, 10)[0]
		if _, err := b.s.Write(ctx(t), crashed); err != nil {
			t.Fatal(err)
		}
		z := sealer(t, k, "node-0/test")
		if res, err := z.Write(ctx(t), b.s, crashed); err != nil || res.Duplicates != 10 {
			t.Fatalf("redelivered batch: %+v, %v", res, err)
		}
		// A reused id with other content: the first write is what is
		// covered.
		reused := storetest.NewRecord(ts.Add(3*time.Minute), 1)
		reused.ID = crashed[0].ID
		if _, err := z.Write(ctx(t), b.s, []store.Record{reused}); err != nil {
			t.Fatal(err)
		}
		wantIntact(t, verify(t, b, k, integrity.Options{}), 90)

		// Retention removes the older records; checkpoints stay.
		old := batches(ts.Add(-72*time.Hour), 2, 5)
		writeAll(t, z, b.s, old)
		if _, err := b.s.Cleanup(ctx(t), ts.Add(-24*time.Hour), store.CleanupOptions{}); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, b, k, integrity.Options{})
		wantIntact(t, rep, 90)
		if len(rep.Pruned) != 2 || rep.Pruned[0].Count != 5 || rep.Pruned[1].Count != 5 {
			t.Errorf("pruned: %+v, want the two old batches of 5", rep.Pruned)
		}
		// A range verifies only its records.
		wantIntact(t, verify(t, b, k, integrity.Options{Since: ts, Until: ts.Add(time.Minute)}), 40)
	})
}

// TestPostgresOutageMidStream: connections cut during a write; the
// exporter retries the batch; the store verifies clean.
func TestPostgresOutageMidStream(t *testing.T) {
	u, err := url.Parse(testdb.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	p := testproxy.New(t, u.Host)
	u.Host = p.Addr
	b := openPostgres(t, u.String())
	k := newKeys(t)
	z := sealer(t, k, "w")
	bs := batches(base(), 6, 50)
	writeAll(t, z, b.s, bs[:2])
	p.Down()
	if _, err := z.Write(ctx(t), b.s, bs[2]); err == nil {
		t.Fatal("write through a cut connection succeeded")
	}
	p.Up()
	writeAll(t, z, b.s, bs[2:])
	wantIntact(t, verify(t, b, k, integrity.Options{}), 300)
}

// TestAgainstSavedCheckpoint: records and checkpoints deleted from the end
// leave a consistent store that only a checkpoint saved elsewhere shows
// truncated.
func TestAgainstSavedCheckpoint(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		k := newKeys(t)
		recs := batches(base(), 3, 4)
		z := sealer(t, k, "w")
		writeAll(t, z, b.s, recs)
		last, ok, err := b.s.LastCheckpoint(ctx(t), "w")
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		saved := [][]byte{last.Note}
		wantIntact(t, verify(t, b, k, integrity.Options{Against: saved}), 12)
		b.deleteCheckpoint("w", 3)
		for _, r := range recs[2] {
			b.deleteRecord(r.ID)
		}
		wantIntact(t, verify(t, b, k, integrity.Options{}), 8)
		wantOnly(t, verify(t, b, k, integrity.Options{Against: saved}), integrity.Problem{Kind: integrity.Truncated, Seq: 3})
	})
}

func TestKeyFilePermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.key")
	if _, err := integrity.GenerateKey(path, "otelaudit"); err != nil {
		t.Fatal(err)
	}
	cfg := integrity.Config{KeyFile: path}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("0600 key: %v", err)
	}
	if _, err := cfg.Signer(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "integrity::key_file") || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("0644 key: %v, want a refusal naming integrity::key_file and the mode", err)
	}
	if _, err := cfg.Signer(); err == nil {
		t.Fatal("Signer loaded a key readable by others")
	}
	if _, err := integrity.GenerateKey(path, "otelaudit"); err == nil {
		t.Fatal("keygen overwrote an existing key")
	}
}
