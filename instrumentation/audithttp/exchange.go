package audithttp

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/felixge/httpsnoop"
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
	ex.reqBody = requestBody{rc: r.Body, cap: &ex.reqCap}
	r.Body = &ex.reqBody
}

// wrapWriter returns the writer the handler gets: w, with hooks that see
// the status, header and body as they are sent, and keep every optional
// interface w has.
func (ex *exchange) wrapWriter(w http.ResponseWriter) http.ResponseWriter {
	ex.w = w
	ex.respCap.limit = ex.plan.maxBodySize
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: ex.hookWriteHeader,
		Write:       ex.hookWrite,
		WriteString: ex.hookWriteString,
		ReadFrom:    ex.hookReadFrom,
		Flush:       ex.hookFlush,
		Hijack:      ex.hookHijack,
	})
}

func (ex *exchange) hookWriteHeader(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
	return func(code int) {
		if !ex.wroteHeader && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
			ex.headerSent(code, nil)
		}
		next(code)
	}
}

func (ex *exchange) hookWrite(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
	return func(p []byte) (int, error) {
		if !ex.wroteHeader {
			ex.headerSent(http.StatusOK, p[:min(len(p), sniffLen)])
		}
		n, err := next(p)
		ex.respCap.write(p[:n])
		return n, err
	}
}

func (ex *exchange) hookWriteString(next httpsnoop.WriteStringFunc) httpsnoop.WriteStringFunc {
	return func(s string) (int, error) {
		if !ex.wroteHeader {
			ex.headerSent(http.StatusOK, []byte(s[:min(len(s), sniffLen)]))
		}
		n, err := next(s)
		ex.respCap.writeString(s[:n])
		return n, err
	}
}

func (ex *exchange) hookReadFrom(next httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
	return func(src io.Reader) (int64, error) {
		if !ex.wroteHeader {
			// The sniffing net/http does on the first bytes cannot be
			// seen from here; the declared type decides.
			ex.headerSent(http.StatusOK, nil)
		}
		if !ex.respCap.on {
			// Counting from the result keeps sendfile possible.
			n, err := next(src)
			ex.respCap.total += n
			return n, err
		}
		before := ex.respCap.total
		n, err := next(io.TeeReader(src, &ex.respCap))
		// The tee saw what was read; the result is what was sent.
		ex.respCap.total = before + n
		return n, err
	}
}

func (ex *exchange) hookFlush(next httpsnoop.FlushFunc) httpsnoop.FlushFunc {
	return func() {
		if !ex.wroteHeader {
			ex.headerSent(http.StatusOK, nil)
		}
		next()
	}
}

func (ex *exchange) hookHijack(next httpsnoop.HijackFunc) httpsnoop.HijackFunc {
	return func() (net.Conn, *bufio.ReadWriter, error) {
		conn, rw, err := next()
		if err == nil {
			ex.hijacked = true
			if !ex.wroteHeader {
				code := http.StatusOK
				if ex.req.Header.Get("Upgrade") != "" {
					code = http.StatusSwitchingProtocols
				}
				ex.headerSent(code, nil)
			}
			ex.respCap.on = false
		}
		return conn, rw, err
	}
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
	ct := h.Get("Content-Type")
	if ct == "" && first != nil && h.Get("Transfer-Encoding") == "" {
		ct = http.DetectContentType(first)
	}
	ex.respType = ct
	ex.respCap.on = ex.req.Method != http.MethodHead && ex.capturesResponseBody(h, ct)
}
