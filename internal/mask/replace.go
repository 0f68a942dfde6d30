package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/otelaudit/otelaudit/auditconv"
)

// appendReplacement appends what value becomes in the masker's mode. card
// says the value is a payment card number, whose last four digits partial
// mode keeps.
func (m *Masker) appendReplacement(dst, value []byte, card bool) []byte {
	switch m.mode {
	case ModeHash:
		mac := hmac.New(sha256.New, m.hmacKey)
		mac.Write(value)
		var sum [sha256.Size]byte
		dst = append(dst, auditconv.KeyedHashPrefix...)
		return hex.AppendEncode(dst, mac.Sum(sum[:0]))
	case ModePartial:
		if card {
			dst = append(dst, m.replacement...)
			return append(dst, lastDigits(value, 4)...)
		}
	}
	return append(dst, m.replacement...)
}

// lastDigits returns the last n digits of b, in order.
func lastDigits(b []byte, n int) []byte {
	out := make([]byte, n)
	k := n
	for i := len(b) - 1; i >= 0 && k > 0; i-- {
		if isDigit(b[i]) {
			k--
			out[k] = b[i]
		}
	}
	return out[k:]
}

// alreadyMasked reports whether value is what masking produces: the
// replacement, or a keyed hash.
func (m *Masker) alreadyMasked(value []byte) bool {
	if string(value) == m.replacement {
		return true
	}
	// The length check first: only a value of a keyed hash's length is
	// converted.
	return len(value) == len(auditconv.KeyedHashPrefix)+64 && auditconv.IsKeyedHash(string(value))
}
