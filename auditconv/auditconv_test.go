package auditconv

import (
	"strings"
	"testing"
)

func TestSeverity(t *testing.T) {
	cases := []struct {
		status   int
		panicked bool
		num      int
		text     string
	}{
		{200, false, 9, "INFO"},
		{101, false, 9, "INFO"},
		{399, false, 9, "INFO"},
		{400, false, 13, "WARN"},
		{499, false, 13, "WARN"},
		{500, false, 17, "ERROR"},
		{503, false, 17, "ERROR"},
		{200, true, 17, "ERROR"},
	}
	for _, c := range cases {
		n, txt := Severity(c.status, c.panicked)
		if n != c.num || txt != c.text {
			t.Errorf("Severity(%d, %v) = %d %q, want %d %q", c.status, c.panicked, n, txt, c.num, c.text)
		}
	}
}

func TestHeaderKeys(t *testing.T) {
	if got := RequestHeaderKey("X-Api-Key"); got != "http.request.header.x-api-key" {
		t.Errorf("RequestHeaderKey = %q", got)
	}
	if got := ResponseHeaderKey("content-type"); got != "http.response.header.content-type" {
		t.Errorf("ResponseHeaderKey = %q", got)
	}
}

func TestParseRecordID(t *testing.T) {
	const id = "0193a0c2-7f4e-7c21-9a3b-5f0e2d1c4b6a"
	u, err := ParseRecordID(id)
	if err != nil || FormatRecordID(u) != id {
		t.Fatalf("ParseRecordID(%q) = %x, %v", id, u, err)
	}
	if u2, err := ParseRecordID("0193A0C2-7F4E-7C21-9A3B-5F0E2D1C4B6A"); err != nil || u2 != u {
		t.Errorf("upper case: %x, %v", u2, err)
	}
	for _, bad := range []string{"", "not-a-uuid", "0193a0c27f4e7c219a3b5f0e2d1c4b6a", "{0193a0c2-7f4e-7c21-9a3b-5f0e2d1c4b6a}",
		"urn:uuid:0193a0c2-7f4e-7c21-9a3b-5f0e2d1c4b6a", "0193a0c2-7f4e-7c21-9a3b-5f0e2d1c4b6g", "0193a0c27-f4e-7c21-9a3b-5f0e2d1c4b6a",
		"0193a0c2-7f4e-7c21-9a3b-5f0e2d1c4b6\x00"} {
		if _, err := ParseRecordID(bad); err == nil {
			t.Errorf("ParseRecordID(%q) accepted", bad)
		}
	}
}

func TestIsKeyedHash(t *testing.T) {
	h := KeyedHashPrefix + strings.Repeat("0123456789abcdef", 4)
	if !IsKeyedHash(h) {
		t.Errorf("%q is a keyed hash", h)
	}
	for _, s := range []string{"", "hmac:", "hmac:abc", h[:len(h)-1], h + "0", strings.ToUpper(h), "hmac:" + strings.Repeat("zz", 32)} {
		if IsKeyedHash(s) {
			t.Errorf("IsKeyedHash(%q) = true", s)
		}
	}
}
