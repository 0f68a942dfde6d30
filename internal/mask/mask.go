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
package mask

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unsafe"
)

// RulesVersion names the default rule set (DefaultSensitiveKeys,
// DefaultExactKeys, DefaultWordKeys, DefaultQueryKeys and the detectors)
// that docs/masking.md publishes with the reason for every entry.
const RulesVersion = "2"

// DefaultSensitiveKeys are the substring terms matched against normalised
// keys unless Config.ReplaceDefaultKeys is set: distinctive words that do
// not occur inside ordinary words.
var DefaultSensitiveKeys = []string{
	"password", "passwd", "passphrase", "passcode", "secret", "token", "apikey", "accesskey",
	"authorization", "authkey", "cookie", "credential", "privatekey", "sessionid", "sessionkey",
}

// DefaultExactKeys are the terms that a normalised key must equal to be
// sensitive: short or ambiguous words that as substrings would mask
// look-alikes ("access" in access_level, "code" in country_code, "key" in
// keyboard, "session" in session_count).
var DefaultExactKeys = []string{
	"access", "refresh", "session", "sid", "auth", "key", "code", "csrf", "xsrf", "jwt", "bearer", "cvc",
}

// DefaultWordKeys are the terms that the whole key or its last word must
// equal: short words for passwords and one-time codes that services
// qualify with a prefix (db_pass, userPwd, sms_otp) but that as substrings
// would mask look-alikes (passenger, compass, spinner).
var DefaultWordKeys = []string{"pwd", "pw", "pass", "pin", "otp", "cvv", "ssn"}

// DefaultQueryKeys are exact terms from signed URLs: the query keys
// OpenTelemetry's semantic conventions redact from url.query by default,
// and the signature keys of AWS SigV4, Google Cloud Storage and OAuth 1
// (X-Amz-Credential, X-Amz-Security-Token, AWSAccessKeyId and
// X-Goog-Credential are caught by the substring terms). They apply to
// every key, not only in queries.
var DefaultQueryKeys = []string{"sig", "signature", "xamzsignature", "xgoogsignature", "oauthsignature"}

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
	substr      [][]byte
	byFirst     [256][][]byte // substring terms indexed by their first byte
	exact       [][]byte
	words       [][]byte
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
	substr, exact, words := cfg.SensitiveKeys, cfg.ExactKeys, cfg.WordKeys
	if !cfg.ReplaceDefaultKeys {
		substr = slices.Concat(DefaultSensitiveKeys, substr)
		exact = slices.Concat(DefaultExactKeys, DefaultQueryKeys, exact)
		words = slices.Concat(DefaultWordKeys, words)
	}
	removed := map[string]bool{}
	for _, t := range cfg.RemoveKeys {
		n := string(normalize(nil, t))
		if n == "" {
			return nil, fmt.Errorf("mask: remove key %q: empty after normalisation", t)
		}
		removed[n] = false
	}
	var err error
	if m.substr, err = terms("sensitive key", substr, removed); err != nil {
		return nil, err
	}
	if m.exact, err = terms("exact key", exact, removed); err != nil {
		return nil, err
	}
	if m.words, err = terms("word key", words, removed); err != nil {
		return nil, err
	}
	for _, t := range cfg.RemoveKeys {
		if !removed[string(normalize(nil, t))] {
			return nil, fmt.Errorf("mask: remove key %q: not a term of the rule set", t)
		}
	}
	for _, t := range m.substr {
		m.byFirst[t[0]] = append(m.byFirst[t[0]], t)
	}
	if len(m.substr) == 0 && len(m.exact) == 0 && len(m.words) == 0 {
		return nil, errors.New("mask: no sensitive keys: replace_default_keys needs at least one key of its own")
	}
	if m.mode != ModeHash {
		quoted := appendJSONString(nil, m.replacement)
		m.fixed = [3][]byte{raw: []byte(m.replacement), jsonValue: quoted, jsonInside: quoted[1 : len(quoted)-1]}
	}
	return m, nil
}

// terms normalises list, drops duplicates and the terms in removed (marking
// them found there).
func terms(what string, list []string, removed map[string]bool) ([][]byte, error) {
	var out [][]byte
	for _, t := range list {
		n := normalize(nil, t)
		if len(n) == 0 {
			return nil, fmt.Errorf("mask: %s %q: empty after normalisation", what, t)
		}
		if _, ok := removed[string(n)]; ok {
			removed[string(n)] = true
			continue
		}
		if !slices.ContainsFunc(out, func(e []byte) bool { return string(e) == string(n) }) {
			out = append(out, n)
		}
	}
	return out, nil
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
	if len(key) > 2 && (key[0] == 'x' || key[0] == 'X') && (key[1] == '-' || key[1] == '_') {
		// X-Auth, X-Session: the experimental prefix of headers and
		// parameters does not make an exact word less of a secret.
		for _, e := range m.exact {
			if string(e) == string(n[1:]) {
				return true
			}
		}
	}
	if len(m.words) > 0 {
		var wbuf [32]byte
		w := normalize(wbuf[:0], key[lastWord(key):])
		for _, e := range m.words {
			if string(e) == string(w) || string(e) == string(n) {
				return true
			}
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

// lastWord returns the index at which the last word of key starts: words
// are separated by '-', '_', '.', spaces and case changes ("userPwd",
// "DB_PASS", "XMLPass").
func lastWord[T string | []byte](key T) int {
	end := len(key)
	for end > 0 && isSep(key[end-1]) {
		end--
	}
	for i := end - 1; i > 0; i-- {
		c, p := key[i], key[i-1]
		switch {
		case isSep(p):
			return i
		case isUpper(c) && !isUpper(p) && !isSep(p):
			return i // userPwd
		case isUpper(c) && isUpper(p) && i+1 < end && isLower(key[i+1]):
			return i // XMLPass
		}
	}
	return 0
}

func isSep(c byte) bool   { return c == '-' || c == '_' || c == '.' || c == ' ' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

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
		mv, n := m.Free(v)
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
