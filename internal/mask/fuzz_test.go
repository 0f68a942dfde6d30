package mask

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const planted = "Zq9PLANTEDsecret7"

var jsonSeeds = []string{
	`{"a":1}`, `[{"password":"x"},{"b":[1,2,{"token":{"t":1}}]}]`, `{"pass\u0077ord":"x"}`, `"str"`, `{"a":"{\"secret\":1}"}`,
	`{"a":`, `{password: "x"}`, `{"card":"4111 1111 1111 1111"}`, `{"k":"Bearer abc.def-1"}`, "\x00\xff{", `[[[[[[[[`,
	`{"u":"https://a:b@h/x?sig=1#access_token=2"}`, `{"q":"mutation { f(pwd: \"x\") { ok } }"}`, `{"s":" \n {\"key\":[1]}"}`,
	`{"f":"a=1;pass=2"}`, `{"x":"<p:password><![CDATA[z]]></p:password>"}`,
}

// textSeeds are the formats the text patterns know.
var textSeeds = []string{
	"a=b", "<password>x</password>", "Authorization: Bearer abc1", `"token": "x"`, "-----BEGIN ", "<a",
	"<ns:secret><![CDATA[a]]b]]></ns:secret>", `<entry key="password" value="v"/>`, `<input value="v" type="password">`,
	`"pwd"=>"x", :auth => 'y'`, "db:\n  password: |\n    a\n    b\n  port: 1\n", "passphrase = a b c\n",
	"u=1;pwd=2", "see https://u:p@h/x?code=1#id_token=2 and postgres://a:b@c/d",
	"<name>db.password</name><value>x</value>", "--b\nContent-Disposition: form-data; name=\"pin\"\n\n1\n--b--",
}

func FuzzJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	m := Default()
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _ := m.JSON(in)
		if json.Valid(in) && !json.Valid(out) {
			t.Fatalf("valid input, invalid output:\nin:  %q\nout: %q", in, out)
		}
		// A secret before arbitrary input never survives it.
		doc := append([]byte(`{"password":"`+planted+`",`), in...)
		if out, _ := m.JSON(doc); bytes.Contains(out, []byte(planted)) {
			t.Fatalf("planted secret survived: %q", out)
		}
		// A secret planted inside a valid object stays masked and valid.
		if len(in) > 1 && in[0] == '{' && json.Valid(in) {
			doc := append([]byte(`{"api_key":"`+planted+`",`), in[1:]...)
			if bytes.Equal(in, []byte("{}")) {
				doc = []byte(`{"api_key":"` + planted + `"}`)
			}
			out, _ := m.JSON(doc)
			if bytes.Contains(out, []byte(planted)) || (json.Valid(doc) && !json.Valid(out)) {
				t.Fatalf("planted in valid object: %q -> %q", doc, out)
			}
		}
	})
}

func FuzzQuery(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "pass%77ord=x", "%zz=%", "&&=&", "token", "a=4111111111111111"} {
		f.Add(s)
	}
	m := Default()
	f.Fuzz(func(t *testing.T, in string) {
		m.Query(in)
		m.Form([]byte(in))
		for _, doc := range []string{"password=" + planted + "&" + in, in + "&api_key=" + planted} {
			if out, _ := m.Query(doc); bytes.Contains([]byte(out), []byte(planted)) {
				t.Fatalf("planted secret survived: %q", out)
			}
		}
	})
}

