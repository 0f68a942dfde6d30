package mask

import (
	"strings"
	"testing"
)

func TestDetectors(t *testing.T) {
	m := Default()
	cases := []struct{ in, want string }{
		// Cards: Luhn-valid numbers, grouped or not; invalid ones and ids stay.
		{"card 4111111111111111 ok", "card **** ok"},
		{"card 4111 1111 1111 1111.", "card ****."},
		{"card 5500-0000-0000-0004", "card ****"},
		{"amex 378282246310005", "amex ****"},
		{"not luhn 4111111111111112", "not luhn 4111111111111112"},
		{"order 1234567890123456789012", "order 1234567890123456789012"},
		{"id x4111111111111111", "id x4111111111111111"},
		{"date 2026-11-27 12:00:00", "date 2026-11-27 12:00:00"},
		// JWT
		{"t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig-nature_x", "t=****"},
		{"eyJhbGciOiJIUzI1NiJ9 alone", "eyJhbGciOiJIUzI1NiJ9 alone"},
		// Bearer / Basic: the credential only, not prose
		{"Authorization: Bearer abc.def-123", "Authorization: Bearer ****"},
		{"bearer    tok_9f8e7d6c5b", "bearer    ****"},
		{"the bearer of bad news", "the bearer of bad news"},
		{"bearer authentication", "bearer authentication"},
		{"Basic dXNlcjpwYXNz", "Basic ****"},
		{"a basic example", "a basic example"},
		// AWS, PEM, tokens
		{"key AKIAIOSFODNN7EXAMPLE end", "key **** end"},
		{"AKIAIOSFODNN7EXAMPLEX", "AKIAIOSFODNN7EXAMPLEX"},
		{"x -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- y", "x **** y"},
		{"-----BEGIN PRIVATE KEY-----\nMIIEvQ cut", "****"},
		{"key:abc-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----", "key:abc****"},
		{"-----BEGIN CERTIFICATE-----\nMIIB", "-----BEGIN CERTIFICATE-----\nMIIB"},
		{"gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh ****"},
		{"github_pat_11ABCDEFG0123456789_abcdefghijkl", "****"},
		{"sk_live_4eC39HqLyjWDarjtT1zdp7dc", "****"},
		{"xoxb-1234567890-abcdefghij", "****"},
		{"AIzaSyA-1234567890abcdefghijklmnopqrstu", "****"},
		{"skeleton sk_ live", "skeleton sk_ live"},
	}
	for _, c := range cases {
		if got, _ := m.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDetectorsCanBeSwitchedOff(t *testing.T) {
	in := "4111111111111111 Bearer abc.def-123 AKIAIOSFODNN7EXAMPLE"
	m, _ := New(Config{Detectors: DetectNone})
	if got, n := m.String(in); got != in || n != 0 {
		t.Errorf("DetectNone masked %q", got)
	}
	m, _ = New(Config{Detectors: DetectCreditCard})
	if got, _ := m.String(in); got != "**** Bearer abc.def-123 AKIAIOSFODNN7EXAMPLE" {
		t.Errorf("only cards: %q", got)
	}
}

func TestModes(t *testing.T) {
	hash, err := New(Config{Mode: ModeHash, HMACKey: []byte("k1")})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := hash.JSON([]byte(`{"password":"same","token":"same","n":"4111111111111111"}`))
	s := string(a)
	if !strings.Contains(s, `"password":"hmac:`) || strings.Contains(s, "same") || strings.Contains(s, "4111") {
		t.Errorf("hash mode: %s", s)
	}
	// Equal inputs hash equally, so analysts can join.
	p1 := s[strings.Index(s, `"password":"`)+12:]
	p2 := s[strings.Index(s, `"token":"`)+9:]
	if p1[:69] != p2[:69] {
		t.Errorf("equal values hashed differently: %s", s)
	}
	other, _ := New(Config{Mode: ModeHash, HMACKey: []byte("k2")})
	b, _ := other.JSON([]byte(`{"password":"same"}`))
	if strings.Contains(s, string(b[13:40])) {
		t.Error("hash does not depend on the key")
	}
	if _, err := New(Config{Mode: ModeHash}); err == nil {
		t.Error("hash mode without a key accepted")
	}

	partial, _ := New(Config{Mode: ModePartial})
	out, _ := partial.JSON([]byte(`{"card":"4111 1111 1111 1111","pan":4111111111111111,"password":"x"}`))
	if string(out) != `{"card":"****1111","pan":"****1111","password":"****"}` {
		t.Errorf("partial mode: %s", out)
	}
	if _, err := ParseMode("scramble"); err == nil {
		t.Error("ParseMode accepted an unknown mode")
	}
}

func TestJSONStringHoldingJSON(t *testing.T) {
	in := `{"event":"login","payload":"{\"user\":\"bob\",\"password\":\"hunter2\"}","n":1}`
	out, n := Default().JSON([]byte(in))
	if strings.Contains(string(out), "hunter2") || !strings.Contains(string(out), `\"user\":\"bob\"`) || n != 1 {
		t.Errorf("embedded JSON: %s (%d)", out, n)
	}
	if !jsonValid(out) {
		t.Errorf("output invalid: %s", out)
	}
}

func TestMultipart(t *testing.T) {
	body := "--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nhunter2\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{\"api_key\":\"k-1\"}\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nplain file 4111111111111111\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\ncut-before-the-end"
	out, _ := Default().Body(`multipart/form-data; boundary="XyZ"`, []byte(body))
	s := string(out)
	for _, leaked := range []string{"hunter2", "k-1", "4111111111111111", "cut-before"} {
		if strings.Contains(s, leaked) {
			t.Errorf("%q survived:\n%s", leaked, s)
		}
	}
	if !strings.Contains(s, "\r\n\r\nbob\r\n") || !strings.Contains(s, "plain file") {
		t.Errorf("non-secret parts changed:\n%s", s)
	}
}

func TestMaxSize(t *testing.T) {
	m, _ := New(Config{MaxSize: 32})
	in := `{"a":"` + strings.Repeat("x", 20) + `","password":"after the limit"}`
	out, _ := m.Body("application/json", []byte(in))
	if strings.Contains(string(out), "after the limit") || !strings.HasSuffix(string(out), "****") {
		t.Errorf("past MaxSize: %s", out)
	}
}

func TestHostileInput(t *testing.T) {
	m := Default()
	// NUL bytes and invalid UTF-8 pass through untouched around a masked value.
	in := "{\"a\":\"\x00\xff\xfe\",\"password\":\"p\x00w\"}"
	out, _ := m.JSON([]byte(in))
	if string(out) != "{\"a\":\"\x00\xff\xfe\",\"password\":\"****\"}" {
		t.Errorf("NUL/invalid UTF-8: %q", out)
	}
	// 10 MB of JSON with a secret at the end.
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for b.Len() < 10<<20 {
		b.WriteString(`{"k":"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv","n":12345},`)
	}
	b.WriteString(`{"k":1}],"token":"end-secret"}`)
	out, n := m.JSON([]byte(b.String()))
	if n != 1 || strings.Contains(string(out), "end-secret") || !jsonValid(out) {
		t.Errorf("10 MB body: n=%d", n)
	}
}
