package integrity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/integrity"
	"github.com/otelaudit/otelaudit/store"
	"github.com/otelaudit/otelaudit/store/storetest"
)

// TestCheckRecords: the per-record check a viewer page uses names the
// altered record, the forged one and the untouched ones, on both stores;
// under another key nothing verifies.
func TestCheckRecords(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		k := newKeys(t)
		recs := batches(base(), 2, 4)
		writeAll(t, sealer(t, k, "node-1/test"), b.s, recs)
		forged := storetest.NewRecord(recs[0][0].Timestamp.Add(time.Second), 999)
		if _, err := b.s.Write(ctx(t), []store.Record{forged}); err != nil {
			t.Fatal(err)
		}
		altered := recs[1][2].ID
		b.alterBody(altered)

		ids := []string{forged.ID, "01890000-0000-7000-8000-000000000000"}
		for _, batch := range recs {
			for _, r := range batch {
				ids = append(ids, r.ID)
			}
		}
		got, err := integrity.CheckRecords(ctx(t), b.s, k.verifier, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 9 {
			t.Errorf("%d statuses, want 9 (8 sealed, 1 forged; the unknown id left out): %v", len(got), got)
		}
		for _, id := range ids[2:] {
			want := integrity.StatusVerified
			if id == altered {
				want = integrity.StatusAltered
			}
			if s := got[strings.ToLower(id)]; s != want {
				t.Errorf("%s: %q, want %q", id, s, want)
			}
		}
		if s := got[strings.ToLower(forged.ID)]; s != integrity.StatusUncovered {
			t.Errorf("forged record: %q, want uncovered", s)
		}

		other, err := integrity.CheckRecords(ctx(t), b.s, newKeys(t).verifier, ids[2:])
		if err != nil {
			t.Fatal(err)
		}
		for id, s := range other {
			if s != integrity.StatusUncovered {
				t.Errorf("under another key %s is %q, want uncovered", id, s)
			}
		}
	})
}
