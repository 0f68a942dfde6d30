package audithttp

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/mask"
)

// audit is what the server exchange and the outbound call share: the
// configuration, what the policy captures, the record id and start, the
// body captures, and the pieces that turn them into a record. Both sides
// build headers, bodies and the emitted record here, so they mask and
// encode alike.
type audit struct {
	cfg     *config
	plan    plan
	start   time.Time
	id      string // audit.record.id, known from the start so handlers can show it
	reqCap  capture
	respCap capture
	// The context the record is emitted with when it is built after the
	// exchange: part of the audit, so that detaching costs no allocation.
	detached detachedContext
}

func newAudit(cfg *config, p plan) audit {
	start := time.Now()
	return audit{cfg: cfg, plan: p, start: start, id: newRecordID(start),
		reqCap: capture{limit: p.maxBodySize}, respCap: capture{limit: p.maxBodySize}}
}

// recordContext returns the context the record is emitted with: ctx, the
// request's, which carries the trace, without its deadline and
// cancellation. A client that went away or ServeHTTP returning cancels
// ctx, and must not cancel the record, before or after the response. Like
// context.WithoutCancel, but kept in the audit, so that it costs no
// allocation (and context.Cause still finds the parent's cause). The SDK
// keeps no context past Emit, so the exchange is not kept alive by the
// record.
func (a *audit) recordContext(ctx context.Context) context.Context {
	a.detached.parent = ctx
	return &a.detached
}

// detachedContext has its parent's values, without its deadline and
// cancellation.
type detachedContext struct{ parent context.Context }

func (*detachedContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*detachedContext) Done() <-chan struct{}       { return nil }
func (*detachedContext) Err() error                  { return nil }
func (c *detachedContext) Value(key any) any         { return c.parent.Value(key) }

// capturesRequestBody reports whether a request body with header h is kept.
func (a *audit) capturesRequestBody(h http.Header) bool {
	return a.plan.requestBody && a.plan.maxBodySize != 0 &&
		identityEncoding(headerValue(h, "Content-Encoding")) &&
		capturable(a.cfg.contentTypes, headerValue(h, "Content-Type"))
}

// capturesResponseBody reports whether a response body with header h and
// content type ct is kept.
func (a *audit) capturesResponseBody(h http.Header, ct string) bool {
	return a.plan.responseBody && a.plan.maxBodySize != 0 &&
		identityEncoding(headerValue(h, "Content-Encoding")) &&
		capturable(a.cfg.contentTypes, ct)
}

// recordAttrs is room for the attributes of a typical record, headers
// included; a larger record moves to the heap.
const recordAttrs = 40

// attrPool recycles the attribute slices records are built in: Record.AddAttributes
// copies them, so the slice is free again once the record is emitted.
var attrPool = sync.Pool{New: func() any { s := make([]attribute.KeyValue, 0, 64); return &s }}

func getAttrs() (*[]attribute.KeyValue, []attribute.KeyValue) {
	ap := attrPool.Get().(*[]attribute.KeyValue)
	return ap, (*ap)[:0]
}

func putAttrs(ap *[]attribute.KeyValue, attrs []attribute.KeyValue) {
	clear(attrs) // drop references to this exchange's strings
	*ap = attrs[:0]
	attrPool.Put(ap)
}

// emit sends the record with attrs to the configured logger, with ctx
// from recordContext.
func (a *audit) emit(ctx context.Context, event string, attrs []attribute.KeyValue, status int, failed bool, end time.Time) {
	var rec log.Record
	rec.SetEventName(event)
	rec.SetTimestamp(a.start)
	rec.SetObservedTimestamp(end)
	num, text := auditconv.Severity(status, failed)
	rec.SetSeverity(log.Severity(num))
	rec.SetSeverityText(text)
	rec.AddAttributes(attrs...)
	a.cfg.logger.Emit(ctx, rec)
}

// mask applies f with the configured masker, or returns s when masking at
// the source is off.
func (a *audit) mask(f func(*mask.Masker, string) (string, int), s string) string {
	if a.cfg.masker == nil {
		return s
	}
	out, _ := f(a.cfg.masker, s)
	return out
}

// headerAttrs appends one masked string-slice attribute per header.
func (a *audit) headerAttrs(attrs []attribute.KeyValue, h http.Header, key func(string) string) []attribute.KeyValue {
	for name, values := range h {
		if a.cfg.masker != nil {
			values, _ = a.cfg.masker.Header(name, values)
		}
		attrs = append(attrs, attribute.StringSlice(key(name), values))
	}
	return attrs
}

// bodyAttrs appends the captured body, masked for its content type: a
// string when it is valid UTF-8, bytes otherwise.
func (a *audit) bodyAttrs(attrs []attribute.KeyValue, c *capture, contentType, contentKey, truncKey string) []attribute.KeyValue {
	if !c.on || len(c.buf) == 0 {
		return attrs
	}
	b := c.buf
	if a.cfg.masker != nil {
		// The capture is done and the buffer is ours: mask it where it is.
		b, _ = a.cfg.masker.BodyInPlace(contentType, b)
	}
	if utf8.Valid(b) {
		// b is never written again: the capture is done and masking
		// returns it or a slice of its own.
		attrs = append(attrs, attribute.String(contentKey, unsafe.String(unsafe.SliceData(b), len(b))))
	} else {
		attrs = append(attrs, attribute.ByteSlice(contentKey, b))
	}
	if c.truncated {
		attrs = append(attrs, attribute.Bool(truncKey, true))
	}
	return attrs
}

// statusErrorAttrs appends error.type for a status of 500 or more.
func statusErrorAttrs(attrs []attribute.KeyValue, status int) []attribute.KeyValue {
	if status >= 500 {
		attrs = append(attrs, attribute.String(auditconv.ErrorType, strconv.Itoa(status)))
	}
	return attrs
}
