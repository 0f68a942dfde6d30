// Package mask is otelaudit's masking engine: it finds secrets in header
// values, query strings, form, JSON and text bodies by the name of the key
// that holds them, and replaces them before a record leaves the process (in
// audithttp) or reaches a database (in the masking processor).
//
// Keys are normalised before matching: ASCII letters are lower-cased and
// '-', '_', '.' and spaces are removed, so "X-Api-Key", "api_key" and
// "apiKey" are the same key. A key is sensitive when its normalised form
// contains one of the substring terms, equals one of the exact terms, or
// equals or ends with (as its last word) one of the word terms.
//
// Every walker returns its input unchanged (the same slice or string, no
// allocation) when it masked nothing, and reports how many values it masked.
//
// The package is in layers: the key rules and their verdict cache
// (rules.go); the editor the walkers write into (editor.go, replace.go);
// the walkers (json.go, query.go, text.go, multipart.go, url.go, detect.go).
// This file is the top: Config, New and the entry points.
package mask

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/otelaudit/otelaudit/auditconv"
)

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
	// ExactKeys are exact terms added to DefaultExactKeys and
	// DefaultQueryKeys (or replacing them, with ReplaceDefaultKeys).
	ExactKeys []string
	// WordKeys are terms that a key or its last word must equal, added to
	// DefaultWordKeys (or replacing them, with ReplaceDefaultKeys).
	WordKeys []string
	// RemoveKeys are terms removed from the rule set, whichever list holds
	// them (for example "code" where it names a product code, not an
	// OAuth code). A term the rule set does not hold is an error.
	RemoveKeys []string
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
	keys        keyRules
	detectors   Detector
	mode        Mode
	hmacKey     []byte
	replacement string
	maxDepth    int
	maxSize     int
	fixed       [3][]byte // the replacement as each quoting writes it, when it does not depend on the value
}

// ConfigError is a value of Config that New refuses. Field names the
// Config field and Index the element of a list field (-1 for other
// fields), so that a caller with a configuration of its own can name its
// key.
type ConfigError struct {
	Field  string
	Index  int
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("mask: %s[%d]: %s", e.Field, e.Index, e.Reason)
	}
	return fmt.Sprintf("mask: %s: %s", e.Field, e.Reason)
}

// New returns a Masker for cfg. Terms are normalised like keys. Every value
// that breaks a rule is reported, each as a *ConfigError, joined.
func New(cfg Config) (*Masker, error) {
	m, errs := build(cfg)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// Validate reports what New would refuse in cfg: nil, or every
// *ConfigError joined.
func (cfg Config) Validate() error {
	_, errs := build(cfg)
	return errors.Join(errs...)
}

func build(cfg Config) (*Masker, []error) {
	m := &Masker{
		replacement: cfg.Replacement,
		maxDepth:    cfg.MaxDepth,
		maxSize:     cfg.MaxSize,
		mode:        cfg.Mode,
		detectors:   cfg.Detectors,
	}
	errs := m.settings(cfg)
	keys, keyErrs := newKeyRules(cfg)
	m.keys, errs = keys, append(errs, keyErrs...)
	if m.mode != ModeHash {
		quoted := auditconv.AppendJSONString(nil, m.replacement)
		m.fixed = [3][]byte{raw: []byte(m.replacement), jsonValue: quoted, jsonInside: quoted[1 : len(quoted)-1]}
	}
	return m, errs
}

// settings fills in the defaults of everything but the key rules, and
// reports the values it refuses.
func (m *Masker) settings(cfg Config) []error {
	var errs []error
	if m.replacement == "" {
		m.replacement = DefaultReplacement
	}
	switch {
	case m.maxDepth == 0:
		m.maxDepth = DefaultMaxDepth
	case m.maxDepth < 0:
		errs = append(errs, &ConfigError{Field: "MaxDepth", Index: -1, Reason: fmt.Sprintf("%d: must be > 0", cfg.MaxDepth)})
	}
	switch {
	case m.maxSize == 0:
		m.maxSize = DefaultMaxSize
	case m.maxSize < 0:
		errs = append(errs, &ConfigError{Field: "MaxSize", Index: -1, Reason: fmt.Sprintf("%d: must be > 0", cfg.MaxSize)})
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
			errs = append(errs, &ConfigError{Field: "HMACKey", Index: -1, Reason: "required when mode is hash"})
		}
		m.hmacKey = append([]byte(nil), cfg.HMACKey...)
	default:
		errs = append(errs, &ConfigError{Field: "Mode", Index: -1, Reason: fmt.Sprintf("unknown mode %d", cfg.Mode)})
	}
	return errs
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
func (m *Masker) SensitiveKey(key string) bool { return m.keys.sensitive(bytesOf(key)) }

// Header masks the values of header name: every value when the name is
// sensitive, otherwise as free text (Free): key patterns such as token=…
// in a User-Agent, URLs in Referer and Location, and the detectors. It returns values
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
				out = copyValues(values)
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
		mv, n := m.Free(v)
		if n == 0 {
			continue
		}
		if out == nil {
			out = copyValues(values)
		}
		out[i] = mv
		total += n
	}
	if out == nil {
		return values, 0
	}
	return out, total
}

// copyValues returns a copy of values for Header to mask in, made in one
// allocation of their length (cheaper than an append that rounds it up).
func copyValues(values []string) []string {
	out := make([]string, len(values))
	copy(out, values)
	return out
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
	return ownedString(out), n // the editor's copy
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
// multipart for multipart/form-data, the text patterns for everything else
// (JSON first when such a body starts like JSON).
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
		if k := firstNonSpace(b); k < len(b) && (b[k] == '{' || b[k] == '[') {
			return m.json(b, inPlace) // JSON sent as text/plain; text again when it is not JSON
		}
		return m.text(b, inPlace)
	}
}

// bytesOf returns the bytes of s without copying. The walkers only read
// their input, so this is safe for them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
