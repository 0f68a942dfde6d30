package auditexport

import (
	"context"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// keepProcessor keeps the last record it is given: tests make records
// the way the SDK does, through a provider.
type keepProcessor struct{ rec sdklog.Record }

func (k *keepProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	k.rec = r.Clone()
	return nil
}
func (*keepProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*keepProcessor) Shutdown(context.Context) error                         { return nil }
func (*keepProcessor) ForceFlush(context.Context) error                       { return nil }
