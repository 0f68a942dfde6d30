//go:generate mdatagen metadata.yaml

// Package mongoexporter is the collector exporter of type `mongo`: it
// stores log records in a MongoDB collection through mongostore,
// idempotently on _id, behind exporterhelper's queue and retries.
package mongoexporter
