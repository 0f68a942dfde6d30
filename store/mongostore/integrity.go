package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

var _ store.CheckpointStore = (*Store)(nil)

// checkpointDoc is a checkpoint as stored in <collection>_checkpoints; _id
// is writer/seq, so that a (writer, seq) is stored once.
type checkpointDoc struct {
	ID      string    `bson:"_id"`
	Writer  string    `bson:"writer"`
	Seq     int64     `bson:"seq"`
	Time    time.Time `bson:"time"`
	First   time.Time `bson:"first_ts"`
	Last    time.Time `bson:"last_ts"`
	Note    []byte    `bson:"note"`
	Entries []byte    `bson:"entries"`
}

func (s *Store) checkpoints() *mongo.Collection {
	return s.coll.Database().Collection(s.cfg.Collection + "_checkpoints")
}

// meta holds the retention cut (_id "pruned") and the TTL (_id "ttl").
func (s *Store) meta() *mongo.Collection {
	return s.coll.Database().Collection(s.cfg.Collection + "_meta")
}

// WriteSealed writes the records, then their checkpoint (MongoDB-wire
// servers such as FerretDB have no transactions). A crash in between
// leaves records no checkpoint covers until the batch is delivered again:
// all duplicates then, they are read back and covered.
func (s *Store) WriteSealed(ctx context.Context, records []store.Record, seal store.Seal) (store.WriteResult, error) {
	return store.WriteThenSeal(ctx, s, records, seal, s.insertCheckpoint)
}

func (s *Store) insertCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	d := checkpointDoc{ID: fmt.Sprintf("%s/%d", cp.Writer, cp.Seq), Writer: cp.Writer, Seq: cp.Seq,
		Time: cp.Time.UTC(), First: cp.First.UTC(), Last: cp.Last.UTC(), Note: cp.Note, Entries: cp.Entries}
	_, err := s.checkpoints().InsertOne(ctx, d)
	switch {
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("mongostore: checkpoint %s: %w", d.ID, store.ErrCheckpointConflict)
	case err != nil:
		return fmt.Errorf("mongostore: insert checkpoint %s: %w", d.ID, err)
	}
	return nil
}

// Checkpoints returns every checkpoint, by writer and seq.
func (s *Store) Checkpoints(ctx context.Context) ([]store.Checkpoint, error) {
	return s.findCheckpoints(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "writer", Value: 1}, {Key: "seq", Value: 1}}))
}

// LastCheckpoint returns the writer's latest checkpoint.
func (s *Store) LastCheckpoint(ctx context.Context, writer string) (store.Checkpoint, bool, error) {
	cps, err := s.findCheckpoints(ctx, bson.D{{Key: "writer", Value: writer}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: -1}}).SetLimit(1))
	if err != nil || len(cps) == 0 {
		return store.Checkpoint{}, false, err
	}
	return cps[0], true, nil
}

func (s *Store) findCheckpoints(ctx context.Context, q bson.D, opts *options.FindOptionsBuilder) ([]store.Checkpoint, error) {
	cur, err := s.checkpoints().Find(ctx, q, opts)
	if err != nil {
		return nil, fmt.Errorf("mongostore: read checkpoints: %w", err)
	}
	defer cur.Close(ctx)
	var out []store.Checkpoint
	for cur.Next(ctx) {
		var d checkpointDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("mongostore: read checkpoint: %w", err)
		}
		out = append(out, store.Checkpoint{Writer: d.Writer, Seq: d.Seq, Time: d.Time.UTC(), First: d.First.UTC(),
			Last: d.Last.UTC(), Note: d.Note, Entries: d.Entries})
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongostore: read checkpoints: %w", err)
	}
	return out, nil
}

// recordPruned records a retention cut, keeping the latest.
func (s *Store) recordPruned(ctx context.Context, before time.Time) error {
	_, err := s.meta().UpdateOne(ctx, bson.D{{Key: "_id", Value: "pruned"}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "before", Value: before.UTC()}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongostore: record retention cut: %w", err)
	}
	return nil
}

// recordTTL records the TTL index's retention: the server removes records
// on its own, and PrunedBefore derives the cut from it.
func (s *Store) recordTTL(ctx context.Context) error {
	_, err := s.meta().UpdateOne(ctx, bson.D{{Key: "_id", Value: "ttl"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seconds", Value: int64(s.cfg.Retention / time.Second)}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongostore: record TTL: %w", err)
	}
	return nil
}

// PrunedBefore returns the latest cut Cleanup recorded, or the TTL's cut
// now when that is later.
func (s *Store) PrunedBefore(ctx context.Context) (time.Time, error) {
	var cut time.Time
	cur, err := s.meta().Find(ctx, bson.D{})
	if err != nil {
		return cut, fmt.Errorf("mongostore: read retention cut: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d struct {
			ID      string    `bson:"_id"`
			Before  time.Time `bson:"before"`
			Seconds int64     `bson:"seconds"`
		}
		if err := cur.Decode(&d); err != nil {
			return cut, fmt.Errorf("mongostore: read retention cut: %w", err)
		}
		t := d.Before.UTC()
		if d.ID == "ttl" {
			t = time.Now().UTC().Add(-time.Duration(d.Seconds) * time.Second)
		}
		if t.After(cut) {
			cut = t
		}
	}
	if err := cur.Err(); err != nil {
		return cut, fmt.Errorf("mongostore: read retention cut: %w", err)
	}
	return cut, nil
}

// Fetch returns the records with these ids.
func (s *Store) Fetch(ctx context.Context, ids []string) ([]store.Record, error) {
	in := make(bson.A, 0, len(ids))
	for _, id := range ids {
		u, err := auditconv.ParseRecordID(id)
		if err != nil {
			return nil, fmt.Errorf("mongostore: fetch: %w", err)
		}
		in = append(in, auditconv.FormatRecordID(u))
	}
	cur, err := s.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: in}}}})
	if err != nil {
		return nil, fmt.Errorf("mongostore: fetch %d records: %w", len(ids), err)
	}
	defer cur.Close(ctx)
	out := make([]store.Record, 0, len(ids))
	for cur.Next(ctx) {
		var d document
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("mongostore: fetch records: %w", err)
		}
		out = append(out, d.record())
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongostore: fetch records: %w", err)
	}
	return out, nil
}
