package maskingprocessor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/processor/maskingprocessor/internal/metadata"
)

// corpusEntry is one realistic request of testdata/corpus.json.
type corpusEntry struct {
	Name                string              `json:"name"`
	Method              string              `json:"method"`
	Path                string              `json:"path"`
	Query               string              `json:"query"`
	RequestHeaders      map[string][]string `json:"request_headers"`
	RequestContentType  string              `json:"request_content_type"`
	RequestBody         string              `json:"request_body"`
	RequestBodyHex      string              `json:"request_body_hex"`
	ResponseHeaders     map[string][]string `json:"response_headers"`
	ResponseContentType string              `json:"response_content_type"`
	ResponseBody        string              `json:"response_body"`
	Attributes          map[string]any      `json:"attributes"`
	LogBody             any                 `json:"log_body"`
	Secrets             []string            `json:"secrets"`
	Keep                []string            `json:"keep"`
}

func loadCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c []corpusEntry
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// record writes e as an audit log record the way audithttp would, without
// any masking at the source.
func (e corpusEntry) record(lr plog.LogRecord) {
	a := lr.Attributes()
	if e.Method != "" {
		lr.SetEventName(auditconv.EventHTTPServer)
		a.PutStr(auditconv.RecordID, "0193aaaa-0000-7000-8000-"+strings.Repeat("0", 12))
		a.PutStr(auditconv.HTTPRequestMethod, e.Method)
		a.PutStr(auditconv.URLPath, e.Path)
		a.PutInt(auditconv.HTTPResponseStatusCode, 200)
	}
	if e.Query != "" {
		a.PutStr(auditconv.URLQuery, e.Query)
	}
	headers := func(prefix string, h map[string][]string, ct string) {
		for name, vals := range h {
			s := a.PutEmptySlice(prefix + strings.ToLower(name))
			for _, v := range vals {
				s.AppendEmpty().SetStr(v)
			}
		}
		if ct != "" {
			a.PutEmptySlice(prefix + "content-type").AppendEmpty().SetStr(ct)
		}
	}
	headers(auditconv.HTTPRequestHeaderPrefix, e.RequestHeaders, e.RequestContentType)
	headers(auditconv.HTTPResponseHeaderPrefix, e.ResponseHeaders, e.ResponseContentType)
	if e.RequestBody != "" {
		a.PutStr(auditconv.HTTPRequestBodyContent, e.RequestBody)
	}
	if e.RequestBodyHex != "" {
		raw, _ := hex.DecodeString(e.RequestBodyHex)
		a.PutEmptyBytes(auditconv.HTTPRequestBodyContent).FromRaw(raw)
	}
	if e.ResponseBody != "" {
		a.PutStr(auditconv.HTTPResponseBodyContent, e.ResponseBody)
	}
	for k, v := range e.Attributes {
		if err := a.PutEmpty(k).FromRaw(v); err != nil {
			panic(err)
		}
	}
	if e.LogBody != nil {
		if err := lr.Body().FromRaw(e.LogBody); err != nil {
			panic(err)
		}
	}
}

func newMasking(t testing.TB, mutate func(*Config)) (processor.Logs, *consumertest.LogsSink) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := new(consumertest.LogsSink)
	p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	return p, sink
}

// dump renders every byte of ld a store could receive: the JSON encoding
// plus the raw bytes of byte-typed values (base64 in JSON would hide them).
func dump(ld plog.Logs) string {
	b, _ := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	var raw strings.Builder
	raw.Write(b)
	var walk func(v pcommon.Value)
	walk = func(v pcommon.Value) {
		switch v.Type() {
		case pcommon.ValueTypeBytes:
			raw.Write(v.Bytes().AsRaw())
		case pcommon.ValueTypeMap:
			for _, x := range v.Map().All() {
				walk(x)
			}
		case pcommon.ValueTypeSlice:
			for i := 0; i < v.Slice().Len(); i++ {
				walk(v.Slice().At(i))
			}
		}
	}
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				for _, v := range lrs.At(k).Attributes().All() {
					walk(v)
				}
				walk(lrs.At(k).Body())
			}
		}
	}
	return raw.String()
}

