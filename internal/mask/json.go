package mask

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/auditconv"
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
func (m *Masker) JSON(b []byte) ([]byte, int) { return m.json(b, false) }

func (m *Masker) json(b []byte, inPlace bool) ([]byte, int) {
	out, n, malformed := m.walkJSON(b, inPlace)
	if malformed {
		out2, n2 := m.text(out, inPlace || n > 0) // a copy made by the walk is ours to write
		return out2, n + n2
	}
	return out, n
}

func (m *Masker) walkJSON(b []byte, inPlace bool) (out []byte, count int, malformed bool) {
	e := editor{src: b, inPlace: inPlace}
	// The depth and whether the input is malformed live in memory, not
	// in registers the loop would carry (and spill at every turn).
	st := &walkState{}
	// With its capacity cut to its length, b takes one register less in
	// the loop (a slice passed on carries the length twice).
	b = b[:len(b):len(b)]

	// The walk jumps from string to string: a string followed by ':' is a
	// key, and the value after a sensitive key is replaced whole. Between
	// strings only brackets (for the depth limit) and bare tokens (card
	// numbers, and input that is not JSON) are looked at.
walk:
	for i := 0; i < len(b); {
		c := b[i]
		if c != '"' {
			switch gapClass[c] {
			case gapSkip, gapOpen, gapClose:
				// A run of brackets, commas, colons and white space
				// ("]},{", indentation), in a loop of its own.
				for ; i < len(b); i++ {
					switch gapClass[b[i]] {
					case gapSkip:
					case gapOpen:
						if st.depth >= m.maxDepth {
							end := skipComposite(b, i)
							e.mask(m, i, end, b[i:end], false, jsonValue)
							i = end
							continue walk
						}
						st.depth++
					case gapClose:
						if st.depth == 0 {
							st.malformed = true
						} else {
							st.depth--
						}
					case gapQuote:
						goto str
					default:
						continue walk // a bare token
					}
				}
			default:
				// A number too short for a card number, in one loop
				// (jsonBare would find it valid and leave it, as it
				// does one that ends the input).
				if j := i; c-'0' < 10 {
					for j++; j < len(b) && bareClass[b[j]] == 1; j++ {
					}
					if j-i < 13 && j < len(b) && bareClass[b[j]] == 0 {
						i = j
						if b[i] == ',' {
							i++
							if i < len(b) && b[i] == '"' {
								goto str
							}
						}
						continue
					}
				}
				var bad bool
				i, bad = m.jsonBare(&e, b, i)
				st.malformed = st.malformed || bad
			}
			continue
		}

		// A string. The strings that follow one another (a key and
		// its value, the items of a list) and the keys after a bracket
		// or a number come here straight, without the dispatch above.
	str:
		if len(b)-i >= 17 {
			// Most keys and many values close within sixteen bytes,
			// without an escape: they are read as two words, the key's
			// verdict looked up from them, a value checked in them.
			w := (*[17]byte)(b[i:]) // read without bounds checks
			lo := binary.LittleEndian.Uint64(w[1:9])
			hi := binary.LittleEndian.Uint64(w[9:17])
			// n is the content's length when the string closes in
			// the words without an escape, else -1. It is found from
			// the quotes alone, the next string's start waiting on
			// it; the backslashes are only checked to lie past the
			// quote (hasByte marks none below its first match).
			// (Written here: a function this size is not inlined, and
			// every string passes here.) The words are cut to the
			// content with the quote's bit: q&-q is the high bit of
			// its byte, q&-q>>7-1 the bytes below (no variable shift).
			n := -1
			if q := hasByte(lo, '"'); q != 0 {
				if q &= -q; hasByte(lo, '\\')&(q-1) == 0 {
					n = bits.TrailingZeros64(q) >> 3
					lo, hi = lo&(q>>7-1), 0
				}
			} else if hasByte(lo, '\\') == 0 {
				if q := hasByte(hi, '"') & -hasByte(hi, '"'); q != 0 && hasByte(hi, '\\')&(q-1) == 0 {
					n = 8 + bits.TrailingZeros64(q)>>3
					hi &= q>>7 - 1
				}
			}
			if n >= 0 {
				end := i + n + 2
				j := end
				for j < len(b) && isSpace(b[j]) {
					j++
				}
				if j < len(b) && b[j] == ':' {
					// The verdict cache's first slot, looked at here
					// without a call (sensitiveWords, by hand).
					h := (lo ^ bits.RotateLeft64(hi, 29) ^ uint64(n)) * 0x9E3779B97F4A7C15
					v := m.keys.verdicts.load(h >> 54)
					hit := false
					if v != nil && v.lo == lo && v.hi == hi && len(v.key) == n {
						hit = v.hit
					} else {
						hit = m.keys.verdicts.others(&m.keys, b[i+1:end-1], lo, hi, h>>54)
					}
					if !hit {
						i = j + 1
						continue
					}
					var bad bool
					i, bad = m.jsonSecret(&e, b, j+1)
					st.malformed = st.malformed || bad
					continue
				}
				if n >= 3 && !quietString(lo, hi, n, m.detectors != 0) {
					m.jsonStringValue(&e, b, i, end, true, false)
				}
				i = end
				if i < len(b) && b[i] == ',' { // the usual next byte, skipped here
					i++
					if i < len(b) && b[i] == '"' {
						goto str
					}
				}
				continue
			}
		}
		var bad bool
		i, bad = m.jsonString(&e, b, i)
		st.malformed = st.malformed || bad
	}
	out, count = e.result()
	return out, count, st.malformed
}

