package mask

import (
	"encoding/binary"
	"math/bits"
)

// Word-at-a-time helpers of the JSON walk: eight bytes tested at once in
// a uint64 instead of one by one.

// stringStop returns the index of the first '"' or '\\' in b at or after
// j, or len(b) when there is none. It reads eight bytes at a time; the
// last bytes of b, fewer than eight, are read as the word that ends b,
// with the bytes already looked at shifted out (zeros are neither byte).
func stringStop(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		w := binary.LittleEndian.Uint64(b[j:])
		if m := hasByte(w, '"') | hasByte(w, '\\'); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	if j >= len(b) {
		return len(b)
	}
	if len(b) < 8 { // too short for a word
		for j < len(b) && b[j] != '"' && b[j] != '\\' {
			j++
		}
		return j
	}
	w := binary.LittleEndian.Uint64(b[len(b)-8:]) >> (8 * (j + 8 - len(b)))
	if m := hasByte(w, '"') | hasByte(w, '\\'); m != 0 {
		return j + bits.TrailingZeros64(m)>>3
	}
	return len(b)
}

// hasByte returns a word whose lowest set bit marks the first byte of w
// equal to c (higher bits may be spurious), or 0 when there is none.
func hasByte(w uint64, c byte) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	x := w ^ (lo * uint64(c))
	return (x - lo) &^ x & hi
}

// markRange returns a word with the high bit of each byte of w from ':'
// to '=' set: the key marks, and ';', which only errs towards a scan
// where none was needed. It tests each byte without carries.
func markRange(w uint64) uint64 {
	x := w & 0x7F7F7F7F7F7F7F7F
	return (x + 0x4646464646464646) &^ (x + 0x4242424242424242) &^ w & 0x8080808080808080
}

// quietString reports, for the content of a string of 0 to 16 bytes given
// as two zero-padded words, that detect would neither mask in it nor find
// a key mark. Without detectors (detect false), or below minDetectable,
// only a key mark matters. Otherwise the detectors that fit in 16 bytes
// are a card number (13 digits or more), "Bearer " or "Basic " and a
// credential (eight or four bytes at the least), a Slack token (xox…) and
// a URL (which has a ':'); the others are longer. The test may answer
// false for a quiet string, never true for another.
func quietString(lo, hi uint64, n int, detect bool) bool {
	const lo7, hi1 = 0x7F7F7F7F7F7F7F7F, 0x8080808080808080
	if markRange(lo)|markRange(hi) != 0 {
		return false
	}
	if !detect || n < minDetectable {
		return true
	}
	if hasByte(lo, 'x')|hasByte(hi, 'x') != 0 {
		return false
	}
	if n >= 13 {
		// Per byte: at least '0' and not past '9'. Thirteen digits
		// in 16 bytes put five in lo at least: a string with fewer
		// (most) is settled without counting in hi.
		xl := lo & lo7
		d := bits.OnesCount64((xl + 0x5050505050505050) &^ (xl + 0x4646464646464646) &^ lo & hi1)
		if xh := hi & lo7; d >= 5 &&
			d+bits.OnesCount64((xh+0x5050505050505050)&^(xh+0x4646464646464646)&^hi&hi1) >= 13 {
			return false
		}
	}
	// "bearer " and "basic ": lower-cased, both start with 'b'. Most
	// strings have no 'b' in lo at all (hasByte is exact about none).
	if hasByte(lo|0x2020202020202020, 'b') == 0 {
		return true
	}
	// Their credential follows them, eight bytes at the least after
	// "bearer ", four after "basic " (scanAuthScheme), so a scheme's 'b'
	// lies at n-10 or before: in lo.
	const fold = 0x2020202020202020
	flo := lo | fold
	bs := eqHigh(flo, 'b') & (1<<(8*(n-9)) - 1) // n >= 10
	if bs == 0 {
		return true
	}
	// A scheme's 'b' is followed by a real space five or six bytes on
	// (the padding lower-cases to spaces, but is not one).
	fhi := hi | fold
	sl, sh := eqHigh(flo, ' '), eqHigh(fhi, ' ')&(1<<(8*(n-8))-1)
	if bs&(sl>>40|sh<<24|sl>>48|sh<<16) == 0 {
		return true
	}
	var buf [24]byte
	binary.LittleEndian.PutUint64(buf[:8], flo)
	binary.LittleEndian.PutUint64(buf[8:16], fhi)
	const basic, bearer = 0x206369736162, 0x20726572616562 // "basic ", "bearer " little-endian
	for b := bs >> 7 * 0x0102040810204080 >> 56; b != 0; b &= b - 1 {
		w := binary.LittleEndian.Uint64(buf[bits.TrailingZeros64(b):])
		if w&(1<<48-1) == basic || w&(1<<56-1) == bearer {
			return false
		}
	}
	return true
}

// eqHigh returns a word with the high bit of each byte of w that equals
// c set, exactly (no borrow crosses bytes).
func eqHigh(w uint64, c byte) uint64 {
	const lo7, hi1 = 0x7F7F7F7F7F7F7F7F, 0x8080808080808080
	x := w ^ (0x0101010101010101 * uint64(c))
	return ^(((x & lo7) + lo7) | x) & hi1
}

// eqBytes returns a byte with bit k set where byte k of w equals c. Unlike
// hasByte it is exact for every byte: no borrow crosses bytes.
func eqBytes(w uint64, c byte) uint64 {
	return eqHigh(w, c) >> 7 * 0x0102040810204080 >> 56
}
