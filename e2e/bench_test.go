package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/testutil/testdb"
	"github.com/otelaudit/otelaudit/internal/testutil/testlogs"
)

// benchRequest returns an OTLP/HTTP request body of n audit records as
// audithttp emits them with masking at the source off: POSTs, so that the
// shipped sampling keeps them all (rate 1), with ~1.7 KB JSON bodies and
// five headers each.
func benchRequest(first, n int) []byte {
	body := `{"user":{"id":"u-1","password":"pw"},"items":[` + strings.Repeat(`{"sku":"SKU-00001","name":"Item","qty":1,"price":9.99},`, 30) + `{}]}`
	ld := testlogs.Audit(first, n, func(_ int, lr plog.LogRecord) {
		a := lr.Attributes()
		a.PutStr(auditconv.URLQuery, "token=abc&page=1")
		a.PutDouble(auditconv.HTTPServerRequestDuration, 0.004)
		for _, h := range []string{"accept", "user-agent", "authorization", "x-request-id"} {
			a.PutEmptySlice(auditconv.RequestHeaderKey(h)).AppendEmpty().SetStr("value-" + h)
		}
		a.PutStr(auditconv.HTTPRequestBodyContent, body)
		a.PutStr(auditconv.HTTPResponseBodyContent, body)
		a.PutInt(auditconv.HTTPRequestBodySize, int64(len(body)))
		a.PutInt(auditconv.HTTPResponseBodySize, int64(len(body)))
	})
	b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		panic(err)
	}
	return b
}

// benchRequests returns n records from first on as OTLP/HTTP request
// bodies of per records each.
func benchRequests(first, n, per int) [][]byte {
	bodies := make([][]byte, 0, n/per)
	for i := first; i < first+n; i += per {
		bodies = append(bodies, benchRequest(i, per))
	}
	return bodies
}