// jsonString handles the string at b[i] that the walk's fast path left (a
// long one, one with an escape, one cut by the end of the input): a key,
// and the value of a sensitive one, or a value. It returns where the walk
// goes on, and whether a sensitive key has no value. (Out of the walk's
// loop, its calls do not make the loop keep its state on the stack.)
func (m *Masker) jsonString(e *editor, b []byte, i int) (int, bool) {
	end, closed, escaped := scanString(b, i)
	j := end
	if j < len(b) && b[j] != ':' && isSpace(b[j]) {
		for j < len(b) && isSpace(b[j]) {
			j++
		}
	}
	if !closed || j >= len(b) || b[j] != ':' {
		// A value, or a key cut by the end of the input.
		if escaped || !m.plainString(b[i+1:end-btoi(closed)]) {
			m.jsonStringValue(e, b, i, end, closed, escaped)
		}
		return end, false
	}
	if !m.jsonKey(b[i+1:end-1], escaped) {
		return j + 1, false
	}
	return m.jsonSecret(e, b, j+1)
}

// walkState is the JSON walk's state besides its position.
type walkState struct {
	depth     int
	malformed bool
}

// plainString reports, for the content of a string value without escapes,
// what detect would: that no detector can match in it and that it has no
// key/value pattern for the text walker. It settles short strings without
// a call.
func (m *Masker) plainString(s []byte) bool {
	if len(s) >= minDetectable && m.detectors != 0 {
		return false
	}
	return !mayHoldKeys(s)
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

// jsonKey reports whether the key whose content (without quotes) is k
// is sensitive.
func (m *Masker) jsonKey(k []byte, escaped bool) bool {
	if escaped {
		var keyBuf [64]byte
		return matches(&m.keys, unescapeJSON(keyBuf[:0], k))
	}
	return m.keys.sensitive(k)
}

// jsonBare handles the bare token at b[i] (a number, a literal, or a word
// of input that is not JSON): a card number is masked. It returns where
// the walk goes on and whether the token is not JSON.
func (m *Masker) jsonBare(e *editor, b []byte, i int) (int, bool) {
	end, valid := scanBareValid(b, i)
	if !valid {
		return end, true
	}
	if m.detectors&DetectCreditCard != 0 && end-i >= 13 {
		if cardEnd, card := scanCard(b[:end], i); card && cardEnd == end {
			e.mask(m, i, end, b[i:end], true, jsonValue)
		}
	}
	return end, false
}

// jsonSecret masks the value of a sensitive key, which starts after white
// space at b[i]. It returns where the walk goes on, and whether the key has
// no value.
func (m *Masker) jsonSecret(e *editor, b []byte, i int) (int, bool) {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) {
		return i, false
	}
	var vend int
	var value []byte
	switch b[i] {
	case '"':
		vend, _, _ = scanString(b, i)
		value = b[i+1 : vend]
		if vend-i >= 2 && b[vend-1] == '"' {
			value = b[i+1 : vend-1]
		}
	case '{', '[':
		vend = skipComposite(b, i)
		value = b[i:vend]
	case ',', '}', ']', ':':
		return i, true // a key without a value
	default:
		vend = scanBare(b, i)
		value = b[i:vend]
	}
	e.mask(m, i, vend, value, false, jsonValue)
	return vend, false
}

