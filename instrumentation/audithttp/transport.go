package audithttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/mask"
)

// NewTransport returns an http.RoundTripper that sends every request
// through base (http.DefaultTransport when nil) and emits one audit record
// (event http.client.audit) per round trip, unless the options exclude it:
// the same options, policy and masking as the server side.
//
// The request body is teed as base sends it, never read ahead; a body base
// rewinds with GetBody is captured from the start again, and every redirect
// http.Client follows is a round trip of its own, with its own record. The
// response body is teed as the caller reads it, so a streamed response
// reaches the caller unchanged and on time. The call ends when the caller
// reads the response body to its end or closes it, when reading it fails,
// or at once when the round trip fails or the response has no body; its
// record is then emitted like a server record (see WithAsync and Flush).
// A caller that never closes the body (which net/http requires it to do)
// gets no record for that call: nothing waits for it, so nothing leaks.
//
// The record joins the trace of the request's context. Capture memory per
// call is bounded by the body limit, like the server side's.
func NewTransport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, cfg: newConfig(opts)}
}

type transport struct {
	base http.RoundTripper
	cfg  *config
}

var clientEnabledParams = log.EnabledParameters{EventName: auditconv.EventHTTPClient}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	cfg := t.cfg
	if req.URL == nil || cfg.excluded(req) || !cfg.logger.Enabled(req.Context(), clientEnabledParams) {
		return t.base.RoundTrip(req)
	}
	p, audited := cfg.planFor(req, req.URL.Hostname(), "", nil)
	if !audited {
		return t.base.RoundTrip(req)
	}
	c := &call{audit: newAudit(cfg, p), req: req}
	resp, err := t.base.RoundTrip(c.teeRequest())
	if err != nil {
		c.finish(err)
		return resp, err
	}
	c.resp = resp
	c.respType = headerValue(resp.Header, "Content-Type")
	c.respCap.on = req.Method != http.MethodHead && c.capturesResponseBody(resp.Header, c.respType)
	c.respCap.size = resp.ContentLength
	if resp.Body == nil || resp.Body == http.NoBody || resp.StatusCode == http.StatusSwitchingProtocols {
		// Nothing to wait for; a 101's body is the connection itself
		// and is left as it is.
		c.finish(nil)
		return resp, nil
	}
	resp.Body = &callResponseBody{rc: resp.Body, c: c}
	return resp, nil
}

// call is the state of one audited round trip. mu guards the captures and
// done: base may still be sending the request body while the caller reads
// the response, and a caller may close the body from another goroutine.
type call struct {
	audit
	req      *http.Request // as the caller gave it
	resp     *http.Response
	respType string

	mu   sync.Mutex
	done bool

	// Set by finish, for emitRecord.
	reqTaken, respTaken capture // the captures, taken from the call
	reqType             string
	ended               time.Time
	status              int
	failed              bool
	ap                  *[]attribute.KeyValue
	attrs               []attribute.KeyValue // all but the bodies and user attributes
	extra               []attribute.KeyValue // WithAttributes'
	ctx                 context.Context
}

// teeRequest returns the request base sends: req, with its body teed into
// the capture. req itself is not modified, as RoundTrip must not.
func (c *call) teeRequest() *http.Request {
	req := c.req
	if req.Body == nil || req.Body == http.NoBody {
		return req
	}
	c.reqCap.on = c.capturesRequestBody(req.Header)
	c.reqCap.size = req.ContentLength
	out := req.WithContext(req.Context()) // a shallow copy
	out.Body = &callRequestBody{rc: req.Body, c: c}
	if req.GetBody != nil {
		out.GetBody = func() (io.ReadCloser, error) {
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			// base sends the body again from the start: the record
			// shows this attempt, not the sum of attempts.
			c.mu.Lock()
			c.reqCap = capture{on: c.reqCap.on && !c.done, limit: c.reqCap.limit, size: c.reqCap.size}
			c.mu.Unlock()
			return &callRequestBody{rc: b, c: c}, nil
		}
	}
	return out
}

// callRequestBody tees the request body into the capture as base reads it.
type callRequestBody struct {
	rc io.ReadCloser
	c  *call
}

func (b *callRequestBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.c.mu.Lock()
		b.c.reqCap.write(p[:n])
		b.c.mu.Unlock()
	}
	return n, err
}

func (b *callRequestBody) Close() error { return b.rc.Close() }

// callResponseBody tees the response body into the capture as the caller
// reads it, and emits the record at its end, on a read error or on Close.
type callResponseBody struct {
	rc io.ReadCloser
	c  *call
}

func (b *callResponseBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.c.mu.Lock()
		b.c.respCap.write(p[:n])
		b.c.mu.Unlock()
	}
	switch {
	case err == io.EOF:
		b.c.finish(nil)
	case err != nil:
		b.c.finish(err)
	}
	return n, err
}

func (b *callResponseBody) Close() error {
	err := b.rc.Close()
	b.c.finish(nil)
	return err
}

