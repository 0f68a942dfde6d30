package samplingprocessor

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelaudit/otelaudit/processor/samplingprocessor/internal/metadata"
)

// benchBatch is 1000 realistic audit records: mostly GET 200, some writes
// and errors, each with the ~25 attributes audithttp emits.
func benchBatch() plog.Logs {
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	for i := 0; i < 1000; i++ {
		r := rec{method: "GET", status: 200, id: uuid.Must(uuid.NewV7()).String()}
		switch i % 10 {
		case 7:
			r.method, r.status = "POST", 201
		case 8:
			r.status = 404
		case 9:
			r.status = 503
		}
		lr := addRecord(sl, r)
		a := lr.Attributes()
		for _, k := range []string{"audit.operation", "url.scheme", "server.address", "url.path", "url.query",
			"http.route", "client.address", "user_agent.original", "user.id", "http.request.header.accept",
			"http.request.header.user-agent", "http.response.header.content-type", "http.request.body.content",
			"http.response.body.content"} {
			a.PutStr(k, "value of "+k)
		}
		a.PutInt("server.port", 443)
		a.PutDouble("http.server.request.duration", 0.0123)
		a.PutInt("http.request.body.size", 2048)
		a.PutInt("http.response.body.size", 2048)
	}
	return ld
}

func benchProcessor(b *testing.B, name string, next func(consumer.Logs) consumer.Logs) {
	batch := benchBatch()
	sink := consumertest.NewNop()
	p := next(sink)
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		copies := make([]plog.Logs, 0, 64)
		for b.Loop() {
			b.StopTimer()
			if len(copies) == 0 {
				for range 64 {
					c := plog.NewLogs()
					batch.CopyTo(c)
					copies = append(copies, c)
				}
			}
			ld := copies[len(copies)-1]
			copies = copies[:len(copies)-1]
			b.StartTimer()
			if err := p.ConsumeLogs(context.Background(), ld); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
	})
}

// BenchmarkProcessor compares the sampling processor with a pass-through
// processor built with the same helper, on 1000-record batches.
func BenchmarkProcessor(b *testing.B) {
	set := processortest.NewNopSettings(metadata.Type)
	benchProcessor(b, "passthrough", func(next consumer.Logs) consumer.Logs {
		p, err := processorhelper.NewLogs(context.Background(), set, createDefaultConfig(), next,
			func(_ context.Context, ld plog.Logs) (plog.Logs, error) { return ld, nil })
		if err != nil {
			b.Fatal(err)
		}
		return p
	})
	benchProcessor(b, "sampling", func(next consumer.Logs) consumer.Logs {
		cfg := createDefaultConfig().(*Config)
		cfg.Rates = map[string]any{"GET": map[string]any{"200": 0.1, "3xx": 0.5, "default": 1.0}, "HEAD": 0}
		p, err := NewFactory().CreateLogs(context.Background(), set, cfg, next)
		if err != nil {
			b.Fatal(err)
		}
		return p
	})
}
