package mask

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The differential targets run the engine and its reference
// (reference_test.go) on the same input under several configurations and
// require the same bytes and the same count.

// diffMaskers cover the modes, a custom replacement, custom terms, no
// detectors and a small depth limit.
var diffMaskers = []*Masker{
	Default(),
	mustNew(Config{Mode: ModeHash, HMACKey: []byte("k")}),
	mustNew(Config{Mode: ModePartial, Replacement: "x=1:<"}),
	mustNew(Config{SensitiveKeys: []string{"iban", "x"}, ExactKeys: []string{"dob"}, WordKeys: []string{"no"}, RemoveKeys: []string{"code"}, Detectors: DetectNone}),
	mustNew(Config{MaxDepth: 2, Detectors: DetectCreditCard | DetectURL, Replacement: "[masked]"}),
}

// diffRefs are the references of diffMaskers.
var diffRefs = func() map[*Masker]*refMasker {
	refs := map[*Masker]*refMasker{}
	for _, m := range diffMaskers {
		refs[m] = newRef(m)
	}
	return refs
}()

// corpusSeeds returns the bodies, queries and headers of the masking
// corpus, so that every fuzz run starts from realistic requests.
func corpusSeeds(t testing.TB) (bodies, queries []string, headers [][2]string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus.json"))
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	var corpus []struct {
		Query           string              `json:"query"`
		RequestBody     string              `json:"request_body"`
		ResponseBody    string              `json:"response_body"`
		RequestHeaders  map[string][]string `json:"request_headers"`
		ResponseHeaders map[string][]string `json:"response_headers"`
	}
	if err := json.Unmarshal(raw, &corpus); err != nil {
		t.Fatalf("decode corpus: %v", err)
	}
	for _, c := range corpus {
		for _, b := range []string{c.RequestBody, c.ResponseBody} {
			if b != "" {
				bodies = append(bodies, b)
			}
		}
		if c.Query != "" {
			queries = append(queries, c.Query)
		}
		for _, h := range []map[string][]string{c.RequestHeaders, c.ResponseHeaders} {
			for name, values := range h {
				headers = append(headers, [2]string{name, strings.Join(values, "\n")})
			}
		}
	}
	if len(bodies) == 0 || len(queries) == 0 || len(headers) == 0 {
		t.Fatalf("corpus gave %d bodies, %d queries, %d headers", len(bodies), len(queries), len(headers))
	}
	return bodies, queries, headers
}

// checkSame fails when the engine and the reference disagree.
func checkSame(t *testing.T, what string, m *Masker, in []byte, got []byte, gotN int, want []byte, wantN int) {
	t.Helper()
	if !bytes.Equal(got, want) || gotN != wantN {
		t.Fatalf("%s (mode %d, replacement %q) differs\nin:        %q\nengine:    %q (%d)\nreference: %q (%d)", what, m.mode, m.replacement, in, got, gotN, want, wantN)
	}
}

func FuzzDiffJSON(f *testing.F) {
	bodies, _, _ := corpusSeeds(f)
	short := []string{`{"a":"Bearer 12345678"}`, `{"a":"Basic dXNlcjpw"}`, `{"a":"xoxb-1234567890"}`, `{"a":"4111111111111111"}`, `{"pwd":"x","ab":"Item number 12"}`}
	for _, s := range slices.Concat(jsonSeeds, textSeeds, bodies, short, []string{string(benchDoc)}) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, m := range diffMaskers {
			r := diffRefs[m]
			got, gotN := m.JSON(in)
			want, wantN := refJSON(r, in, false)
			checkSame(t, "JSON", m, in, got, gotN, want, wantN)
			got, gotN = m.json(bytes.Clone(in), true)
			checkSame(t, "JSON in place", m, in, got, gotN, want, wantN)
		}
	})
}

func FuzzDiffForm(f *testing.F) {
	bodies, queries, _ := corpusSeeds(f)
	for _, s := range slices.Concat(queries, bodies, []string{"a=1&b=2", "pass%77ord=x", "%zz=%", "&&=&", "token", "a=4111111111111111", formDoc}) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, m := range diffMaskers {
			r := diffRefs[m]
			got, gotN := m.Form(in)
			want, wantN := refPairs(r, in, false)
			checkSame(t, "Form", m, in, got, gotN, want, wantN)
			got, gotN = m.pairs(bytes.Clone(in), true)
			checkSame(t, "Form in place", m, in, got, gotN, want, wantN)
			q, qn := m.Query(string(in))
			checkSame(t, "Query", m, in, []byte(q), qn, want, wantN)
		}
	})
}

func FuzzDiffHeader(f *testing.F) {
	_, _, headers := corpusSeeds(f)
	for _, h := range headers {
		f.Add(h[0], h[1])
	}
	for _, h := range headerDoc {
		f.Add(h[0], h[1])
	}
	f.Fuzz(func(t *testing.T, name, values string) {
		vs := strings.Split(values, "\n")
		for _, m := range diffMaskers {
			r := diffRefs[m]
			if m.SensitiveKey(name) != matches(&m.keys, name) {
				t.Fatalf("SensitiveKey(%q) = %v, the rules say otherwise", name, m.SensitiveKey(name))
			}
			got, gotN := m.Header(name, vs)
			want, wantN := refHeader(r, name, vs)
			if !slices.Equal(got, want) || gotN != wantN {
				t.Fatalf("Header (mode %d) differs\nin:        %q %q\nengine:    %q (%d)\nreference: %q (%d)", m.mode, name, vs, got, gotN, want, wantN)
			}
			if gotN == 0 && &got[0] != &vs[0] {
				t.Fatalf("Header copied values it did not mask: %q", vs)
			}
		}
	})
}
