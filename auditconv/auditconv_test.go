package auditconv

import "testing"

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
