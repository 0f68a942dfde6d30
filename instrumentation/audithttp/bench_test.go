package audithttp_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/instrumentation/audithttp"
	"github.com/otelaudit/otelaudit/internal/testutil/benchdata"
)

// benchJSON is the request and the response body.
var benchJSON = benchdata.JSON

type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }

// app is the handler under test: it reads the JSON request and answers
// with a JSON document of the same size.
var app = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Write(benchJSON)
})

// servers returns the handlers compared by the benchmarks, and a function
// that shuts their providers down.
func servers() (map[string]http.Handler, func()) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{})))
	// A provider of its own for audit records, as the README recommends:
	// audithttp never emits duplicate keys, so the SDK's per-attribute
	// de-duplication can be switched off.
	lpDedicated := sdklog.NewLoggerProvider(sdklog.WithAllowKeyDuplication(),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{})))
	return map[string]http.Handler{
			"bare":                app,
			"otelhttp":            otelhttp.NewHandler(app, "bench", otelhttp.WithTracerProvider(tp)),
			"audithttp":           audithttp.NewHandler(app, "bench", audithttp.WithLoggerProvider(lp)),
			"audithttp-dedicated": audithttp.NewHandler(app, "bench", audithttp.WithLoggerProvider(lpDedicated)),
			// The record built before ServeHTTP returns, as the client waits.
			"audithttp-inline":           audithttp.NewHandler(app, "bench", audithttp.WithLoggerProvider(lp), audithttp.WithAsync(false)),
			"audithttp-dedicated-inline": audithttp.NewHandler(app, "bench", audithttp.WithLoggerProvider(lpDedicated), audithttp.WithAsync(false)),
			// What each feature costs: masking off; bodies off (headers only).
			"audithttp-dedicated-nomask": audithttp.NewHandler(app, "bench", audithttp.WithLoggerProvider(lpDedicated), audithttp.WithMasking(false)),
			"audithttp-dedicated-nobody": audithttp.NewHandler(app, "bench", audithttp.WithLoggerProvider(lpDedicated),
				audithttp.WithRequestBody(false), audithttp.WithResponseBody(false)),
			// otelhttp, and the two bodies masked after the response.
			"otelhttp-masked":   otelhttp.NewHandler(maskedAfter(app), "bench", otelhttp.WithTracerProvider(tp)),
			"emit-only":         emitOnly(lpDedicated, sampleAttrs()),
			"emit-only-default": emitOnly(lp, sampleAttrs()),
		}, func() {
			tp.Shutdown(context.Background())
			lp.Shutdown(context.Background())
			lpDedicated.Shutdown(context.Background())
		}
}

// emitOnly is the floor of any audit wrapper that emits through the SDK:
// the app, then a record with the attributes audithttp gave a real
// exchange, emitted through the same provider, with nothing captured,
// masked or built per request.
func emitOnly(lp log.LoggerProvider, attrs []attribute.KeyValue) http.Handler {
	l := lp.Logger("emit-only")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.ServeHTTP(w, r)
		var rec log.Record
		rec.SetEventName(auditconv.EventHTTPServer)
		rec.SetTimestamp(time.Now())
		rec.AddAttributes(attrs...)
		l.Emit(r.Context(), rec)
	})
}

// sampleAttrs returns the attributes of the record audithttp emits for the
// benchmark request.
func sampleAttrs() []attribute.KeyValue {
	rec := newRecorder()
	lp := sdklog.NewLoggerProvider(sdklog.WithAllowKeyDuplication(), sdklog.WithProcessor(sdklog.NewSimpleProcessor(rec)))
	defer lp.Shutdown(context.Background())
	req := benchRequest()
	req.Body = io.NopCloser(bytes.NewReader(benchJSON))
	audithttp.NewHandler(app, "bench", audithttp.WithLoggerProvider(lp), audithttp.WithAsync(false)).ServeHTTP(&discardWriter{h: http.Header{}}, req)
	var out []attribute.KeyValue
	rec.recs[0].WalkAttributes(func(kv attribute.KeyValue) bool {
		out = append(out, kv)
		return true
	})
	return out
}

