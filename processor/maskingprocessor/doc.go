//go:generate mdatagen metadata.yaml

// Package maskingprocessor is the collector processor of type `masking`: the
// last line of defence that masks secrets in log records before they reach a
// database, whatever the service that sent them did or forgot.
package maskingprocessor
