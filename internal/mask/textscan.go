package mask

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Fast paths of the free-text walk (detect, textDetectFirst, maskURL):
// cheap tests that let it skip the work that would find nothing. Each
// is a necessary condition of what it guards, so results do not change.

// cardRun returns the end of the digit run at s[i] and whether it is a
// card number, as scanCard does. A run too short for a card, with no
// space or dash joining it to more digits, is answered without scanCard.
func cardRun(s []byte, i int) (end int, card bool) {
	j := i + 1
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j-i < 13 && (j+1 >= len(s) || s[j] != ' ' && s[j] != '-' || !isDigit(s[j+1])) {
		return j, false
	}
	return scanCard(s, i)
}

// mayStart reports whether a detector may match at s[i], a byte of class
// detStart or detDash, from the byte after it: every detector that starts
// there needs one of a few (secondBytes). It is a table and a word test,
// small enough to be inlined in detect's loop.
func mayStart(s []byte, i int) bool {
	if i+1 >= len(s) {
		return false
	}
	// A zero byte of x marks an allowed second byte (or an unused zero
	// slot matching a NUL, which only sends the word to the detectors).
	x := secondBytes[s[i]] ^ uint32(s[i+1])*0x01010101
	return (x-0x01010101)&^x&0x80808080 != 0
}

// secondBytes holds, for each byte a detector starts at but a digit, the
// bytes that may follow it, up to four: eyJ, bearer and basic in any
// case, -----, AKIA ASIA AIza, gh… and github_pat_, sk_ rk_, whsec_, xox.
var secondBytes = func() (t [256]uint32) {
	for c, next := range map[byte]string{
		'e': "y", 'B': "eEaA", 'b': "eEaA", '-': "-", 'A': "KSI",
		'g': "hi", 'w': "h", 's': "k", 'r': "k", 'x': "o",
	} {
		for k := range len(next) {
			t[c] |= uint32(next[k]) << (8 * k)
		}
	}
	return t
}()

// keysMayMask reports whether textKeys may mask something in b. It looks
// only at the marks: b must hold a tag ('<' and a letter), or a ':' or '='
// after a sensitive key. When neither is there textKeys leaves b as it
// is: without a tag or a mask its walk judges every maximal run of key
// bytes that a mark follows (after an optional quote and blanks), which
// are the runs sensitiveBefore finds, and only those.
func (m *Masker) keysMayMask(b []byte) bool {
	for p := nextMark(b, 0); p < len(b); p = nextMark(b, p+1) {
		switch b[p] {
		case '<':
			if p+1 < len(b) && isLetter(b[p+1]) {
				return true
			}
		case ':', '=':
			if m.sensitiveBefore(b, p) {
				return true
			}
		}
	}
	return false
}

// sensitiveBefore reports whether the mark at b[p] follows a sensitive key
// as textKeys reads one: key bytes, an optional quote, blanks.
func (m *Masker) sensitiveBefore(b []byte, p int) bool {
	for p > 0 && (b[p-1] == ' ' || b[p-1] == '\t') {
		p--
	}
	if p > 0 && (b[p-1] == '"' || b[p-1] == '\'') {
		p--
	}
	end := p
	for p > 0 && isKeyByte(b[p-1]) {
		p--
	}
	return p < end && m.keys.sensitive(b[p:end])
}

// nextMark returns the index of the first byte from ':' to '=' in b at or
// after j (the key marks, and ';'), or len(b) when there is none, eight
// bytes at a time.
func nextMark(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		if w := markRange(binary.LittleEndian.Uint64(b[j:])); w != 0 {
			return j + bits.TrailingZeros64(w)>>3
		}
	}
	for ; j < len(b); j++ {
		if ':' <= b[j] && b[j] <= '=' {
			return j
		}
	}
	return len(b)
}

// Classes of the bytes of a URL in text, for urlSpan.
const (
	urlEnd   = 1 + iota // a byte that ends a URL in text (endsURL)
	urlPath             // '/', which ends its authority
	urlQuery            // '?', which ends its authority and starts its query
	urlFrag             // '#', which ends its authority and starts its fragment
	urlAt               // '@', which ends userinfo in the authority
)

var urlClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if endsURL(byte(c)) {
			t[c] = urlEnd
		}
	}
	t['/'], t['?'], t['#'], t['@'] = urlPath, urlQuery, urlFrag, urlAt
	return t
}()

// urlParts are the offsets of a URL in text that maskURL needs.
type urlParts struct {
	end   int // where the URL ends
	at    int // the last '@' of the authority, or -1
	query int // the first '?', or -1
	frag  int // the first '#', or -1
}

// urlSpan finds the parts of the URL whose authority starts at s[auth], in
// one pass. The authority ends at the first '/', '?' or '#'.
func urlSpan(s []byte, auth int) urlParts {
	u := urlParts{end: auth, at: -1, query: -1, frag: -1}
	inAuth := true
	for ; u.end < len(s); u.end++ {
		for u.end < len(s) && urlClass[s[u.end]] == 0 {
			u.end++ // most bytes, in a loop of their own
		}
		if u.end == len(s) {
			break
		}
		switch urlClass[s[u.end]] {
		case urlEnd:
			return u
		case urlAt:
			if inAuth {
				u.at = u.end
			}
		case urlPath:
			inAuth = false
		case urlQuery:
			inAuth = false
			if u.query < 0 {
				u.query = u.end
			}
		case urlFrag:
			inAuth = false
			if u.frag < 0 {
				u.frag = u.end
			}
		}
	}
	return u
}

// ownedString returns b as a string without copying it. b must be a
// buffer that the masker allocated for this result and that nothing
// writes again: editor.result's copy.
func ownedString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
