package audithttp

import (
	"math/rand/v2"
	"time"
)

// newRecordID returns a UUIDv7 (RFC 9562) for a request started at t: 48
// bits of Unix milliseconds, 12 bits of sub-millisecond time (the RFC's
// method 3, so one process's ids sort by start time) and 62 random bits
// from the runtime's ChaCha8 generator, which the OS seeds. It is built on
// the stack: the string is its only allocation.
func newRecordID(t time.Time) string {
	ns := t.UnixNano()
	ms := uint64(ns / 1e6)
	sub := uint64(ns%1e6) * 4096 / 1e6
	hi := ms<<16 | 0x7000 | sub                 // time, version 7, sub-ms time
	lo := rand.Uint64()>>2 | 0x8000000000000000 // variant 10, random
	var b [36]byte
	putHex(b[0:8], hi>>32)
	b[8] = '-'
	putHex(b[9:13], hi>>16)
	b[13] = '-'
	putHex(b[14:18], hi)
	b[18] = '-'
	putHex(b[19:23], lo>>48)
	b[23] = '-'
	putHex(b[24:36], lo)
	return string(b[:])
}

// putHex writes the low 4*len(dst) bits of v as lower-case hex.
func putHex(dst []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = digits[v&0xF]
		v >>= 4
	}
}
