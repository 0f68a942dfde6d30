// Package samplingprocessor is the collector processor of type `sampling`: it keeps
// a share of audit records chosen per HTTP method and status, keeps every
// error, and decides deterministically so that a retried batch is sampled
// the same way.
package samplingprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

// Type is the component type of the processor.
var Type = component.MustNewType("sampling")

const stability = component.StabilityLevelBeta

// NewFactory returns the factory of the sampling processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(Type, createDefaultConfig,
		processor.WithLogs(createLogs, stability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Rates:      map[string]any{},
		KeepErrors: true,
		Decision:   DecisionRecordID,
		Unmatched:  UnmatchedKeep,
	}
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}
