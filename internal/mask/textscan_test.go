package mask

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// secretsByStart are strings each detector but the card one matches at
// their first byte, every token prefix and both auth schemes in each case
// of their second letter among them.
func secretsByStart() []string {
	out := []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
		"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
		"AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "AIzaSyA-1234567890abcdefghijklmnopqrstu",
	}
	for _, b := range "Bb" {
		for _, e := range "eE" {
			out = append(out, string(b)+string(e)+"arer abc.def-123")
		}
		for _, a := range "aA" {
			out = append(out, string(b)+string(a)+"sic dXNlcjpwYXNz")
		}
	}
	for _, p := range tokenPrefixes {
		out = append(out, p.prefix+strings.Repeat("a1", 20))
	}
	return out
}

// TestMayStartExact checks mayStart on every pair of a byte a detector
// starts at and a byte after it: true where a secret starts with the
// pair, false elsewhere (but after a NUL, which only costs a scan).
func TestMayStartExact(t *testing.T) {
	want := map[[2]byte]bool{}
	for _, s := range secretsByStart() {
		b := []byte(s)
		if _, end, _ := scanSecret(b, 0, AllDetectors); end == 0 {
			t.Fatalf("%q is no secret", s)
		}
		want[[2]byte{b[0], b[1]}] = true
	}
	for _, c := range []byte("eBbAgsrwx-") {
		for c1 := 1; c1 < 256; c1++ {
			if got := mayStart([]byte{c, byte(c1)}, 0); got != want[[2]byte{c, byte(c1)}] {
				t.Errorf("mayStart(%q) = %v", []byte{c, byte(c1)}, got)
			}
		}
		if mayStart([]byte{c}, 0) {
			t.Errorf("mayStart(%q) at the end of the string", c)
		}
	}
}

// TestCardRunMatchesScanCard checks cardRun against scanCard at every
// digit of strings made of digits, spaces and dashes around the card
// lengths, and after a letter.
func TestCardRunMatchesScanCard(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("0123456789      ----ab")
	for n := 0; n < 20000; n++ {
		s := make([]byte, 1+r.IntN(40))
		for k := range s {
			s[k] = alphabet[r.IntN(len(alphabet))]
		}
		if n%3 == 0 { // a Luhn-valid card somewhere
			copy(s[r.IntN(len(s)):], "4111 1111-1111 1111 ")
		}
		for i := range s {
			if !isDigit(s[i]) {
				continue
			}
			gotEnd, gotCard := cardRun(s, i)
			wantEnd, wantCard := scanCard(s, i)
			if gotEnd != wantEnd || gotCard != wantCard {
				t.Fatalf("cardRun(%q, %d) = %d %v, scanCard %d %v", s, i, gotEnd, gotCard, wantEnd, wantCard)
			}
		}
	}
	for _, s := range []string{"4111111111111111", "411111111111", "4222222222222", "4222222222222x", "12 4111111111111111", "1-2", "1 2 3 4 5 6 7 8 9 0 1 2 3"} {
		end, card := cardRun([]byte(s), 0)
		wantEnd, wantCard := scanCard([]byte(s), 0)
		if end != wantEnd || card != wantCard {
			t.Errorf("cardRun(%q) = %d %v, scanCard %d %v", s, end, card, wantEnd, wantCard)
		}
	}
}

// TestNextMark checks nextMark with each byte value at every position of
// strings around the eight-byte boundaries, from every start.
func TestNextMark(t *testing.T) {
	for n := 1; n <= 24; n++ {
		for p := 0; p < n; p++ {
			for c := 0; c < 256; c++ {
				b := bytes.Repeat([]byte("a"), n)
				b[p] = byte(c)
				for j := 0; j <= n; j++ {
					want := n
					if p >= j && ':' <= c && c <= '=' {
						want = p
					}
					if got := nextMark(b, j); got != want {
						t.Fatalf("nextMark(%q, %d) = %d, want %d", b, j, got, want)
					}
				}
			}
		}
	}
}