func TestCorpusHasNoSecretsAfterMasking(t *testing.T) {
	corpus := loadCorpus(t)
	if len(corpus) < 50 {
		t.Fatalf("corpus has %d requests, want at least 50", len(corpus))
	}
	p, sink := newMasking(t, nil)
	for _, e := range corpus {
		t.Run(e.Name, func(t *testing.T) {
			ld := plog.NewLogs()
			e.record(ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
			before := dump(ld)
			for _, s := range e.Secrets {
				if !strings.Contains(before, s) {
					t.Fatalf("corpus error: secret %q not in the record", s)
				}
			}
			sink.Reset()
			if err := p.ConsumeLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
			out := sink.AllLogs()[0]
			after := dump(out)
			for _, s := range e.Secrets {
				if strings.Contains(after, s) {
					t.Errorf("secret %q survived:\n%s", s, after)
				}
			}
			for _, k := range e.Keep {
				if !strings.Contains(after, k) {
					t.Errorf("non-secret %q lost:\n%s", k, after)
				}
			}
			lr := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			if n, ok := lr.Attributes().Get(auditconv.MaskingCount); len(e.Secrets) > 0 && (!ok || n.Int() < 1) {
				t.Errorf("%s missing or zero", auditconv.MaskingCount)
			}
			if v, ok := lr.Attributes().Get(auditconv.RecordID); e.Method != "" && (!ok || !strings.HasPrefix(v.Str(), "0193aaaa")) {
				t.Errorf("record id changed: %v", v.AsRaw())
			}
		})
	}
}

func TestValidJSONStaysValid(t *testing.T) {
	p, sink := newMasking(t, nil)
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	body := `{"a":[{"password":{"x":1}},{"token":12}],"b":"4111111111111111","c":{"d":"ok"}}`
	lr.Attributes().PutStr(auditconv.HTTPRequestBodyContent, body)
	lr.Attributes().PutEmptySlice("http.request.header.content-type").AppendEmpty().SetStr("application/json")
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	v, _ := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get(auditconv.HTTPRequestBodyContent)
	if !json.Valid([]byte(v.Str())) || v.Str() != `{"a":[{"password":"****"},{"token":"****"}],"b":"****","c":{"d":"ok"}}` {
		t.Errorf("masked body: %s", v.Str())
	}
	n, _ := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get(auditconv.MaskingCount)
	if n.Int() != 3 {
		t.Errorf("masking count %d, want 3", n.Int())
	}
}

func TestHashModeIsKeyedAndJoinable(t *testing.T) {
	run := func(key string) (string, string) {
		p, sink := newMasking(t, func(c *Config) {
			c.Mode = "hash"
			c.HMACKey = configopaque.String("0123456789abcdef-" + key)
		})
		ld := plog.NewLogs()
		sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
		for range 2 {
			sl.LogRecords().AppendEmpty().Attributes().PutStr(auditconv.URLQuery, "api_key=same-value&x=1")
		}
		if err := p.ConsumeLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		out := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		a, _ := out.At(0).Attributes().Get(auditconv.URLQuery)
		b, _ := out.At(1).Attributes().Get(auditconv.URLQuery)
		return a.Str(), b.Str()
	}
	a, b := run("k1")
	if a != b || !strings.HasPrefix(a, "api_key=hmac:") || strings.Contains(a, "same-value") {
		t.Errorf("hash mode: %q %q", a, b)
	}
	c, _ := run("k2")
	if c == a {
		t.Error("hash does not depend on the key")
	}
}

func TestNonAuditRecordsPassThroughIntact(t *testing.T) {
	p, sink := newMasking(t, nil)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "worker")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("job 42 finished in 3s")
	lr.Attributes().PutInt("job.id", 42)
	lr.SetSeverityText("INFO")
	want := dump(ld)
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if got := dump(sink.AllLogs()[0]); got != want {
		t.Errorf("record without secrets changed:\n%s\n%s", want, got)
	}
}

func TestDeepMapsAreBounded(t *testing.T) {
	p, sink := newMasking(t, func(c *Config) { c.MaxDepth = 4 })
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	m := lr.Body().SetEmptyMap()
	for range 10 {
		m = m.PutEmptyMap("level")
	}
	m.PutStr("note", "deep-value")
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump(sink.AllLogs()[0]), "deep-value") {
		t.Error("value past max_depth was left unmasked")
	}
}

func TestAlreadyMaskedValuesAreNotCountedAgain(t *testing.T) {
	p, sink := newMasking(t, nil)
	ld := plog.NewLogs()
	a := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes()
	a.PutStr(auditconv.HTTPRequestBodyContent, `{"password":"****","n":1}`)
	a.PutEmptySlice("http.request.header.content-type").AppendEmpty().SetStr("application/json")
	a.PutEmptySlice("http.request.header.authorization").AppendEmpty().SetStr("****")
	a.PutStr(auditconv.URLQuery, "token=****")
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	out := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	if _, ok := out.Get(auditconv.MaskingCount); ok {
		t.Error("a record masked at the source was counted as masked again")
	}
}
