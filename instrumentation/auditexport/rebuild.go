package auditexport

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
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
// through reflection, is meant for tests. So for each resource and scope
// the rebuilder has the SDK make one record the way it makes every record
// (a LoggerProvider with the resource, a Logger with the scope, Emit, and
// a processor that keeps what it is given), and a spooled record is a copy
// of that template with every other field set through the record's
// setters: the SDK's own Emit path, run once per record, cost more than
// the export. The provider has no attribute limits and allows duplicate
// keys, so the setters keep exactly the attributes and body that went in;
// the limits of the service's own provider were applied before the record
// was spooled. The one thing that cannot be carried over is the count of
// attributes the service's provider dropped for its limits.
type rebuilder struct {
	providers map[string]*rebuildProvider // by the encoded resource
	attrs     []attribute.KeyValue        // scratch for one record's attributes
}

type rebuildProvider struct {
	lp        *sdklog.LoggerProvider
	templates map[string]*sdklog.Record // by the encoded scope
	kept      *sdklog.Record            // what the last Emit made
}

func newRebuilder() *rebuilder { return &rebuilder{providers: map[string]*rebuildProvider{}} }

func (b *rebuilder) rebuild(d *decodedRecord) (sdklog.Record, error) {
	tmpl, err := b.template(d)
	if err != nil {
		return sdklog.Record{}, err
	}
	r := *tmpl
	r.SetTimestamp(d.rec.Timestamp())
	r.SetObservedTimestamp(d.rec.ObservedTimestamp())
	r.SetSeverity(d.rec.Severity())
	r.SetSeverityText(d.rec.SeverityText())
	r.SetEventName(d.rec.EventName())
	r.SetTraceID(d.traceID)
	r.SetSpanID(d.spanID)
	r.SetTraceFlags(d.traceFlags)
	r.SetBody(d.rec.Body())
	b.attrs = b.attrs[:0]
	d.rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		b.attrs = append(b.attrs, kv)
		return true
	})
	r.SetAttributes(b.attrs...) // copies them
	clear(b.attrs)              // do not pin the batch's values
	return r, nil
}

// template returns the empty record made by the SDK for d's resource and
// scope.
func (b *rebuilder) template(d *decodedRecord) (*sdklog.Record, error) {
	p, ok := b.providers[string(d.resource)]
	if !ok {
		res, err := decodeResource(d.resource)
		if err != nil {
			return nil, fmt.Errorf("decode resource: %w", err)
		}
		if len(b.providers) >= maxRebuildProviders {
			b.shutdown()
		}
		p = &rebuildProvider{templates: map[string]*sdklog.Record{}}
		p.lp = sdklog.NewLoggerProvider(
			sdklog.WithResource(res),
			sdklog.WithProcessor(p),
			sdklog.WithAttributeCountLimit(-1),
			sdklog.WithAttributeValueLengthLimit(-1),
			sdklog.WithAttributeValueDepthLimit(-1),
			sdklog.WithAllowKeyDuplication(),
		)
		b.providers[string(d.resource)] = p
	}
	if t, ok := p.templates[string(d.scope)]; ok {
		return t, nil
	}
	sc, err := decodeScope(d.scope)
	if err != nil {
		return nil, fmt.Errorf("decode scope: %w", err)
	}
	l := p.lp.Logger(sc.Name, log.WithInstrumentationVersion(sc.Version),
		log.WithSchemaURL(sc.SchemaURL), log.WithInstrumentationAttributeSet(sc.Attributes))
	l.Emit(context.Background(), log.Record{}) // OnEmit keeps it
	t := p.kept
	if t == nil {
		return nil, fmt.Errorf("the SDK did not make a record for scope %q", sc.Name)
	}
	p.kept = nil
	p.templates[string(d.scope)] = t
	return t, nil
}

func (b *rebuilder) shutdown() {
	for k, p := range b.providers {
		_ = p.lp.Shutdown(context.Background()) // its processor holds nothing
		delete(b.providers, k)
	}
}

// OnEmit keeps the template record the rebuilder asked for. Only the
// sender goroutine emits through it, one record at a time.
func (p *rebuildProvider) OnEmit(_ context.Context, r *sdklog.Record) error {
	t := r.Clone()
	p.kept = &t
	return nil
}
func (*rebuildProvider) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*rebuildProvider) Shutdown(context.Context) error                         { return nil }
func (*rebuildProvider) ForceFlush(context.Context) error                       { return nil }
