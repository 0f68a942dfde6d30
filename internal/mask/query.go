package mask

import (
	"encoding/binary"
	"math/bits"
)

// Query masks a raw URL query string: the value of every pair whose key is
// sensitive is replaced, every other byte is kept (keys, order, repeated
// keys, encoding). Keys are percent-decoded before matching, so "pass%77ord"
// is "password".
func (m *Masker) Query(raw string) (string, int) {
	out, n := m.pairs(bytesOf(raw), false)
	if n == 0 {
		return raw, 0
	}
	return ownedString(out), n // the editor's copy
}

// Form masks an application/x-www-form-urlencoded body like Query.
func (m *Masker) Form(b []byte) ([]byte, int) { return m.pairs(b, false) }

func (m *Masker) pairs(b []byte, inPlace bool) ([]byte, int) {
	e := editor{src: b, inPlace: inPlace}
	m.pairsInto(&e, 0, b, raw)
	return e.result()
}

// pairsInto masks the pairs of s, which is e.src[base:base+len(s)]. Pairs
// are separated by '&' or ';' (the separator of older forms and of matrix
// parameters).
func (m *Masker) pairsInto(e *editor, base int, s []byte, q quoting) {
	var buf [64]byte
	for start := 0; start < len(s); {
		// One pass over the key finds its end and whether it is escaped.
		eq, escaped := keyEnd(s, start)
		if eq >= len(s) || s[eq] != '=' {
			start = eq + 1 // a pair without a value
			continue
		}
		end := valueEnd(s, eq+1)
		value := s[eq+1 : end]
		switch {
		case len(value) == 0:
		case m.queryKeySensitive(buf[:0], s[start:eq], escaped):
			e.mask(m, base+eq+1, base+end, value, false, q)
		case len(value) >= minDetectable && m.detectors != 0:
			// Shorter values: detect would only look for key marks.
			m.detect(e, base+eq+1, value, q)
		}
		start = end + 1
	}
}

// keyEnd returns the index of the first '&', ';' or '=' in s at or after
// i, or len(s), and whether a '%' or '+' comes before it: where a pair's
// key ends and whether it is escaped. It reads eight bytes at a time
// while eight remain.
func keyEnd(s []byte, i int) (end int, escaped bool) {
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(s[i:])
		// The lowest bit of each hasByte marks a byte that is there;
		// the bits above it may not, but then one below them is.
		esc := hasByte(w, '%') | hasByte(w, '+')
		if stop := hasByte(w, '&') | hasByte(w, ';') | hasByte(w, '='); stop != 0 {
			k := bits.TrailingZeros64(stop)
			return i + k>>3, escaped || esc&(1<<k-1) != 0
		}
		escaped = escaped || esc != 0
	}
	for ; i < len(s); i++ {
		switch pairClass[s[i]] {
		case pairEscape:
			escaped = true
		case pairEnd, pairEquals:
			return i, escaped
		}
	}
	return len(s), escaped
}

// valueEnd returns the index of the first '&' or ';' in s at or after i,
// or len(s): where a pair's value ends. It reads eight bytes at a time
// while eight remain.
func valueEnd(s []byte, i int) int {
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(s[i:])
		if stop := hasByte(w, '&') | hasByte(w, ';'); stop != 0 {
			return i + bits.TrailingZeros64(stop)>>3
		}
	}
	for i < len(s) && pairClass[s[i]] != pairEnd {
		i++
	}
	return i
}

// Classes of the bytes of a pair, for the one-pass scan of pairsInto.
const (
	pairEnd    = 1 + iota // '&' and ';'
	pairEquals            // '='
	pairEscape            // '%' and '+'
)

var pairClass = [256]uint8{'&': pairEnd, ';': pairEnd, '=': pairEquals, '%': pairEscape, '+': pairEscape}

// queryKeySensitive reports whether a raw query key is sensitive once
// decoded; keys without escapes, nearly all of them, go through the
// verdict cache.
func (m *Masker) queryKeySensitive(buf, key []byte, escaped bool) bool {
	if escaped {
		return matches(&m.keys, unescapeQuery(buf, key))
	}
	return m.keys.sensitive(key)
}

// unescapeQuery appends the percent-decoded form of s to dst ('+' is a
// space). Malformed escapes are kept as they are.
func unescapeQuery(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
