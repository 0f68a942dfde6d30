package auditconv

import (
	"strings"
	"unicode/utf8"
)

// StoredText returns s as every store keeps text: invalid UTF-8 and NUL
// become U+FFFD (PostgreSQL text and jsonb hold no NUL). The integrity
// chain hashes text in this form, so that what a store returns verifies.
func StoredText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// AppendJSONString appends s to dst as a JSON string literal: '"' and '\\'
// escaped, \n \r \t as such, other bytes below 0x20 as \u00XX, every other
// byte as it is. It neither escapes HTML nor checks UTF-8: where the JSON
// must be valid UTF-8, pass StoredText(s). The integrity chain hashes this
// form, so a change to it is a new encoding version.
func AppendJSONString[T string | []byte](dst []byte, s T) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for start := 0; ; {
		i := nextJSONEscape(s, start)
		dst = append(dst, s[start:i]...)
		if i == len(s) {
			return append(dst, '"')
		}
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
}

// AppendJSONText appends s as stored text (StoredText) in a JSON string
// literal: the form the stores' JSON columns hold and the integrity chain
// hashes, so the two agree.
func AppendJSONText(dst []byte, s string) []byte {
	return AppendJSONString(dst, StoredText(s))
}

// nextJSONEscape returns the index of the first byte at or after i that a
// JSON string escapes, or len(s). It tests eight bytes at a time.
func nextJSONEscape[T string | []byte](s T, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		q, b := w^(ones*'"'), w^(ones*'\\')
		// A byte below 0x20, or a zero byte of q or b (a '"' or '\\').
		if ((w-ones*0x20)&^w|(q-ones)&^q|(b-ones)&^b)&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return len(s)
}
