package mask

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestKeyWords checks the word form of short keys, which the verdict cache
// compares instead of the bytes: from a string (loads within the key) and
// from a larger buffer (loads past it), for every length it takes.
func TestKeyWords(t *testing.T) {
	const src = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for n := 0; n <= 16; n++ {
		key := src[3 : 3+n]
		var lo, hi uint64
		for i := n - 1; i >= 0; i-- {
			if i >= 8 {
				hi = hi<<8 | uint64(key[i])
			} else {
				lo = lo<<8 | uint64(key[i])
			}
		}
		if gotLo, gotHi := keyWords(bytesOf(key)); gotLo != lo || gotHi != hi {
			t.Errorf("len %d from a string: %x %x, want %x %x", n, gotLo, gotHi, lo, hi)
		}
		if gotLo, gotHi := keyWords([]byte(src)[3 : 3+n]); gotLo != lo || gotHi != hi {
			t.Errorf("len %d from a buffer: %x %x, want %x %x", n, gotLo, gotHi, lo, hi)
		}
	}
}

// TestVerdictCacheCollisions checks verdicts when many keys share slots:
// every verdict stays the rules' verdict.
func TestVerdictCacheCollisions(t *testing.T) {
	m := Default()
	var keys []string
	for i := 0; i < 5000; i++ {
		keys = append(keys, string(rune('a'+i%26))+string(rune('a'+i/26%26))+"_"+string(rune('a'+i/676%26))+"pwd"[:i%4])
	}
	for round := 0; round < 2; round++ {
		for _, k := range keys {
			if got, want := m.SensitiveKey(k), matches(&m.keys, k); got != want {
				t.Fatalf("round %d: SensitiveKey(%q) = %v, want %v", round, k, got, want)
			}
		}
	}
}

// TestNoSecretNoAllocation checks that documents without secrets are
// masked without allocating: JSON, a form and header values.
func TestNoSecretNoAllocation(t *testing.T) {
	m := Default()
	doc := bytes.ReplaceAll(benchDoc, []byte(`"password"`), []byte(`"nickname"`))
	doc = bytes.ReplaceAll(doc, []byte(`"api_key"`), []byte(`"api_ver"`))
	doc = bytes.ReplaceAll(doc, []byte(`"token"`), []byte(`"tally"`))
	form := []byte("username=alice%40example.com&remember=on&scope=openid+profile+email&screen=1920x1080&utm_source=newsletter")
	values := []string{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "en-GB,en;q=0.9", "https://app.example.com/orders?page=2"}
	m.JSON(doc) // the verdict cache learns the keys
	m.Form(form)
	m.Header("Accept", values)
	if _, n := m.JSON(doc); n != 0 {
		t.Fatalf("the document has a secret: %d", n)
	}
	for name, f := range map[string]func(){
		"JSON":   func() { m.JSON(doc) },
		"Form":   func() { m.Form(form) },
		"Header": func() { m.Header("Accept", values) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, a)
		}
	}
}

