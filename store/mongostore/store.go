// Package mongostore stores audit records in MongoDB (and MongoDB-wire
// servers such as FerretDB): one collection, documents named like the
// PostgreSQL columns, idempotent on _id, with retention by TTL index where
// the server has one and by batched deletes otherwise.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// Store is a MongoDB audit store. It is safe for concurrent use.
type Store struct {
	cfg    Config
	client *mongo.Client
	coll   *mongo.Collection

	// TTLSupported is set by Migrate when the server accepted the TTL
	// index; otherwise retention relies on Cleanup.
	TTLSupported bool
}

var _ store.Store = (*Store)(nil)

// Open connects and pings the server, so that an unreachable server or bad
// credentials are reported here, within cfg.Timeout.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("mongostore: config: %w", &store.ConfigError{Err: err})
	}
	wc := writeconcern.Majority()
	if cfg.WriteConcern == WriteConcernOne {
		wc = writeconcern.W1()
	}
	opts := options.Client().ApplyURI(cfg.URI).
		SetConnectTimeout(cfg.Timeout).
		SetServerSelectionTimeout(cfg.Timeout).
		SetAppName("otelaudit").
		SetWriteConcern(wc).
		SetBSONOptions(&options.BSONOptions{DefaultDocumentMap: true, BinaryAsSlice: true})
	client, err := mongo.Connect(opts)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		// mongodb+srv:// is resolved here: DNS may be down for a while.
		return nil, fmt.Errorf("mongostore: connect: %w", redact(err, cfg.URI))
	case err != nil:
		// Connect does not dial: its other errors are about the URI.
		return nil, fmt.Errorf("mongostore: config: %w", &store.ConfigError{Err: fmt.Errorf("uri: %s", store.Redact(err.Error(), cfg.URI))})
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := client.Ping(pctx, readpref.Primary()); err != nil {
		// The ping's context may be spent; the disconnect gets a timeout of its own,
		// and its error is not the one to report.
		dctx, dcancel := context.WithTimeout(context.Background(), cfg.Timeout)
		defer dcancel()
		_ = client.Disconnect(dctx)
		return nil, fmt.Errorf("mongostore: connect: %w", redact(err, cfg.URI))
	}
	return &Store{cfg: cfg, client: client, coll: client.Database(cfg.Database).Collection(cfg.Collection)}, nil
}

// redact keeps a password in the URI out of error messages.
func redact(err error, uri string) error {
	if msg := err.Error(); store.Redact(msg, uri) != msg {
		return errors.New(store.Redact(msg, uri))
	}
	return err
}

// Close disconnects.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongostore: disconnect: %w", err)
	}
	return nil
}

// Config returns the store's configuration with defaults applied.
func (s *Store) Config() Config { return s.cfg }

// indexes serve store.Filter, by name.
var indexes = []struct {
	name string
	keys bson.D
}{
	{"ts_desc", bson.D{{Key: "ts", Value: -1}, {Key: "_id", Value: -1}}},
	{"path_ts", bson.D{{Key: "path", Value: 1}, {Key: "ts", Value: -1}}},
	{"status_ts", bson.D{{Key: "status", Value: 1}, {Key: "ts", Value: -1}}},
	{"user_ts", bson.D{{Key: "user_id", Value: 1}, {Key: "ts", Value: -1}}},
	{"service_ts", bson.D{{Key: "service_name", Value: 1}, {Key: "ts", Value: -1}}},
	{"trace_id", bson.D{{Key: "trace_id", Value: 1}}},
}

