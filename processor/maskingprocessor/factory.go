package maskingprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelaudit/otelaudit/internal/mask"
	"github.com/otelaudit/otelaudit/processor/maskingprocessor/internal/metadata"
)

// NewFactory returns the factory of the masking processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(metadata.Type, createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Detectors: DetectorsConfig{
			CreditCard: true, JWT: true, Bearer: true, AWSAccessKey: true, PrivateKey: true, Tokens: true, URL: true,
		},
		Mode:        "redact",
		Replacement: mask.DefaultReplacement,
		MaxDepth:    mask.DefaultMaxDepth,
		MaxSize:     mask.DefaultMaxSize,
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
