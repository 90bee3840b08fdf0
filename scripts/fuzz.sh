#!/usr/bin/env bash
# Run every Go fuzz target (func FuzzXxx) of the module for a while each.
# `go test -fuzz` takes one target per package at a time, so this loops over
# them (found by their `func FuzzXxx(` lines). Used by `go tool task fuzz` (long) and `go tool task fuzz-ci` (brief).
#
#   scripts/fuzz.sh [REGEXP]     only targets whose name matches REGEXP
#
# Environment knobs:
#   FUZZTIME        how long to fuzz each target (default 1m; a go duration or Nx)
#   FUZZ_MINIMIZE   bound on minimizing each new or failing input (default 10s)
#   FUZZ_PARALLEL   fuzzing workers per target (default: GOMAXPROCS)
#   FUZZ_CACHE      "fresh" starts from the seed corpora only, in a temporary
#                   cache (CI: a brief run then fuzzes rather than spending its
#                   time replaying what earlier runs found); default: go's cache
#
# A failing input is written under the package's testdata/fuzz/FuzzXxx/,
# where plain `go test` replays it from then on: commit it with the fix.
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" as -fuzztime runs out, with no failing input (golang/go#75804,
# fixed in Go 1.27). Such a run is reported as a flake, not a failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME="${FUZZTIME:-1m}"
FUZZ_MINIMIZE="${FUZZ_MINIMIZE:-10s}"
filter="${1:-.}"
parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
	parallel=(-test.parallel "$FUZZ_PARALLEL")
fi

# Each package's test binary is built once, with fuzzing instrumentation, and
# run once per target: linking is what takes time, not the fuzzing.
bindir="$(mktemp -d)"
log="$bindir/log"
trap 'rm -rf "$bindir"' EXIT
cache="$(go env GOCACHE)/fuzz"
if [ "${FUZZ_CACHE:-}" = fresh ]; then
	cache="$bindir/cache"
fi
corpus_size() { find "$1/testdata/fuzz/$2" -type f 2>/dev/null | wc -l; }

failed=()
flaked=()
ran=0
mapfile -t dirs < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | xargs -r -n1 dirname | sort -u)
for dir in "${dirs[@]}"; do
	mapfile -t targets < <(grep -hoE '^func Fuzz[A-Za-z0-9_]*\(' "$dir"/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(/\1/' | grep -E -- "$filter" || true)
	[ "${#targets[@]}" -gt 0 ] || continue
	pkg="$(go list "$dir")"
	bin="$bindir/$(basename "$dir").test"
	go test -c -fuzz '^Fuzz' -o "$bin" "$dir"
	for target in "${targets[@]}"; do
		printf '\n==> %s %s (%s)\n' "$dir" "$target" "$FUZZTIME"
		ran=$((ran + 1))
		before="$(corpus_size "$dir" "$target")"
		# Run where go test would: in the package directory, with its cache.
		if (cd "$dir" && "$bin" -test.run '^$' -test.fuzz "^${target}\$" -test.fuzztime "$FUZZTIME" \
			-test.fuzzminimizetime "$FUZZ_MINIMIZE" -test.fuzzcachedir "$cache/$pkg" "${parallel[@]}") 2>&1 | tee "$log"; then
			continue
		fi
		if [ "$(corpus_size "$dir" "$target")" = "$before" ] && grep -qx '    context deadline exceeded' "$log"; then
			echo "fuzz: $target stopped with the coordinator's deadline race and no failing input: a flake" >&2
			flaked+=("$dir $target")
		else
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
printf '\nfuzz: %d targets passed (%d of them flaked at the deadline)\n' "$ran" "${#flaked[@]}"