// Migrate creates the indexes (idempotently) and, with Retention, a TTL
// index on ts where the server supports it.
func (s *Store) Migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	// Only the missing indexes are created: asking FerretDB to create an
	// index that exists breaks the connection.
	existing, err := s.IndexNames(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, n := range existing {
		have[n] = true
	}
	var missing []mongo.IndexModel
	for _, ix := range indexes {
		if !have[ix.name] {
			missing = append(missing, mongo.IndexModel{Keys: ix.keys, Options: options.Index().SetName(ix.name)})
		}
	}
	if len(missing) > 0 {
		if _, err := s.coll.Indexes().CreateMany(ctx, missing); err != nil {
			return fmt.Errorf("mongostore: create indexes on %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
		}
	}
	if s.cfg.Retention <= 0 {
		return nil
	}
	if have["ts_ttl"] {
		return s.updateTTL(ctx)
	}
	ttl := mongo.IndexModel{
		Keys:    bson.D{{Key: "ts", Value: 1}},
		Options: options.Index().SetName("ts_ttl").SetExpireAfterSeconds(int32(s.cfg.Retention / time.Second)),
	}
	_, err = s.coll.Indexes().CreateOne(ctx, ttl)
	var cmdErr mongo.CommandError
	switch {
	case err == nil:
		s.TTLSupported = true
		return s.recordTTL(ctx)
	case errors.As(err, &cmdErr) && (cmdErr.Code == 85 || cmdErr.Code == 86):
		return s.updateTTL(ctx)
	case errors.As(err, &cmdErr) && (cmdErr.Code == 238 || cmdErr.Name == "NotImplemented" || strings.Contains(err.Error(), "expireAfterSeconds")):
		// FerretDB and some other servers have no TTL indexes: the
		// exporter's retention timer runs Cleanup instead.
		s.TTLSupported = false
	default:
		return fmt.Errorf("mongostore: create TTL index: %w", err)
	}
	return nil
}

// updateTTL sets the expiry of the existing TTL index to the retention.
func (s *Store) updateTTL(ctx context.Context) error {
	res := s.coll.Database().RunCommand(ctx, bson.D{{Key: "collMod", Value: s.cfg.Collection},
		{Key: "index", Value: bson.D{{Key: "name", Value: "ts_ttl"}, {Key: "expireAfterSeconds", Value: int64(s.cfg.Retention / time.Second)}}}})
	if res.Err() != nil {
		return fmt.Errorf("mongostore: update TTL index: %w", res.Err())
	}
	s.TTLSupported = true
	return s.recordTTL(ctx)
}

// filter builds the query document of f.
func filter(f store.Filter, withCursor bool) bson.D {
	q := bson.D{}
	ts := bson.D{}
	if !f.Since.IsZero() {
		ts = append(ts, bson.E{Key: "$gte", Value: f.Since.UTC()})
	}
	if !f.Until.IsZero() {
		ts = append(ts, bson.E{Key: "$lt", Value: f.Until.UTC()})
	}
	if len(ts) > 0 {
		q = append(q, bson.E{Key: "ts", Value: ts})
	}
	if len(f.Methods) > 0 {
		m := make([]string, len(f.Methods))
		for i, x := range f.Methods {
			m[i] = strings.ToUpper(x)
		}
		q = append(q, bson.E{Key: "method", Value: bson.D{{Key: "$in", Value: m}}})
	}
	if f.PathPrefix != "" {
		q = append(q, bson.E{Key: "path", Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(f.PathPrefix)}}})
	}
	status := bson.D{}
	if f.StatusMin > 0 {
		status = append(status, bson.E{Key: "$gte", Value: f.StatusMin})
	}
	if f.StatusMax > 0 {
		status = append(status, bson.E{Key: "$lte", Value: f.StatusMax})
	}
	if len(status) > 0 {
		q = append(q, bson.E{Key: "status", Value: status})
	}
	if f.UserID != "" {
		q = append(q, bson.E{Key: "user_id", Value: f.UserID})
	}
	if f.TraceID != "" {
		q = append(q, bson.E{Key: "trace_id", Value: strings.ToLower(f.TraceID)})
	}
	if f.ServiceName != "" {
		q = append(q, bson.E{Key: "service_name", Value: f.ServiceName})
	}
	if f.Route != "" {
		q = append(q, bson.E{Key: "route", Value: f.Route})
	}
	if f.ClientAddress != "" {
		q = append(q, bson.E{Key: "client_address", Value: f.ClientAddress})
	}
	if f.Q != "" {
		// Case-insensitive substring of any searched field; unindexed.
		re := bson.Regex{Pattern: regexp.QuoteMeta(f.Q), Options: "i"}
		var fields bson.A
		for _, k := range []string{"path", "query", "user_id", "request_body", "response_body"} {
			fields = append(fields, bson.D{{Key: k, Value: re}})
		}
		q = append(q, bson.E{Key: "$and", Value: bson.A{bson.D{{Key: "$or", Value: fields}}}})
	}
	if f.EventName != "" {
		q = append(q, bson.E{Key: "event_name", Value: f.EventName})
	}
	if withCursor && !f.After.IsZero() {
		at := f.After.Timestamp.UTC()
		q = append(q, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "ts", Value: bson.D{{Key: "$lt", Value: at}}}},
			bson.D{{Key: "ts", Value: at}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: f.After.ID}}}},
		}})
	}
	return q
}

