package integrity

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// RecordStatus is what the checkpoints signed by one key say of one stored
// record.
type RecordStatus string

// Record statuses of CheckRecords.
const (
	// StatusVerified: checkpoints cover the record, and it hashes to the
	// leaf every one of them holds.
	StatusVerified RecordStatus = "verified"
	// StatusUncovered: no checkpoint that opens under the key covers the
	// record (not sealed yet, forged, or its checkpoint is broken).
	StatusUncovered RecordStatus = "uncovered"
	// StatusAltered: a checkpoint covers the record with another leaf.
	StatusAltered RecordStatus = "altered"
)

// CheckRecords tells, for the stored records with these ids, whether they
// are as the checkpoints signed by v covered them. It is the per-record
// half of Verify, for a viewer's page: it neither walks the chains nor
// looks for missing records (run Verify for that). Ids the store does not
// hold are left out of the result, which is keyed by the stored ids.
// Every call reads and checks every checkpoint of the store.
func CheckRecords(ctx context.Context, s store.CheckpointStore, v note.Verifier, ids []string) (map[string]RecordStatus, error) {
	recs, err := s.Fetch(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("integrity: fetch records: %w", err)
	}
	wanted := make(map[[16]byte]*store.Record, len(recs))
	for i := range recs {
		if id, err := auditconv.ParseRecordID(recs[i].ID); err == nil {
			wanted[id] = &recs[i]
		}
	}
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("integrity: read checkpoints: %w", err)
	}
	leaves := map[[16]byte][][32]byte{}
	verifiers := note.VerifierList(v)
	for i := range cps {
		_, entries, err := openCheckpoint(&cps[i], verifiers)
		if err != nil {
			continue // a checkpoint that does not open covers nothing
		}
		for _, e := range entries {
			if _, ok := wanted[e.ID]; ok {
				leaves[e.ID] = append(leaves[e.ID], e.Leaf)
			}
		}
	}
	out := make(map[string]RecordStatus, len(recs))
	for id, r := range wanted {
		out[r.ID] = statusOf(r, leaves[id])
	}
	return out, nil
}

func statusOf(r *store.Record, covered [][32]byte) RecordStatus {
	if len(covered) == 0 {
		return StatusUncovered
	}
	leaf := LeafHash(r)
	for _, l := range covered {
		if l != leaf {
			return StatusAltered
		}
	}
	return StatusVerified
}
