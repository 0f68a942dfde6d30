// Package redaction benchmarks otelaudit's masking processor next to the
// contrib redactionprocessor, configured as closely as it allows, on the
// same batches. It is a module of its own so that otelaudit never depends
// on contrib.
package redaction

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelaudit/otelaudit/processor/maskingprocessor"
)

// body is a ~2 KB JSON document with secrets at several depths.
func body(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"user":{"id":"u-%d","email":"user%d@example.com","password":"pw-%d","api_key":"ak_%d"},"items":[`, i, i, i, i)
	for j := 0; b.Len() < 1900; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%05d","name":"Item number %d","qty":%d,"price":%d.99}`, j, j, j%7+1, j*3)
	}
	b.WriteString(`],"token":"tok_abcdef","card":"4111 1111 1111 1111"}`)
	return b.String()
}

// batch is 1000 audit records: 2 KB JSON request and response bodies and
// 15 headers each, as audithttp emits them without masking at the source.
func batch() plog.Logs {
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	headers := map[string]string{
		"accept": "application/json", "accept-encoding": "gzip", "accept-language": "en", "authorization": "Bearer abc.def-123",
		"cache-control": "no-cache", "connection": "keep-alive", "content-type": "application/json", "cookie": "sid=s3cr3t",
		"host": "api.example.com", "origin": "https://app.example.com", "referer": "https://app.example.com/cart",
		"user-agent": "Mozilla/5.0", "x-api-key": "key-123", "x-request-id": "req-1", "x-forwarded-for": "203.0.113.7",
	}
	for i := 0; i < 1000; i++ {
		a := sl.LogRecords().AppendEmpty().Attributes()
		a.PutStr("audit.record.id", fmt.Sprintf("0193aaaa-0000-7000-8000-%012d", i))
		a.PutStr("http.request.method", "POST")
		a.PutStr("url.path", "/api/orders")
		a.PutStr("url.query", "page=2&access_token=qs-secret")
		a.PutInt("http.response.status_code", 201)
		for k, v := range headers {
			a.PutEmptySlice("http.request.header." + k).AppendEmpty().SetStr(v)
		}
		a.PutEmptySlice("http.response.header.content-type").AppendEmpty().SetStr("application/json")
		a.PutStr("http.request.body.content", body(i))
		a.PutStr("http.response.body.content", body(i+1))
	}
	return ld
}

func run(b *testing.B, name string, create func(consumer.Logs) (consumer.Logs, error)) {
	p, err := create(consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	src := batch()
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		var copies []plog.Logs
		for b.Loop() {
			if len(copies) == 0 {
				b.StopTimer()
				for range 16 {
					c := plog.NewLogs()
					src.CopyTo(c)
					copies = append(copies, c)
				}
				b.StartTimer()
			}
			ld := copies[len(copies)-1]
			copies = copies[:len(copies)-1]
			if err := p.ConsumeLogs(context.Background(), ld); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
	})
}

func BenchmarkMasking(b *testing.B) {
	run(b, "otelaudit-masking", func(next consumer.Logs) (consumer.Logs, error) {
		f := maskingprocessor.NewFactory()
		return f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), next)
	})
	run(b, "contrib-redaction", func(next consumer.Logs) (consumer.Logs, error) {
		f := redactionprocessor.NewFactory()
		cfg := f.CreateDefaultConfig().(*redactionprocessor.Config)
		cfg.AllowAllKeys = true
		cfg.RedactAllTypes = true
		cfg.Summary = "silent"
		cfg.BlockedKeyPatterns = []string{`(?i).*(password|passwd|secret|token|api.?key|access.?key|authorization|cookie|credential|private.?key|session.?id).*`}
		cfg.BlockedValues = []string{
			`\b(?:\d[ -]?){13,19}\b`,
			`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`,
			`(?i)(bearer|basic) [A-Za-z0-9._~+/=-]+`,
			`A(KI|SI)A[0-9A-Z]{16}`,
			`-----BEGIN [A-Z ]*PRIVATE KEY-----`,
			`gh[pousr]_[A-Za-z0-9]{30,}`,
			`[sr]k_(live|test)_[A-Za-z0-9]{10,}`,
			`xox[bparse]-[A-Za-z0-9-]{10,}`,
		}
		return f.CreateLogs(context.Background(), processortest.NewNopSettings(component.MustNewType("redaction")), cfg, next)
	})
}