// TestShortValuesWithSecrets checks the short-string path of the JSON walk
// on values of 10 to 16 bytes that hold what a detector finds, and on
// look-alikes that hold nothing.
func TestShortValuesWithSecrets(t *testing.T) {
	m := Default()
	for _, c := range []struct{ in, want string }{
		{`{"a":"Bearer 12345678","b":1}`, `{"a":"Bearer ****","b":1}`},
		{`{"a":"x BEARER 1234-678"}`, `{"a":"x BEARER ****"}`},
		{`{"a":"Basic dXNlcjpw","b":1}`, `{"a":"Basic ****","b":1}`},
		{`{"a":"4111111111111111"}`, `{"a":"****"}`},
		{`{"a":"xoxb-1234567890"}`, `{"a":"****"}`},
		{`{"a":"see a://b?sig=1"}`, `{"a":"see a://b?sig=****"}`},
		{`{"a":"a=1;token=22"}`, `{"a":"a=1;token=****"}`},
		{`{"a":"Item number 12","b":"bear 12345678"}`, `{"a":"Item number 12","b":"bear 12345678"}`},
		{`{"a":"411111111111"}`, `{"a":"411111111111"}`},
	} {
		if got, _ := m.JSON([]byte(c.in)); string(got) != c.want {
			t.Errorf("JSON(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestConcurrentMasking masks from several goroutines with one Masker,
// whose verdict cache they share, with more keys than its slots so that
// they overwrite each other's verdicts: every result must be the one a
// Masker alone gives (run with -race).
func TestConcurrentMasking(t *testing.T) {
	shared, alone := Default(), Default()
	docs := make([][]byte, 300) // 1200 keys, 1024 slots
	for i := range docs {
		docs[i] = []byte(fmt.Sprintf(`{"k%d":1,"password_%d":"s","a%d_token":"t","key_name_%d":"n"}`, i, i, i, i))
	}
	want := make([][]byte, len(docs))
	for i, d := range docs {
		want[i], _ = alone.JSON(d)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 10; r++ {
				for i, d := range docs {
					if got, _ := shared.JSON(d); !bytes.Equal(got, want[i]) {
						errs <- fmt.Sprintf("%s: got %s, want %s", d, got, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestEqBytes checks eqBytes against a byte loop, on words with the byte
// looked for next to bytes one above and below it, where borrows would
// show.
func TestEqBytes(t *testing.T) {
	for _, c := range []byte{0, 'b', 0x7F, 0x80, 0xFF} {
		for p := 0; p < 1<<16; p++ {
			var w, want uint64
			for k := 0; k < 8; k++ {
				v := c + byte((p>>(2*k))&3) - 1 // c-1, c, c+1, c+2
				if v == c {
					want |= 1 << k
				}
				w |= uint64(v) << (8 * k)
			}
			if got := eqBytes(w, c); got != want {
				t.Fatalf("eqBytes(%#x, %#x) = %08b, want %08b", w, c, got, want)
			}
		}
	}
}

// TestMarkRange checks markRange against a byte loop on every byte value
// at every position: it marks ':' to '=' and nothing else.
func TestMarkRange(t *testing.T) {
	for c := 0; c < 256; c++ {
		for k := 0; k < 8; k++ {
			w := uint64(c)<<(8*k) | 0x4141414141414141&^(0xFF<<(8*k)) // 'A' elsewhere
			want := uint64(0)
			if ':' <= c && c <= '=' {
				want = 0x80 << (8 * k)
			}
			if got := markRange(w); got != want {
				t.Fatalf("markRange(%#x) = %#x, want %#x", w, got, want)
			}
		}
	}
}

// TestQuietStringSound checks that quietString never calls a string quiet
// when detect would mask in it or find a key mark: strings of 3 to 16 bytes
// built from the bytes the detectors start at and need, with the detectors
// on and off.
func TestQuietStringSound(t *testing.T) {
	maskers := map[bool]*Masker{true: Default(), false: mustNew(Config{Detectors: DetectNone})}
	parts := []string{"4111111111111111", "5555555555554444", "Bearer ", "basic ", "BASIC ", "b", " ", "4111", "1111", "xoxb-", "12", "ab", "Item ", ":", ";", "=", "<", "dXNl", "dXNlcjpw", "YTpi", "a://", "-", "e"}
	rng := rand.New(rand.NewPCG(1, 2))
	quiet := map[bool]int{}
	for range 200000 {
		n := 3 + rng.IntN(14)
		var s []byte
		for len(s) < n {
			s = append(s, parts[rng.IntN(len(parts))]...)
		}
		s = s[:n]
		var buf [16]byte
		copy(buf[:], s)
		lo, hi := binary.LittleEndian.Uint64(buf[:8]), binary.LittleEndian.Uint64(buf[8:])
		for detect, m := range maskers {
			if !quietString(lo, hi, n, detect) {
				continue
			}
			quiet[detect]++
			e := editor{src: s}
			if keys := m.detect(&e, 0, s, jsonInside); keys || e.count > 0 {
				t.Fatalf("quietString(%q, detect %v) = true, but detect masks %d, key mark %v", s, detect, e.count, keys)
			}
		}
	}
	if quiet[true] == 0 || quiet[false] == 0 {
		t.Fatalf("quiet strings %v: the test checks nothing for one setting", quiet)
	}
}
