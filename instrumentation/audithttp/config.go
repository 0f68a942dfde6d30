package audithttp

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/internal/mask"
)

// ScopeName is the instrumentation scope of the records audithttp emits.
const ScopeName = "github.com/otelaudit/otelaudit/instrumentation/audithttp"

// Default settings.
const (
	// DefaultMaxBodySize is how many bytes of each body are captured.
	DefaultMaxBodySize = 8192
)

// DefaultExcludeExtensions are the path extensions of static assets that are
// not audited unless WithExcludeExtensions says otherwise.
var DefaultExcludeExtensions = []string{
	".css", ".js", ".map", ".ico", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".woff", ".woff2",
}

// DefaultBodyContentTypes are the media types whose bodies are captured
// unless WithBodyContentTypes says otherwise. Other bodies record only their
// size.
var DefaultBodyContentTypes = []string{
	"application/json", "*/*+json", "application/xml", "*/*+xml", "text/*",
	"application/x-www-form-urlencoded",
}

// config is the private result of applying Options.
type config struct {
	provider       log.LoggerProvider
	logger         log.Logger
	filters        []func(*http.Request) bool
	excludePaths   []string
	excludeExts    []string
	plan           plan // what is captured when no policy rule matches
	rules          []Rule
	contentTypes   []mediaRange
	masking        bool
	sensitiveKeys  []string
	exactKeys      []string
	removeKeys     []string
	masker         *mask.Masker
	userID         func(*http.Request) string
	attributes     func(*http.Request, int) []attribute.KeyValue
	trustedProxies []netip.Prefix
	sessionCookie  string
	sessionKey     []byte
	health         func() error
	async          bool
	asyncSet       bool // WithAsync was given
}

func newConfig(opts []Option) *config {
	c := &config{
		excludeExts:  lowerAll(DefaultExcludeExtensions),
		plan:         plan{headers: true, requestBody: true, responseBody: true, maxBodySize: DefaultMaxBodySize},
		contentTypes: parseMediaRanges(DefaultBodyContentTypes),
		masking:      true,
		async:        true,
	}
	for _, o := range opts {
		o.apply(c)
	}
	if c.health != nil && !c.asyncSet {
		// Failing closed is for operations that must never happen
		// unrecorded: the record is emitted before the response.
		c.async = false
	}
	if c.provider == nil {
		c.provider = otel.GetLoggerProvider()
	}
	c.logger = c.provider.Logger(ScopeName, log.WithInstrumentationVersion(Version))
	if c.masking {
		m, err := mask.New(mask.Config{SensitiveKeys: c.sensitiveKeys, ExactKeys: c.exactKeys, RemoveKeys: c.removeKeys})
		if err != nil {
			// Never audit unmasked because of a bad key list: fall back to the
			// defaults and say why.
			otel.Handle(fmt.Errorf("audithttp: masking keys: %w; using the default keys", err))
			m = mask.Default()
		}
		c.masker = m
	}
	return c
}

// Option configures the handler returned by NewHandler or NewMiddleware,
// or the transport returned by NewTransport.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithLoggerProvider sets the LoggerProvider that emits the audit records.
// The default is the global provider (go.opentelemetry.io/otel/log/global).
func WithLoggerProvider(p log.LoggerProvider) Option {
	return optionFunc(func(c *config) { c.provider = p })
}

// WithFilter adds a filter; a request is audited only when every filter
// returns true.
func WithFilter(f func(*http.Request) bool) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.filters = append(c.filters, f)
		}
	})
}

// WithExcludePaths excludes requests whose URL path starts with any of the
// prefixes (health checks, metrics).
func WithExcludePaths(prefixes ...string) Option {
	return optionFunc(func(c *config) { c.excludePaths = append(c.excludePaths, prefixes...) })
}

// WithExcludeExtensions replaces the default list of path extensions
// (DefaultExcludeExtensions) that are not audited. Matching is
// case-insensitive; a leading dot is added when missing. With no arguments
// every extension is audited.
func WithExcludeExtensions(exts ...string) Option {
	return optionFunc(func(c *config) {
		c.excludeExts = c.excludeExts[:0:0]
		for _, e := range exts {
			if e == "" {
				continue
			}
			if e[0] != '.' {
				e = "." + e
			}
			c.excludeExts = append(c.excludeExts, strings.ToLower(e))
		}
	})
}

// WithRequestBody turns capture of request bodies on or off (default on).
// The body size is recorded either way.
func WithRequestBody(on bool) Option {
	return optionFunc(func(c *config) { c.plan.requestBody = on })
}

// WithResponseBody turns capture of response bodies on or off (default on).
// The body size is recorded either way.
func WithResponseBody(on bool) Option {
	return optionFunc(func(c *config) { c.plan.responseBody = on })
}

// WithMaxBodySize sets how many bytes of each body are captured (default
// DefaultMaxBodySize). A negative n captures whole bodies, whatever their
// size; 0 captures nothing.
func WithMaxBodySize(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			n = -1
		}
		c.plan.maxBodySize = n
	})
}

