package mask

import (
	"bytes"
	"unicode/utf8"
)

// JSON masks the value of every sensitive key in a JSON document, at any
// depth and whatever the value's type (a string, number, literal, object or
// array becomes the replacement string), so valid input stays valid JSON.
//
// The walker is a tolerant tokenizer, not a parser: a document cut short (a
// captured prefix) is walked as far as it goes, and a secret value cut by
// the end of the input is masked to the end. Input that is not JSON at all
// is also run through the Text patterns. Values nested deeper than the
// configured maximum depth are redacted whole.
func (m *Masker) JSON(b []byte) ([]byte, int) {
	out, n, malformed := m.json(b)
	if malformed {
		out2, n2 := m.Text(out)
		return out2, n + n2
	}
	return out, n
}

func (m *Masker) json(b []byte) (out []byte, count int, malformed bool) {
	e := editor{src: b}
	var stackBuf [32]byte
	stack := stackBuf[:0] // '{' or '[' per open container
	var keyBuf [64]byte
	var keys keyCache
	expectKey := false // inside an object, where a key comes next
	masking := false   // the next value belongs to a sensitive key

	for i := 0; i < len(b); {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '{', '[':
			if masking || len(stack) >= m.maxDepth {
				end := skipComposite(b, i)
				e.replace(i, end, m.jsonRepl)
				i, masking, expectKey = end, false, false
				continue
			}
			stack = append(stack, c)
			expectKey = c == '{'
			i++
		case '}', ']':
			open := byte('{')
			if c == ']' {
				open = '['
			}
			if len(stack) == 0 || stack[len(stack)-1] != open {
				malformed = true
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey, masking = false, false
			i++
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1] == '{'
			masking = false
			i++
		case ':':
			expectKey = false
			i++
		case '"':
			end, closed := scanString(b, i)
			switch {
			case expectKey:
				inner := b[i+1 : end]
				if closed {
					inner = b[i+1 : end-1]
				}
				if bytes.IndexByte(inner, '\\') >= 0 {
					masking = sensitive(m, unescapeJSON(keyBuf[:0], inner))
				} else {
					masking = keys.sensitive(m, inner)
				}
				expectKey = false
			case masking:
				e.replace(i, end, m.jsonRepl)
				masking = false
			}
			i = end
		default:
			// A number or literal; in an object where a key belongs, an
			// unquoted key (JavaScript-style input, not JSON).
			end := scanBare(b, i)
			switch {
			case expectKey:
				masking = sensitive(m, b[i:end])
				expectKey, malformed = false, true
			case masking:
				e.replace(i, end, m.jsonRepl)
				masking = false
			}
			if !validBare(b[i:end]) {
				malformed = true
			}
			i = end
		}
	}
	out, count = e.result()
	return out, count, malformed
}

// scanString returns the index just past the string literal starting at
// b[i] == '"', and whether it was closed before the end of b.
func scanString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); {
		// Most strings are short: a plain loop beats IndexByte's call
		// overhead for the first bytes.
		q := -1
		for k := j; k < len(b) && k < j+16; k++ {
			if b[k] == '"' {
				q = k - j
				break
			}
		}
		if q < 0 && j+16 < len(b) {
			if q = bytes.IndexByte(b[j+16:], '"'); q >= 0 {
				q += 16
			}
		}
		if q < 0 {
			return len(b), false
		}
		j += q
		// The quote is escaped when an odd number of backslashes precede it.
		bs := 0
		for k := j - 1; k > i && b[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return j + 1, true
		}
		j++
	}
	return len(b), false
}

// scanBare returns the end of the bare token (number, literal, unquoted
// word) starting at b[i]. It always advances at least one byte.
func scanBare(b []byte, i int) int {
	j := i + 1
	for j < len(b) {
		switch b[j] {
		case ' ', '\t', '\n', '\r', ',', ':', '{', '}', '[', ']', '"':
			return j
		}
		j++
	}
	return j
}

func validBare(tok []byte) bool {
	switch string(tok) {
	case "true", "false", "null":
		return true
	}
	for _, c := range tok {
		if !('0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

// skipComposite returns the index just past the object or array starting at
// b[i], or len(b) when the input ends first. It counts brackets instead of
// keeping a stack, so depth costs nothing.
func skipComposite(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
		case '"':
			end, _ := scanString(b, j)
			j = end - 1
		}
	}
	return len(b)
}

// unescapeJSON appends the decoded content of a JSON string literal (without
// its quotes) to dst. Invalid escapes are kept as they are.
func unescapeJSON(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := decodeU(s[i+1:])
			if n == 0 {
				dst = append(dst, '\\', 'u')
				continue
			}
			dst = utf8.AppendRune(dst, r)
			i += n
		default: // '"', '\\', '/' and anything unknown
			dst = append(dst, s[i])
		}
	}
	return dst
}

// decodeU decodes the hex digits (and a following low surrogate escape)
// after a `\u`, returning the rune and how many bytes it used.
func decodeU(s []byte) (rune, int) {
	r, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if 0xD800 <= r && r < 0xDC00 && len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
		if lo, ok := hex4(s[6:]); ok && 0xDC00 <= lo && lo < 0xE000 {
			return (r-0xD800)<<10 | (lo - 0xDC00) + 0x10000, 10
		}
	}
	return r, 4
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		if !ishex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// keyCache remembers the verdict on the last few keys of one document:
// arrays of objects repeat the same keys, and comparing raw bytes is cheaper
// than normalising and matching again.
type keyCache struct {
	keys [8][]byte
	hit  [8]bool
	next int
}

func (c *keyCache) sensitive(m *Masker, key []byte) bool {
	for i := range c.keys {
		if c.keys[i] != nil && string(c.keys[i]) == string(key) {
			return c.hit[i]
		}
	}
	v := sensitive(m, key)
	if len(key) <= 64 {
		c.keys[c.next], c.hit[c.next] = key, v
		c.next = (c.next + 1) % len(c.keys)
	}
	return v
}
