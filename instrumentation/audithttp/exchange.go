package audithttp

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// sniffLen is how much of a body http.DetectContentType looks at.
const sniffLen = 512

// exchange is the state of one audited request, from ServeHTTP to the
// emitted record.
type exchange struct {
	audit
	operation string
	req       *http.Request       // the request passed to the handler
	w         http.ResponseWriter // the writer the server gave us

	reqBody  requestBody
	respType string // content type of the response, for masking

	status      int // as written by the handler
	wroteHeader bool
	hijacked    bool
	respHeaders []attribute.KeyValue // snapshot taken when the header was sent

	// The writers the handler may get, by the optional interfaces of w:
	// part of the exchange, so that wrapping allocates nothing.
	h1 h1Writer
	h2 h2Writer
	fw flushWriter

	// Set by end, when the handler has returned, for emitRecord.
	ended time.Time
	final int             // the status the client got
	pv    any             // the handler's panic value
	stack []byte          // where it panicked
	ctx   context.Context // the request's, never canceled when async

	mu        sync.Mutex // guards the fields set from handler code
	userID    string
	userIDSet bool
	extra     []attribute.KeyValue
}

func (ex *exchange) startRequestBody() {
	r := ex.req
	ex.reqCap.limit = ex.plan.maxBodySize
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	ex.reqCap.on = ex.capturesRequestBody(r.Header)
	ex.reqCap.size = r.ContentLength
	ex.reqBody = requestBody{rc: r.Body, cap: &ex.reqCap}
	r.Body = &ex.reqBody
}

// headerSent records the final status and a snapshot of the response
// header as the client receives it, and decides whether the response body
// is captured. first is the start of the body when known, for sniffing.
func (ex *exchange) headerSent(code int, first []byte) {
	ex.wroteHeader = true
	ex.status = code
	h := ex.w.Header()
	if ex.plan.headers {
		ex.respHeaders = ex.headerAttrs(ex.respHeaders, h, responseHeaderKey)
	}
	ct := headerValue(h, "Content-Type")
	if ct == "" && first != nil && headerValue(h, "Transfer-Encoding") == "" {
		ct = http.DetectContentType(first)
	}
	ex.respType = ct
	ex.respCap.on = ex.req.Method != http.MethodHead && ex.capturesResponseBody(h, ct)
	if ex.respCap.on {
		if cl := headerValue(h, "Content-Length"); cl != "" {
			ex.respCap.size, _ = strconv.ParseInt(cl, 10, 64)
		}
	}
}