// WithBodyContentTypes replaces the media types whose bodies are captured
// (DefaultBodyContentTypes). "type/*", "*/*+suffix" and "*/*" are
// wildcards. Bodies of other types record only their size.
func WithBodyContentTypes(types ...string) Option {
	return optionFunc(func(c *config) { c.contentTypes = parseMediaRanges(types) })
}

// WithHeaders turns capture of request and response headers on or off
// (default on).
func WithHeaders(on bool) Option {
	return optionFunc(func(c *config) { c.plan.headers = on })
}

// WithSensitiveKeys adds terms to the default masking terms; a key whose
// normalised form contains a term is masked. docs/masking.md lists the
// default rule set.
func WithSensitiveKeys(keys ...string) Option {
	return optionFunc(func(c *config) { c.sensitiveKeys = append(c.sensitiveKeys, keys...) })
}

// WithExactKeys adds terms that a normalised key must equal to be masked:
// short or ambiguous words that as substrings would mask look-alikes.
func WithExactKeys(keys ...string) Option {
	return optionFunc(func(c *config) { c.exactKeys = append(c.exactKeys, keys...) })
}

// WithoutSensitiveKeys removes terms from the masking rule set, whichever
// list holds them (for example "code" in an API where it names a product
// code). A term the rule set does not hold is reported through otel.Handle
// and the default keys are used.
func WithoutSensitiveKeys(keys ...string) Option {
	return optionFunc(func(c *config) { c.removeKeys = append(c.removeKeys, keys...) })
}

// WithMasking turns masking at the source on or off (default on). Turn it
// off only when the collector's masking processor is guaranteed to run.
func WithMasking(on bool) Option {
	return optionFunc(func(c *config) { c.masking = on })
}

// WithUserID sets a function that returns the user id of a request. It is
// called after the handler returns; SetUserID from inside the handler takes
// precedence.
func WithUserID(f func(*http.Request) string) Option {
	return optionFunc(func(c *config) { c.userID = f })
}

// WithAttributes sets a function whose attributes are added to every record.
// It is called after the handler returns, with the status sent.
func WithAttributes(f func(r *http.Request, status int) []attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.attributes = f })
}

// WithTrustedProxies sets the proxies (CIDRs or single addresses) whose
// Forwarded and X-Forwarded-For headers are believed when determining
// client.address. Without it the peer address is always used. Invalid
// entries are reported through otel.Handle and ignored.
func WithTrustedProxies(cidrs ...string) Option {
	return optionFunc(func(c *config) {
		for _, s := range cidrs {
			p, err := parsePrefix(s)
			if err != nil {
				otel.Handle(fmt.Errorf("audithttp: WithTrustedProxies: %w", err))
				continue
			}
			c.trustedProxies = append(c.trustedProxies, p)
		}
	})
}

// WithSessionCookie records session.id as the HMAC-SHA256 of the named
// cookie's value under key (hex, prefixed auditconv.KeyedHashPrefix), so records of one
// session can be joined without storing the session token. Without this
// option session.id is never recorded.
func WithSessionCookie(name string, key []byte) Option {
	return optionFunc(func(c *config) {
		if name == "" || len(key) == 0 {
			otel.Handle(fmt.Errorf("audithttp: WithSessionCookie: cookie name and key must not be empty"))
			return
		}
		c.sessionCookie, c.sessionKey = name, append([]byte(nil), key...)
	})
}

// WithFailClosed makes the handler refuse requests it could not audit: while
// health returns an error, a request that would be audited is answered with
// 503 Service Unavailable and a Retry-After header, and the wrapped handler
// is not called. Pass the Health method of the durable processor
// (auditexport.DurableProcessor.Health) so that a full spool or a failing
// disk stops the service instead of losing audit records. health is called
// once per audited request and must be cheap. Requests excluded from
// auditing are served as usual. Off by default: a service that must stay up
// when its audit trail cannot keep up does not use it. With it, records are
// emitted before the response (WithAsync(false)) unless WithAsync(true) is
// given.
func WithFailClosed(health func() error) Option {
	return optionFunc(func(c *config) { c.health = health })
}

// WithAsync sets whether records are built and emitted after the response
// is complete (on, the default), by a small pool of goroutines shared by
// every handler and transport, or before ServeHTTP returns (off), as the
// client waits. Either way each exchange has exactly one record: when the
// pool has no room (its queue or the captured bytes it may hold are
// full), the record is built at once, as if the option were off. A service
// calls Flush on shutdown so that no pending record is lost; a crash loses
// the records still pending, so with WithFailClosed the default is off.
func WithAsync(on bool) Option {
	return optionFunc(func(c *config) { c.async, c.asyncSet = on, true })
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("trusted proxy %q: %w", s, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}

// excluded reports whether r is not to be audited.
func (c *config) excluded(r *http.Request) bool {
	p := r.URL.Path
	for _, prefix := range c.excludePaths {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	if len(c.excludeExts) > 0 {
		if dot := strings.LastIndexByte(p, '.'); dot >= 0 && strings.IndexByte(p[dot:], '/') < 0 {
			ext := p[dot:]
			for _, e := range c.excludeExts {
				if strings.EqualFold(ext, e) {
					return true
				}
			}
		}
	}
	for _, f := range c.filters {
		if !f(r) {
			return true
		}
	}
	return false
}
