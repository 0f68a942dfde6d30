package mask

import (
	"strings"
	"testing"
)

func TestRuleSetKeys(t *testing.T) {
	m := Default()
	for _, k := range []string{
		"pwd", "PW", "pass", "passcode", "user_passcode", "passphrase", "access", "refresh", "session", "sid",
		"auth", "key", "code", "csrf", "_csrf", "jwt", "cvc", "dbPass", "DB_PASS", "smtp-pwd", "userPWD", "sms_otp",
		"card.cvv", "X-Auth", "x-session", "X-Auth-Key", "sig", "Signature", "X-Amz-Signature", "X-Goog-Signature",
		"oauth_signature", "AWSAccessKeyId", "X-Amz-Credential", "X-Goog-Credential", "X-Amz-Security-Token",
		"refresh_token", "session_key",
	} {
		if !m.SensitiveKey(k) {
			t.Errorf("SensitiveKey(%q) = false, want true", k)
		}
	}
	for _, k := range []string{
		"passenger", "compass", "bypass", "passage", "passport", "keyboard", "keys", "sort_key", "keyId", "country_code",
		"zip_code", "codename", "access_level", "accessLevel", "refresh_interval", "session_count", "sessions",
		"author", "authority", "signed_at", "X-Amz-SignedHeaders", "X-Amz-Date", "xcode", "Pinned", "spinner", "topt",
	} {
		if m.SensitiveKey(k) {
			t.Errorf("SensitiveKey(%q) = true, want false", k)
		}
	}
}

