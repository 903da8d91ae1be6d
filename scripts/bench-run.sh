#!/usr/bin/env bash
# Both hosts, this build against another, in interleaved runs (BENCHMARKS.md, "The run
# protocol: both hosts against the build before it"): per round and per build, `opsync
# sync` at 10k and 100k domains and the PHP drop-in at 10k and 100k under PHP's
# `memory_limit = 256M` (a common setting for WHMCS's cron). The data as in
# scripts/bench-sync.sh: N domains in MariaDB, the sandbox with 20 ms latency, 1% drifted.
# Every run gets a fresh database and a fresh sandbox (this build's op-sandbox for both
# builds, so only the product differs). Prints wall time, peak memory, the exit status,
# the API calls and the activity lines written (the same work in both builds).
#
# Usage: scripts/bench-run.sh OTHER_CHECKOUT [ROUNDS] [SIZES...]
#   OTHER_CHECKOUT: a checkout of the build to compare with, its release builds made
#   (`cargo build --release -p opsync -p opsync-php`), e.g. a `git worktree` of an older
#   commit. ROUNDS defaults to 2, SIZES to "10000 100000".
set -euo pipefail
cd "$(dirname "$0")/.."
other=$(cd "$1" && pwd)
rounds=${2:-2}
shift $(( $# < 2 ? $# : 2 ))
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 100000)

cargo build -q --release -p opsync -p opsync-testkit --bins
cargo build -q --release -p opsync-php
for f in "$other/target/release/opsync" "$other/target/release/libopsync_php.so"; do
  [ -f "$f" ] || { echo "bench-run: $f is missing: build it in $other first" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
export OPSYNC_CACHE_DIR="$work/cache"
db=opsync_bench_run

for n in "${sizes[@]}"; do
  mkdir -p "$work/data-$n"
  python3 scripts/bench-fixture.py "$n" "$work/data-$n"
done

# A fresh database and sandbox of N domains; prints the sandbox's base URL.
prepare() {
  local n=$1
  [ -f "$work/sandbox.pid" ] && { kill "$(cat "$work/sandbox.pid")" 2>/dev/null || true; rm -f "$work/sandbox.pid"; }
  mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
  mysql -h127.0.0.1 -uroot "$db" < fixtures/whmcs/schema.mysql.sql
  mysql -h127.0.0.1 -uroot "$db" < "$work/data-$n/rows.sql"
  target/release/op-sandbox --seed "$work/data-$n/seed.json" --port 0 --latency-ms 20 > "$work/sandbox.out" 2> /dev/null &
  echo $! > "$work/sandbox.pid"
  for _ in $(seq 1 100); do grep -q "at http" "$work/sandbox.out" 2>/dev/null && break; sleep 0.1; done
  sed -n 's/.* at \(http[^ ]*\)$/\1/p' "$work/sandbox.out"
}

calls() {
  curl -s "${1%/v1beta}/__sandbox/counters" | python3 -c \
    "import json,sys; c=json.load(sys.stdin); print(f\"{c['login']} | {c['list']} | {c['update']}\")"
}

activity() {
  mysql -h127.0.0.1 -uroot -N "$db" -e "SELECT COUNT(*) FROM tblactivitylog"
}

# A stand-in WHMCS root for a checkout, its drop-in installed with its own installer.
install_root() {
  local checkout=$1 root=$2
  rm -rf "$root"
  cp -r "$checkout/php-bridge/tests/standin" "$root"
  cat > "$root/configuration.php" <<PHP
<?php
\$db_host = '127.0.0.1'; \$db_port = '3306'; \$db_username = 'root'; \$db_password = ''; \$db_name = '$db';
PHP
  echo '{"openprovider": {"Username": "opsync-demo", "Password": "demo-password", "test_mode": ""}}' > "$root/standin-registrar.json"
  cat > "$root/modules/registrars/openprovider/configuration/advanced-module-configurations.php" <<'PHP'
<?php return ['domainProcessingLimit' => 0];
PHP
  php "$checkout/php-bridge/bin/opsync-whmcs-install.php" "$root" --lib "$checkout/target/release/libopsync_php.so" > /dev/null
  # Warm the module cache, so the runs measure the sync, not the one-off compile.
  php -r "require '$root/modules/addons/opsync/src/autoload.php'; (new Opsync\Engine())->version();"
}
install_root "$other" "$work/whmcs-other"
install_root "$PWD" "$work/whmcs-this"

run() { # build host n
  local build=$1 host=$2 n=$3 checkout base status
  checkout=$([ "$build" = this ] && echo "$PWD" || echo "$other")
  base=$(prepare "$n")
  status=0
  if [ "$host" = native ]; then
    cat > "$work/opsync.toml" <<TOML
[whmcs]
database_url = "mysql://root@127.0.0.1:3306/$db"
[openprovider]
username = "opsync-demo"
password = "demo-password"
base_url = "$base"
token_cache = "$work/token-native.json"
TOML
    "$checkout/target/release/opsync" decide fixtures/scenarios/empty-snapshots.request.json > /dev/null
    /usr/bin/time -f "%e %M" -o "$work/time" "$checkout/target/release/opsync" sync --config "$work/opsync.toml" \
      > /dev/null 2> "$work/err" || status=$?
  else
    rm -f "$work/token-php.json"
    # The database is new: activate the addon, as an admin does (its tables).
    php -r "require '$work/whmcs-$build/init.php'; require '$work/whmcs-$build/modules/addons/opsync/opsync.php'; opsync_activate();"
    OPSYNC_OP_BASE_URL="$base" OPSYNC_TOKEN_CACHE="$work/token-php.json" \
      /usr/bin/time -f "%e %M" -o "$work/time" php -d memory_limit=256M \
      "$work/whmcs-$build/modules/registrars/openprovider/cron/DomainSync.php" > /dev/null 2> "$work/err" || status=$?
  fi
  read -r wall rss < <(tail -1 "$work/time")
  local said=""
  [ "$status" -ne 0 ] && said=" ($(grep -m1 -o 'Allowed memory size[^(]*\|opsync: .*' "$work/err" | cut -c1-80))"
  echo "| $round | $build | $host | $n | ${wall} s | $((rss / 1024)) MiB | $status$said | $(calls "$base") | $(activity) |"
}

echo "Machine: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/{print $2}') GiB; MariaDB $(mysql -V | sed 's/.*Distrib \([^,]*\).*/\1/'); $(php -r 'echo "PHP ", PHP_VERSION;')"
echo "This build: $(git rev-parse --short HEAD); the other: $(git -C "$other" rev-parse --short HEAD)"
echo
echo "| round | build | host | domains | wall time | peak memory | exit | logins | list calls | updates (API) | activity lines |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  for n in "${sizes[@]}"; do
    for host in native drop-in; do
      # Interleaved: the order of the builds alternates from round to round.
      if [ $((round % 2)) -eq 1 ]; then order="other this"; else order="this other"; fi
      for build in $order; do
        run "$build" "$host" "$n"
      done
    done
  done
done
mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $db"
