package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// maxChunk bounds the documents of one InsertMany, below MongoDB's 48 MB
// message limit.
const maxChunk = 40 << 20

// pingTimeout bounds the check that tells a dropped connection from an
// outage.
const pingTimeout = 5 * time.Second

// Write inserts records, normalized (store.Normalize), with unordered
// InsertMany calls in chunks under the message limit. Documents over
// 16 MiB are cut (truncated flags set), never refused. Duplicate-key errors
// on _id count as duplicates, not failures, so a batch retried after
// partial success creates no duplicates and the first record written with
// an id wins. A record whose id is not a UUID is rejected; _id is the
// canonical (lower-case) id.
//
// A document the server refuses (a write error), or on which it drops the
// connection, is stored in degraded form (store.Degraded) and reported in
// a store.DegradedError; only if that fails too is it reported in a
// store.RejectedError, the rest of the batch written. A dropped connection
// is told from an outage by a ping: when the server answers, the chunk is
// retried once, then halved until the document that drops the connection
// is alone; when it does not, the error is returned as it is (retryable).
func (s *Store) Write(ctx context.Context, records []store.Record) (store.WriteResult, error) {
	records = store.Normalize(records, time.Now())
	var rep store.WriteReport
	var c chunk
	for i := range records {
		r := &records[i]
		id, err := auditconv.ParseRecordID(r.ID)
		if err != nil {
			rep.Reject(r.ID, err)
			continue
		}
		raw, dropped, err := fit(toDocument(r, auditconv.FormatRecordID(id)))
		if err != nil {
			// Normalize leaves nothing the encoder refuses; should it
			// still, the record is stored degraded like a refused one.
			if err := s.degrade(ctx, r, fmt.Errorf("encode: %w", err), &rep); err != nil {
				return rep.Result(err)
			}
			continue
		}
		if c.size+len(raw) > maxChunk {
			if err := s.flush(ctx, &c, &rep); err != nil {
				return rep.Result(err)
			}
		}
		c.add(raw, r, dropped)
	}
	return rep.Result(s.flush(ctx, &c, &rep))
}

// chunk is the documents of one InsertMany.
type chunk struct {
	docs []bson.Raw
	recs []*store.Record
	// cut are the documents whose attributes and body fit dropped.
	cut  map[int]bool
	size int
}

func (c *chunk) add(raw bson.Raw, r *store.Record, dropped bool) {
	if dropped {
		if c.cut == nil {
			c.cut = map[int]bool{}
		}
		c.cut[len(c.docs)] = true
	}
	c.docs, c.recs, c.size = append(c.docs, raw), append(c.recs, r), c.size+len(raw)
}

// flush inserts the chunk and empties it. A document fit had to cut and
// that is stored counts as degraded.
func (s *Store) flush(ctx context.Context, c *chunk, rep *store.WriteReport) error {
	if len(c.docs) == 0 {
		return nil
	}
	written := make([]bool, len(c.docs))
	if err := s.insert(ctx, c.docs, c.recs, written, rep, true); err != nil {
		return err
	}
	for i := range c.docs {
		switch {
		case !written[i]:
		case c.cut[i]:
			rep.Degrade(c.recs[i].ID, errTooLarge)
		default:
			rep.Written++
		}
	}
	*c = chunk{docs: c.docs[:0], recs: c.recs[:0]}
	return nil
}

// insert writes docs (the encodings of recs), setting written[i] for each
// document stored; duplicates and the records the server refuses are
// counted in rep. Errors it returns are outages, worth retrying.
func (s *Store) insert(ctx context.Context, docs []bson.Raw, recs []*store.Record, written []bool, rep *store.WriteReport, retry bool) error {
	all := make([]any, len(docs))
	for i, d := range docs {
		all[i] = d
	}
	_, err := s.coll.InsertMany(ctx, all, options.InsertMany().SetOrdered(false))
	if err == nil {
		for i := range written {
			written[i] = true
		}
		return nil
	}
	if mongo.IsNetworkError(err) {
		return s.insertAgain(ctx, docs, recs, written, rep, retry, err)
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return fmt.Errorf("mongostore: insert into %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
	}
	failed := make(map[int]bool, len(bwe.WriteErrors))
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(docs) {
			return fmt.Errorf("mongostore: insert: %w", err)
		}
		failed[we.Index] = true
		if we.Code == 11000 || we.Code == 11001 {
			rep.Duplicates++ // already stored: a retry, or a reused id
			continue
		}
		if err := s.degrade(ctx, recs[we.Index], errors.New(we.Message), rep); err != nil {
			return err
		}
	}
	for i := range written {
		written[i] = !failed[i]
	}
	return nil
}

// insertAgain handles a connection the server dropped during an insert:
// when the server is down, an outage; when it is up, once more as it was
// (the drop may have had nothing to do with the documents), then in
// halves, until the document it drops the connection on is alone, which
// is stored degraded. Documents the dropped attempt stored count as
// duplicates then.
func (s *Store) insertAgain(ctx context.Context, docs []bson.Raw, recs []*store.Record, written []bool, rep *store.WriteReport, retry bool, err error) error {
	if !s.alive(ctx) {
		return fmt.Errorf("mongostore: insert into %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
	}
	switch {
	case retry:
		return s.insert(ctx, docs, recs, written, rep, false)
	case len(docs) == 1:
		return s.degrade(ctx, recs[0], fmt.Errorf("the server closed the connection on this document: %w", err), rep)
	}
	mid := len(docs) / 2
	if err := s.insert(ctx, docs[:mid], recs[:mid], written[:mid], rep, false); err != nil {
		return err
	}
	return s.insert(ctx, docs[mid:], recs[mid:], written[mid:], rep, false)
}

// degrade stores r in degraded form, counting the outcome in rep; it
// returns only outages.
func (s *Store) degrade(ctx context.Context, r *store.Record, cause error, rep *store.WriteReport) error {
	d := store.Degraded(*r, "refused by the server: "+cause.Error())
	raw, _, err := fit(toDocument(&d, strings.ToLower(r.ID)))
	if err != nil {
		rep.Reject(r.ID, fmt.Errorf("%v; degraded form: %w", cause, err))
		return nil
	}
	_, err = s.coll.InsertOne(ctx, bson.Raw(raw))
	var we mongo.WriteException
	switch {
	case err == nil:
		rep.Degrade(r.ID, cause)
		return nil
	case mongo.IsDuplicateKeyError(err):
		rep.Duplicates++ // a record with its id was stored meanwhile
		return nil
	case mongo.IsNetworkError(err) && !s.alive(ctx):
		return fmt.Errorf("mongostore: insert into %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
	case mongo.IsNetworkError(err), errors.As(err, &we) && we.WriteConcernError == nil:
		rep.Reject(r.ID, fmt.Errorf("%v; degraded form: %w", cause, err))
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