func TestRemoveAndAddKeys(t *testing.T) {
	m, err := New(Config{RemoveKeys: []string{"code", "Pass"}, ExactKeys: []string{"voucher"}, WordKeys: []string{"pword"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.SensitiveKey("code") || m.SensitiveKey("db_pass") || !m.SensitiveKey("pwd") || !m.SensitiveKey("voucher") ||
		m.SensitiveKey("voucher_id") || !m.SensitiveKey("newPword") {
		t.Error("removed or added terms not applied")
	}
	if _, err := New(Config{RemoveKeys: []string{"colour"}}); err == nil || !strings.Contains(err.Error(), `"colour": not a term`) {
		t.Errorf("removing an unknown term: err = %v", err)
	}
	if _, err := New(Config{RemoveKeys: []string{"._"}}); err == nil {
		t.Error("empty remove term: want error")
	}
}

func TestURL(t *testing.T) {
	m := Default()
	for _, c := range []struct{ in, want string }{
		{"https://h.example/a?b=1", "https://h.example/a?b=1"},
		{"https://ann:s3cret@h.example/p?ok=1&sig=zz#state=1&access_token=t", "https://ann:****@h.example/p?ok=1&sig=****#state=1&access_token=****"},
		{"redis://:onlypw@cache:6379/0", "redis://:****@cache:6379/0"},
		{"https://user@h.example/", "https://user@h.example/"},
		{"/cb?code=c1;lang=en", "/cb?code=****;lang=en"},
		{"/x#id_token=abc", "/x#id_token=****"},
	} {
		if got, _ := m.URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPath(t *testing.T) {
	m := Default()
	for _, c := range []struct{ route, path, want string }{
		{"", "/a/b", "/a/b"},
		{"/verify/{otp}", "/verify/991", "/verify/****"},
		{"GET api.example/confirm/{token}/done", "/confirm/t1/done", "/confirm/****/done"},
		{"/blob/{key...}", "/blob/a/b", "/blob/****"},
		{"/r/{token:[a-z]+}", "/r/abc", "/r/****"},
		{"/r/:secret/x", "/r/abc/x", "/r/****/x"},
		{"/orders/{id}", "/orders/7", "/orders/7"},
		{"/orders/{code}", "/orders/", "/orders/"},
		{"/s/{token}", "/s/****", "/s/****"},
		{"/app/{id}", "/app;jsessionid=J1/2", "/app;jsessionid=****"}, // a bare value runs to white space
	} {
		if got, _ := m.Path(c.route, c.path); got != c.want {
			t.Errorf("Path(%q, %q) = %q, want %q", c.route, c.path, got, c.want)
		}
	}
}

func TestTextStructures(t *testing.T) {
	m := Default()
	for _, c := range []struct{ in, want string }{
		{`<a:secret><![CDATA[x<y]]></a:secret>`, `<a:secret><![CDATA[****]]></a:secret>`},
		{`<add key="ApiKey" value="v"/>`, `<add key="ApiKey" value="****"/>`},
		{`<add value="v" key="timeout" />`, `<add value="v" key="timeout" />`},
		{`<input name="login" value="bob"><input type=password value=pw1>`, `<input name="login" value="bob"><input type=password value=****>`},
		{`<property><name>ssl.keystore.password</name><value>ks</value></property>`, `<property><name>ssl.keystore.password</name><value>****</value></property>`},
		{`:token => 'abc', :user => 'u'`, `:token => '****', :user => 'u'`},
		{"k:\n  pwd:\n    - a\n    - b\n  n: 1", "k:\n  pwd:\n    ****\n  n: 1"},
		{"secret: |+\n  l1\n\n  l2\nnext: 1", "secret: |+\n  ****\nnext: 1"},
		{"password = a b c\nuser = d", "password = ****\nuser = d"},
		{"password=abc def", "password=**** def"},
		{`note: {"pass": ["a", "b"]}`, `note: {"pass": ****}`},
		{`Secret: {a: 1}`, `Secret: ****`},
	} {
		if got, _ := m.Text([]byte(c.in)); string(got) != c.want {
			t.Errorf("Text(%q) =\n %q, want\n %q", c.in, got, c.want)
		}
	}
}

func TestTextInJSONStrings(t *testing.T) {
	m := Default()
	for _, c := range []struct{ in, want string }{
		{`{"u":"https://h/x?auth=a1&z=2"}`, `{"u":"https://h/x?auth=****&z=2"}`},
		{`{"log":"login ok: pwd=p1 user=u"}`, `{"log":"login ok: pwd=**** user=u"}`},
		{`{"x":"\t[{\"key\":\"k1\"}]"}`, `{"x":"\t[{\"key\":\"****\"}]"}`},
		{`{"q":"query { me(session: \"s1\") { id } }"}`, `{"q":"query { me(session: \"****\") { id } }"}`},
		{`{"t":"12:30","e":"a=b"}`, `{"t":"12:30","e":"a=b"}`},
	} {
		got, _ := m.JSON([]byte(c.in))
		if string(got) != c.want {
			t.Errorf("JSON(%s) = %s, want %s", c.in, got, c.want)
		}
		if !jsonValid(got) {
			t.Errorf("JSON(%s): invalid output", c.in)
		}
	}
}

func TestFreeAndHeaders(t *testing.T) {
	m := Default()
	if got, n := m.Free("curl/8.0 api_key=k9 (linux)"); got != "curl/8.0 api_key=**** (linux)" || n != 1 {
		t.Errorf("Free = %q %d", got, n)
	}
	out, n := m.Header("Referer", []string{"https://a.example/p?x=1&token=r1", "https://a.example/"})
	if n != 1 || out[0] != "https://a.example/p?x=1&token=****" || out[1] != "https://a.example/" {
		t.Errorf("Header(Referer) = %v %d", out, n)
	}
}

func TestMultipartLF(t *testing.T) {
	body := "--q\nContent-Disposition: form-data; name=\"a\"\n\n1\n--q\nContent-Disposition: form-data; name=\"pin\"\n\n4321\n--q\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\npassword=x\r\n--q--\n"
	want := "--q\nContent-Disposition: form-data; name=\"a\"\n\n1\n--q\nContent-Disposition: form-data; name=\"pin\"\n\n****\n--q\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\npassword=****\r\n--q--\n"
	if got, n := Default().Body("multipart/form-data; boundary=q", []byte(body)); string(got) != want || n != 2 {
		t.Errorf("Multipart = %q (%d)", got, n)
	}
}

func TestJSONStringWithDetectedSecretAndKeys(t *testing.T) {
	in := `{"log":"AKIAABCDEFGHIJKLMNOP used by user=bob pwd=p1","n":1}`
	want := `{"log":"**** used by user=bob pwd=****","n":1}`
	for _, m := range []*Masker{Default(), mustNew(Config{Replacement: `"x"`})} {
		got, n := m.JSON([]byte(in))
		w := strings.ReplaceAll(want, "****", strings.ReplaceAll(m.replacement, `"`, `\"`))
		if string(got) != w || n != 2 {
			t.Errorf("JSON = %s (%d), want %s", got, n, w)
		}
		checkInPlace(t, []byte(in))
	}
}
