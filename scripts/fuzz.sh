#!/usr/bin/env bash
# Fuzzes the engine's two byte verbs (`decide`, `render_report`: what engine.wasm's raw
# ABI exports run) with cargo fuzz, seeded from fixtures/scenarios, for MINUTES each
# (default 10). Prints the figures for RELIABILITY.md; a crash stops with its input in
# fuzz/artifacts/ (turn each into a scenario). Needs the nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`). Not part of `make test`.
# Usage: scripts/fuzz.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz

corpus=fuzz/corpus
mkdir -p "$corpus/decide" "$corpus/render_report"
for f in fixtures/scenarios/*.request.json; do cp "$f" "$corpus/decide/"; done
for f in fixtures/scenarios/*.response.json; do
  python3 -c 'import json,sys; print(json.dumps({"response": json.load(open(sys.argv[1])), "dry_run": False}))' "$f" \
    > "$corpus/render_report/$(basename "$f")"
done

echo "Machine: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'); $(cargo +nightly --version)"
echo
echo "| target | minutes | executions | executions/s | corpus (inputs) | crashes |"
echo "|---|---|---|---|---|---|"
for target in decide render_report; do
  log=$(mktemp)
  set +e
  cargo +nightly fuzz run "$target" "$corpus/$target" -- -max_total_time=$((minutes * 60)) -print_final_stats=1 > "$log" 2>&1
  status=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  inputs=$(ls "$corpus/$target" | wc -l)
  crashes=$(ls fuzz/artifacts/"$target" 2>/dev/null | grep -c '^crash-' || true)
  echo "| $target | $minutes | ${runs:-?} | ${speed:-?} | $inputs | $crashes |"
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then tail -20 "$log"; exit "$status"; fi
  rm -f "$log"
done