// BenchmarkCollectorToPostgres sends OTLP/HTTP batches through the built
// collector (otlp → memory_limiter → masking → sampling at rate 1 →
// postgres, config/postgres.yaml), once untimed to warm it up, then again,
// timed until every row is committed;
// then it COPYs the very same rows with raw pgx into a plain table of the
// same columns and indexes. It reports both rates, their ratio, the
// collector's CPU time (collector-cores; records/s/core is records per
// second of collector CPU) and its peak RSS. It runs as shipped and with
// search_index: false: the trigram index of the viewer's search costs
// PostgreSQL several times the rest of a write (docs/viewer.md), and
// without it what the collector costs shows; and so once more with the
// sending queue in memory, to show what the persistent queue costs (the
// shipped configs keep it on disk), and with GOGC=400 in the collector's
// environment, which trades memory for the garbage collector's CPU. Run
// with -benchtime 1x. With
// AUDIT_PPROF_FILE set, the collector runs with config/pprof.yaml and
// writes its CPU profile there.
func BenchmarkCollectorToPostgres(b *testing.B) {
	needCollector(b)
	noIndex := filepath.Join(b.TempDir(), "no-search-index.yaml")
	if err := os.WriteFile(noIndex, []byte("exporters:\n  postgres:\n    search_index: false\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	memQueue := filepath.Join(b.TempDir(), "memory-queue.yaml")
	if err := os.WriteFile(memQueue, []byte("exporters:\n  postgres:\n    sending_queue:\n      storage: null\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	variants := []struct {
		name    string
		vars    []string
		overlay []string
	}{
		{"search_index=true", nil, nil},
		{"search_index=false", nil, []string{"--config", noIndex}},
		{"search_index=false/queue=memory", nil, []string{"--config", noIndex, "--config", memQueue}},
		{"search_index=false/GOGC=400", []string{"GOGC=400"}, []string{"--config", noIndex}},
	}
	// AUDIT_BENCH_BASELINE names another build of the collector (an earlier
	// commit's), run beside this one on every variant: a before/after in
	// one command.
	bins := [][2]string{{"", collectorBin}}
	if base := os.Getenv("AUDIT_BENCH_BASELINE"); base != "" {
		bins = [][2]string{{"baseline/", base}, {"built/", collectorBin}}
	}
	for _, v := range variants {
		for _, bin := range bins {
			b.Run(bin[0]+v.name, func(b *testing.B) { benchCollectorToPostgres(b, bin[1], v.vars, v.overlay...) })
		}
	}
}

// benchCollectorToPostgres runs the collector bin with
// config/postgres.yaml, then overlay, and vars in its environment.
func benchCollectorToPostgres(b *testing.B, bin string, vars []string, overlay ...string) {
	const total, per = 20000, 1000
	e := newEnv(b)
	args := append([]string{"--config", filepath.Join(root, "config", "postgres.yaml")}, overlay...)
	vars = append(e.vars(), vars...)
	if os.Getenv("AUDIT_PPROF_FILE") != "" {
		args = append(args, "--config", filepath.Join(root, "config", "pprof.yaml"), pprofGate)
		vars = append(vars, "AUDIT_PPROF="+freePort(b), "AUDIT_PPROF_FILE="+os.Getenv("AUDIT_PPROF_FILE")+"."+strings.NewReplacer("BenchmarkCollectorToPostgres/", "", "/", ".").Replace(b.Name()))
	}
	p := start(b, bin, vars, args...)
	waitHTTP(b, p, "http://"+e.health+"/")
	warm, timed := benchRequests(total, total, per), benchRequests(0, total, per)
	conn, err := pgx.Connect(context.Background(), e.dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())

	// A collector that has just started touches each page of its heap for
	// the first time, a page fault each, which on a virtual machine was a
	// quarter of the collector's CPU over 20 000 records. The figures are
	// a running collector's: the first 20 000 records are not timed, and
	// their rows are removed so that the timed ones go into empty tables,
	// as raw COPY's do.
	sendAndWait(b, conn, e, warm, total)
	if _, err := conn.Exec(context.Background(), "TRUNCATE "+e.table+", "+e.table+"_ids"); err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b, p.cmd.Process.Pid)
	sendAndWait(b, conn, e, timed, total)
	pipeline, cpu := time.Since(start), cpuTime(b, p.cmd.Process.Pid)-cpu0
	b.StopTimer()
	rss := peakRSS(p.cmd.Process.Pid)

	p.stop(b)
	raw := testdb.RawCopyRate(b, e.dsn, e.table, per)

	b.ReportMetric(total/pipeline.Seconds(), "collector-records/s")
	b.ReportMetric(raw, "raw-copy-rows/s")
	b.ReportMetric(total/pipeline.Seconds()/raw, "collector/raw")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
	b.ReportMetric(cpu.Seconds()/pipeline.Seconds(), "collector-cores")
	b.ReportMetric(total/cpu.Seconds(), "records/s/core")
}

// sendAndWait posts the OTLP/HTTP request bodies to e's collector and waits
// until e's table holds rows rows.
func sendAndWait(b *testing.B, conn *pgx.Conn, e *env, bodies [][]byte, rows int64) {
	b.Helper()
	for _, body := range bodies {
		resp, err := http.Post("http://"+e.otlp+"/v1/logs", "application/x-protobuf", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("OTLP/HTTP status %d", resp.StatusCode)
		}
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(5 * time.Minute) // bounds a broken pipeline only
	for {
		var n int64
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+e.table).Scan(&n); err != nil {
			b.Fatal(err)
		}
		if n >= rows {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d rows after 5 minutes", n, rows)
		}
		<-tick.C
	}
}

// peakRSS returns the process's peak resident set (VmHWM) in KiB.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkCollectorFsync measures what file_storage's fsync costs the
// collector with the postgres exporter: config/postgres.yaml as shipped, and
// the same with fsync flipped, in one run. It reports both rates and their
// ratio. Run with -benchtime 1x.
func BenchmarkCollectorFsync(b *testing.B) {
	needCollector(b)
	const total, per = 20000, 500
	shipped, err := os.ReadFile(filepath.Join(root, "config", "postgres.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	rate := map[bool]float64{}
	for _, fsync := range []bool{false, true} {
		cfg := regexp.MustCompile(`(?m)^(\s+)fsync: \w+$`).ReplaceAll(shipped, []byte("${1}fsync: "+strconv.FormatBool(fsync)))
		if !bytes.Contains(cfg, []byte("fsync: "+strconv.FormatBool(fsync))) {
			b.Fatal("config/postgres.yaml has no file_storage fsync setting to flip")
		}
		path := filepath.Join(b.TempDir(), "postgres.yaml")
		if err := os.WriteFile(path, cfg, 0o600); err != nil {
			b.Fatal(err)
		}
		e := newEnv(b)
		p := start(b, collectorBin, e.vars(), "--config", path)
		waitHTTP(b, p, "http://"+e.health+"/")
		conn, err := pgx.Connect(context.Background(), e.dsn)
		if err != nil {
			b.Fatal(err)
		}
		bodies := benchRequests(0, total, per)
		start := time.Now()
		sendAndWait(b, conn, e, bodies, total)
		rate[fsync] = total / time.Since(start).Seconds()
		conn.Close(context.Background())
		p.stop(b)
	}
	b.ReportMetric(rate[false], "nofsync-records/s")
	b.ReportMetric(rate[true], "fsync-records/s")
	b.ReportMetric(rate[true]/rate[false], "fsync/nofsync")
}
