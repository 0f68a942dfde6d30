package auditexport

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
)

// maxRebuildProviders bounds the rebuilder's cache; a service has one
// resource, so the bound only matters for a spool fed by many.
const maxRebuildProviders = 64

// rebuilder turns decoded records back into sdklog.Records for the
// exporter.
//
// sdklog.Record has no public constructor that sets a resource and an
// instrumentation scope: the SDK documents that records are made only by
// its Logger, and logtest.RecordFactory, which sets the private fields
// through reflection, is meant for tests. So a spooled record is rebuilt the
// way the SDK makes every record: a LoggerProvider with the record's
// resource, a Logger with its scope, and Emit with a context that carries
// its trace context. A processor that keeps the record it is given takes
// the result. The provider has no attribute limits and allows duplicate
// keys, so the record comes out with exactly the attributes and body that
// went in; the limits of the service's own provider were applied before
// the record was spooled. The one thing that cannot be carried over is the
// count of attributes the service's provider dropped for its limits.
type rebuilder struct {
	providers map[string]*rebuildProvider // by the encoded resource
}

type rebuildProvider struct {
	lp      *sdklog.LoggerProvider
	keep    *keepProcessor
	loggers map[string]log.Logger // by the encoded scope
}

func newRebuilder() *rebuilder { return &rebuilder{providers: map[string]*rebuildProvider{}} }

func (b *rebuilder) rebuild(d *decodedRecord) (sdklog.Record, error) {
	p, ok := b.providers[string(d.resource)]
	if !ok {
		res, err := decodeResource(d.resource)
		if err != nil {
			return sdklog.Record{}, fmt.Errorf("decode resource: %w", err)
		}
		if len(b.providers) >= maxRebuildProviders {
			b.shutdown()
		}
		keep := &keepProcessor{}
		p = &rebuildProvider{
			lp: sdklog.NewLoggerProvider(
				sdklog.WithResource(res),
				sdklog.WithProcessor(keep),
				sdklog.WithAttributeCountLimit(-1),
				sdklog.WithAttributeValueLengthLimit(-1),
				sdklog.WithAttributeValueDepthLimit(-1),
				sdklog.WithAllowKeyDuplication(),
			),
			keep:    keep,
			loggers: map[string]log.Logger{},
		}
		b.providers[string(d.resource)] = p
	}
	l, ok := p.loggers[string(d.scope)]
	if !ok {
		sc, err := decodeScope(d.scope)
		if err != nil {
			return sdklog.Record{}, fmt.Errorf("decode scope: %w", err)
		}
		l = p.lp.Logger(sc.Name, log.WithInstrumentationVersion(sc.Version),
			log.WithSchemaURL(sc.SchemaURL), log.WithInstrumentationAttributeSet(sc.Attributes))
		p.loggers[string(d.scope)] = l
	}
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: d.traceID, SpanID: d.spanID, TraceFlags: d.traceFlags,
	}))
	l.Emit(ctx, d.rec)
	r := p.keep.rec
	p.keep.rec = sdklog.Record{}
	return r, nil
}

func (b *rebuilder) shutdown() {
	for k, p := range b.providers {
		_ = p.lp.Shutdown(context.Background()) // its processor holds nothing
		delete(b.providers, k)
	}
}

// keepProcessor keeps the record it is given. Only the sender goroutine
// emits through it, one record at a time.
type keepProcessor struct{ rec sdklog.Record }

func (k *keepProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	k.rec = r.Clone()
	return nil
}
func (*keepProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*keepProcessor) Shutdown(context.Context) error                         { return nil }
func (*keepProcessor) ForceFlush(context.Context) error                       { return nil }
