//go:generate mdatagen metadata.yaml

// Package samplingprocessor is the collector processor of type `sampling`:
// it keeps a share of audit records chosen per HTTP method and status, keeps
// every error, and decides deterministically so that a retried batch is
// sampled the same way.
package samplingprocessor
