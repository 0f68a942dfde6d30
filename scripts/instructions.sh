#!/usr/bin/env bash
# instructions.sh: instructions executed per operation, counted by valgrind's
# callgrind. Unlike time, the count does not move with the machine's load, so
# a change can be judged on a busy or drifting machine. It is not a time: a
# mispredicted branch or a cache miss costs nothing here. Needs valgrind.
#
#   scripts/instructions.sh     BenchmarkJSON: mask in place, into a new buffer, the
#                               reference engine, against encoding/json.Valid
set -euo pipefail

command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 1; }
go=${GO:-go}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# run BIN BENCH N FUNC: instructions inside FUNC (inclusive) while BENCH
# runs N times.
run() {
	# Go's asynchronous preemption signals upset callgrind; they change nothing counted.
	GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --toggle-collect="$4" \
		--callgrind-out-file="$dir/out" "$1" -test.run '^$' \
		-test.bench "$2" -test.benchtime "${3}x" >/dev/null 2>&1
	callgrind_annotate "$dir/out" | awk '/PROGRAM TOTALS/ && !t {gsub(",", "", $1); t = $1} END {print t}'
}

n=3000
bin=$dir/mask.test
"$go" test -c -o "$bin" ./internal/mask/
# per BENCH FUNC: instructions per call of FUNC; b.Loop makes one call more than n.
per() { echo $(($(run "$bin" "$1" $n "$2") / (n + 1))); }

valid=$(per 'BenchmarkJSON/encoding-json-valid$' '*json.checkValid')
inplace=$(per 'BenchmarkJSON/mask-in-place$' '*Masker).body')
copy=$(per 'BenchmarkJSON/mask$' '*Masker).json')
ref=$(per 'BenchmarkJSON/reference-in-place$' '*mask.refJSON')
printf '%-34s %8s instructions per document\n' 'encoding/json.Valid' "$valid" \
	'mask in place (BodyInPlace)' "$inplace" 'mask into a new buffer (JSON)' "$copy" \
	'reference engine, in place' "$ref"
awk -v v="$valid" -v a="$inplace" -v c="$copy" -v r="$ref" 'BEGIN {
	printf "json.Valid / mask: in place %.2f, into a new buffer %.2f; reference / mask in place %.2f\n", v / a, v / c, r / a }'
