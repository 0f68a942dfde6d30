package audithttp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/mask"
)

// end seals the exchange once the handler has returned or panicked (pv is
// the panic value) and hands it off to be recorded. What net/http may
// change or cancel once ServeHTTP returns is taken now: the panic's stack,
// the response header when nothing was written, the request's context.
func (ex *exchange) end(pv any) {
	ex.ended = time.Now()
	ex.final = ex.status
	if !ex.wroteHeader {
		ex.final = http.StatusOK // what net/http sends for a handler that wrote nothing
		if ex.plan.headers {
			// net/http sends the header as it is now.
			ex.respHeaders = ex.headerAttrs(ex.respHeaders, ex.w.Header(), responseHeaderKey)
		}
	}
	if pv != nil {
		ex.final = http.StatusInternalServerError
		ex.pv = pv
		if pv != http.ErrAbortHandler { // a deliberate abort, which net/http does not log either
			ex.stack = debug.Stack()
		}
	}
	ex.ctx = ex.recordContext(ex.req.Context())
	dispatch(ex.cfg.async, ex, int64(cap(ex.reqCap.buf)+cap(ex.respCap.buf)))
}

// emitRecord builds the record and emits it. Nothing here may break the
// response or the pool: a panic inside the logging pipeline is reported
// through otel.Handle.
func (ex *exchange) emitRecord() {
	defer func() {
		if v := recover(); v != nil {
			otel.Handle(fmt.Errorf("audithttp: emitting the audit record: panic: %v", v))
		}
	}()
	// Built on the stack: Record.AddAttributes copies them, and a stack
	// array needs neither a pool round trip nor clearing afterwards.
	var buf [recordAttrs]attribute.KeyValue
	attrs := ex.requestAttrs(buf[:0])
	attrs = ex.responseAttrs(attrs, ex.final, ex.ended)
	attrs = ex.errorAttrs(attrs, ex.final, ex.pv)
	attrs = ex.userAttrs(attrs, ex.final)
	ex.emit(ex.ctx, auditconv.EventHTTPServer, attrs, ex.final, ex.pv != nil, ex.ended)
}

// requestAttrs appends what the record says about the request and who sent
// it: method, URL, client, user, session, headers and body.
func (ex *exchange) requestAttrs(attrs []attribute.KeyValue) []attribute.KeyValue {
	r, cfg := ex.req, ex.cfg
	viaProxy := peerTrusted(r, cfg.trustedProxies)
	attrs = append(attrs,
		attribute.String(auditconv.RecordID, ex.id),
		attribute.String(auditconv.HTTPRequestMethod, r.Method),
		attribute.String(auditconv.URLScheme, ex.scheme(viaProxy)),
		attribute.String(auditconv.URLPath, ex.path()),
		attribute.String(auditconv.ClientAddress, clientAddress(r, cfg.trustedProxies, viaProxy)),
	)
	if ex.operation != "" {
		attrs = append(attrs, attribute.String(auditconv.Operation, ex.operation))
	}
	if host, port := splitHost(r.Host); host != "" {
		attrs = append(attrs, attribute.String(auditconv.ServerAddress, host))
		if port == 0 {
			port = defaultPort(r)
		}
		attrs = append(attrs, attribute.Int(auditconv.ServerPort, port))
	}
	if q := r.URL.RawQuery; q != "" {
		attrs = append(attrs, attribute.String(auditconv.URLQuery, ex.mask((*mask.Masker).Query, q)))
	}
	if r.Pattern != "" {
		attrs = append(attrs, attribute.String(auditconv.HTTPRoute, r.Pattern))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, attribute.String(auditconv.UserAgentOriginal, ex.mask((*mask.Masker).Free, ua)))
	}
	if uid := ex.user(); uid != "" {
		attrs = append(attrs, attribute.String(auditconv.UserID, uid))
	}
	if sid := ex.sessionID(); sid != "" {
		attrs = append(attrs, attribute.String(auditconv.SessionID, sid))
	}
	if ex.plan.headers {
		attrs = ex.headerAttrs(attrs, r.Header, requestHeaderKey)
	}
	reqSize := ex.reqCap.total
	if r.ContentLength > reqSize {
		reqSize = r.ContentLength // the handler did not read it all
	}
	attrs = append(attrs, attribute.Int64(auditconv.HTTPRequestBodySize, reqSize))
	return ex.bodyAttrs(attrs, &ex.reqCap, headerValue(r.Header, "Content-Type"),
		auditconv.HTTPRequestBodyContent, auditconv.RequestBodyTruncated)
}