// benchRequest is the in-process benchmark's request, without its body.
func benchRequest() *http.Request {
	req := httptest.NewRequest("POST", "http://example.com/api/orders?id=7&token=x", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer abc")
	req.Header.Set("User-Agent", "bench/1")
	req.Header.Set("Accept", "application/json")
	req.RemoteAddr = "10.0.0.1:5555"
	req.ContentLength = int64(len(benchJSON))
	return req
}

// discardWriter is a minimal ResponseWriter, so that the in-process
// benchmark measures the handlers and not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Flush()                      {}

// BenchmarkHandler is the in-process comparison: a 2 KB JSON request and
// response, bodies captured and masked. ns/op is what the caller of
// ServeHTTP waits; cpu-ns/op is the CPU the process spent per request, on
// every core, including the records built after the response and the
// pending ones Flush waits for; caller-cpu-ns/op is the CPU of the caller's
// own thread (Linux), what the client waits for on an idle machine.
func BenchmarkHandler(b *testing.B) {
	hs, shutdown := servers()
	defer shutdown()
	for _, name := range []string{"bare", "otelhttp", "emit-only", "emit-only-default", "audithttp", "audithttp-dedicated", "audithttp-inline",
		"audithttp-dedicated-inline", "audithttp-dedicated-nomask", "audithttp-dedicated-nobody"} {
		h := hs[name]
		b.Run(name, func(b *testing.B) {
			body := bytes.NewReader(benchJSON)
			req := benchRequest()
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.SetBytes(int64(2 * len(benchJSON)))
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu, ok := benchdata.ProcessCPU()
			caller := threadCPUTime()
			for b.Loop() {
				body.Reset(benchJSON)
				req.Body = io.NopCloser(body)
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			caller = threadCPUTime() - caller
			if err := audithttp.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			if end, _ := benchdata.ProcessCPU(); ok {
				b.ReportMetric(float64(end-cpu)/float64(b.N), "cpu-ns/op")
			}
			b.ReportMetric(float64(caller)/float64(b.N), "caller-cpu-ns/op")
		})
	}
}

// BenchmarkLoopback measures requests/s of keep-alive HTTP/1.1 clients over
// loopback against the servers, in alternating rounds, and reports the
// median of the per-round ratios to bare and to otelhttp. in-process runs
// the servers in the benchmark's process, server-process in a process of
// their own, as a service and its clients are.
func BenchmarkLoopback(b *testing.B) {
	// audithttp-dedicated-nomask shows what masking the bodies costs in
	// throughput.
	names := []string{"bare", "otelhttp", "emit-only", "audithttp", "audithttp-dedicated", "audithttp-dedicated-inline",
		"audithttp-dedicated-nomask"}
	forEachPlacement(b, names, func(b *testing.B, urls map[string]string) {
		const clients = 4
		tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
		client := &http.Client{Transport: tr}
		defer tr.CloseIdleConnections()
		round := func(name string, n int) float64 { return postRound(b, client, urls[name], clients, n) }
		compareRounds(b, names, []string{"bare", "otelhttp"}, round)
	})
}

// BenchmarkLatency measures what one client sees over loopback when the
// server is about half busy: it finds the bare server's maximum throughput
// (4 keep-alive clients), then sends 2 KB JSON requests (2 KB JSON
// answers, bodies captured and masked) to each server at half that rate,
// paced, from 8 keep-alive connections, in alternating rounds. It reports
// each server's p50 and p99 latency (from sending the request to reading
// the whole response) and what each adds over bare. in-process and
// server-process place the servers as BenchmarkLoopback does; with the
// servers in a process of their own the clients' latency no longer counts
// the servers' garbage collection.
func BenchmarkLatency(b *testing.B) {
	// audithttp-dedicated-nomask shows what masking the bodies adds to
	// audithttp, otelhttp-masked what it adds to otelhttp.
	names := []string{"bare", "otelhttp", "audithttp", "audithttp-dedicated", "audithttp-dedicated-inline", "audithttp-dedicated-nomask",
		"otelhttp-masked"}
	forEachPlacement(b, names, func(b *testing.B, urls map[string]string) { latency(b, names, urls) })
}

// latencyLoad is the share of the bare server's maximum throughput at which
// BenchmarkLatency paces its requests: the goal is stated at half, and a
// lower share shows how the latency added follows the machine's idle CPU.
var latencyLoad = flag.Float64("latency-load", 0.5, "BenchmarkLatency: pace at this share of the bare server's maximum throughput")

// latency is BenchmarkLatency against the servers at urls.
func latency(b *testing.B, names []string, urls map[string]string) {
	const conns, perRound = 8, 2000
	if !(*latencyLoad > 0) {
		b.Fatalf("-latency-load %v: want a share of the bare server's throughput above 0", *latencyLoad)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	for _, n := range names { // warm up connections and caches
		postRound(b, client, urls[n], 4, 400)
	}
	rate := postRound(b, client, urls["bare"], 4, 4000) * *latencyLoad
	b.ResetTimer()
	lat := map[string][]time.Duration{}
	busy, total := map[string]time.Duration{}, map[string]time.Duration{}
	for r := range max(b.N, 3) {
		order := slices.Clone(names)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, n := range order {
			b0, t0, ok0 := benchdata.MachineCPU()
			lat[n] = append(lat[n], pacedRound(b, client, urls[n], conns, rate, perRound)...)
			if b1, t1, ok1 := benchdata.MachineCPU(); ok0 && ok1 {
				busy[n] += b1 - b0
				total[n] += t1 - t0
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(rate, "paced-req/s")
	// How busy the machine's cores were while each server was paced: the
	// load generator's work and the server's, as a request queues behind
	// both.
	for _, n := range names {
		if total[n] > 0 {
			b.ReportMetric(100*float64(busy[n])/float64(total[n]), n+"-machine-busy-%")
		}
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	p50, p99 := map[string]time.Duration{}, map[string]time.Duration{}
	for _, n := range names {
		slices.Sort(lat[n])
		p50[n], p99[n] = lat[n][len(lat[n])/2], lat[n][len(lat[n])*99/100]
		b.ReportMetric(us(p50[n]), n+"-p50-µs")
		b.ReportMetric(us(p99[n]), n+"-p99-µs")
	}
	for _, n := range names[1:] {
		b.ReportMetric(us(p50[n]-p50["bare"]), n+"-added-p50-µs")
		b.ReportMetric(us(p99[n]-p99["bare"]), n+"-added-p99-µs")
	}
}

// pacedRound posts benchJSON n times at rate requests per second, the
// i-th at start + i/rate, from conns goroutines, and returns each
// request's latency.
func pacedRound(b *testing.B, client *http.Client, url string, conns int, rate float64, n int) []time.Duration {
	out := make([]time.Duration, n)
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
				sent := time.Now()
				if err := postJSON(client, url); err != nil {
					b.Error(err)
					return
				}
				out[i] = time.Since(sent)
			}
		})
	}
	wg.Wait()
	return out
}

// BenchmarkTransport measures outbound calls/s of keep-alive HTTP/1.1
// clients over loopback, 2 KB JSON both ways, through the bare transport,
// otelhttp.NewTransport and audithttp.NewTransport, in alternating rounds,
// and reports the median of the per-round ratios to bare and to otelhttp.
func BenchmarkTransport(b *testing.B) {
	srv := httptest.NewServer(app)
	defer srv.Close()
	url := srv.URL + "/api/orders?id=7&token=x"
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
	lp := sdklog.NewLoggerProvider(sdklog.WithAllowKeyDuplication(),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{})))
	defer func() { _ = tp.Shutdown(context.Background()); _ = lp.Shutdown(context.Background()) }()
	const clients = 4
	base := func() *http.Transport {
		tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
		b.Cleanup(tr.CloseIdleConnections)
		return tr
	}
	rts := map[string]http.RoundTripper{
		"bare":      base(),
		"otelhttp":  otelhttp.NewTransport(base(), otelhttp.WithTracerProvider(tp)),
		"audithttp": audithttp.NewTransport(base(), audithttp.WithLoggerProvider(lp)),
		// The record built as the caller closes the body.
		"audithttp-inline": audithttp.NewTransport(base(), audithttp.WithLoggerProvider(lp), audithttp.WithAsync(false)),
	}
	round := func(name string, n int) float64 {
		return postRound(b, &http.Client{Transport: rts[name]}, url, clients, n)
	}
	compareRounds(b, []string{"bare", "otelhttp", "audithttp", "audithttp-inline"}, []string{"bare", "otelhttp"}, round)
}

// postJSON posts benchJSON as the benchmarks' clients do and reads the
// whole response.
func postJSON(client *http.Client, url string) error {
	req, err := http.NewRequest("POST", url, bytes.NewReader(benchJSON))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer abc")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// postRound posts benchJSON n times from clients goroutines and returns
// the requests per second.
func postRound(b *testing.B, client *http.Client, url string, clients, n int) float64 {
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/clients; i++ {
				if err := postJSON(client, url); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// compareRounds runs round for every name in alternating order, at least
// five rounds, and reports each name's median req/s and the median of the
// per-round ratios of every name to each of bases.
func compareRounds(b *testing.B, names, bases []string, round func(name string, n int) float64) {
	const perRound = 4000
	rounds := max(b.N, 5)
	for _, n := range names { // warm up connections and caches
		round(n, 400)
	}
	b.ResetTimer()
	rps := map[string][]float64{}
	ratios := map[string][]float64{} // "a/b" -> per-round ratios
	for r := 0; r < rounds; r++ {
		got := map[string]float64{}
		order := slices.Clone(names)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, n := range order {
			got[n] = round(n, perRound)
			rps[n] = append(rps[n], got[n])
		}
		for _, n := range names[1:] {
			for _, base := range bases {
				if n != base {
					ratios[n+"/"+base] = append(ratios[n+"/"+base], got[n]/got[base])
				}
			}
		}
	}
	b.StopTimer()
	for _, n := range names {
		b.ReportMetric(median(rps[n]), n+"-req/s")
	}
	for k, v := range ratios {
		b.ReportMetric(median(v), k)
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
