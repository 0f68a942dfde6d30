package audithttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/felixge/httpsnoop"
)

// The optional interfaces of a ResponseWriter that the wrapper keeps,
// exactly: the handler sees the ones the server's writer has, no more.
type (
	flushErrorer  interface{ FlushError() error }
	closeNotifier interface{ CloseNotify() <-chan bool }
	deadliner     interface {
		SetReadDeadline(time.Time) error
		SetWriteDeadline(time.Time) error
	}
	fullDuplexEnabler interface{ EnableFullDuplex() error }
)

const (
	hasFlush = 1 << iota
	hasFlushError
	hasCloseNotify
	hasHijack
	hasReadFrom
	hasPush
	hasWriteString
	hasDeadlines
	hasFullDuplex

	// The sets of net/http's HTTP/1 and HTTP/2 writers, and of a writer
	// that can only flush (a middleware's, a benchmark's).
	serverSet  = hasFlush | hasFlushError | hasCloseNotify | hasWriteString | hasDeadlines | hasFullDuplex
	http1Set   = serverSet | hasHijack | hasReadFrom
	http2Set   = serverSet | hasPush
	flusherSet = hasFlush
)

// optional returns the set of optional interfaces w has.
func optional(w http.ResponseWriter) int {
	set := 0
	if _, ok := w.(http.Flusher); ok {
		set |= hasFlush
	}
	if _, ok := w.(flushErrorer); ok {
		set |= hasFlushError
	}
	if _, ok := w.(closeNotifier); ok {
		set |= hasCloseNotify
	}
	if _, ok := w.(http.Hijacker); ok {
		set |= hasHijack
	}
	if _, ok := w.(io.ReaderFrom); ok {
		set |= hasReadFrom
	}
	if _, ok := w.(http.Pusher); ok {
		set |= hasPush
	}
	if _, ok := w.(io.StringWriter); ok {
		set |= hasWriteString
	}
	if _, ok := w.(deadliner); ok {
		set |= hasDeadlines
	}
	if _, ok := w.(fullDuplexEnabler); ok {
		set |= hasFullDuplex
	}
	return set
}

// wrapWriter returns the writer the handler gets: w, seen as the status,
// header and body are sent, with every optional interface w has. The
// writers of net/http (and a flush-only one) get a type of the exchange's
// own, which costs no allocation; any other set goes through httpsnoop,
// which covers every combination.
func (ex *exchange) wrapWriter(w http.ResponseWriter) http.ResponseWriter {
	ex.w = w
	ex.respCap.limit = ex.plan.maxBodySize
	switch optional(w) {
	case http1Set:
		ex.h1.ex = ex
		return &ex.h1
	case http2Set:
		ex.h2.ex = ex
		return &ex.h2
	case flusherSet:
		ex.fw.ex = ex
		return &ex.fw
	}
	// The hooks call the exchange, which calls w: next is w's own method.
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc { return ex.writeHeader },
		Write:       func(httpsnoop.WriteFunc) httpsnoop.WriteFunc { return ex.write },
		WriteString: func(httpsnoop.WriteStringFunc) httpsnoop.WriteStringFunc { return ex.writeString },
		ReadFrom:    func(httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc { return ex.readFrom },
		Flush:       func(httpsnoop.FlushFunc) httpsnoop.FlushFunc { return ex.flush },
		FlushError:  func(httpsnoop.FlushErrorFunc) httpsnoop.FlushErrorFunc { return ex.flushError },
		Hijack:      func(httpsnoop.HijackFunc) httpsnoop.HijackFunc { return ex.hijack },
	})
}

// writer is what net/http's HTTP/1 and HTTP/2 writers both have.
type writer struct{ ex *exchange }