// Query returns the records f selects, newest first.
func (s *Store) Query(ctx context.Context, f store.Filter) ([]store.Record, error) {
	if !f.After.IsZero() {
		u, err := auditconv.ParseRecordID(f.After.ID)
		if err != nil {
			return nil, fmt.Errorf("mongostore: query: cursor: %w", err)
		}
		f.After.ID = auditconv.FormatRecordID(u)
	}
	opts := options.Find().SetSort(bson.D{{Key: "ts", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(f.EffectiveLimit()))
	cur, err := s.coll.Find(ctx, filter(f, true), opts)
	if err != nil {
		return nil, fmt.Errorf("mongostore: query: %w", err)
	}
	defer cur.Close(ctx)
	var out []store.Record
	for cur.Next(ctx) {
		var d document
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("mongostore: query: decode: %w", err)
		}
		out = append(out, d.record())
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongostore: query: %w", err)
	}
	return out, nil
}

// Count returns how many records f selects.
func (s *Store) Count(ctx context.Context, f store.Filter) (int64, error) {
	n, err := s.coll.CountDocuments(ctx, filter(f, false))
	if err != nil {
		return 0, fmt.Errorf("mongostore: count: %w", err)
	}
	return n, nil
}

// Get returns the record with id.
func (s *Store) Get(ctx context.Context, id string) (store.Record, error) {
	u, err := auditconv.ParseRecordID(id)
	if err != nil {
		return store.Record{}, fmt.Errorf("mongostore: get: %w", err)
	}
	var d document
	err = s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: auditconv.FormatRecordID(u)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.Record{}, store.ErrNotFound
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("mongostore: get %s: %w", id, err)
	}
	return d.record(), nil
}

// Cleanup deletes records older than before in batches of opts.BatchSize
// (MongoDB has no partitions to drop), recording the cut for PrunedBefore
// first and keeping the checkpoints; DryRun only counts.
func (s *Store) Cleanup(ctx context.Context, before time.Time, opts store.CleanupOptions) (store.CleanupResult, error) {
	var res store.CleanupResult
	older := bson.D{{Key: "ts", Value: bson.D{{Key: "$lt", Value: before.UTC()}}}}
	if !opts.DryRun {
		if err := s.recordPruned(ctx, before); err != nil {
			return res, err
		}
	}
	if opts.DryRun {
		n, err := s.coll.CountDocuments(ctx, older)
		if err != nil {
			return res, fmt.Errorf("mongostore: count records older than %s: %w", before.Format(time.RFC3339), err)
		}
		res.Deleted = n
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf("records older than the cutoff: %d", n), n)
		}
		return res, nil
	}
	batch := opts.BatchSize
	if batch <= 0 {
		batch = store.DefaultCleanupBatch
	}
	for {
		cur, err := s.coll.Find(ctx, older, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(batch)))
		if err != nil {
			return res, fmt.Errorf("mongostore: find records to delete: %w", err)
		}
		var ids bson.A
		for cur.Next(ctx) {
			var d struct {
				ID string `bson:"_id"`
			}
			if err := cur.Decode(&d); err != nil {
				cur.Close(ctx)
				return res, fmt.Errorf("mongostore: find records to delete: %w", err)
			}
			ids = append(ids, d.ID)
		}
		err = cur.Err()
		cur.Close(ctx)
		if err != nil {
			return res, fmt.Errorf("mongostore: find records to delete: %w", err)
		}
		if len(ids) == 0 {
			return res, nil
		}
		dr, err := s.coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
		if err != nil {
			return res, fmt.Errorf("mongostore: delete batch: %w", err)
		}
		res.Deleted += dr.DeletedCount
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf("deleted batch of %d records", dr.DeletedCount), res.Deleted)
		}
		if len(ids) < batch {
			return res, nil
		}
	}
}

// DropDatabase drops the store's database (for tests and teardown).
func (s *Store) DropDatabase(ctx context.Context) error {
	if err := s.client.Database(s.cfg.Database).Drop(ctx); err != nil {
		return fmt.Errorf("mongostore: drop database %s: %w", s.cfg.Database, err)
	}
	return nil
}

// IndexNames lists the collection's indexes.
func (s *Store) IndexNames(ctx context.Context) ([]string, error) {
	cur, err := s.coll.Indexes().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("mongostore: list indexes: %w", err)
	}
	defer cur.Close(ctx)
	var names []string
	for cur.Next(ctx) {
		var ix struct {
			Name string `bson:"name"`
		}
		if err := cur.Decode(&ix); err != nil {
			return nil, fmt.Errorf("mongostore: list indexes: %w", err)
		}
		names = append(names, ix.Name)
	}
	return names, cur.Err()
}
