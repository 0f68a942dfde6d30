package main_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/mongostore"
	"github.com/otelaudit/otelaudit/store/pgstore"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// sealedStores opens a migrated store of each backend and returns them
// with the connection flags and environment auditctl needs for them.
func sealedStores(t *testing.T) map[string]seeded {
	out := map[string]seeded{}
	dsn := testdb.PostgresDSN(t)
	table := testdb.Name("ctl")
	testdb.DropTable(t, dsn, "public", table)
	ps, err := pgstore.Open(context.Background(), pgstore.Config{DSN: dsn, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	if err := ps.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	out["postgres"] = seeded{env: []string{"AUDIT_POSTGRES_DSN=" + dsn}, args: []string{"--table", table}, cs: ps}

	uri := testdb.MongoURI(t)
	db := testdb.Name("ctl")
	ms, err := mongostore.Open(context.Background(), mongostore.Config{URI: uri, Database: db, WriteConcern: "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.DropDatabase(context.Background()); ms.Close() })
	if err := ms.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	out["mongo"] = seeded{env: []string{"AUDIT_MONGO_URI=" + uri}, args: []string{"--backend", "mongo", "--database", db}, cs: ms}
	return out
}

func TestKeygenVerifyCheckpoint(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "audit.key")
	r := auditctl(t, nil, "keygen", "--key", key)
	if r.code != 0 || !strings.Contains(r.stdout, key+".pub") {
		t.Fatalf("keygen: %d %s %s", r.code, r.stdout, r.stderr)
	}
	for path, mode := range map[string]os.FileMode{key: 0o600, key + ".pub": 0o644} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v, want mode %04o", path, fi.Mode(), err, mode)
		}
	}
	if r := auditctl(t, nil, "keygen", "--key", key); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("keygen over an existing key: %d %s", r.code, r.stderr)
	}
	other := filepath.Join(dir, "other.key")
	if r := auditctl(t, nil, "keygen", "--key", other); r.code != 0 {
		t.Fatal(r.stderr)
	}
	signer, err := (&integrity.Config{KeyFile: key}).Signer()
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range sealedStores(t) {
		t.Run(name, func(t *testing.T) {
			z, err := integrity.NewSealer("node-1/"+name, signer)
			if err != nil {
				t.Fatal(err)
			}
			base := time.Now().UTC().Add(-time.Hour)
			for b := 0; b < 3; b++ {
				var recs []store.Record
				for i := 0; i < 10; i++ {
					recs = append(recs, storetest.NewRecord(base.Add(time.Duration(b*10+i)*time.Second), b*10+i))
				}
				if _, err := z.Write(context.Background(), s.cs, recs); err != nil {
					t.Fatal(err)
				}
			}
			verify := func(args ...string) result {
				return auditctl(t, s.env, append(append([]string{"verify"}, s.args...), args...)...)
			}
			r := verify("--key", key+".pub")
			if r.code != 0 || !strings.Contains(r.stdout, "intact: 30 records checked, 30 covered, 3 checkpoints from 1 writer(s)") {
				t.Fatalf("verify: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if r := verify("--key", key+".pub", "--since", base.Add(10*time.Second).Format(time.RFC3339Nano), "--until", "0s"); r.code != 0 ||
				!strings.Contains(r.stdout, "20 records checked") {
				t.Errorf("verify --since: %d %s %s", r.code, r.stdout, r.stderr)
			}
			r = auditctl(t, s.env, append([]string{"checkpoint"}, s.args...)...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "otelaudit checkpoint/v1\nwriter node-1/"+name+"\nseq 3\n") {
				t.Fatalf("checkpoint: %d %q %s", r.code, r.stdout, r.stderr)
			}
			saved := filepath.Join(t.TempDir(), "saved.ckpt")
			if err := os.WriteFile(saved, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if r := verify("--key", key+".pub", "--against", saved); r.code != 0 {
				t.Errorf("verify --against: %d %s %s", r.code, r.stdout, r.stderr)
			}
			r = verify("--key", other+".pub")
			if r.code != 3 || !strings.Contains(r.stdout, "no checkpoint is signed by the public key given") {
				t.Errorf("verify with another key: %d %s %s", r.code, r.stdout, r.stderr)
			}
			forged := storetest.NewRecord(base.Add(time.Minute), 99)
			if _, err := s.cs.Write(context.Background(), []store.Record{forged}); err != nil {
				t.Fatal(err)
			}
			r = verify("--key", key+".pub")
			if r.code != 3 || !strings.Contains(r.stdout, "uncovered record "+forged.ID) || !strings.Contains(r.stderr, "not intact") {
				t.Errorf("verify after a forged record: %d %s %s", r.code, r.stdout, r.stderr)
			}
			r = verify("--key", key+".pub", "--output", "json")
			var rep integrity.Report
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 3 || rep.Intact || len(rep.Problems) != 1 ||
				rep.Problems[0].Kind != integrity.Uncovered || rep.Problems[0].ID != forged.ID {
				t.Errorf("verify --output json: %d %v %+v", r.code, err, rep)
			}
		})
	}
}

func TestVerifyUsage(t *testing.T) {
	env := []string{"AUDIT_POSTGRES_DSN=postgres://x@127.0.0.1:1/x"}
	for _, args := range [][]string{
		{"verify"},
		{"verify", "--key", "k.pub", "--output", "xml"},
		{"verify", "--key", "k.pub", "--since", "yesterday"},
		{"keygen"},
	} {
		if r := auditctl(t, env, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
}
