package auditexport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
	"github.com/otelaudit/otelaudit/internal/testutil/benchdata"
)

type discard struct{}

func (discard) Export(context.Context, []sdklog.Record) error { return nil }
func (discard) Shutdown(context.Context) error                { return nil }
func (discard) ForceFlush(context.Context) error              { return nil }

var benchApp = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Write(benchdata.JSON)
})

// benchProvider returns one of the setups compared, each exporting to a
// discarding exporter: "batch", the SDK's BatchProcessor; "durable", the
// durable processor with its defaults (fsync every 100 ms, the sender
// exporting from its memory queue); "durable-disk", the same with the
// memory queue off, so that the sender reads every record back from disk,
// as it does after a restart or when the memory queue overflows.
func benchProvider(b *testing.B, name string) *sdklog.LoggerProvider {
	var proc sdklog.Processor
	switch name {
	case "batch":
		proc = sdklog.NewBatchProcessor(discard{})
	case "durable", "durable-disk":
		var opts []DurableOption
		if name == "durable-disk" {
			opts = append(opts, WithMemoryQueue(0, 0))
		}
		dp, err := NewDurableProcessor(discard{}, b.TempDir(), opts...)
		if err != nil {
			b.Fatal(err)
		}
		proc = dp
	default:
		b.Fatalf("unknown setup %q", name)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithAllowKeyDuplication(), sdklog.WithProcessor(proc))
	b.Cleanup(func() { lp.Shutdown(context.Background()) })
	return lp
}

func benchRequest(body io.Reader) *http.Request {
	req := httptest.NewRequest("POST", "http://example.com/api/orders?id=7&token=x", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer abc")
	req.RemoteAddr = "10.0.0.1:5555"
	req.ContentLength = int64(len(benchdata.JSON))
	return req
}

// cpuMeter measures the CPU time of a benchmark, background goroutines
// included: the work a processor does after OnEmit returned is part of
// what a request costs the machine.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	t, ok := benchdata.ProcessCPU()
	return cpuMeter{start: t, ok: ok}
}

// report calls flush (when not nil), so that the background export of the
// benchmark's records is counted, and reports the CPU time per operation as
// cpu-ns/op.
func (m cpuMeter) report(b *testing.B, flush func(context.Context) error) {
	if flush != nil {
		if err := flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	if end, ok := benchdata.ProcessCPU(); ok && m.ok && b.N > 0 {
		b.ReportMetric(float64(end-m.start)/float64(b.N), "cpu-ns/op")
	}
}

// failing is an exporter that always fails: the sender backs off and the
// records stay in the spool.
type failing struct{}

func (failing) Export(context.Context, []sdklog.Record) error { return errors.New("collector down") }
func (failing) Shutdown(context.Context) error                { return nil }
func (failing) ForceFlush(context.Context) error              { return nil }

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkWrapper: the audithttp wrapper (2 KB JSON request and response,
// bodies captured and masked) in process, with the BatchProcessor and with
// the durable processor (benchProvider).
func BenchmarkWrapper(b *testing.B) {
	for _, name := range []string{"batch", "durable", "durable-disk"} {
		b.Run(name, func(b *testing.B) {
			lp := benchProvider(b, name)
			h := audithttp.NewHandler(benchApp, "bench", audithttp.WithLoggerProvider(lp))
			body := bytes.NewReader(benchdata.JSON)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				body.Reset(benchdata.JSON)
				clear(w.h)
				h.ServeHTTP(w, benchRequest(body))
			}
			cpu.report(b, lp.ForceFlush)
		})
	}
}

// BenchmarkWrapperLoopback: the same over loopback HTTP, with four
// concurrent clients.
func BenchmarkWrapperLoopback(b *testing.B) {
	for _, name := range []string{"batch", "durable"} {
		b.Run(name, func(b *testing.B) {
			lp := benchProvider(b, name)
			srv := httptest.NewServer(audithttp.NewHandler(benchApp, "bench", audithttp.WithLoggerProvider(lp)))
			defer srv.Close()
			client := srv.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 8
			b.SetParallelism(2) // 2 × GOMAXPROCS clients
			cpu := startCPU()
			defer cpu.report(b, lp.ForceFlush)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Post(srv.URL+"/api/orders?id=7", "application/json", bytes.NewReader(benchdata.JSON))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}

// auditRecord is a record the size of the wrapper's for the benchmark
// request: the JSON bodies, headers and the usual attributes.
func auditRecord() *sdklog.Record {
	keep := &keepProcessor{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(keep), sdklog.WithAllowKeyDuplication())
	var r log.Record
	r.SetEventName("http.server.audit")
	r.AddAttributes(
		attribute.String("audit.record.id", "0190c7a0-1234-7000-8000-0123456789ab"),
		attribute.String("http.request.method", "POST"),
		attribute.String("url.path", "/api/orders"),
		attribute.String("url.query", "id=7&token=REDACTED"),
		attribute.Int("http.response.status_code", 200),
		attribute.Float64("http.server.request.duration", 0.0004),
		attribute.StringSlice("http.request.header.content-type", []string{"application/json"}),
		attribute.StringSlice("http.request.header.authorization", []string{"REDACTED"}),
		attribute.String("http.request.body.content", string(benchdata.JSON)),
		attribute.String("http.response.body.content", string(benchdata.JSON)),
		attribute.Int("http.request.body.size", len(benchdata.JSON)),
		attribute.Int("http.response.body.size", len(benchdata.JSON)),
	)
	lp.Logger("bench").Emit(context.Background(), r)
	return &keep.rec
}

// BenchmarkSpoolWrite: records/s and MB/s the spool takes (OnEmit: encode,
// frame, write; fsync every 100 ms), against a raw sequential write of the
// same framed bytes to a file. "spool" exports to a discarding exporter, so
// the sender competes for the CPU as in a service; "spool-held" has an
// exporter that fails, so the sender backs off and the write side is
// measured alone. cpu-ns/op is the CPU of the whole process (sender, fsyncs
// and garbage collector included) per record.
func BenchmarkSpoolWrite(b *testing.B) {
	rec := auditRecord()
	entry := appendRecord(make([]byte, entryHeaderLen+8), rec)
	frameEntry(entry)
	b.Run("raw-file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(len(entry)))
		cpu := startCPU()
		for b.Loop() {
			if _, err := f.Write(entry); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(b, nil)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	for _, name := range []string{"spool", "spool-held"} {
		b.Run(name, func(b *testing.B) {
			var exp sdklog.Exporter = discard{}
			if name == "spool-held" {
				exp = failing{}
			}
			p, err := NewDurableProcessor(exp, b.TempDir(), WithMaxBytes(8<<30))
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				// Records left (spool-held) stay in the spool: not an error here.
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				p.Shutdown(ctx)
			}()
			b.SetBytes(int64(len(entry)))
			b.ReportAllocs()
			var flush func(context.Context) error
			if name == "spool" {
				flush = p.ForceFlush // the sender's export is part of the cost
			}
			cpu := startCPU()
			for b.Loop() {
				if err := p.OnEmit(context.Background(), rec); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b, flush)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
