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
	"unsafe"
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

// DefaultMaxSize is the size past which a value is not walked: the rest of
// it is redacted whole.
const DefaultMaxSize = 16 << 20

// Mode says what a masked value becomes.
type Mode int

const (
	// ModeRedact replaces a value with the fixed replacement.
	ModeRedact Mode = iota
	// ModeHash replaces a value with "hmac:" and the hex HMAC-SHA256 of the
	// value under the configured key: equal values give equal outputs, so
	// analysts can still join on them, and without the key nothing can be
	// recovered (PCI DSS 4.0 3.5.1.1 asks for keyed hashes).
	ModeHash
	// ModePartial keeps the last four digits of payment card numbers and
	// redacts everything else.
	ModePartial
)

// ParseMode parses "redact", "hash" or "partial".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "redact", "":
		return ModeRedact, nil
	case "hash":
		return ModeHash, nil
	case "partial":
		return ModePartial, nil
	}
	return 0, fmt.Errorf("unknown mode %q: want redact, hash or partial", s)
}

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
	// Detectors selects the value detectors run on every string whatever
	// its key; 0 means AllDetectors, DetectNone runs none.
	Detectors Detector
	// Mode says what a masked value becomes; ModeRedact by default.
	Mode Mode
	// Replacement replaces a masked value in ModeRedact and ModePartial;
	// DefaultReplacement when empty.
	Replacement string
	// HMACKey is the key of ModeHash, which requires one.
	HMACKey []byte
	// MaxDepth bounds JSON nesting; deeper values are redacted whole.
	// DefaultMaxDepth when zero.
	MaxDepth int
	// MaxSize bounds the bytes of one value that are walked; the rest is
	// redacted whole. DefaultMaxSize when zero.
	MaxSize int
}

// Masker masks secrets. It is immutable after New and safe for concurrent use.
type Masker struct {
	substr      [][]byte
	byFirst     [256][][]byte // substring terms indexed by their first byte
	exact       [][]byte
	detectors   Detector
	mode        Mode
	hmacKey     []byte
	replacement string
	maxDepth    int
	maxSize     int
	verdicts    *verdictCache
	fixed       [3][]byte // the replacement as each quoting writes it, when it does not depend on the value
}