func (w *writer) Header() http.Header                { return w.ex.w.Header() }
func (w *writer) WriteHeader(code int)               { w.ex.writeHeader(code) }
func (w *writer) Write(p []byte) (int, error)        { return w.ex.write(p) }
func (w *writer) Unwrap() http.ResponseWriter        { return w.ex.w } // for http.ResponseController
func (w *writer) Flush()                             { w.ex.flush() }
func (w *writer) FlushError() error                  { return w.ex.flushError() }
func (w *writer) WriteString(s string) (int, error)  { return w.ex.writeString(s) }
func (w *writer) SetReadDeadline(t time.Time) error  { return w.ex.w.(deadliner).SetReadDeadline(t) }
func (w *writer) SetWriteDeadline(t time.Time) error { return w.ex.w.(deadliner).SetWriteDeadline(t) }
func (w *writer) EnableFullDuplex() error            { return w.ex.w.(fullDuplexEnabler).EnableFullDuplex() }

// CloseNotify keeps the deprecated interface for handlers that still use it.
func (w *writer) CloseNotify() <-chan bool { return w.ex.w.(closeNotifier).CloseNotify() }

// h1Writer has the optional interfaces of net/http's HTTP/1 writer.
type h1Writer struct{ writer }

func (w *h1Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.ex.hijack() }
func (w *h1Writer) ReadFrom(src io.Reader) (int64, error)        { return w.ex.readFrom(src) }

// h2Writer has the optional interfaces of net/http's HTTP/2 writer.
type h2Writer struct{ writer }

func (w *h2Writer) Push(target string, opts *http.PushOptions) error {
	return w.ex.w.(http.Pusher).Push(target, opts)
}

// flushWriter is a writer that can only flush. It hides what the others
// add, as embedding would not.
type flushWriter struct{ ex *exchange }

func (w *flushWriter) Header() http.Header         { return w.ex.w.Header() }
func (w *flushWriter) WriteHeader(code int)        { w.ex.writeHeader(code) }
func (w *flushWriter) Write(p []byte) (int, error) { return w.ex.write(p) }
func (w *flushWriter) Unwrap() http.ResponseWriter { return w.ex.w }
func (w *flushWriter) Flush()                      { w.ex.flush() }

func (ex *exchange) writeHeader(code int) {
	if !ex.wroteHeader && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		ex.headerSent(code, nil)
	}
	ex.w.WriteHeader(code)
}

func (ex *exchange) write(p []byte) (int, error) {
	if !ex.wroteHeader {
		ex.headerSent(http.StatusOK, p[:min(len(p), sniffLen)])
	}
	n, err := ex.w.Write(p)
	ex.respCap.write(p[:n])
	return n, err
}

func (ex *exchange) writeString(s string) (int, error) {
	if !ex.wroteHeader {
		ex.headerSent(http.StatusOK, []byte(s[:min(len(s), sniffLen)]))
	}
	n, err := ex.w.(io.StringWriter).WriteString(s)
	ex.respCap.writeString(s[:n])
	return n, err
}

func (ex *exchange) readFrom(src io.Reader) (int64, error) {
	if !ex.wroteHeader {
		// The sniffing net/http does on the first bytes cannot be seen
		// from here; the declared type decides.
		ex.headerSent(http.StatusOK, nil)
	}
	rf := ex.w.(io.ReaderFrom)
	if !ex.respCap.on {
		// Counting from the result keeps sendfile possible.
		n, err := rf.ReadFrom(src)
		ex.respCap.total += n
		return n, err
	}
	before := ex.respCap.total
	n, err := rf.ReadFrom(io.TeeReader(src, &ex.respCap))
	// The tee saw what was read; the result is what was sent.
	ex.respCap.total = before + n
	return n, err
}

func (ex *exchange) flush() {
	if !ex.wroteHeader {
		ex.headerSent(http.StatusOK, nil)
	}
	ex.w.(http.Flusher).Flush()
}

func (ex *exchange) flushError() error {
	if !ex.wroteHeader {
		ex.headerSent(http.StatusOK, nil)
	}
	return ex.w.(flushErrorer).FlushError()
}

func (ex *exchange) hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := ex.w.(http.Hijacker).Hijack()
	if err == nil {
		ex.hijacked = true
		if !ex.wroteHeader {
			code := http.StatusOK
			if headerValue(ex.req.Header, "Upgrade") != "" {
				code = http.StatusSwitchingProtocols
			}
			ex.headerSent(code, nil)
		}
		ex.respCap.on = false
	}
	return conn, rw, err
}
