package audithttp

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.yaml.in/yaml/v3"
)

// Level is how much of an exchange an audit policy rule records.
type Level int

// Levels, from nothing to everything. Sizes, status, duration and the
// other metadata are recorded at every level but LevelNone.
const (
	// LevelNone records nothing: the exchange is not audited.
	LevelNone Level = iota + 1
	// LevelMetadata records no headers and no bodies.
	LevelMetadata
	// LevelHeaders adds the request and response headers.
	LevelHeaders
	// LevelRequest adds the request body.
	LevelRequest
	// LevelRequestResponse adds the response body.
	LevelRequestResponse
)

var levelNames = map[Level]string{
	LevelNone: "None", LevelMetadata: "Metadata", LevelHeaders: "Headers",
	LevelRequest: "Request", LevelRequestResponse: "RequestResponse",
}

// String returns the level's name as LoadPolicy reads it.
func (l Level) String() string {
	if s, ok := levelNames[l]; ok {
		return s
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel parses a level name (None, Metadata, Headers, Request,
// RequestResponse; case-insensitive).
func ParseLevel(s string) (Level, error) {
	for l, name := range levelNames {
		if strings.EqualFold(s, name) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown level %q (want None, Metadata, Headers, Request or RequestResponse)", s)
}

// Rule is one audit policy rule. Its conditions are all optional; a rule
// matches an exchange when every condition it sets holds. The first rule
// that matches decides; an exchange no rule matches is recorded as the
// other options say.
type Rule struct {
	// Methods matches any of these methods (case-insensitive).
	Methods []string
	// PathPrefix matches URL paths that start with it.
	PathPrefix string
	// Pattern matches the ServeMux pattern that routes the request, as
	// written when it was registered ("GET /users/{id}"). Server side only:
	// the pattern is r.Pattern, or the one the wrapped *http.ServeMux would
	// choose. A rule with a Pattern never matches an outbound call.
	Pattern string
	// Host matches the host the request is for, without port
	// (case-insensitive); "*.example.com" matches its subdomains.
	Host string
	// Level is how much is recorded. Required.
	Level Level
	// MaxBodySize, when not nil, replaces WithMaxBodySize for the
	// exchanges this rule matches.
	MaxBodySize *int
}

// plan is what is captured of one exchange.
type plan struct {
	headers      bool
	requestBody  bool
	responseBody bool
	maxBodySize  int
}

// WithPolicy sets the audit policy: rules matched in order, the first that
// matches deciding what is recorded of an exchange (see Rule and Level).
// It applies to NewHandler, NewMiddleware and NewTransport. A rule without
// a valid Level is reported through otel.Handle and ignored.
func WithPolicy(rules ...Rule) Option {
	return optionFunc(func(c *config) {
		for i, r := range rules {
			if err := r.validate(); err != nil {
				otel.Handle(fmt.Errorf("audithttp: WithPolicy: rule %d: %w", i, err))
				continue
			}
			r.Methods = append([]string(nil), r.Methods...)
			c.rules = append(c.rules, r)
		}
	})
}

func (r Rule) validate() error {
	if _, ok := levelNames[r.Level]; !ok {
		return fmt.Errorf("level %v: must be one of None, Metadata, Headers, Request, RequestResponse", r.Level)
	}
	if r.Pattern != "" && r.PathPrefix != "" {
		return errors.New("pattern and path_prefix: set one of them, not both")
	}
	return nil
}

// policyFile is the YAML form of a policy.
type policyFile struct {
	Rules []struct {
		Methods     []string `yaml:"methods"`
		PathPrefix  string   `yaml:"path_prefix"`
		Pattern     string   `yaml:"pattern"`
		Host        string   `yaml:"host"`
		Level       string   `yaml:"level"`
		MaxBodySize *int     `yaml:"max_body_size"`
	} `yaml:"rules"`
}

// LoadPolicy reads audit policy rules from a YAML file:
//
//	rules:
//	  - pattern: "POST /login"
//	    level: Metadata
//	  - path_prefix: /downloads/
//	    level: Request
//	  - level: RequestResponse
//	    max_body_size: 65536
//
// Keys per rule: methods, path_prefix, pattern, host, level (required) and
// max_body_size. An unknown key or an invalid value is an error naming the
// rule and the key. Pass the result to WithPolicy.
func LoadPolicy(path string) ([]Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audithttp: load policy: %w", err)
	}
	var f policyFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("audithttp: load policy %s: %w", path, err)
	}
	rules := make([]Rule, 0, len(f.Rules))
	for i, fr := range f.Rules {
		if fr.Level == "" {
			return nil, fmt.Errorf("audithttp: load policy %s: rules[%d].level: required", path, i)
		}
		l, err := ParseLevel(fr.Level)
		if err != nil {
			return nil, fmt.Errorf("audithttp: load policy %s: rules[%d].level: %w", path, i, err)
		}
		r := Rule{Methods: fr.Methods, PathPrefix: fr.PathPrefix, Pattern: fr.Pattern, Host: fr.Host, Level: l, MaxBodySize: fr.MaxBodySize}
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("audithttp: load policy %s: rules[%d]: %w", path, i, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// matches reports whether the rule applies to r; pattern is the ServeMux
// pattern routing r ("" when unknown, and always for outbound calls).
func (rule *Rule) matches(r *http.Request, host, pattern string) bool {
	if len(rule.Methods) > 0 && !containsFold(rule.Methods, r.Method) {
		return false
	}
	if rule.PathPrefix != "" && !strings.HasPrefix(r.URL.Path, rule.PathPrefix) {
		return false
	}
	if rule.Pattern != "" && rule.Pattern != pattern {
		return false
	}
	return rule.Host == "" || hostMatches(rule.Host, host)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func hostMatches(want, host string) bool {
	if suffix, ok := strings.CutPrefix(want, "*."); ok {
		return len(host) > len(suffix)+1 && host[len(host)-len(suffix)-1] == '.' &&
			strings.EqualFold(host[len(host)-len(suffix):], suffix)
	}
	return strings.EqualFold(want, host)
}

// planFor returns what is captured of r, and false when r is not audited.
// pattern is the ServeMux pattern when known; mux, when not nil, finds it
// for rules that need it.
func (c *config) planFor(r *http.Request, host, pattern string, mux *http.ServeMux) (plan, bool) {
	p := c.plan
	for i := range c.rules {
		rule := &c.rules[i]
		if rule.Pattern != "" && pattern == "" && mux != nil {
			_, pattern = mux.Handler(r)
			mux = nil // looked up once
		}
		if !rule.matches(r, host, pattern) {
			continue
		}
		if rule.MaxBodySize != nil {
			p.maxBodySize = max(*rule.MaxBodySize, -1)
		}
		switch rule.Level {
		case LevelNone:
			return p, false
		case LevelMetadata:
			p.headers, p.requestBody, p.responseBody = false, false, false
		case LevelHeaders:
			p.headers, p.requestBody, p.responseBody = true, false, false
		case LevelRequest:
			p.headers, p.requestBody, p.responseBody = true, true, false
		case LevelRequestResponse:
			p.headers, p.requestBody, p.responseBody = true, true, true
		}
		return p, true
	}
	return p, true
}
