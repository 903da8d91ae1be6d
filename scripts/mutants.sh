#!/usr/bin/env bash
# Mutation testing of the engine (issue 15): cargo-mutants changes the engine's code one
# small way at a time (a `>` for a `>=`, a function returning a default, ...) and runs
# the engine's tests against each change. A mutant the tests do not catch is a rule no
# test holds. Not part of `make test`: a full run takes hours on two cores.
#
#   scripts/mutants.sh                      # the whole engine
#   scripts/mutants.sh engine/src/due_date.rs engine/src/renewal.rs   # some files
#   MUTANTS_JOBS=2 scripts/mutants.sh ...   # two mutants built and tested at once
#
# The laws' own code (laws.rs, laws/, arbitrary.rs), the benchmarks' input (synthetic.rs)
# and the wasm32-only ABI (abi.rs, not compiled natively: its mutants could never fail a
# native test) are left out.
#
# Installs cargo-mutants (pinned) when it is missing. Results: mutants.out/ (outcomes.json,
# caught.txt, missed.txt, unviable.txt); the summary line gives the figure for TESTING.md.
set -euo pipefail
cd "$(dirname "$0")/.."

version=27.1.0
cargo mutants --version 2>/dev/null | grep -q " $version" || cargo install --locked cargo-mutants --version "$version"

files=()
for f in "$@"; do files+=(--file "$f"); done
excluded=()
for f in engine/src/laws.rs 'engine/src/laws/*' engine/src/arbitrary.rs engine/src/synthetic.rs engine/src/abi.rs; do
  excluded+=(--exclude "$f")
done
# The engine's own tests (laws, scenarios, report) decide; the hosts' are not needed.
cargo mutants --package opsync-engine --timeout-multiplier 3 --jobs "${MUTANTS_JOBS:-1}" \
  "${excluded[@]}" "${files[@]}" || true
missed=$(wc -l < mutants.out/missed.txt)
caught=$(wc -l < mutants.out/caught.txt)
timeout=$(wc -l < mutants.out/timeout.txt 2>/dev/null || echo 0)
unviable=$(wc -l < mutants.out/unviable.txt)
viable=$((caught + missed + timeout))
echo "mutants: $viable viable ($unviable unviable): $caught caught, $timeout timed out, $missed missed"
[ "$viable" -gt 0 ] && echo "caught: $(( (caught + timeout) * 1000 / viable / 10 )).$(( (caught + timeout) * 1000 / viable % 10 ))% (a timeout counts as caught)"
