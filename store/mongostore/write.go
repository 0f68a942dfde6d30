package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/otelaudit/otelaudit/store"
)

// maxChunk bounds the documents of one InsertMany, below MongoDB's 48 MB
// message limit.
const maxChunk = 40 << 20

// Write inserts records with unordered InsertMany calls in chunks under
// the message limit. Documents over 16 MiB are cut (truncated flags set),
// never refused. Duplicate-key errors on _id count as written, so a batch
// retried after partial success creates no duplicates; a document the
// server refuses for another reason is retried without its bodies and
// attributes, and reported in a RejectedError only if that fails too.
func (s *Store) Write(ctx context.Context, records []store.Record) error {
	var chunk []any
	var chunkIDs []string
	size := 0
	var rejected []string
	var rejectErr error
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		ids, err := s.insert(ctx, chunk, chunkIDs)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			rejected = append(rejected, ids...)
			rejectErr = errors.New("document refused by the server")
		}
		chunk, chunkIDs, size = chunk[:0], chunkIDs[:0], 0
		return nil
	}
	for i := range records {
		r := &records[i]
		if r.ID == "" || (r.Timestamp.IsZero() && r.ObservedTimestamp.IsZero()) {
			rejected = append(rejected, r.ID)
			rejectErr = errors.New("record without id or timestamp")
			continue
		}
		raw, err := fit(toDocument(r))
		if err != nil {
			rejected = append(rejected, r.ID)
			rejectErr = fmt.Errorf("encode: %w", err)
			continue
		}
		if size+len(raw) > maxChunk {
			if err := flush(); err != nil {
				return err
			}
		}
		chunk = append(chunk, bson.Raw(raw))
		chunkIDs = append(chunkIDs, r.ID)
		size += len(raw)
	}
	if err := flush(); err != nil {
		return err
	}
	if len(rejected) > 0 {
		return &store.RejectedError{IDs: rejected, Err: rejectErr}
	}
	return nil
}

// insert writes one chunk and returns the ids the server refused for good.
// Connection and server errors are returned as they are (retryable).
func (s *Store) insert(ctx context.Context, docs []any, ids []string) ([]string, error) {
	_, err := s.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, fmt.Errorf("mongostore: insert into %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
	}
	var refused []string
	for _, we := range bwe.WriteErrors {
		if we.Code == 11000 || we.Code == 11001 {
			continue // already stored: a retry
		}
		if we.Index < 0 || we.Index >= len(docs) {
			return nil, fmt.Errorf("mongostore: insert: %w", err)
		}
		if !s.insertDegraded(ctx, docs[we.Index].(bson.Raw)) {
			refused = append(refused, ids[we.Index])
		}
	}
	return refused, nil
}

// insertDegraded retries a refused document without its bodies, headers,
// body and attributes, with the reason in attributes.
func (s *Store) insertDegraded(ctx context.Context, raw bson.Raw) bool {
	var d document
	if err := bson.Unmarshal(raw, &d); err != nil {
		return false
	}
	d.RequestBody, d.ResponseBody, d.RequestBodyBinary, d.ResponseBodyBinary = "", "", nil, nil
	d.RequestBodyTruncated, d.ResponseBodyTruncated = true, true
	d.RequestHeaders, d.ResponseHeaders, d.Body, d.Resource = nil, nil, nil, nil
	d.Attributes = map[string]any{"audit%2Estore%2Eerror": "document refused by the server; stored without bodies and attributes"}
	_, err := s.coll.InsertOne(ctx, &d)
	return err == nil || mongo.IsDuplicateKeyError(err)
}
