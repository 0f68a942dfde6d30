package maskingprocessor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditconv"
)

// ruleSetEntry is one case of the masking engine's own corpus
// (internal/mask/testdata/corpus.json), which audithttp's tests send
// through a real server too: one case per class of secret the rule set
// covers, and look-alikes that must survive.
type ruleSetEntry struct {
	Class string `json:"class"`
	Route string `json:"route"`
	Panic string `json:"panic"`
	corpusEntry
}

func loadRuleSetCorpus(t *testing.T) []ruleSetEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "mask", "testdata", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c []ruleSetEntry
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// rawValues renders every string a store would receive from a record, as
// it is (not JSON-escaped), one per line.
func rawValues(lr plog.LogRecord) string {
	var sb strings.Builder
	var walk func(v pcommon.Value)
	walk = func(v pcommon.Value) {
		switch v.Type() {
		case pcommon.ValueTypeSlice:
			for i := 0; i < v.Slice().Len(); i++ {
				walk(v.Slice().At(i))
			}
		case pcommon.ValueTypeMap:
			for _, x := range v.Map().All() {
				walk(x)
			}
		case pcommon.ValueTypeBytes:
			sb.Write(v.Bytes().AsRaw())
			sb.WriteByte('\n')
		default:
			sb.WriteString(v.AsString())
			sb.WriteByte('\n')
		}
	}
	for _, v := range lr.Attributes().All() {
		walk(v)
	}
	walk(lr.Body())
	return sb.String()
}

// TestRuleSetCorpusInCollector sends the engine's corpus through the
// processor as audithttp would emit it with masking at the source off.
func TestRuleSetCorpusInCollector(t *testing.T) {
	corpus := loadRuleSetCorpus(t)
	perClass := map[string]int{}
	p, sink := newMasking(t, nil)
	for _, e := range corpus {
		perClass[e.Class]++
		t.Run(e.Class+"/"+e.Name, func(t *testing.T) {
			ld := plog.NewLogs()
			lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			e.record(lr)
			a := lr.Attributes()
			if e.Route != "" {
				a.PutStr(auditconv.HTTPRoute, e.Route)
			}
			if ua := e.RequestHeaders["User-Agent"]; len(ua) > 0 {
				a.PutStr(auditconv.UserAgentOriginal, ua[0])
			}
			if e.Panic != "" {
				a.PutStr(auditconv.ErrorType, auditconv.ErrorTypePanic)
				a.PutStr(auditconv.ExceptionMessage, e.Panic)
			}
			before := rawValues(lr)
			for _, s := range e.Secrets {
				if !strings.Contains(before, s) {
					t.Fatalf("corpus error: secret %q not in the record", s)
				}
			}
			sink.Reset()
			if err := p.ConsumeLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
			out := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			after := rawValues(out)
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
			_, counted := out.Attributes().Get(auditconv.MaskingCount)
			if counted != (len(e.Secrets) > 0) {
				t.Errorf("%s present = %v with %d secrets", auditconv.MaskingCount, counted, len(e.Secrets))
			}
		})
	}
	for _, c := range []string{"keys", "signed-url", "url-in-value", "structure", "skipped-place", "path", "lookalike"} {
		if perClass[c] < 3 {
			t.Errorf("class %s has %d cases, want at least 3", c, perClass[c])
		}
	}
}
