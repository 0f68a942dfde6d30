package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/otelaudit/otelaudit/store"
)

// maxChunk bounds the documents of one InsertMany, below MongoDB's 48 MB
// message limit.
const maxChunk = 40 << 20

// pingTimeout bounds the check that tells a dropped connection from an
// outage.
const pingTimeout = 5 * time.Second

// writeResult gathers what a Write could not store as it was.
type writeResult struct {
	degraded store.DegradedError
	rejected store.RejectedError
}

func (w *writeResult) err() error {
	var errs []error
	if len(w.rejected.IDs) > 0 {
		errs = append(errs, &w.rejected)
	}
	if len(w.degraded.IDs) > 0 {
		errs = append(errs, &w.degraded)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// Write inserts records, normalized (store.Normalize), with unordered
// InsertMany calls in chunks under the message limit. Documents over
// 16 MiB are cut (truncated flags set), never refused. Duplicate-key errors
// on _id count as written, so a batch retried after partial success
// creates no duplicates and the first record written with an id wins.
//
// A document the server refuses (a write error), or on which it drops the
// connection, is stored in degraded form (store.Degraded) and reported in
// a store.DegradedError; only if that fails too is it reported in a
// store.RejectedError, the rest of the batch written. A dropped connection
// is told from an outage by a ping: when the server answers, the chunk is
// retried once, then halved until the document that drops the connection
// is alone; when it does not, the error is returned as it is (retryable).
func (s *Store) Write(ctx context.Context, records []store.Record) error {
	records = store.Normalize(records, time.Now())
	var res writeResult
	var chunk []bson.Raw
	var chunkRecs []*store.Record
	size := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := s.insert(ctx, chunk, chunkRecs, &res, true); err != nil {
			return err
		}
		chunk, chunkRecs, size = chunk[:0], chunkRecs[:0], 0
		return nil
	}
	for i := range records {
		r := &records[i]
		if r.ID == "" {
			res.rejected.IDs = append(res.rejected.IDs, r.ID)
			res.rejected.Err = errors.New("record without id")
			continue
		}
		raw, dropped, err := fit(toDocument(r))
		if dropped {
			res.degraded.IDs = append(res.degraded.IDs, r.ID)
			res.degraded.Err = errTooLarge
		}
		if err != nil {
			// Normalize leaves nothing the encoder refuses; should it
			// still, the record is stored degraded like a refused one.
			if err := s.degrade(ctx, r, fmt.Errorf("encode: %w", err), &res); err != nil {
				return err
			}
			continue
		}
		if size+len(raw) > maxChunk {
			if err := flush(); err != nil {
				return err
			}
		}
		chunk = append(chunk, raw)
		chunkRecs = append(chunkRecs, r)
		size += len(raw)
	}
	if err := flush(); err != nil {
		return err
	}
	return res.err()
}

// insert writes docs (the encodings of recs). Errors it returns are
// outages, worth retrying; records the server refuses go to res.
func (s *Store) insert(ctx context.Context, docs []bson.Raw, recs []*store.Record, res *writeResult, retry bool) error {
	all := make([]any, len(docs))
	for i, d := range docs {
		all[i] = d
	}
	_, err := s.coll.InsertMany(ctx, all, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil
	}
	if mongo.IsNetworkError(err) {
		if !s.alive(ctx) {
			return fmt.Errorf("mongostore: insert into %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
		}
		// The server is up and dropped the connection: once more as it
		// was (the drop may have had nothing to do with the documents),
		// then in halves, until the document it drops it on is alone.
		switch {
		case retry:
			return s.insert(ctx, docs, recs, res, false)
		case len(docs) == 1:
			return s.degrade(ctx, recs[0], fmt.Errorf("the server closed the connection on this document: %w", err), res)
		}
		mid := len(docs) / 2
		if err := s.insert(ctx, docs[:mid], recs[:mid], res, false); err != nil {
			return err
		}
		return s.insert(ctx, docs[mid:], recs[mid:], res, false)
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return fmt.Errorf("mongostore: insert into %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Code == 11000 || we.Code == 11001 {
			continue // already stored: a retry, or a reused id
		}
		if we.Index < 0 || we.Index >= len(docs) {
			return fmt.Errorf("mongostore: insert: %w", err)
		}
		if err := s.degrade(ctx, recs[we.Index], errors.New(we.Message), res); err != nil {
			return err
		}
	}
	return nil
}

// degrade stores r in degraded form, recording the outcome in res; it
// returns only outages.
func (s *Store) degrade(ctx context.Context, r *store.Record, cause error, res *writeResult) error {
	d := store.Degraded(*r, "refused by the server: "+cause.Error())
	raw, _, err := fit(toDocument(&d))
	if err != nil {
		res.rejected.IDs = append(res.rejected.IDs, r.ID)
		res.rejected.Err = fmt.Errorf("%v; degraded form: %w", cause, err)
		return nil
	}
	_, err = s.coll.InsertOne(ctx, bson.Raw(raw))
	var we mongo.WriteException
	switch {
	case err == nil || mongo.IsDuplicateKeyError(err):
		res.degraded.IDs = append(res.degraded.IDs, r.ID)
		res.degraded.Err = cause
		return nil
	case mongo.IsNetworkError(err) && !s.alive(ctx):
		return fmt.Errorf("mongostore: insert into %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
	case mongo.IsNetworkError(err), errors.As(err, &we) && we.WriteConcernError == nil:
		res.rejected.IDs = append(res.rejected.IDs, r.ID)
		res.rejected.Err = fmt.Errorf("%v; degraded form: %w", cause, err)
		return nil
	}
	return fmt.Errorf("mongostore: insert into %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
}

// alive reports whether the server answers a ping.
func (s *Store) alive(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, min(pingTimeout, s.cfg.Timeout))
	defer cancel()
	return s.client.Ping(ctx, readpref.Primary()) == nil
}
