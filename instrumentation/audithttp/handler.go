package audithttp

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/auditconv"
)

// NewHandler wraps h so that every request it serves, unless excluded by
// the options, is emitted as one audit record for operation.
func NewHandler(h http.Handler, operation string, opts ...Option) http.Handler {
	mux, _ := h.(*http.ServeMux)
	return &handler{next: h, mux: mux, operation: operation, cfg: newConfig(opts)}
}

// NewMiddleware returns a middleware that wraps handlers like NewHandler.
func NewMiddleware(operation string, opts ...Option) func(http.Handler) http.Handler {
	cfg := newConfig(opts)
	return func(h http.Handler) http.Handler {
		mux, _ := h.(*http.ServeMux)
		return &handler{next: h, mux: mux, operation: operation, cfg: cfg}
	}
}

type handler struct {
	next      http.Handler
	mux       *http.ServeMux // next, when it is one: policy patterns are found before it routes
	operation string
	cfg       *config
}

var enabledParams = log.EnabledParameters{EventName: auditconv.EventHTTPServer}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := h.cfg
	if cfg.excluded(r) || !cfg.logger.Enabled(r.Context(), enabledParams) {
		h.next.ServeHTTP(w, r)
		return
	}
	if cfg.health != nil && cfg.health() != nil {
		refuse(w)
		return
	}

	host, _ := splitHost(r.Host)
	p, audited := cfg.planFor(r, host, r.Pattern, h.mux)
	if !audited {
		h.next.ServeHTTP(w, r)
		return
	}
	ex := &exchange{audit: newAudit(cfg, p), operation: h.operation}
	r = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex))
	ex.req = r
	ex.startRequestBody()
	ww := ex.wrapWriter(w)

	defer func() {
		if v := recover(); v != nil {
			ex.end(v) // recorded before net/http sees the panic
			panic(v)
		}
	}()
	h.next.ServeHTTP(ww, r)
	ex.end(nil)
}

// refuse answers a request that cannot be audited (WithFailClosed). The
// reason stays in the service's own health reporting: the client learns only
// that it may retry.
func refuse(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, "audit trail unavailable", http.StatusServiceUnavailable)
}
