package store

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Checkpoint is a signed integrity checkpoint as a store keeps it
// (docs/integrity.md). The store treats Note and Entries as opaque bytes;
// internal/integrity makes and checks them.
type Checkpoint struct {
	Writer string // the chain it belongs to: one per writing collector
	Seq    int64  // its place in the writer's chain, from 1
	Time   time.Time
	// First and Last are the oldest and newest record timestamps covered.
	First, Last time.Time
	Note        []byte // the signed note
	Entries     []byte // the covered records: id, timestamp and leaf hash each
}

// Seal returns the checkpoint of a batch from its records as stored.
type Seal func(stored []Record) (Checkpoint, error)

// CheckpointStore is a Store that also keeps checkpoints. Retention
// (Cleanup, a TTL) never removes checkpoints.
type CheckpointStore interface {
	Store
	// WriteSealed writes records like Write and stores the checkpoint seal
	// returns for the records of the batch as stored (every record not
	// rejected, duplicates included: a retried batch is covered again).
	// PostgreSQL stores records and checkpoint in one transaction; MongoDB
	// the records first. A checkpoint whose (writer, seq) is taken fails
	// with ErrCheckpointConflict.
	WriteSealed(ctx context.Context, records []Record, seal Seal) (WriteResult, error)
	// Checkpoints returns every checkpoint, ordered by writer, then seq.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
	// LastCheckpoint returns the writer's checkpoint with the highest seq;
	// ok is false when it has none.
	LastCheckpoint(ctx context.Context, writer string) (cp Checkpoint, ok bool, err error)
	// PrunedBefore returns the retention cut: records older than it were
	// removed by Cleanup or a TTL. Zero when nothing was ever removed.
	PrunedBefore(ctx context.Context) (time.Time, error)
	// Fetch returns the stored records with these ids; unknown ids are
	// left out.
	Fetch(ctx context.Context, ids []string) ([]Record, error)
}

// ErrCheckpointConflict is returned when a checkpoint's (writer, seq) is
// stored already: another process writes under the same writer name, or an
// earlier write whose outcome was unknown did commit.
var ErrCheckpointConflict = errors.New("store: a checkpoint with this writer and sequence number exists")

// WriteThenSeal is WriteSealed for a store that writes records before the
// checkpoint: it writes records with Write, then stores with insert the
// checkpoint of the records as stored. When every record was newly written
// and none degraded, those are the normalized records; otherwise they are
// read back, so that the checkpoint covers what the store holds (the first
// write of a reused id, a degraded form). Outages are returned before any
// checkpoint is made: the retried batch is covered then.
func WriteThenSeal(ctx context.Context, s CheckpointStore, records []Record, seal Seal,
	insert func(context.Context, Checkpoint) error) (WriteResult, error) {
	records = Normalize(records, time.Now())
	res, err := s.Write(ctx, records)
	var rejected *RejectedError
	var degraded *DegradedError
	if err != nil && !errors.As(err, &rejected) && !errors.As(err, &degraded) {
		return res, err
	}
	stored := records
	if rejected != nil {
		stored = slices.DeleteFunc(slices.Clone(records), func(r Record) bool { return slices.Contains(rejected.IDs, r.ID) })
	}
	if len(stored) == 0 {
		return res, err
	}
	if res.Duplicates > 0 || res.Degraded > 0 {
		ids := make([]string, len(stored))
		for i := range stored {
			ids[i] = stored[i].ID
		}
		var ferr error
		if stored, ferr = s.Fetch(ctx, ids); ferr != nil {
			return res, ferr
		}
	}
	cp, serr := seal(stored)
	if serr != nil {
		return res, serr
	}
	if ierr := insert(ctx, cp); ierr != nil {
		return res, ierr
	}
	return res, err
}