// finish ends the call once; err is the failure of the round trip or of
// reading the response body. What the caller may change or reuse once it
// has closed the body (the request, the response's header) and the user
// callbacks are taken into attributes now; the bodies are masked and the
// record emitted by emitRecord. Nothing here may break the call.
func (c *call) finish(err error) {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return
	}
	c.done = true
	// Take the captures and leave counting ones behind: later reads of a
	// body (base finishing the request, a caller after an error) must not
	// touch the buffers the record is built from.
	c.reqTaken, c.respTaken = c.reqCap, c.respCap
	c.reqCap.on, c.reqCap.buf = false, nil
	c.respCap.on, c.respCap.buf = false, nil
	c.mu.Unlock()

	defer func() {
		if v := recover(); v != nil {
			otel.Handle(fmt.Errorf("audithttp: emitting the audit record of an outbound call: panic: %v", v))
		}
	}()
	c.ended = time.Now()
	if c.resp != nil {
		c.status = c.resp.StatusCode
	}
	c.failed = err != nil
	c.reqType = headerValue(c.req.Header, "Content-Type")
	c.ap, c.attrs = getAttrs()
	c.attrs = c.requestAttrs(c.attrs, &c.reqTaken)
	c.attrs = c.responseAttrs(c.attrs, &c.respTaken, c.ended)
	if err != nil {
		c.attrs = append(c.attrs, attribute.String(auditconv.ErrorType, errorType(err)))
	} else {
		c.attrs = statusErrorAttrs(c.attrs, c.status)
	}
	if c.cfg.attributes != nil {
		c.extra = c.cfg.attributes(c.req, c.status)
	}
	c.ctx = c.recordContext(c.req.Context())
	dispatch(c.cfg.async, c, int64(cap(c.reqTaken.buf)+cap(c.respTaken.buf)))
}

// emitRecord masks the captured bodies into the record finish began, adds
// the attributes of WithAttributes (which replace built-in ones of the same
// key) and emits it. Nothing here may break the call or the pool.
func (c *call) emitRecord() {
	defer func() {
		if v := recover(); v != nil {
			otel.Handle(fmt.Errorf("audithttp: emitting the audit record of an outbound call: panic: %v", v))
		}
	}()
	attrs := c.attrs
	defer func() { putAttrs(c.ap, attrs) }() // attrs as built, not as it is now
	attrs = c.bodyAttrs(attrs, &c.reqTaken, c.reqType,
		auditconv.HTTPRequestBodyContent, auditconv.RequestBodyTruncated)
	if c.resp != nil {
		attrs = c.bodyAttrs(attrs, &c.respTaken, c.respType,
			auditconv.HTTPResponseBodyContent, auditconv.ResponseBodyTruncated)
	}
	if len(c.extra) > 0 {
		builtIn := len(attrs)
		attrs = append(attrs, c.extra...)
		attrs = dedupUserAttrs(attrs, builtIn)
	}
	c.emit(c.ctx, auditconv.EventHTTPClient, attrs, c.status, c.failed, c.ended)
}

// requestAttrs appends what the record says about the outbound request:
// method, URL, server, user, headers and body size.
func (c *call) requestAttrs(attrs []attribute.KeyValue, reqCap *capture) []attribute.KeyValue {
	r := c.req
	attrs = append(attrs,
		attribute.String(auditconv.RecordID, c.id),
		attribute.String(auditconv.HTTPRequestMethod, requestMethod(r)),
		attribute.String(auditconv.URLFull, c.urlFull()),
	)
	if host := r.URL.Hostname(); host != "" {
		attrs = append(attrs, attribute.String(auditconv.ServerAddress, host))
		if port := urlPort(r); port > 0 {
			attrs = append(attrs, attribute.Int(auditconv.ServerPort, port))
		}
	}
	if uid := c.user(); uid != "" {
		attrs = append(attrs, attribute.String(auditconv.UserID, uid))
	}
	if c.plan.headers {
		attrs = c.headerAttrs(attrs, r.Header, requestHeaderKey)
	}
	size := reqCap.total
	if r.ContentLength > size {
		size = r.ContentLength // base stopped sending early
	}
	return append(attrs, attribute.Int64(auditconv.HTTPRequestBodySize, size))
}

// responseAttrs appends the duration, and the status, headers and body
// size of the response, when there was one.
func (c *call) responseAttrs(attrs []attribute.KeyValue, respCap *capture, end time.Time) []attribute.KeyValue {
	attrs = append(attrs, attribute.Float64(auditconv.HTTPClientRequestDuration, end.Sub(c.start).Seconds()))
	resp := c.resp
	if resp == nil {
		return attrs
	}
	attrs = append(attrs, attribute.Int(auditconv.HTTPResponseStatusCode, resp.StatusCode))
	if c.plan.headers {
		attrs = c.headerAttrs(attrs, resp.Header, responseHeaderKey)
	}
	size := respCap.total
	if resp.ContentLength > size {
		size = resp.ContentLength // the caller did not read it all
	}
	return append(attrs, attribute.Int64(auditconv.HTTPResponseBodySize, size))
}

// user is the user.id of an outbound call: WithUserID's, or else that of
// the audited server request the call is made for (its context).
func (c *call) user() string {
	if c.cfg.userID != nil {
		if id := c.cfg.userID(c.req); id != "" {
			return id
		}
	}
	if ex := exchangeFrom(c.req.Context()); ex != nil {
		return ex.user()
	}
	return ""
}

// urlFull is url.full: the URL without its userinfo and fragment (neither
// is sent), masked like a URL (the query's secrets).
func (c *call) urlFull() string {
	u := *c.req.URL
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	return c.mask((*mask.Masker).URL, u.String())
}

func requestMethod(r *http.Request) string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// urlPort returns the port the request goes to: explicit, or the scheme's.
func urlPort(r *http.Request) int {
	if p := r.URL.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0
		}
		return n
	}
	switch r.URL.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}

// errorType names the failure of an outbound call for error.type:
// "timeout" for deadlines and network timeouts, "canceled" for a canceled
// context, "unexpected_eof" for a connection closed mid-body, the Go type
// of the error otherwise (*net.OpError for a refused connection).
func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return auditconv.ErrorTypeTimeout
	case errors.Is(err, context.Canceled):
		return auditconv.ErrorTypeCanceled
	case errors.Is(err, io.ErrUnexpectedEOF):
		return auditconv.ErrorTypeUnexpectedEOF
	}
	return fmt.Sprintf("%T", err)
}
