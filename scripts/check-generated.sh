#!/usr/bin/env bash
# Fails when a component's generated files differ from what `make generate`
# writes. Only mdatagen's outputs are compared (generated_*.go, the metadata
# packages, documentation.md, the README status block), before and after
# generating, so uncommitted hand edits elsewhere in a dev tree do not count.
set -euo pipefail
cd "$(dirname "$0")/.."

generated() {
	for meta in $(git ls-files -co --exclude-standard -- ':(glob)**/metadata.yaml'); do
		dir=$(dirname "$meta")
		find "$dir" -maxdepth 1 \( -name 'generated_*.go' -o -name documentation.md -o -name README.md \) -type f
		find "$dir/internal/metadata" "$dir/internal/metadatatest" -type f 2>/dev/null || true
	done | sort
}

before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
generated >"$before/.list"
while read -r f; do
	mkdir -p "$before/$(dirname "$f")"
	cp "$f" "$before/$f"
done <"$before/.list"

make --no-print-directory generate >/dev/null

stale=0
generated >"$before/.after"
if ! diff -u "$before/.list" "$before/.after" >&2; then
	echo "check-generated: make generate adds or removes the files above" >&2
	stale=1
fi
while read -r f; do
	if [ -f "$before/$f" ] && ! diff -u "$before/$f" "$f" >&2; then
		stale=1
	fi
done <"$before/.after"
if [ "$stale" -ne 0 ]; then
	echo "check-generated: generated files were stale; make generate has rewritten them: review and commit" >&2
	exit 1
fi
