package mask

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSensitiveKey(t *testing.T) {
	m := Default()
	for _, k := range []string{
		"password", "Password", "PASSWORD", "user_password", "passwd", "client_secret", "access_token",
		"X-Api-Key", "api_key", "apiKey", "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
		"X-CSRF-Token", "aws.access.key", "credentials", "private_key", "SESSIONID", "session-id",
		"pin", "PIN", "otp", "cvv", "ssn", "s.s.n",
	} {
		if !m.SensitiveKey(k) {
			t.Errorf("SensitiveKey(%q) = false, want true", k)
		}
	}
	for _, k := range []string{"", "user", "name", "spinner", "hotpot", "pins", "Content-Type", "session_count", "id"} {
		if m.SensitiveKey(k) {
			t.Errorf("SensitiveKey(%q) = true, want false", k)
		}
	}
}

func TestNewConfig(t *testing.T) {
	m, err := New(Config{SensitiveKeys: []string{"IBAN"}, ExactKeys: []string{"dob"}, Replacement: "[x]"})
	if err != nil {
		t.Fatal(err)
	}
	if !m.SensitiveKey("my_iban") || !m.SensitiveKey("DOB") || !m.SensitiveKey("password") || m.SensitiveKey("dobby") {
		t.Error("added keys not applied")
	}
	if got, _ := m.Query("iban=1"); got != "iban=[x]" {
		t.Errorf("replacement: %q", got)
	}
	m, err = New(Config{SensitiveKeys: []string{"iban"}, ReplaceDefaultKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.SensitiveKey("password") || !m.SensitiveKey("iban") {
		t.Error("ReplaceDefaultKeys not applied")
	}
	if _, err := New(Config{ReplaceDefaultKeys: true}); err == nil {
		t.Error("no keys at all: want error")
	}
	if _, err := New(Config{SensitiveKeys: []string{"-_"}}); err == nil || !strings.Contains(err.Error(), `"-_"`) {
		t.Errorf("empty term: err = %v", err)
	}
	if _, err := New(Config{MaxDepth: -1}); err == nil {
		t.Error("negative depth: want error")
	}
}

func TestHeader(t *testing.T) {
	m := Default()
	in := []string{"Bearer abc", "Basic xyz"}
	out, n := m.Header("Authorization", in)
	if n != 2 || out[0] != "****" || out[1] != "****" || in[0] != "Bearer abc" {
		t.Errorf("Header = %v %d (input %v)", out, n, in)
	}
	plain := []string{"text/html"}
	if out, n := m.Header("Accept", plain); n != 0 || &out[0] != &plain[0] {
		t.Errorf("non-sensitive header copied or masked: %v %d", out, n)
	}
}

func TestQuery(t *testing.T) {
	m := Default()
	cases := []struct{ in, want string }{
		{"", ""},
		{"a=1&b=2", "a=1&b=2"},
		{"password=x", "password=****"},
		{"user=bob&password=x&next=/home", "user=bob&password=****&next=/home"},
		{"token=a&token=b&token=", "token=****&token=****&token="},
		{"pass%77ord=x", "pass%77ord=****"},
		{"api%5Fkey=x", "api%5Fkey=****"},
		{"api+key=x", "api+key=****"},
		{"Access_Token=x&x=%zz", "Access_Token=****&x=%zz"},
		{"password", "password"},
		{"a=b=c&secret=d=e", "a=b=c&secret=****"},
		{"&&secret=1&", "&&secret=****&"},
	}
	for _, c := range cases {
		if got, _ := m.Query(c.in); got != c.want {
			t.Errorf("Query(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestJSON(t *testing.T) {
	m := Default()
	cases := []struct{ name, in, want string }{
		{"flat", `{"user":"bob","password":"hunter2"}`, `{"user":"bob","password":"****"}`},
		{"nested", `{"a":{"b":{"api_key":"k"}}}`, `{"a":{"b":{"api_key":"****"}}}`},
		{"array of objects", `[{"token":"a"},{"token":"b","x":1}]`, `[{"token":"****"},{"token":"****","x":1}]`},
		{"number", `{"pin":1234,"n":5}`, `{"pin":"****","n":5}`},
		{"object value", `{"credentials":{"user":"u","pw":"p"},"z":true}`, `{"credentials":"****","z":true}`},
		{"array value", `{"secrets":["a","b"],"ok":null}`, `{"secrets":"****","ok":null}`},
		{"literal", `{"otp":null,"cvv":true}`, `{"otp":"****","cvv":"****"}`},
		{"escaped key", `{"pass\u0077ord":"x"}`, `{"pass\u0077ord":"****"}`},
		{"escaped value", `{"password":"a\"b\\","x":"y"}`, `{"password":"****","x":"y"}`},
		{"mixed case", `{"PassWord":"x","ApiKey":"y"}`, `{"PassWord":"****","ApiKey":"****"}`},
		{"duplicate keys", `{"password":"a","password":"b"}`, `{"password":"****","password":"****"}`},
		{"whitespace", "{ \"password\" :\n \"x\" }", "{ \"password\" :\n \"****\" }"},
		{"value named like key", `{"note":"password","x":"token"}`, `{"note":"password","x":"token"}`},
		{"key in array is a value", `["password","x"]`, `["password","x"]`},
		{"truncated in value", `{"a":1,"password":"hunt`, `{"a":1,"password":"****"`},
		{"truncated in object value", `{"secret":{"a":"b`, `{"secret":"****"`},
		{"truncated after colon", `{"password":`, `{"password":`},
		{"unquoted key", `{password: "x"}`, `{password: "****"}`},
		{"not json", `password=hunter2&x=1`, `password=****&x=1`},
	}
	for _, c := range cases {
		got, _ := m.JSON([]byte(c.in))
		if string(got) != c.want {
			t.Errorf("%s: JSON(%s) = %s, want %s", c.name, c.in, got, c.want)
		}
		if json.Valid([]byte(c.in)) && !json.Valid(got) {
			t.Errorf("%s: valid input gave invalid output %s", c.name, got)
		}
	}
}

func TestJSONUnchangedIsSameSlice(t *testing.T) {
	in := []byte(`{"a":[1,2,{"b":"c"}]}`)
	out, n := Default().JSON(in)
	if n != 0 || &out[0] != &in[0] {
		t.Errorf("unmasked input was copied (n=%d)", n)
	}
}

func TestJSONDepth(t *testing.T) {
	m, _ := New(Config{MaxDepth: 3})
	got, n := m.JSON([]byte(`{"a":{"b":{"c":{"d":"v"}}},"e":1}`))
	if string(got) != `{"a":{"b":{"c":"****"}},"e":1}` || n != 1 {
		t.Errorf("depth limit: %s (%d)", got, n)
	}

	deep := strings.Repeat(`{"a":`, 10000) + `{"password":"x"}` + strings.Repeat("}", 10000)
	out, _ := Default().JSON([]byte(deep))
	if strings.Contains(string(out), `"x"`) || !json.Valid(out) {
		t.Errorf("10000 levels: secret survived or output invalid (len %d)", len(out))
	}
}

func TestJSONTruncatedAtEveryOffset(t *testing.T) {
	const secret = "s3cr3t-VALUE"
	doc := `{"user":{"name":"bob","password":"` + secret + `","tokens":["` + secret + `"]},"n":1}`
	m := Default()
	for i := 0; i <= len(doc); i++ {
		out, _ := m.JSON([]byte(doc[:i]))
		// Any run of the secret long enough to mean something must be gone.
		for l := 3; l <= len(secret); l++ {
			for s := 0; s+l <= len(secret); s++ {
				if strings.Contains(string(out), `"`+secret[s:s+l]) || strings.Contains(string(out), secret[s:s+l]+`"`) {
					t.Fatalf("prefix %d: %q survives in %s", i, secret[s:s+l], out)
				}
			}
		}
	}
}

func TestForm(t *testing.T) {
	out, n := Default().Form([]byte("username=bob&password=p%40ss&remember=1"))
	if string(out) != "username=bob&password=****&remember=1" || n != 1 {
		t.Errorf("Form = %s (%d)", out, n)
	}
}

func TestText(t *testing.T) {
	m := Default()
	cases := []struct{ in, want string }{
		{"hello world", "hello world"},
		{"password=hunter2 next", "password=**** next"},
		{"Authorization: Bearer abc.def\nX: y", "Authorization: ****\nX: y"},
		{`{"token": "abc"}`, `{"token": "****"}`},
		{`<login><user>bob</user><password>hunter2</password></login>`, `<login><user>bob</user><password>****</password></login>`},
		{`<apiKey type="x">k</apiKey>`, `<apiKey type="x">****</apiKey>`},
		{`<secret/>`, `<secret/>`},
		{`api_key='abc' other`, `api_key='****' other`},
		{`token = xyz;`, `token = ****;`},
	}
	for _, c := range cases {
		if got, _ := m.Text([]byte(c.in)); string(got) != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBodyDispatch(t *testing.T) {
	m := Default()
	for _, c := range []struct{ ct, in, want string }{
		{"application/json; charset=utf-8", `{"password":"x"}`, `{"password":"****"}`},
		{"application/vnd.api+json", `{"password":"x"}`, `{"password":"****"}`},
		{"application/x-www-form-urlencoded", `password=x`, `password=****`},
		{"text/xml", `<password>x</password>`, `<password>****</password>`},
		{"", `password=x`, `password=****`},
	} {
		if got, _ := m.Body(c.ct, []byte(c.in)); string(got) != c.want {
			t.Errorf("Body(%q, %q) = %q, want %q", c.ct, c.in, got, c.want)
		}
	}
}

func jsonValid(b []byte) bool { return json.Valid(b) }

func TestBodyInPlace(t *testing.T) {
	for _, in := range []string{
		`{"password":"correct-horse-battery","a":1}`, // replacement shorter than the value
		`{"pin":"1234","otp":"123456"}`,              // as long as the value
		`{"pin":1,"cvv":12,"x":"y"}`,                 // longer: the rest moves to a copy
		`{"a":"AKIAABCDEFGHIJKLMNOPAKIAABCDEFGHIJKLMNOP 4111111111111111"}`,
		`{"a":"x","token":`, `{password: "x", "api_key": 7}`,
		"password=hunter22&pin=1&token=abcdefghijklmnop",
		"<secret>s</secret><token a='1'>t</token> Authorization: Bearer abc.def-123",
		`{"j":"{\"secret\":\"v\",\"n\":[1,2]}"}`,
	} {
		checkInPlace(t, []byte(in))
	}
	// Masking in place really writes into the buffer it was given.
	b := []byte(`{"password":"correct-horse-battery","a":1}`)
	out, n := Default().BodyInPlace("application/json", b)
	if n != 1 || &out[0] != &b[0] || string(out) != `{"password":"****","a":1}` {
		t.Fatalf("got %q (%d), shared=%v", out, n, &out[0] == &b[0])
	}
}
