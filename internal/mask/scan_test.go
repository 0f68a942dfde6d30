package mask

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveStop is stringStop byte by byte.
func naiveStop(b []byte, j int) int {
	for j < len(b) && b[j] != '"' && b[j] != '\\' {
		j++
	}
	return j
}

// stopFillers are bytes that are neither '"' nor '\\' but sit next to them
// in the word tricks: their neighbours, zero, and bytes at and above 0x80
// whose low seven bits are a quote's or a backslash's.
var stopFillers = []byte{'a', 0, 0x21, 0x23, 0x5B, 0x5D, 0x1F, 0x7F, 0x80, 0xA2, 0xDC, 0xFF}

// TestStringStopEveryPosition puts a quote or a backslash at every
// position of buffers up to five words long, over every filler, and looks
// for it from every start before it: inside a word, across word
// boundaries, and in the last bytes of the buffer, which are read as the
// word that ends it. Without the byte, the scan must reach the end.
func TestStringStopEveryPosition(t *testing.T) {
	for _, fill := range stopFillers {
		for n := 0; n <= 40; n++ {
			b := make([]byte, n)
			for k := range b {
				b[k] = fill
			}
			for j := 0; j <= n; j++ {
				if got := stringStop(b, j); got != n {
					t.Fatalf("fill %#x, len %d, from %d, none: %d, want %d", fill, n, j, got, n)
				}
			}
			for _, c := range []byte{'"', '\\'} {
				for p := 0; p < n; p++ {
					b[p] = c
					for j := 0; j <= n; j++ {
						if got, want := stringStop(b, j), naiveStop(b, j); got != want {
							t.Fatalf("fill %#x, len %d, %q at %d, from %d: %d, want %d", fill, n, c, p, j, got, want)
						}
					}
					b[p] = fill
				}
			}
		}
	}
}

// TestStringStopRandom compares stringStop with the byte loop on random
// buffers that hold several quotes and backslashes, so that a later match
// in the same word must not hide the first.
func TestStringStopRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := append([]byte{'"', '\\', '"', '\\'}, stopFillers...)
	for range 20000 {
		b := make([]byte, r.IntN(48))
		for k := range b {
			if r.IntN(6) == 0 {
				b[k] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[k] = byte(r.UintN(256))
			}
		}
		j := r.IntN(len(b) + 1)
		if got, want := stringStop(b, j), naiveStop(b, j); got != want {
			t.Fatalf("%q from %d: %d, want %d", b, j, got, want)
		}
	}
}

// TestScanStringCutAtEveryOffset checks scanString on strings with
// escapes, quotes escaped and not, and bytes at and above 0x80, cut at every
// offset, against the reference's scanner: the end, whether the string
// closed, and whether it holds an escape.
func TestScanStringCutAtEveryOffset(t *testing.T) {
	docs := []string{
		`"" tail`,
		`"short"`,
		`"exactly sixteen!" x`,
		`"a string of more than sixteen bytes, no escape" x`,
		`"an escaped \" quote past the first word" x`,
		`"\\"`,
		`"ends in a backslash \\" ,`,
		`"é ü ☃ \u00e9 — \t tab and more bytes ≥ 0x80 to span words" :`,
		`"seventeen bytes!!"`,
		"\"\x80\xa2\xdc\xff\x00\x1f\x7f\x22",
	}
	for _, doc := range docs {
		for cut := 1; cut <= len(doc); cut++ {
			b := []byte(doc[:cut])
			end, closed, escaped := scanString(b, 0)
			wantEnd, wantClosed, wantEscaped := refScanString(b, 0)
			if end != wantEnd || closed != wantClosed || escaped != wantEscaped {
				t.Fatalf("%q: %d %v %v, want %d %v %v", b, end, closed, escaped, wantEnd, wantClosed, wantEscaped)
			}
		}
	}
}

// TestJSONStringsAroundSixteenBytes walks keys and values of up to 34
// bytes, on both sides of the sixteen the walk reads as two words, with an
// escaped quote or backslash at every position (so a backslash lies before
// or after the closing quote, in the same word or the next) and the
// document cut at every offset, and requires the reference's bytes and
// count: every cut under the default configuration, the whole document
// under all of them.
func TestJSONStringsAroundSixteenBytes(t *testing.T) {
	for n := 0; n <= 34; n++ {
		for p := -1; p < n; p++ {
			s := []byte(strings.Repeat("k", n))
			if p >= 0 {
				s = slices.Insert(s, p, '\\', "\"\\"[p%2])
			}
			for _, doc := range []string{
				`{"password":"` + string(s) + `","` + string(s) + `":"v"}`,
				`{"` + string(s) + `":"` + string(s) + `"}`,
				`["` + string(s) + `", 4111111111111111]`,
			} {
				for cut := 1; cut <= len(doc); cut++ {
					in := []byte(doc[:cut])
					maskers := diffMaskers[:1] // the whole document under each
					if cut == len(doc) {
						maskers = diffMaskers
					}
					for _, m := range maskers {
						got, gotN := m.JSON(in)
						want, wantN := refJSON(diffRefs[m], in, false)
						checkSame(t, "JSON", m, in, got, gotN, want, wantN)
					}
				}
			}
		}
	}
}

// TestJSONEscapedKeysInTheWords writes sensitive keys of 8 to 20 bytes
// with one byte as a \u escape, at every position: the escape lies in
// the first word or the second, before the closing quote. The walk must
// decode each key, not judge its raw bytes, and mask its value as the
// reference does.
func TestJSONEscapedKeysInTheWords(t *testing.T) {
	m := Default()
	for _, key := range []string{"password", "x_password", "user_password_hash"} {
		for p := range len(key) {
			escaped := key[:p] + fmt.Sprintf(`\u%04x`, key[p]) + key[p+1:]
			in := []byte(`{"` + escaped + `":"s3cr3t-value","n":1}`)
			got, n := m.JSON(in)
			if bytes.Contains(got, []byte("s3cr3t")) || n != 1 {
				t.Errorf("%s: %s (%d masked)", in, got, n)
			}
			want, wantN := refJSON(diffRefs[diffMaskers[0]], in, false)
			checkSame(t, "JSON", m, in, got, n, want, wantN)
		}
	}
}
