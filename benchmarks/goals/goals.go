package main

import (
	"math"
	"slices"
)

// run is one run of one benchmark: its sub-benchmarks' metrics by name.
type run map[string]map[string]float64

// figure is a goal's figure for one subject in one run.
type figure struct {
	subject string
	value   float64
}

// goal is one of the performance goals (docs/performance.md). The figure
// meets it when it is at most limit (atMost) or at least limit; a goal
// whose limit is NaN is only reported. bothParts goals count the runs that
// meet and show no median: their figure is a composite.
type goal struct {
	title     string
	bench     string
	limit     float64
	atMost    bool
	format    string
	bothParts bool
	figures   func(run) []figure
}

// The audited handlers and the placements the goals are stated for.
var (
	audited      = []string{"audithttp-dedicated", "audithttp"}
	withOtelhttp = append(slices.Clone(audited), "otelhttp")
	withNoMask   = append(slices.Clone(audited), "audithttp-dedicated-nomask")
	// otelhttp-masked is otelhttp with the two bodies masked after the
	// response: what masking adds to a wrapper that is not audithttp.
	latencySubjects = append(slices.Clone(withNoMask), "otelhttp-masked")
	// Masking off shows what masking the bodies costs in throughput.
	loopbackSubjects = append(slices.Clone(withOtelhttp), "audithttp-dedicated-nomask")
	placements       = []string{"in-process", "server-process"}
)

// The loopback goal's two parts: audithttp's requests/s at least these
// fractions of bare's and of otelhttp's.
const (
	loopbackOfBare     = 0.75
	loopbackOfOtelhttp = 0.95
)

// goals are the project's performance goals, in the order they are
// printed.
var goals = []goal{
	{
		title: "CPU per request ÷ otelhttp's", bench: "BenchmarkHandler", limit: 1.5, atMost: true, format: "%.2f",
		figures: func(r run) []figure {
			return perSubject(withNoMask, func(v string) (float64, bool) {
				return ratio(r[v]["cpu-ns/op"], r["otelhttp"]["cpu-ns/op"])
			})
		},
	},
	{
		title: "loopback requests/s ÷ bare's", bench: "BenchmarkLoopback", limit: loopbackOfBare, format: "%.2f",
		// otelhttp's own figure is the goal's context: audithttp can reach
		// 0.75 of bare only where otelhttp reaches more.
		figures: perPlacement(loopbackSubjects, func(m map[string]float64, v string) (float64, bool) { return get(m, v+"/bare") }),
	},
	{
		title: "loopback requests/s ÷ otelhttp's", bench: "BenchmarkLoopback", limit: loopbackOfOtelhttp, format: "%.2f",
		figures: perPlacement(withNoMask, func(m map[string]float64, v string) (float64, bool) { return get(m, v+"/otelhttp") }),
	},
	{
		title: "loopback, both parts", bench: "BenchmarkLoopback", limit: 1, bothParts: true, format: "%.2f",
		figures: perPlacement(audited, func(m map[string]float64, v string) (float64, bool) {
			b, ok1 := get(m, v+"/bare")
			o, ok2 := get(m, v+"/otelhttp")
			return min(b/loopbackOfBare, o/loopbackOfOtelhttp), ok1 && ok2
		}),
	},
	{
		title: "latency: p50 added minus otelhttp's (µs)", bench: "BenchmarkLatency", limit: 0, atMost: true, format: "%+.0f",
		// Without masking, the figure shows what masking the bodies adds;
		// otelhttp-masked, what the same masking adds to otelhttp.
		figures: perPlacement(latencySubjects, addedBeyondOtelhttp("p50")),
	},
	{
		title: "latency: p99 added minus otelhttp's (µs)", bench: "BenchmarkLatency", limit: 0, atMost: true, format: "%+.0f",
		figures: perPlacement(latencySubjects, addedBeyondOtelhttp("p99")),
	},
	{
		// Context for the latency rows: a request queues behind the
		// machine's busy time, the load generator's included, so the
		// latency added follows how busy each server keeps the machine.
		title: "latency: machine busy while paced (%)", bench: "BenchmarkLatency", limit: math.NaN(), format: "%.0f",
		figures: perPlacement(append([]string{"bare", "otelhttp"}, latencySubjects...), func(m map[string]float64, v string) (float64, bool) {
			return get(m, v+"-machine-busy-%")
		}),
	},
	{
		title: "masking speed ÷ json.Valid's", bench: "BenchmarkJSON", limit: 3, format: "%.2f",
		figures: func(r run) []figure {
			return perSubject([]string{"mask-in-place", "mask"}, func(v string) (float64, bool) {
				return ratio(r["encoding-json-valid"]["ns/op"], r[v]["ns/op"])
			})
		},
	},
	{
		title: "collector ÷ raw COPY", bench: "BenchmarkCollectorToPostgres", limit: 0.65, format: "%.2f",
		figures: perSub("collector/raw"),
	},
	{
		title: "collector records/s per core", bench: "BenchmarkCollectorToPostgres", limit: math.NaN(), format: "%.0f",
		figures: perSub("records/s/core"),
	},
}

// perSubject returns f's figure for each subject the run has (f reports
// false for one it lacks, or whose baseline it lacks).
func perSubject(subjects []string, f func(subject string) (float64, bool)) []figure {
	var out []figure
	for _, v := range subjects {
		if x, ok := f(v); ok {
			out = append(out, figure{v, x})
		}
	}
	return out
}

// perPlacement returns a figures function that applies f to each of the
// handlers in each placement's metrics.
func perPlacement(handlers []string, f func(m map[string]float64, v string) (float64, bool)) func(run) []figure {
	return func(r run) []figure {
		var out []figure
		for _, p := range placements {
			m := r[p]
			if m == nil {
				continue
			}
			for _, v := range handlers {
				if x, ok := f(m, v); ok {
					out = append(out, figure{v + ", " + p, x})
				}
			}
		}
		return out
	}
}

// addedBeyondOtelhttp returns how much latency at quantile q a handler
// adds over bare beyond what otelhttp adds, in the same run.
func addedBeyondOtelhttp(q string) func(m map[string]float64, v string) (float64, bool) {
	return func(m map[string]float64, v string) (float64, bool) {
		a, ok1 := get(m, v+"-added-"+q+"-µs")
		o, ok2 := get(m, "otelhttp-added-"+q+"-µs")
		return a - o, ok1 && ok2
	}
}

// perSub returns a figures function that reports the metric unit of every
// sub-benchmark (the benchmark itself when it has none).
func perSub(unit string) func(run) []figure {
	return func(r run) []figure {
		var out []figure
		for _, sub := range sortedKeys(r) {
			if x, ok := get(r[sub], unit); ok {
				name := sub
				if name == "" {
					name = "as run"
				}
				out = append(out, figure{name, x})
			}
		}
		return out
	}
}

func get(m map[string]float64, unit string) (float64, bool) {
	x, ok := m[unit]
	return x, ok
}

// ratio returns a/b, and false when either is missing (zero).
func ratio(a, b float64) (float64, bool) {
	if a == 0 || b == 0 {
		return 0, false
	}
	return a / b, true
}

// meets reports whether x meets g.
func (g goal) meets(x float64) bool {
	if g.atMost {
		return x <= g.limit
	}
	return x >= g.limit
}

// informational reports whether g is only reported, with no limit.
func (g goal) informational() bool { return math.IsNaN(g.limit) }
