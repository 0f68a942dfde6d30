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
#   scripts/bench-goals.sh [RUNS]
#
# RUNS defaults to 5, the fewest that give a verdict; the machines these run
# on drift, and ten runs or more decide goals that sit near their limit.
set -euo pipefail

runs=${1:-5}
go=${GO:-go}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=${OUT:-$(mktemp -t bench-goals.XXXXXX)}

cd "$root"
"$go" test -c -o "$dir/audithttp.test" ./instrumentation/audithttp/
"$go" test -c -o "$dir/mask.test" ./internal/mask/
"$go" build -o "$dir/goals" ./benchmarks/goals

bench() { # DIR BINARY BENCH BENCHTIME
	(cd "$1" && "$dir/$2" -test.run '^$' -test.bench "$3" -test.benchtime "$4")
}
for r in $(seq "$runs"); do
	echo "bench-goals: run $r of $runs" >&2
	bench instrumentation/audithttp audithttp.test '^BenchmarkHandler$/^(otelhttp|audithttp|audithttp-dedicated|audithttp-dedicated-nomask)$' 3s
	bench instrumentation/audithttp audithttp.test '^BenchmarkLoopback$' 7x
	bench instrumentation/audithttp audithttp.test '^BenchmarkLatency$' 5x
	bench internal/mask mask.test '^BenchmarkJSON$/^(encoding-json-valid|mask|mask-in-place)$' 2s
done >>"$out"
"$dir/goals" "$out"
echo "bench-goals: the runs' output is in $out" >&2
