//go:generate mdatagen metadata.yaml

// Package postgresexporter is the collector exporter of type `postgres`:
// it stores log records in a partitioned PostgreSQL table through pgstore,
// idempotently, behind exporterhelper's queue and retries.
package postgresexporter
