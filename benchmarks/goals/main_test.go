package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestReport reads five runs of every benchmark the goals read, then one
// labelled run, and checks the verdicts a reader relies on: met, not met,
// within the spread, counted runs and too few runs.
func TestReport(t *testing.T) {
	var out bytes.Buffer
	if err := readAndReport(&out, []string{"testdata/runs.txt"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| CPU per request ÷ otelhttp's ≤ 1.5 | audithttp-dedicated | 5 | 1.25 [1.10, 1.40] | 5 of 5 | [1.10, 1.40] | met |",
		"| CPU per request ÷ otelhttp's ≤ 1.5 | audithttp | 5 | 2.05 [1.90, 2.20] | 0 of 5 | [1.90, 2.20] | not met |",
		"| CPU per request ÷ otelhttp's ≤ 1.5 | audithttp-dedicated-nomask | 5 | 0.90 [0.90, 0.90] | 5 of 5 | [0.90, 0.90] | met |",
		"| latency: p50 added minus otelhttp's (µs) ≤ 0 | audithttp-dedicated-nomask, server-process | 5 | -10 [-10, -10] | 5 of 5 | [-10, -10] | met |",
		"| loopback requests/s ÷ bare's ≥ 0.75 | audithttp-dedicated, in-process | 5 | 0.76 [0.70, 0.80] | 3 of 5 | [0.70, 0.80] | within the runs' spread |",
		"| loopback requests/s ÷ bare's ≥ 0.75 | otelhttp, server-process | 5 | 0.78 [0.78, 0.78] | 5 of 5 | [0.78, 0.78] | met |",
		"| loopback, both parts | audithttp-dedicated, server-process | 5 |  | 3 of 5 |  |  |",
		"| loopback requests/s ÷ otelhttp's ≥ 0.95 | audithttp-dedicated-nomask, server-process | 5 | 1.03 [1.03, 1.03] | 5 of 5 | [1.03, 1.03] | met |",
		"| loopback requests/s ÷ bare's ≥ 0.75 | audithttp-dedicated-nomask, server-process | 5 | 0.82 [0.82, 0.82] | 5 of 5 | [0.82, 0.82] | met |",
		"| latency: p50 added minus otelhttp's (µs) ≤ 0 | audithttp-dedicated, in-process | 5 | -5 [-8, +3] | 4 of 5 | [-8, +3] | within the runs' spread |",
		"| latency: p50 added minus otelhttp's (µs) ≤ 0 | otelhttp-masked, server-process | 5 | +20 [+20, +20] | 0 of 5 | [+20, +20] | not met |",
		"| latency: p99 added minus otelhttp's (µs) ≤ 0 | audithttp, server-process | 5 | +300 [+300, +300] | 0 of 5 | [+300, +300] | not met |",
		"| latency: machine busy while paced (%) | otelhttp, server-process | 5 | 71 [71, 71] |  | [71, 71] | — |",
		"| masking speed ÷ json.Valid's ≥ 3 | mask-in-place | 5 | 4.40 [4.40, 4.40] | 5 of 5 | [4.40, 4.40] | met |",
		"| collector ÷ raw COPY ≥ 0.65 | as run | 1 | 0.64 [0.64, 0.64] | 0 of 1 |  | median misses it (too few runs to say more) |",
		"| collector records/s per core | as run | 1 | 21739 [21739, 21739] |  |  | — |",
		"changed:\n\n| goal |",
		"| CPU per request ÷ otelhttp's ≤ 1.5 | audithttp | 1 | 1.20 [1.20, 1.20] | 1 of 1 |  | median meets it (too few runs to say more) |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks\n%s\n\nreport:\n%s", want, out.String())
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"value":      {"x\nBenchmarkHandler/otelhttp-2 100 12x cpu-ns/op\n", `line 2: BenchmarkHandler/otelhttp-2: value "12x" of cpu-ns/op`},
		"iterations": {"BenchmarkJSON/mask-2 many 1 ns/op\n", `line 1: BenchmarkJSON/mask-2: iterations "many"`},
		"unit":       {"BenchmarkJSON/mask-2 10 1 ns/op 7\n", "line 1: BenchmarkJSON/mask-2: a value without a unit at the end"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parse(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestNothingToReport(t *testing.T) {
	var out bytes.Buffer
	err := report(&out, []result{{bench: "BenchmarkSpoolWrite", metrics: map[string]float64{"ns/op": 1}}})
	if err == nil || !strings.Contains(err.Error(), "no results of BenchmarkCollectorToPostgres, BenchmarkHandler, BenchmarkJSON, BenchmarkLatency, BenchmarkLoopback") {
		t.Fatalf("report: %v", err)
	}
}

func TestTrimProcs(t *testing.T) {
	for in, want := range map[string]string{
		"BenchmarkHandler/audithttp-dedicated-2": "BenchmarkHandler/audithttp-dedicated",
		"BenchmarkHandler/audithttp-dedicated":   "BenchmarkHandler/audithttp-dedicated",
		"BenchmarkCollectorToPostgres-16":        "BenchmarkCollectorToPostgres",
	} {
		if got := trimProcs(in); got != want {
			t.Errorf("trimProcs(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBootstrapMedian: the interval is reproducible, lies within the
// runs' range and contains the median.
func TestBootstrapMedian(t *testing.T) {
	xs := []float64{12, -16, 29, 3, 9, -4, 18, 7}
	lo, hi := bootstrapMedian(xs)
	lo2, hi2 := bootstrapMedian(xs)
	if lo != lo2 || hi != hi2 {
		t.Fatalf("two intervals of the same runs differ: [%v, %v] and [%v, %v]", lo, hi, lo2, hi2)
	}
	if m := median(xs); lo < -16 || hi > 29 || lo > m || hi < m || lo == hi {
		t.Fatalf("interval [%v, %v] for median %v of %v", lo, hi, m, xs)
	}
	if m := median(xs); m != 8 {
		t.Fatalf("median of %v = %v, want 8", xs, m)
	}
}