// TestKeysMayMask checks that keysMayMask answers true wherever textKeys
// masks, and on the shapes of key textKeys reads (quotes, blanks, a tag);
// and false on text whose marks follow no sensitive key.
func TestKeysMayMask(t *testing.T) {
	m := Default()
	for _, s := range []string{
		"password=x", "a b token: y", `"secret" : "z"`, "'pwd'\t=v", "x <p>1</p>", "<a:pin>1</a:pin>",
		"q=1;api_key=2", "pass-word.x=1", "en;q=0.9, auth=1",
	} {
		if !m.keysMayMask([]byte(s)) {
			t.Errorf("keysMayMask(%q) = false", s)
		}
	}
	for _, s := range []string{
		"en-GB,en;q=0.9", "https://app.example.com/orders?page=2", "a < b", "password \"=x", "password ' =x",
		"token", "x: 1, y = 2", "1<2",
	} {
		if m.keysMayMask([]byte(s)) {
			t.Errorf("keysMayMask(%q) = true", s)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	words := []string{"password", "token", "a", "key", "x.y", " ", "\t", "\"", "'", ":", "=", "<", "<b>", ";", "\n", "pin", "-"}
	for n := 0; n < 50000; n++ {
		var b []byte
		for k := r.IntN(8); k >= 0; k-- {
			b = append(b, words[r.IntN(len(words))]...)
		}
		if _, masked := m.textKeys(b, false); masked > 0 && !m.keysMayMask(b) {
			t.Fatalf("textKeys masks %q, keysMayMask says it may not", b)
		}
	}
}

// naiveURL is urlSpan by the searches maskURL made before.
func naiveURL(s []byte, auth int) urlParts {
	u := urlParts{end: auth, at: -1, query: -1, frag: -1}
	for u.end < len(s) && !endsURL(s[u.end]) {
		u.end++
	}
	authEnd := auth
	for authEnd < u.end && s[authEnd] != '/' && s[authEnd] != '?' && s[authEnd] != '#' {
		authEnd++
	}
	if at := bytes.LastIndexByte(s[auth:authEnd], '@'); at >= 0 {
		u.at = auth + at
	}
	if k := bytes.IndexByte(s[auth:u.end], '?'); k >= 0 {
		u.query = auth + k
	}
	if k := bytes.IndexByte(s[auth:u.end], '#'); k >= 0 {
		u.frag = auth + k
	}
	return u
}

// TestURLSpan checks urlSpan against naiveURL on random strings of the
// bytes that matter to it.
func TestURLSpan(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("ab:@/?#@ \"<|^")
	for n := 0; n < 50000; n++ {
		s := make([]byte, r.IntN(20))
		for k := range s {
			s[k] = alphabet[r.IntN(len(alphabet))]
		}
		for auth := 0; auth <= len(s); auth++ {
			if got, want := urlSpan(s, auth), naiveURL(s, auth); got != want {
				t.Fatalf("urlSpan(%q, %d) = %+v, want %+v", s, auth, got, want)
			}
		}
	}
}

// TestPairScans checks keyEnd and valueEnd with each byte that matters to
// them, and a second one, at every position of strings around the
// eight-byte boundaries, from every start.
func TestPairScans(t *testing.T) {
	special := []byte("&;=%+a")
	for n := 1; n <= 20; n++ {
		for p := 0; p < n; p++ {
			for q := p; q < n; q++ {
				for _, c := range special {
					for _, d := range special {
						b := bytes.Repeat([]byte("x"), n)
						b[q] = d
						b[p] = c
						for j := 0; j <= n; j++ {
							checkPairScans(t, b, j)
						}
					}
				}
			}
		}
	}
}

func checkPairScans(t *testing.T, b []byte, j int) {
	t.Helper()
	wantKey, wantEsc := len(b), false
	for k := j; k < len(b); k++ {
		if c := b[k]; c == '&' || c == ';' || c == '=' {
			wantKey = k
			break
		}
		if b[k] == '%' || b[k] == '+' {
			wantEsc = true
		}
	}
	if got, esc := keyEnd(b, j); got != wantKey || esc != wantEsc {
		t.Fatalf("keyEnd(%q, %d) = %d %v, want %d %v", b, j, got, esc, wantKey, wantEsc)
	}
	wantValue := len(b)
	if k := bytes.IndexAny(b[j:], "&;"); k >= 0 {
		wantValue = j + k
	}
	if got := valueEnd(b, j); got != wantValue {
		t.Fatalf("valueEnd(%q, %d) = %d, want %d", b, j, got, wantValue)
	}
}

// TestMaskedStringsOwnTheirBytes checks that the strings Free, String and
// Query return when they mask share no memory with their input, which
// ownedString relies on: the input is overwritten afterwards.
func TestMaskedStringsOwnTheirBytes(t *testing.T) {
	m := Default()
	for _, c := range []struct {
		f       func(string) (string, int)
		in, out string
	}{
		{m.Free, "token=abc 4111111111111111", "token=**** ****"},
		{m.String, "card 4111111111111111", "card ****"},
		{m.Query, "page=1&api_key=abc", "page=1&api_key=****"},
	} {
		buf := []byte(c.in)
		got, _ := c.f(unsafe.String(&buf[0], len(buf)))
		for k := range buf {
			buf[k] = '#'
		}
		if got != c.out {
			t.Errorf("%q masked to %q, want %q", c.in, got, c.out)
		}
	}
}
