package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/otelaudit/otelaudit/store"
)

// Timeline counts the records f selects per slot of [f.Since, f.Until) and
// status class: one aggregation per slot, grouped by status, instead of a
// count per slot and class (six times the round trips); see
// store.Timeline.
func (s *Store) Timeline(ctx context.Context, f store.Filter, buckets int) ([]store.Bucket, error) {
	if f.Since.IsZero() || f.Until.IsZero() || !f.Since.Before(f.Until) || buckets < 1 {
		return nil, fmt.Errorf("mongostore: timeline: want Since < Until and buckets > 0")
	}
	f.After, f.Limit = store.Cursor{}, 0
	out := store.Slots(f.Since, f.Until, buckets)
	for i := range out {
		g := f
		g.Since, g.Until = out[i].Start, out[i].End
		if err := s.countByStatus(ctx, g, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// countByStatus adds the records f selects to b, by status class.
func (s *Store) countByStatus(ctx context.Context, f store.Filter, b *store.Bucket) error {
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: filter(f, false)}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	}
	cur, err := s.coll.Aggregate(ctx, pipeline)
	if err != nil {
		return fmt.Errorf("mongostore: timeline: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var row struct {
			Status any   `bson:"_id"`
			N      int64 `bson:"n"`
		}
		if err := cur.Decode(&row); err != nil {
			return fmt.Errorf("mongostore: timeline: %w", err)
		}
		b.ByClass[statusClass(row.Status)] += row.N
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("mongostore: timeline: %w", err)
	}
	return nil
}

// statusClass is 1–5 for a status of 100–599 and 0 for anything else
// (absent, out of range), as store.Timeline counts.
func statusClass(status any) int {
	var n int64
	switch v := status.(type) {
	case int32:
		n = int64(v)
	case int64:
		n = v
	case float64:
		n = int64(v)
	default:
		return 0
	}
	if n < 100 || n > 599 {
		return 0
	}
	return int(n / 100)
}
