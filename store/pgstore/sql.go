package pgstore

// All SQL of the store lives in this file and in columns.go, which builds
// the statements that list the columns. %[1]s is the qualified table,
// %[2]s the bare table name, %[3]s the schema; identifiers are validated by
// Config before they get here.

const (
	sqlCreateSchema = `CREATE SCHEMA IF NOT EXISTS %[3]s`

	sqlMigrationsTable = `CREATE TABLE IF NOT EXISTS %[1]s_migrations (
	version int PRIMARY KEY,
	description text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now())`

	sqlLock = `SELECT pg_advisory_xact_lock(hashtext($1))`

	sqlAppliedVersions = `SELECT version FROM %[1]s_migrations`

	sqlRecordMigration = `INSERT INTO %[1]s_migrations (version, description) VALUES ($1, $2)`

	sqlHasLZ4 = `SELECT coalesce((SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'), false)`

	sqlPartitionBy = ` PARTITION BY RANGE (ts)`

	sqlCreateDefaultPartition = `CREATE TABLE IF NOT EXISTS %[1]s_default PARTITION OF %[1]s DEFAULT`

	// Indexes that serve store.Filter; created on the parent, so every
	// partition gets them.
	sqlIndexes = `CREATE INDEX IF NOT EXISTS %[2]s_ts_brin ON %[1]s USING brin (ts);
CREATE INDEX IF NOT EXISTS %[2]s_path_ts ON %[1]s (path text_pattern_ops, ts);
CREATE INDEX IF NOT EXISTS %[2]s_status_ts ON %[1]s (status, ts);
CREATE INDEX IF NOT EXISTS %[2]s_user_ts ON %[1]s (user_id, ts);
CREATE INDEX IF NOT EXISTS %[2]s_trace ON %[1]s (trace_id);
CREATE INDEX IF NOT EXISTS %[2]s_service_ts ON %[1]s (service_name, ts)`

	// %[4]s is the partition name, %[5]s and %[6]s its bounds. Without IF
	// NOT EXISTS: "already exists" (42P07) tells a partition made by
	// another collector from one this store created.
	sqlCreatePartition = `CREATE TABLE %[3]s.%[4]s PARTITION OF %[1]s FOR VALUES FROM ('%[5]s') TO ('%[6]s')`

	sqlListPartitions = `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace n ON n.oid = p.relnamespace
WHERE p.relname = $1 AND n.nspname = $2`

	// The staging table lives for the connection; ON COMMIT DELETE ROWS
	// empties it after each write. ord keeps the order of the batch, so
	// that of two records with one id the first wins.
	sqlCreateStage = `CREATE TEMP TABLE IF NOT EXISTS %[2]s_stage_v2 (LIKE %[1]s INCLUDING DEFAULTS, ord bigserial) ON COMMIT DELETE ROWS`

	// %[4]s is the column list. Only the first record of each id that
	// <table>_ids does not know yet is inserted; the others are the same
	// record again or a reused id, and the first write wins.
	sqlInsertFromStage = `WITH firsts AS (
	SELECT DISTINCT ON (id) id, ts, ord FROM pg_temp.%[2]s_stage_v2 ORDER BY id, ord
), fresh AS (
	INSERT INTO %[1]s_ids (id, ts) SELECT id, ts FROM firsts ON CONFLICT (id) DO NOTHING RETURNING id
)
INSERT INTO %[1]s (%[4]s)
SELECT %[4]s FROM pg_temp.%[2]s_stage_v2
WHERE ord IN (SELECT firsts.ord FROM firsts JOIN fresh ON fresh.id = firsts.id)
ON CONFLICT (ts, id) DO NOTHING`

	// The ids of the stored records: the primary key (ts, id) of the
	// partitioned table cannot make id alone unique, this table does.
	sqlCreateIDs = `CREATE TABLE IF NOT EXISTS %[1]s_ids (id uuid PRIMARY KEY, ts timestamptz NOT NULL)`

	sqlIDsIndex = `CREATE INDEX IF NOT EXISTS %[2]s_ids_ts_brin ON %[1]s_ids USING brin (ts)`

	// Rows written before the ids table existed: the oldest row of an id
	// is the one that counts.
	sqlBackfillIDs = `INSERT INTO %[1]s_ids (id, ts) SELECT DISTINCT ON (id) id, ts FROM %[1]s ORDER BY id, ts ON CONFLICT (id) DO NOTHING`

	sqlDeleteIDsBatch = `WITH doomed AS (SELECT id FROM %[1]s_ids WHERE ts < $1 LIMIT $2)
DELETE FROM %[1]s_ids t USING doomed WHERE t.id = doomed.id`

	// sqlSearchExpr is the text store.Filter.Q searches: the fields joined
	// by a control character no search term holds, so that a match cannot
	// span two fields. The trigram index of migration 4 is on this
	// expression, written the same way, so that ILIKE on it can use it.
	// Bodies count with their first 65536 characters: indexing a 30 MB
	// body takes the server about half a minute, which would stall its
	// batch; audithttp captures 8 KB by default.
	sqlSearchExpr = `(coalesce(path, '') || E'\x01' || coalesce(query, '') || E'\x01' || coalesce(user_id, '') || E'\x01' || left(coalesce(request_body, ''), 65536) || E'\x01' || left(coalesce(response_body, ''), 65536))`

	sqlCreateTrgm = `CREATE EXTENSION IF NOT EXISTS pg_trgm`

	sqlSearchIndex = `CREATE INDEX IF NOT EXISTS %[2]s_search_trgm ON %[1]s USING gin (` + sqlSearchExpr + ` gin_trgm_ops)`

	// %[1]s is the table, %[2]s the WHERE clause, %[3]d, %[4]d and %[5]d
	// the parameters of the start, the slot length in seconds and the
	// last slot.
	sqlTimeline = `SELECT least(greatest(floor(extract(epoch FROM ts - $%[3]d::timestamptz) / $%[4]d::float8)::int, 0), $%[5]d::int) AS slot,
	coalesce(status / 100, 0) AS class, count(*)
FROM %[1]s%[2]s GROUP BY 1, 2`

	sqlCount = `SELECT count(*) FROM %[1]s`

	sqlCountPartition = `SELECT count(*) FROM %[3]s.%[4]s`

	sqlDropPartition = `DROP TABLE IF EXISTS %[3]s.%[4]s`

	sqlCountOlder = `SELECT count(*) FROM %[1]s WHERE ts < $1`

	sqlDeleteBatch = `WITH doomed AS (SELECT ts, id FROM %[1]s WHERE ts < $1 LIMIT $2)
DELETE FROM %[1]s t USING doomed WHERE t.ts = doomed.ts AND t.id = doomed.id`
)