func FuzzText(f *testing.F) {
	for _, s := range textSeeds {
		f.Add([]byte(s))
	}
	m := Default()
	f.Fuzz(func(t *testing.T, in []byte) {
		m.Text(in)
		m.Body("multipart/form-data; boundary=b", in)
		m.Free(string(in))
		m.URL(string(in))
		for _, prefix := range []string{
			"password=" + planted + "\n",
			"<x:pwd><![CDATA[" + planted + "]]></x:pwd>",
			`<add key="client_secret" value="` + planted + `"/>`,
			`"access"=>"` + planted + `" `,
			"auth: |\n  " + planted + "\n",
			"dsn=x://u:" + planted + "@h/ ",
			"see https://h/p?sig=" + planted + " ",
		} {
			doc := append([]byte(prefix), in...)
			if out, _ := m.Text(doc); bytes.Contains(out, []byte(planted)) {
				t.Fatalf("planted secret survived: %q", out)
			}
		}
		lf := append([]byte("--b\nContent-Disposition: form-data; name=\"pwd\"\n\n"+planted+"\n"), in...)
		if out, _ := m.Body("multipart/form-data; boundary=b", lf); bytes.Contains(out, []byte(planted)) {
			t.Fatalf("planted LF multipart secret survived: %q", out)
		}
		doc := append([]byte("--b\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\n"+planted+"\r\n"), in...)
		if out, _ := m.Body("multipart/form-data; boundary=b", doc); bytes.Contains(out, []byte(planted)) {
			t.Fatalf("planted multipart secret survived: %q", out)
		}
	})
}

// inPlaceMaskers are the masking modes BodyInPlace is checked under: the
// replacement is shorter, as long as, or longer than typical values.
var inPlaceMaskers = []*Masker{
	Default(),
	mustNew(Config{Mode: ModeHash, HMACKey: []byte("k")}),
	mustNew(Config{Mode: ModePartial, Replacement: "x"}),
}

var inPlaceTypes = []string{"application/json", "application/x-www-form-urlencoded", "text/plain", "application/xml", "multipart/form-data; boundary=b"}

func mustNew(cfg Config) *Masker {
	m, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return m
}

// checkInPlace asserts that masking in place gives what masking a copy
// gives, and that Body leaves its input alone and, when it masks, returns
// a slice of its own.
func checkInPlace(t *testing.T, in []byte) {
	t.Helper()
	for _, m := range inPlaceMaskers {
		for _, ct := range inPlaceTypes {
			src := bytes.Clone(in)
			want, wantN := m.Body(ct, src)
			if !bytes.Equal(src, in) {
				t.Fatalf("Body(%s) changed its input", ct)
			}
			if wantN > 0 { // then the result shares nothing with the input
				snapshot := bytes.Clone(want)
				for i := range src {
					src[i] = 'x'
				}
				if !bytes.Equal(want, snapshot) {
					t.Fatalf("Body(%s) masked %q into a slice of its input", ct, in)
				}
			}
			got, gotN := m.BodyInPlace(ct, bytes.Clone(in))
			if !bytes.Equal(got, want) || gotN != wantN {
				t.Fatalf("%s mode %d: in place differs\nin:       %q\ncopy:     %q (%d)\nin place: %q (%d)", ct, m.mode, in, want, wantN, got, gotN)
			}
		}
	}
}

// FuzzPath checks that a wildcard named like a secret masks its segment
// whatever the path around it, and that Path never fails.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"", "/", "a/b", "//", "/x;sid=1", "%2F"} {
		f.Add("/r/{id}/{rest...}", s)
	}
	m := Default()
	f.Fuzz(func(t *testing.T, route, in string) {
		m.Path(route, in)
		if strings.Contains(in, "/") {
			return // the planted segment must stay one segment
		}
		p := "/reset/" + planted + in + "/x"
		if out, _ := m.Path("GET /reset/{token}/x", p); strings.Contains(out, planted) {
			t.Fatalf("planted segment survived: %q", out)
		}
	})
}

func FuzzBodyInPlace(f *testing.F) {
	for _, s := range slices.Concat(jsonSeeds, textSeeds, []string{"password=abc&x=AKIAABCDEFGHIJKLMNOP", "<token>t</token> Bearer abc.def-1"}) {
		f.Add([]byte(s))
	}
	f.Fuzz(checkInPlace)
}
