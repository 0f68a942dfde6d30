#!/usr/bin/env bash
# latency-load.sh: BenchmarkLatency at several loads, to show how the
# latency each wrapper adds follows the machine's idle CPU. It builds the
# wrapper's benchmarks once and runs BenchmarkLatency at each load in turn,
# RUNS times, so that drift in the machine's speed falls on every load
# alike; each line is labelled "load-SHARE" and benchmarks/goals prints one
# table per load, with the machine's busy share and the CPU per request
# beside the latency rows. The goal is stated at 0.5.
#
#   scripts/latency-load.sh [RUNS] [SHARE...]
#
# RUNS defaults to 4; the shares to 0.25 and 0.5 of the bare server's
# maximum throughput. The raw output is kept in OUT (default a temporary
# file, named at the end).
set -euo pipefail

runs=${1:-4}
shift || true
shares=("$@")
[ ${#shares[@]} -gt 0 ] || shares=(0.25 0.5)
go=${GO:-go}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=${OUT:-$(mktemp -t latency-load.XXXXXX)}

cd "$root"
"$go" test -c -o "$dir/audithttp.test" ./instrumentation/audithttp/
"$go" build -o "$dir/goals" ./benchmarks/goals

for r in $(seq "$runs"); do
	for s in "${shares[@]}"; do
		echo "latency-load: run $r of $runs at $s" >&2
		(cd instrumentation/audithttp &&
			"$dir/audithttp.test" -test.run '^$' -test.bench '^BenchmarkLatency$' -test.benchtime 5x -latency-load "$s") |
			awk -v label="load-$s" '/^Benchmark/ { print label, $0 }'
	done
done >>"$out"
"$dir/goals" "$out"
echo "latency-load: the runs' output is in $out" >&2
