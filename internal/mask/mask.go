// Package mask is otelaudit's masking engine: it finds secrets in header
// values, query strings, form, JSON and text bodies by the name of the key
// that holds them, and replaces them before a record leaves the process (in
// audithttp) or reaches a database (in the masking processor).
//
// Keys are normalised before matching: ASCII letters are lower-cased and
// '-', '_', '.' and spaces are removed, so "X-Api-Key", "api_key" and
// "apiKey" are the same key. A key is sensitive when its normalised form
// contains one of the substring terms or equals one of the exact terms.
//
// Every walker returns its input unchanged (the same slice or string, no
// allocation) when it masked nothing, and reports how many values it masked.
package mask

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DefaultSensitiveKeys are the substring terms matched against normalised
// keys unless Config.ReplaceDefaultKeys is set.
var DefaultSensitiveKeys = []string{
	"password", "passwd", "secret", "token", "apikey", "accesskey",
	"authorization", "cookie", "credential", "privatekey", "sessionid",
}

// DefaultExactKeys are the terms that a normalised key must equal to be
// sensitive; they are too short to match as substrings ("spinner", "hotpot").
var DefaultExactKeys = []string{"pin", "otp", "cvv", "ssn"}

// DefaultReplacement replaces a masked value.
const DefaultReplacement = "****"

// DefaultMaxDepth is the nesting depth past which a JSON value is redacted
// whole rather than walked.
const DefaultMaxDepth = 64

// Config configures a Masker. The zero value masks with the defaults.
type Config struct {
	// SensitiveKeys are substring terms added to DefaultSensitiveKeys (or
	// replacing them, with ReplaceDefaultKeys).
	SensitiveKeys []string
	// ExactKeys are exact terms added to DefaultExactKeys (or replacing them,
	// with ReplaceDefaultKeys).
	ExactKeys []string
	// ReplaceDefaultKeys drops the default terms, keeping only the given ones.
	ReplaceDefaultKeys bool
	// Replacement replaces a masked value; DefaultReplacement when empty.
	Replacement string
	// MaxDepth bounds JSON nesting; deeper values are redacted whole.
	// DefaultMaxDepth when zero.
	MaxDepth int
}

// Masker masks secrets. It is immutable after New and safe for concurrent use.
type Masker struct {
	substr      [][]byte
	byFirst     [256][][]byte // substring terms indexed by their first byte
	exact       [][]byte
	replacement string
	jsonRepl    []byte // replacement as a JSON string literal
	maxDepth    int
}

// New returns a Masker for cfg. Terms are normalised like keys; a term that
// normalises to nothing is an error.
func New(cfg Config) (*Masker, error) {
	m := &Masker{
		replacement: cfg.Replacement,
		maxDepth:    cfg.MaxDepth,
	}
	if m.replacement == "" {
		m.replacement = DefaultReplacement
	}
	if m.maxDepth == 0 {
		m.maxDepth = DefaultMaxDepth
	}
	if m.maxDepth < 0 {
		return nil, fmt.Errorf("mask: max depth %d: must be > 0", cfg.MaxDepth)
	}
	substr, exact := cfg.SensitiveKeys, cfg.ExactKeys
	if !cfg.ReplaceDefaultKeys {
		substr = append(append([]string(nil), DefaultSensitiveKeys...), substr...)
		exact = append(append([]string(nil), DefaultExactKeys...), exact...)
	}
	seen := map[string]bool{}
	for _, t := range substr {
		n := string(normalize(nil, t))
		if n == "" {
			return nil, fmt.Errorf("mask: sensitive key %q: empty after normalisation", t)
		}
		if !seen[n] {
			seen[n] = true
			m.substr = append(m.substr, []byte(n))
		}
	}
	for _, t := range exact {
		n := string(normalize(nil, t))
		if n == "" {
			return nil, fmt.Errorf("mask: exact key %q: empty after normalisation", t)
		}
		if !slices.ContainsFunc(m.exact, func(e []byte) bool { return string(e) == n }) {
			m.exact = append(m.exact, []byte(n))
		}
	}
	for _, t := range m.substr {
		m.byFirst[t[0]] = append(m.byFirst[t[0]], t)
	}
	if len(m.substr) == 0 && len(m.exact) == 0 {
		return nil, errors.New("mask: no sensitive keys: replace_default_keys needs at least one key of its own")
	}
	m.jsonRepl = appendJSONString(nil, m.replacement)
	return m, nil
}

// Default returns a Masker with the default configuration.
func Default() *Masker {
	m, err := New(Config{})
	if err != nil { // unreachable: the defaults are valid
		panic(err)
	}
	return m
}

// Replacement returns the string that replaces masked values.
func (m *Masker) Replacement() string { return m.replacement }

// SensitiveKey reports whether a value held under key must be masked.
func (m *Masker) SensitiveKey(key string) bool { return sensitive(m, key) }

func sensitive[T string | []byte](m *Masker, key T) bool {
	var buf [64]byte
	n := normalize(buf[:0], key)
	if len(n) == 0 {
		return false
	}
	for _, e := range m.exact {
		if string(e) == string(n) {
			return true
		}
	}
	for i := range n {
		for _, t := range m.byFirst[n[i]] {
			if bytes.HasPrefix(n[i:], t) {
				return true
			}
		}
	}
	return false
}

// normalize appends the normalised form of key to dst: ASCII lower-case,
// without '-', '_', '.' and spaces.
func normalize[T string | []byte](dst []byte, key T) []byte {
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Header masks the values of header name. When the name is sensitive it
// returns a new slice with every value replaced; otherwise values itself.
func (m *Masker) Header(name string, values []string) ([]string, int) {
	if !m.SensitiveKey(name) {
		return values, 0
	}
	out := make([]string, len(values))
	for i := range out {
		out[i] = m.replacement
	}
	return out, len(values)
}

// Body masks a captured body according to its media type: JSON for
// application/json and */*+json, form for application/x-www-form-urlencoded,
// the text patterns for everything else.
func (m *Masker) Body(contentType string, b []byte) ([]byte, int) {
	switch mediaKind(contentType) {
	case kindJSON:
		return m.JSON(b)
	case kindForm:
		return m.Form(b)
	default:
		return m.Text(b)
	}
}

type kind int

const (
	kindText kind = iota
	kindJSON
	kindForm
)

func mediaKind(ct string) kind {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	switch {
	case strings.EqualFold(ct, "application/json"), hasSuffixFold(ct, "+json"):
		return kindJSON
	case strings.EqualFold(ct, "application/x-www-form-urlencoded"):
		return kindForm
	}
	return kindText
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// editor builds a masked copy of src lazily: nothing is allocated until the
// first replacement.
type editor struct {
	src   []byte
	out   []byte
	last  int // src[:last] is already in out
	count int
}

func (e *editor) replace(start, end int, with []byte) {
	if e.out == nil {
		e.out = make([]byte, 0, len(e.src)+16)
	}
	e.out = append(e.out, e.src[e.last:start]...)
	e.out = append(e.out, with...)
	e.last = end
	e.count++
}

func (e *editor) result() ([]byte, int) {
	if e.out == nil {
		return e.src, 0
	}
	return append(e.out, e.src[e.last:]...), e.count
}
