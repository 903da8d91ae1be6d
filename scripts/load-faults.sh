#!/usr/bin/env bash
# The load figure for RELIABILITY.md: N domains (default 100000) in MariaDB, the sandbox
# with 20 ms latency and every 20th API call failing with a bare 502 (5% transient
# failures), 1% of domains drifted. The first run must complete and report what failed
# for good; the second run, without faults, must find nothing left to change.
# Usage: scripts/load-faults.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}

cargo build -q --release -p opsync -p opsync-testkit --bins
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export OPSYNC_CACHE_DIR="$work/cache"
db="opsync_load_${n}"
python3 scripts/bench-fixture.py "$n" "$work"
mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
mysql -h127.0.0.1 -uroot "$db" < fixtures/whmcs/schema.mysql.sql
mysql -h127.0.0.1 -uroot "$db" < "$work/rows.sql"

sandbox() {
  target/release/op-sandbox --seed "$work/seed.json" --port "$1" --latency-ms 20 $2 > "$work/sandbox.out" &
  for _ in $(seq 1 100); do grep -q "at http" "$work/sandbox.out" 2>/dev/null && break; sleep 0.1; done
}
port=$((20000 + RANDOM % 20000))
sandbox "$port" "--fail-every 20"
pid=$!
cat > "$work/opsync.toml" <<TOML
[whmcs]
database_url = "mysql://root@127.0.0.1:3306/$db"
[openprovider]
username = "opsync-demo"
password = "demo-password"
base_url = "http://127.0.0.1:$port/v1beta"
TOML
target/release/opsync decide fixtures/scenarios/empty-snapshots.request.json > /dev/null
set +e
/usr/bin/time -f "%e %M" -o "$work/time" target/release/opsync sync --config "$work/opsync.toml" --json > "$work/first.json"
first=$?
set -e
read -r wall rss < "$work/time"
counters=$(curl -s "http://127.0.0.1:$port/__sandbox/counters")
kill "$pid"; wait "$pid" 2>/dev/null || true

# The same account, no faults: the state the first run left must need nothing more.
# (The sandbox restarts from its seed, so what the first run pushed is pushed again by
# the second; WHMCS, which keeps what was written, must need nothing.)
sandbox "$port" ""
pid=$!
target/release/opsync sync --config "$work/opsync.toml" --json > "$work/second.json"
second=$?
kill "$pid"; wait "$pid" 2>/dev/null || true
mysql -h127.0.0.1 -uroot -e "DROP DATABASE $db"

python3 - "$n" "$first" "$wall" "$rss" "$counters" "$work/first.json" "$work/second.json" "$second" <<'PY'
import json, sys
n, first, wall, rss, counters, f1, f2, second = sys.argv[1:]
c = json.loads(counters)
a = json.load(open(f1)); b = json.load(open(f2))
print(f"Machine: see BENCHMARKS.md; command: scripts/load-faults.sh {n}")
print()
print("| domains | faults | exit | wall | peak memory | API calls | failed calls (502) | rows changed | failures reported | second run: WHMCS rows changed |")
print("|---|---|---|---|---|---|---|---|---|---|")
print(f"| {int(n):,} | every 20th call a bare 502 (5%) | {first} | {wall} s | {int(rss)//1024} MiB | {c['total']:,} | {c['faulted']:,} | "
      f"{a['summary']['changed_rows']:,} | {len(a['failures'])} | {b['summary']['whmcs_updates']} (exit {second}) |")
PY
