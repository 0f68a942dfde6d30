// Package audithttp turns every HTTP request a net/http server handles into
// one OpenTelemetry audit log record (event http.server.audit): method,
// path, route, status, duration, client, user, headers and bodies, masked at
// the source. It is to audit logs what otelhttp is to traces:
//
//	handler := audithttp.NewHandler(mux, "orders-api")
//
// The record is of the exchange as it was when the handler returned (or
// panicked). It is built and emitted through the configured
// log.LoggerProvider after the response is complete, by a small bounded pool
// of goroutines, so the client waits for none of it (WithAsync); a service
// calls Flush on shutdown, before the provider's Shutdown. The wrapper never
// changes what the client receives: the request body is teed as the handler
// reads it (never read ahead, never buffered beyond the capture limit) and
// the ResponseWriter is wrapped with httpsnoop, keeping exactly the optional
// interfaces (Flusher, Hijacker, ReaderFrom, Pusher, …) of the original.
//
// NewTransport is the outbound side: every call made through it is one
// record (event http.client.audit), with the same options and masking:
//
//	client := &http.Client{Transport: audithttp.NewTransport(nil)}
//
// WithPolicy (or LoadPolicy, from YAML) sets per method, path, ServeMux
// pattern and host how much of an exchange is recorded, from nothing to
// both bodies.
//
// Place audithttp inside otelhttp (otelhttp.NewHandler(audithttp.NewHandler(h, …), …))
// so that each record carries the trace and span ids of its request.
package audithttp