// New returns a Masker for cfg. Terms are normalised like keys; a term that
// normalises to nothing is an error.
func New(cfg Config) (*Masker, error) {
	m := &Masker{
		replacement: cfg.Replacement,
		maxDepth:    cfg.MaxDepth,
		maxSize:     cfg.MaxSize,
		mode:        cfg.Mode,
		detectors:   cfg.Detectors,
		verdicts:    new(verdictCache),
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
	if m.maxSize == 0 {
		m.maxSize = DefaultMaxSize
	}
	if m.maxSize < 0 {
		return nil, fmt.Errorf("mask: max size %d: must be > 0", cfg.MaxSize)
	}
	switch {
	case m.detectors == 0:
		m.detectors = AllDetectors
	case m.detectors&DetectNone != 0:
		m.detectors = 0
	}
	switch m.mode {
	case ModeRedact, ModePartial:
	case ModeHash:
		if len(cfg.HMACKey) == 0 {
			return nil, errors.New("mask: hash mode needs an HMAC key")
		}
		m.hmacKey = append([]byte(nil), cfg.HMACKey...)
	default:
		return nil, fmt.Errorf("mask: unknown mode %d", cfg.Mode)
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
	if m.mode != ModeHash {
		quoted := appendJSONString(nil, m.replacement)
		m.fixed = [3][]byte{raw: []byte(m.replacement), jsonValue: quoted, jsonInside: quoted[1 : len(quoted)-1]}
	}
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

// SensitiveKey reports whether a value held under key must be masked.
func (m *Masker) SensitiveKey(key string) bool { return m.verdicts.sensitive(m, bytesOf(key)) }

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

// Header masks the values of header name: every value when the name is
// sensitive, otherwise whatever the value detectors find. It returns values
// itself when nothing was masked, a new slice otherwise.
func (m *Masker) Header(name string, values []string) ([]string, int) {
	if m.SensitiveKey(name) {
		var out []string
		n := 0
		for i, v := range values {
			if m.alreadyMasked(bytesOf(v)) {
				continue
			}
			if out == nil {
				out = append([]string(nil), values...)
			}
			out[i] = m.Redact(bytesOf(v))
			n++
		}
		if out == nil {
			return values, 0
		}
		return out, n
	}
	var out []string
	total := 0
	for i, v := range values {
		mv, n := m.String(v)
		if n == 0 {
			continue
		}
		if out == nil {
			out = append([]string(nil), values...)
		}
		out[i] = mv
		total += n
	}
	if out == nil {
		return values, 0
	}
	return out, total
}

// String runs the value detectors over one string value.
func (m *Masker) String(s string) (string, int) {
	if m.detectors == 0 {
		return s, 0
	}
	e := editor{src: bytesOf(s)}
	m.detect(&e, 0, e.src, raw)
	out, n := e.result()
	if n == 0 {
		return s, 0
	}
	return string(out), n
}

// Value masks a value held under key: whole when the key is sensitive,
// otherwise by the value detectors.
func (m *Masker) Value(key, value string) (string, int) {
	if m.SensitiveKey(key) {
		if m.alreadyMasked(bytesOf(value)) {
			return value, 0
		}
		return m.Redact(bytesOf(value)), 1
	}
	return m.String(value)
}

// alreadyMasked reports whether value is what masking produces: the
// replacement, or a keyed hash.
func (m *Masker) alreadyMasked(value []byte) bool {
	if string(value) == m.replacement {
		return true
	}
	return len(value) == len("hmac:")+64 && string(value[:5]) == "hmac:"
}

// Redact returns what a whole value (not a card number) becomes: the
// replacement, or its keyed hash.
func (m *Masker) Redact(value []byte) string {
	if m.mode != ModeHash {
		return m.replacement
	}
	return string(m.appendReplacement(nil, value, false))
}

// Body masks a captured body according to its media type: JSON for
// application/json and */*+json, form for application/x-www-form-urlencoded,
// multipart for multipart/form-data, the text patterns for everything else.
// Past MaxSize the rest of the body is redacted whole. When it masks
// something, the result is a new slice that shares nothing with b.
func (m *Masker) Body(contentType string, b []byte) ([]byte, int) {
	return m.body(contentType, b, false)
}

// BodyInPlace is Body for a buffer the caller gives up: masking may write
// into b instead of copying it, which saves an allocation the size of the
// body. b must not be used afterwards except through the result.
func (m *Masker) BodyInPlace(contentType string, b []byte) ([]byte, int) {
	return m.body(contentType, b, true)
}

func (m *Masker) body(contentType string, b []byte, inPlace bool) ([]byte, int) {
	if len(b) > m.maxSize {
		out, n := m.body(contentType, b[:m.maxSize], inPlace)
		out = append(out[:len(out):len(out)], m.replacement...)
		return out, n + 1
	}
	switch mediaKind(contentType) {
	case kindJSON:
		return m.json(b, inPlace)
	case kindForm:
		return m.pairs(b, inPlace)
	case kindMultipart:
		return m.Multipart(b, boundary(contentType))
	default:
		return m.text(b, inPlace)
	}
}

type kind int

const (
	kindText kind = iota
	kindJSON
	kindForm
	kindMultipart
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
	case strings.EqualFold(ct, "multipart/form-data"):
		return kindMultipart
	}
	return kindText
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// editor builds a masked copy of src lazily: nothing is allocated until the
// first replacement. Replacements must come in increasing order.
//
// In place, the copy is written over src itself for as long as it stays
// behind the input still to be read: the walkers read forward, and look
// back at most one byte before the end of the last replacement, so every
// write must end before that byte. A replacement that would reach it
// moves the rest of the work to a fresh buffer.
type editor struct {
	src     []byte
	out     []byte
	last    int // src[:last] is already in out
	count   int
	inPlace bool
	scratch []byte // the replacement being built, made on first use
}

func (e *editor) replace(start, end int, with []byte) {
	if start < e.last {
		return // overlaps an earlier replacement, which already covers it
	}
	if e.out == nil {
		if e.inPlace {
			e.out = e.src[:0]
		} else {
			e.out = make([]byte, 0, len(e.src)+16)
		}
	}
	if e.inPlace && len(e.out)+start-e.last+len(with) >= end {
		out := make([]byte, len(e.out), len(e.src)+16+len(with))
		copy(out, e.out)
		e.out, e.inPlace = out, false
	}
	e.out = append(e.out, e.src[e.last:start]...)
	e.out = append(e.out, with...)
	e.last = end
	e.count++
}

// quoting says how a replacement is written where it lands.
type quoting int

const (
	raw        quoting = iota // as it is
	jsonValue                 // a JSON string literal, quotes included
	jsonInside                // escaped for the inside of a JSON string
)

// mask replaces src[start:end] with the masker's replacement for value.
func (e *editor) mask(m *Masker, start, end int, value []byte, card bool, q quoting) {
	if m.alreadyMasked(value) {
		return // masked before (at the source, or by an earlier stage): not again, not counted
	}
	if m.fixed[q] != nil && (!card || m.mode != ModePartial) {
		e.replace(start, end, m.fixed[q])
		return
	}
	if e.scratch == nil {
		e.scratch = make([]byte, 0, 96)
	}
	e.scratch = m.appendReplacement(e.scratch[:0], value, card)
	with := e.scratch
	switch q {
	case jsonValue:
		with = appendJSONString(e.scratch[len(e.scratch):], e.scratch)
	case jsonInside:
		with = appendJSONString(e.scratch[len(e.scratch):], e.scratch)
		with = with[1 : len(with)-1]
	}
	e.replace(start, end, with)
}

func (e *editor) result() ([]byte, int) {
	if e.out == nil {
		return e.src, 0
	}
	return append(e.out, e.src[e.last:]...), e.count
}

// bytesOf returns the bytes of s without copying. The walkers only read
// their input, so this is safe for them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
