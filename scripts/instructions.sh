#!/usr/bin/env bash
# instructions.sh: instructions per call of the masking engine and of its
# baseline, counted by valgrind's callgrind. Unlike time, the count does not
# move with the machine's load, so a change to the engine can be judged on a
# busy or drifting machine (it is not a time: a mispredicted branch or a cache
# miss costs nothing here). Needs valgrind.
#
#   scripts/instructions.sh            # BenchmarkJSON: mask in place, mask, json.Valid
set -euo pipefail

command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 1; }
go=${GO:-go}
n=${N:-3000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$go" test -c -o "$dir/mask.test" ./internal/mask/

# count BENCH FUNC: instructions per call of FUNC (inclusive) while BENCH
# runs n times (b.Loop adds one call).
count() {
	# Go's asynchronous preemption signals upset callgrind; they change nothing counted.
	GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --toggle-collect="$2" \
		--callgrind-out-file="$dir/out" "$dir/mask.test" -test.run '^$' \
		-test.bench "$1" -test.benchtime "${n}x" >/dev/null 2>&1
	local total
	total=$(callgrind_annotate "$dir/out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
	echo $((total / (n + 1)))
}

inplace=$(count 'BenchmarkJSON/mask-in-place$' '*Masker).body')
copy=$(count 'BenchmarkJSON/mask$' '*Masker).json')
valid=$(count 'BenchmarkJSON/encoding-json-valid$' '*json.checkValid')
printf '%-28s %8s instructions per document\n' 'encoding/json.Valid' "$valid" \
	'mask in place (BodyInPlace)' "$inplace" 'mask into a new buffer' "$copy"
awk -v v="$valid" -v a="$inplace" -v c="$copy" 'BEGIN {
	printf "json.Valid / mask in place: %.2f   json.Valid / mask into a new buffer: %.2f\n", v / a, v / c }'
