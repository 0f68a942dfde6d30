// Package audithttp turns every HTTP request a net/http server handles into
// one OpenTelemetry audit log record (event http.server.audit): method,
// path, route, status, duration, client, user, headers and bodies, masked at
// the source. It is to audit logs what otelhttp is to traces:
//
//	handler := audithttp.NewHandler(mux, "orders-api")
//
// The record is emitted when the handler returns (or panics), through the
// configured log.LoggerProvider, so delivery never blocks or fails the
// response when the provider uses a BatchProcessor. The wrapper never
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
