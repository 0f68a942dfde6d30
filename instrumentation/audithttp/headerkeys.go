package audithttp

import (
	"net/http"

	"github.com/otelaudit/otelaudit/auditconv"
)

// Attribute keys of common headers, built once so that recording them does
// not allocate. Other names are built per request; the maps never grow, so
// client-chosen header names cannot fill memory.
var (
	requestHeaderKeys  = map[string]string{}
	responseHeaderKeys = map[string]string{}
)

func init() {
	for _, name := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Access-Control-Allow-Origin",
		"Authorization", "Cache-Control", "Connection", "Content-Disposition", "Content-Encoding",
		"Content-Language", "Content-Length", "Content-Type", "Cookie", "Date", "Etag", "Expect", "Expires",
		"Forwarded", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "Last-Modified", "Location",
		"Origin", "Pragma", "Proxy-Authorization", "Referer", "Retry-After", "Sec-Fetch-Dest",
		"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Websocket-Key", "Sec-Websocket-Version", "Server",
		"Set-Cookie", "Te", "Traceparent", "Tracestate", "Baggage", "Transfer-Encoding", "Upgrade",
		"User-Agent", "Vary", "Www-Authenticate", "X-Api-Key", "X-Content-Type-Options",
		"X-Correlation-Id", "X-Csrf-Token", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
		"X-Frame-Options", "X-Real-Ip", "X-Request-Id", "X-Requested-With", "Strict-Transport-Security",
		"Content-Security-Policy", "Idempotency-Key",
	} {
		requestHeaderKeys[name] = auditconv.RequestHeaderKey(name)
		responseHeaderKeys[name] = auditconv.ResponseHeaderKey(name)
	}
}

func requestHeaderKey(name string) string {
	if k, ok := requestHeaderKeys[name]; ok {
		return k
	}
	return auditconv.RequestHeaderKey(name)
}

func responseHeaderKey(name string) string {
	if k, ok := responseHeaderKeys[name]; ok {
		return k
	}
	return auditconv.ResponseHeaderKey(name)
}

// headerValue is h.Get(key) for a canonical key: a map read, without the
// canonicalisation Header.Get does on every call (a few percent of a
// record's cost, for the handful of headers each exchange reads).
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