// responseAttrs appends what the record says about the response: the
// status sent, the duration, headers and body.
func (ex *exchange) responseAttrs(attrs []attribute.KeyValue, status int, end time.Time) []attribute.KeyValue {
	attrs = append(attrs,
		attribute.Int(auditconv.HTTPResponseStatusCode, status),
		attribute.Float64(auditconv.HTTPServerRequestDuration, end.Sub(ex.start).Seconds()),
	)
	attrs = append(attrs, ex.respHeaders...)
	respSize := ex.respCap.total
	if ex.req.Method == http.MethodHead {
		respSize = 0 // net/http sends no body for HEAD, whatever the handler wrote
	}
	attrs = append(attrs, attribute.Int64(auditconv.HTTPResponseBodySize, respSize))
	if ex.hijacked {
		return attrs
	}
	return ex.bodyAttrs(attrs, &ex.respCap, ex.respType,
		auditconv.HTTPResponseBodyContent, auditconv.ResponseBodyTruncated)
}

// errorAttrs appends error.type, and the exception of a panic (pv).
func (ex *exchange) errorAttrs(attrs []attribute.KeyValue, status int, pv any) []attribute.KeyValue {
	switch {
	case pv != nil:
		attrs = append(attrs,
			attribute.String(auditconv.ErrorType, auditconv.ErrorTypePanic),
			attribute.String(auditconv.ExceptionType, fmt.Sprintf("%T", pv)),
			// A panic's message often quotes what failed: a DSN with its
			// password, a request with its token.
			attribute.String(auditconv.ExceptionMessage, ex.mask((*mask.Masker).Free, fmt.Sprint(pv))),
		)
		if ex.stack != nil {
			attrs = append(attrs, attribute.String(auditconv.ExceptionStacktrace, ex.mask((*mask.Masker).Free, string(ex.stack))))
		}
	default:
		attrs = statusErrorAttrs(attrs, status)
	}
	return attrs
}

// userAttrs appends the attributes of WithAttributes and AddAttributes; a
// user attribute replaces a built-in one of the same key.
func (ex *exchange) userAttrs(attrs []attribute.KeyValue, status int) []attribute.KeyValue {
	builtIn := len(attrs)
	if ex.cfg.attributes != nil {
		attrs = append(attrs, ex.cfg.attributes(ex.req, status)...)
	}
	ex.mu.Lock()
	attrs = append(attrs, ex.extra...)
	ex.mu.Unlock()
	if len(attrs) > builtIn {
		attrs = dedupUserAttrs(attrs, builtIn)
	}
	return attrs
}

// path is url.path, masked by the route's wildcards (/reset/{token}).
func (ex *exchange) path() string {
	p := ex.req.URL.Path
	if ex.cfg.masker != nil {
		p, _ = ex.cfg.masker.Path(ex.req.Pattern, p)
	}
	return p
}

// dedupUserAttrs keeps every key once, so that the record never carries
// duplicates (and a provider may skip its own de-duplication): a user
// attribute replaces a built-in one of the same key, and among user
// attributes the last one wins.
func dedupUserAttrs(attrs []attribute.KeyValue, builtIn int) []attribute.KeyValue {
	out := attrs[:0]
	for i, a := range attrs {
		dup := false
		for _, later := range attrs[max(i+1, builtIn):] {
			if later.Key == a.Key {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, a)
		}
	}
	clear(attrs[len(out):])
	return out
}

func (ex *exchange) user() string {
	ex.mu.Lock()
	id, set := ex.userID, ex.userIDSet
	ex.mu.Unlock()
	if !set && ex.cfg.userID != nil {
		id = ex.cfg.userID(ex.req)
	}
	return id
}

func (ex *exchange) sessionID() string {
	if ex.cfg.sessionCookie == "" {
		return ""
	}
	c, err := ex.req.Cookie(ex.cfg.sessionCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	mac := hmac.New(sha256.New, ex.cfg.sessionKey)
	mac.Write([]byte(c.Value))
	return auditconv.KeyedHashPrefix + hex.EncodeToString(mac.Sum(nil))
}

// scheme returns https for TLS, X-Forwarded-Proto when the peer is a
// trusted proxy, http otherwise.
func (ex *exchange) scheme(viaProxy bool) string {
	if ex.req.TLS != nil {
		return "https"
	}
	if viaProxy {
		if p := headerValue(ex.req.Header, "X-Forwarded-Proto"); p == "https" || p == "http" {
			return p
		}
	}
	return "http"
}

// splitHost splits a Host header into host and port (0 when absent).
func splitHost(hostport string) (string, int) {
	host := hostport
	port := ""
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			host, port = hostport[1:i], strings.TrimPrefix(hostport[i+1:], ":")
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host[:i], ':') < 0 {
		host, port = hostport[:i], hostport[i+1:]
	}
	if port == "" {
		return host, 0
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		p = 0
	}
	return host, p
}

func defaultPort(r *http.Request) int {
	if r.TLS != nil {
		return 443
	}
	return 80
}
