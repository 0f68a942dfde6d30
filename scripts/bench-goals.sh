#!/usr/bin/env bash
# bench-goals.sh: every performance goal of docs/performance.md over RUNS
# runs on this machine. Each run measures, one after the other, the
# wrapper's CPU per request (BenchmarkHandler), loopback throughput
# (BenchmarkLoopback), latency at half load (BenchmarkLatency) and the
# masking engine's speed (BenchmarkJSON); then benchmarks/goals prints the
# goal table from all the runs. The raw output is kept in OUT (default a
# temporary file, named at the end) to read again with
# `go run ./benchmarks/goals FILE`.
#
#   scripts/bench-goals.sh [RUNS] [SHARE...]
#
# RUNS defaults to 5, the fewest that give a verdict; the machines these run
# on drift, and ten runs or more decide goals that sit near their limit.
#
# With SHAREs, each run measures only BenchmarkLatency, paced at each share
# of the bare server's maximum throughput in turn (`make bench-latency-load`:
# 0.25 and 0.5), so that drift falls on every load alike; its lines are
# labelled "load-SHARE" and benchmarks/goals prints a table per load, with
# how busy the machine was beside the latency rows.
set -euo pipefail

runs=${1:-5}
shift || true
shares=("$@")
go=${GO:-go}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=${OUT:-$(mktemp -t bench-goals.XXXXXX)}

cd "$root"
"$go" test -c -o "$dir/audithttp.test" ./instrumentation/audithttp/
[ ${#shares[@]} -gt 0 ] || "$go" test -c -o "$dir/mask.test" ./internal/mask/
"$go" build -o "$dir/goals" ./benchmarks/goals

bench() { # DIR BINARY BENCH BENCHTIME [FLAG...]
	(cd "$1" && "$dir/$2" -test.run '^$' -test.bench "$3" -test.benchtime "$4" "${@:5}")
}
for r in $(seq "$runs"); do
	echo "bench-goals: run $r of $runs" >&2
	if [ ${#shares[@]} -gt 0 ]; then
		for s in "${shares[@]}"; do
			bench instrumentation/audithttp audithttp.test '^BenchmarkLatency$' 5x -latency-load "$s" |
				awk -v label="load-$s" '/^Benchmark/ { print label, $0 }'
		done
		continue
	fi
	bench instrumentation/audithttp audithttp.test '^BenchmarkHandler$/^(otelhttp|audithttp|audithttp-dedicated|audithttp-dedicated-nomask)$' 3s
	bench instrumentation/audithttp audithttp.test '^BenchmarkLoopback$' 7x
	bench instrumentation/audithttp audithttp.test '^BenchmarkLatency$' 5x
	bench internal/mask mask.test '^BenchmarkJSON$/^(encoding-json-valid|mask|mask-in-place)$' 2s
done >>"$out"
"$dir/goals" "$out"
echo "bench-goals: the runs' output is in $out" >&2