// jsonStringValue masks inside the string value b[i:end]: a string that
// holds JSON is masked as JSON, one that may hold key/value text (a form,
// a URL, `key: value`, XML, a GraphQL query) as text, any other runs
// through the detectors.
func (m *Masker) jsonStringValue(e *editor, b []byte, i, end int, closed, escaped bool) {
	contentEnd := end
	if closed {
		contentEnd = end - 1
	}
	content := b[i+1 : contentEnd]
	if !escaped {
		// The detectors first: they tell in the same pass whether text
		// patterns may apply.
		outPos := i + 1 // where the content starts in e.out
		if e.out != nil {
			outPos = len(e.out) + i + 1 - e.last
		}
		count := e.count
		if !m.detect(e, i+1, content, jsonInside) || len(content) < 3 {
			return
		}
		if e.count > count {
			m.jsonStringAgain(e, b, i, contentEnd, outPos)
			return
		}
	}
	src := content
	if escaped {
		src = unescapeJSON(nil, content)
	}
	var masked []byte
	var n int
	switch k := firstNonSpace(src); {
	case k < len(src) && (src[k] == '{' || src[k] == '['):
		masked, n = m.json(src, escaped) // a decoded copy is ours to write
	case escaped && !mayHoldKeys(src):
		m.detect(e, i+1, content, jsonInside)
		return
	default:
		masked, n = m.text(src, escaped)
	}
	if n == 0 {
		return
	}
	lit := auditconv.AppendJSONString(nil, masked)
	if !closed {
		lit = lit[:len(lit)-1]
	}
	e.replace(i, end, lit)
	e.count += n - 1
}

// jsonStringAgain runs the text patterns over the string value whose
// content b[i+1:contentEnd] the detectors have just masked in e (its
// masked form starts at e.out[outPos:]), and replaces the whole string
// with the result. It is the rare case of a string that holds both a
// detected secret and a key/value pattern.
func (m *Masker) jsonStringAgain(e *editor, b []byte, i, contentEnd, outPos int) {
	masked := unescapeJSON(nil, e.out[outPos:]) // only the replacements were escaped
	masked = append(masked, b[e.last:contentEnd]...)
	out, n := m.text(masked, true)
	if n == 0 {
		return // nothing more: the detectors' work stands
	}
	lit := auditconv.AppendJSONString(nil, out)
	lit = lit[1 : len(lit)-1]
	e.out, e.last = e.out[:outPos], i+1
	e.replace(i+1, contentEnd, lit)
	e.count += n - 1
}

// mayHoldKeys reports whether s may hold a key and its value as text: it
// has a '=', ':' or '<'. The check keeps plain strings (names, ids, prose)
// on the detectors' fast path.
func mayHoldKeys(s []byte) bool {
	if len(s) < 3 { // the shortest pattern is "k=v"
		return false
	}
	for _, c := range s {
		if keyMark[c] {
			return true
		}
	}
	return false
}

// keyMark marks the bytes that can separate a key from its value in text.
var keyMark = [256]bool{'=': true, ':': true, '<': true}

func firstNonSpace(s []byte) int {
	k := 0
	for k < len(s) && isSpace(s[k]) {
		k++
	}
	return k
}

// Classes of the bytes between strings, so that the walk dispatches on a
// table rather than a chain of comparisons.
const (
	gapBare  = iota // starts a bare token
	gapSkip         // white space, ',' and ':'
	gapOpen         // '{' and '['
	gapClose        // '}' and ']'
	gapQuote        // starts a string
)

var gapClass = func() (t [256]uint8) {
	for _, c := range " \t\n\r,:" {
		t[c] = gapSkip
	}
	t['{'], t['['] = gapOpen, gapOpen
	t['}'], t[']'] = gapClose, gapClose
	t['"'] = gapQuote
	return t
}()

// isSpace reports JSON white space; one comparison settles most bytes.
func isSpace(c byte) bool {
	return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r')
}

// scanString returns the index just past the string literal starting at
// b[i] == '"', whether it was closed before the end of b, and whether it
// holds an escape. It looks at eight bytes at a time.
func scanString(b []byte, i int) (end int, closed, escaped bool) {
	j := i + 1
	for {
		j = stringStop(b, j)
		switch {
		case j >= len(b):
			return len(b), false, escaped
		case b[j] == '"':
			return j + 1, true, escaped
		}
		escaped = true
		j += 2 // the backslash and the byte it escapes
		if j > len(b) {
			return len(b), false, true
		}
	}
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
			end, _, _ := scanString(b, j)
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

// scanBareValid scans the bare token at b[i] like scanBare and reports
// whether it is a JSON number or literal.
func scanBareValid(b []byte, i int) (int, bool) {
	valid := true
	j := i
	switch b[i] {
	case 't', 'f', 'n':
		end := scanBare(b, i)
		tok := b[i:end] // compared without a conversion, which could allocate
		return end, string(tok) == "true" || string(tok) == "false" || string(tok) == "null"
	}
	for ; j < len(b); j++ {
		c := b[j]
		if bareClass[c] == 0 {
			break
		}
		if bareClass[c] == 2 {
			valid = false
		}
	}
	if j == i {
		j++
		valid = false
	}
	return j, valid
}

// bareClass: 0 ends a bare token, 1 is a number character, 2 any other
// character of a bare token.
var bareClass = func() (t [256]byte) {
	for c := range t {
		t[c] = 2
	}
	for _, c := range " \t\n\r,:{}[]\"" {
		t[c] = 0
	}
	for _, c := range "0123456789+-.eE" {
		t[c] = 1
	}
	return t
}()
