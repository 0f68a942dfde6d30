#!/usr/bin/env bash
# sdk-change.sh: what the OpenTelemetry log SDK change in
# scripts/sdklog-newrecord.patch would save audithttp. It builds the
# wrapper's benchmarks twice, against the SDK version go.mod names as
# released and with the change applied to a copy of it (a replace in a
# temporary go.mod; nothing in the checkout changes), and runs the two
# binaries alternately.
#
#   scripts/sdk-change.sh [RUNS] [BENCH]
#
# RUNS (default 3) pairs of runs; BENCH (default BenchmarkHandler, CPU per
# request) is passed to -test.bench: BenchmarkLoopback and BenchmarkLatency
# print their ratios and latencies per run. BENCHTIME overrides -test.benchtime
# (3s for BenchmarkHandler, 5x for the others). At the end it prints the
# goal tables of benchmarks/goals for both SDKs. Needs patch(1).
set -euo pipefail

runs=${1:-3}
bench=${2:-'BenchmarkHandler/(otelhttp|emit-only|emit-only-default|audithttp|audithttp-dedicated)$'}
case $bench in
BenchmarkHandler*) benchtime=${BENCHTIME:-3s} ;;
*) benchtime=${BENCHTIME:-5x} ;;
esac
go=${GO:-go}
command -v patch >/dev/null || { echo "sdk-change.sh: patch is not installed" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cd "$root"
mod=go.opentelemetry.io/otel/sdk/log
src=$("$go" list -m -f '{{.Dir}}' "$mod")
version=$("$go" list -m -f '{{.Version}}' "$mod")
[ -n "$src" ] || { echo "sdk-change.sh: $mod is not downloaded (go mod download $mod)" >&2; exit 1; }

cp -r "$src" "$dir/sdklog"
chmod -R u+w "$dir/sdklog"
(cd "$dir/sdklog" && patch -s -p1 <"$root/scripts/sdklog-newrecord.patch") ||
	{ echo "sdk-change.sh: the patch does not apply to $mod $version" >&2; exit 1; }
cp go.mod go.sum "$dir/"
"$go" mod edit -modfile="$dir/go.mod" -replace "$mod=$dir/sdklog"

"$go" test -c -o "$dir/released.test" ./instrumentation/audithttp/
"$go" test -c -modfile="$dir/go.mod" -o "$dir/changed.test" ./instrumentation/audithttp/

# ratios LABEL: each audited handler's cpu-ns/op over otelhttp's in the
# benchmark lines on stdin (BenchmarkHandler), else the lines as they are.
ratios() {
	awk -v label="$1" '
	!/^Benchmark/ { next }
	$1 !~ /^BenchmarkHandler\// { print label, $0; next }
	{
		name = $1; sub(/^BenchmarkHandler\//, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 2; i < NF; i++) if ($(i + 1) == "cpu-ns/op") cpu[name] = $i
		for (i = 2; i < NF; i++) if ($(i + 1) == "allocs/op") allocs[name] = $i
		order[++n] = name
	}
	END {
		if (!n) exit
		o = cpu["otelhttp"]
		printf "%-9s otelhttp %.1f µs", label, o / 1000
		for (i = 1; i <= n; i++) if (order[i] != "otelhttp")
			printf "  %s %.2f× (%d allocs)", order[i], cpu[order[i]] / o, allocs[order[i]]
		printf "\n"
	}'
}

echo "sdk/log $version as released, and with scripts/sdklog-newrecord.patch; $runs alternating pairs"
for r in $(seq "$runs"); do
	for b in released changed; do
		(cd instrumentation/audithttp && "$dir/$b.test" -test.run '^$' -test.bench "$bench" \
			-test.benchtime "$benchtime" -test.benchmem) >"$dir/run.txt"
		ratios "$b" <"$dir/run.txt"
		sed -n "s/^Benchmark/$b Benchmark/p" "$dir/run.txt" >>"$dir/all.txt"
	done
done
echo
"$go" run ./benchmarks/goals "$dir/all.txt"
