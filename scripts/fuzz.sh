#!/usr/bin/env bash
# Run every Go fuzz target (func FuzzXxx) of the module for a while each.
# `go test -fuzz` takes one target per package at a time, so this loops over
# them. Used by `go tool task fuzz` (long) and `go tool task fuzz-ci` (brief).
#
#   scripts/fuzz.sh [REGEXP]     only targets whose name matches REGEXP
#
# Environment knobs:
#   FUZZTIME        how long to fuzz each target (default 1m; a go duration or Nx)
#   FUZZ_MINIMIZE   bound on minimizing each new or failing input (default 10s)
#   FUZZ_PARALLEL   fuzzing workers per target (default: GOMAXPROCS)
#
# A failing input is written under the package's testdata/fuzz/FuzzXxx/,
# where plain `go test` replays it from then on: commit it with the fix.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME="${FUZZTIME:-1m}"
FUZZ_MINIMIZE="${FUZZ_MINIMIZE:-10s}"
filter="${1:-.}"
parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
	parallel=(-parallel "$FUZZ_PARALLEL")
fi

# Packages with a fuzz target, then the targets `go test -list` reports there.
mapfile -t dirs < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | xargs -r -n1 dirname | sort -u)
failed=()
ran=0
for dir in "${dirs[@]}"; do
	mapfile -t targets < <(go test -list '^Fuzz' "$dir" | grep -E '^Fuzz' | grep -E -- "$filter" || true)
	for target in "${targets[@]}"; do
		printf '\n==> %s %s (%s)\n' "$dir" "$target" "$FUZZTIME"
		ran=$((ran + 1))
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZ_MINIMIZE" "${parallel[@]}" "$dir"; then
			failed+=("$dir $target")
		fi
	done
done

if [ "$ran" -eq 0 ]; then
	echo "fuzz: no target matches $filter" >&2
	exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
	printf '\nfuzz: %d of %d targets failed:\n' "${#failed[@]}" "$ran" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
printf '\nfuzz: %d targets passed\n' "$ran"
