#!/usr/bin/env bash
# The sync benchmark for BENCHMARKS.md: N domains in MariaDB (127.0.0.1, root), the
# sandbox with 20 ms latency per request, 1% of domains drifted (expiry renewed at the
# registrar, auto-renew flipped). Reports wall time, the CPU time of opsync and of the
# sandbox (apart, so the stand-in is never mistaken for the product), API calls, database
# writes, peak memory and each step's time of `opsync sync`, bulk listing against the old
# per-domain look-ups.
# Usage: scripts/bench-sync.sh [N ...]   (default: 10000 100000; per-domain only up to 10000)
#        OPSYNC_BIN=path/to/opsync scripts/bench-sync.sh ...   another build, to compare
#        PER_DOMAIN=0 scripts/bench-sync.sh ...                 the bulk listing only
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-10000 100000}")
[ $# -eq 0 ] && sizes=(10000 100000)

cargo build -q --release -p opsync -p opsync-testkit --bins
opsync=${OPSYNC_BIN:-target/release/opsync}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export OPSYNC_CACHE_DIR="$work/cache"

echo "Machine: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/{print $2}') GiB; MariaDB $(mysql -V | sed 's/.*Distrib \([^,]*\).*/\1/')"
echo
echo "| domains | strategy | wall time | opsync CPU | sandbox CPU | logins | list calls | look-up calls | updates (API) | WHMCS rows written | peak memory |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
steps_table=""
tick=$(getconf CLK_TCK)

for n in "${sizes[@]}"; do
  for strategy in bulk per-domain; do
    [ "$strategy" = per-domain ] && { [ "$n" -gt 10000 ] || [ "${PER_DOMAIN:-1}" = 0 ]; } && continue
    db="opsync_bench_${n}"
    python3 scripts/bench-fixture.py "$n" "$work"
    mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
    mysql -h127.0.0.1 -uroot "$db" < fixtures/whmcs/schema.mysql.sql
    mysql -h127.0.0.1 -uroot "$db" < "$work/rows.sql"

    target/release/op-sandbox --seed "$work/seed.json" --port 0 --latency-ms 20 > "$work/sandbox.out" &
    sandbox=$!
    for _ in $(seq 1 100); do grep -q "at http" "$work/sandbox.out" 2>/dev/null && break; sleep 0.1; done
    base=$(sed -n 's/.* at \(http[^ ]*\)$/\1/p' "$work/sandbox.out")
    cat > "$work/opsync.toml" <<TOML
[whmcs]
database_url = "mysql://root@127.0.0.1:3306/$db"
[openprovider]
username = "opsync-demo"
password = "demo-password"
base_url = "$base"
TOML
    # Warm the module cache so the run measures the sync, not the one-off compile.
    "$opsync" decide fixtures/scenarios/empty-snapshots.request.json > /dev/null
    /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$opsync" sync --config "$work/opsync.toml" --lookup "$strategy" --json -v > "$work/out.json" 2> "$work/log"
    # Resident memory after each step (the -v log's step lines), for the memory table.
    memory=$(sed -n 's/.*step done step="\([a-z_]*\)" seconds=[0-9.]* rss_mib=\([0-9]*\) peak_mib=\([0-9]*\).*/\1 \2\/\3/p' "$work/log" | tr '\n' ' ')
    memory_table+="| $n | $strategy | $memory |"$'\n'
    read -r wall rss user sys < "$work/time"
    cpu=$(python3 -c "print(f'{$user + $sys:.2f}')")
    # The sandbox's own CPU (user + system) from /proc, in seconds.
    sandbox_cpu=$(awk -v t="$tick" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$sandbox/stat")
    steps=$(python3 -c "import json; print(' | '.join(f\"{s['seconds']:.2f} s\" for s in json.load(open('$work/out.json'))['steps']))")
    step_names=$(python3 -c "import json; print(' | '.join(s['step'] for s in json.load(open('$work/out.json'))['steps']))")
    steps_table+="| $n | $strategy | $steps |"$'\n'
    counters=$(curl -s "${base%/v1beta}/__sandbox/counters")
    written=$(python3 -c "import json,sys; print(json.load(open('$work/out.json'))['summary']['whmcs_updates'])")
    list=$(echo "$counters" | python3 -c "import json,sys; print(json.load(sys.stdin)['list'])")
    update=$(echo "$counters" | python3 -c "import json,sys; print(json.load(sys.stdin)['update'])")
    login=$(echo "$counters" | python3 -c "import json,sys; print(json.load(sys.stdin)['login'])")
    if [ "$strategy" = bulk ]; then lists=$list; lookups=0; else lists=0; lookups=$list; fi
    echo "| $n | $strategy | ${wall} s | ${cpu} s | ${sandbox_cpu} s | $login | $lists | $lookups | $update | $written | $((rss / 1024)) MiB |"
    kill "$sandbox"; wait "$sandbox" 2>/dev/null || true
    mysql -h127.0.0.1 -uroot -e "DROP DATABASE $db"
  done
done

echo
echo "Each step of the run (\`opsync sync --json\`, \`steps\`):"
echo
echo "| domains | strategy | $step_names |"
echo "|---|---|$(echo "$step_names" | sed 's/[^|]*/---/g')|"
printf '%s' "$steps_table"

echo
echo "Resident memory after each step, now/peak MiB (\`-v\` log):"
echo
printf '%s' "$memory_table"