// Integrity checkpoints (docs/integrity.md). Cleanup never touches them;
// it records its cut in <table>_pruned, so that verification can tell
// pruning from deletion.
const (
	sqlCreateCheckpoints = `CREATE TABLE IF NOT EXISTS %[1]s_checkpoints (
	writer text NOT NULL,
	seq bigint NOT NULL,
	created timestamptz NOT NULL,
	first_ts timestamptz NOT NULL,
	last_ts timestamptz NOT NULL,
	note bytea NOT NULL,
	entries bytea NOT NULL,
	PRIMARY KEY (writer, seq))`

	sqlCreatePruned = `CREATE TABLE IF NOT EXISTS %[1]s_pruned (before timestamptz NOT NULL, at timestamptz NOT NULL DEFAULT now())`

	sqlInsertCheckpoint = `INSERT INTO %[1]s_checkpoints (writer, seq, created, first_ts, last_ts, note, entries)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (writer, seq) DO NOTHING`

	sqlSelectCheckpoints = `SELECT writer, seq, created, first_ts, last_ts, note, entries FROM %[1]s_checkpoints`

	// The ids table gives each id's ts, so that the lookup uses the
	// primary key (ts, id) of each partition.
	sqlWhereIDs = ` WHERE (ts, id) IN (SELECT ts, id FROM %[1]s_ids WHERE id = ANY($1::uuid[]))`

	sqlRecordPruned = `INSERT INTO %[1]s_pruned (before) VALUES ($1)`

	sqlPrunedBefore = `SELECT coalesce(max(before), 'epoch'::timestamptz) FROM %[1]s_pruned`
)
