#!/usr/bin/env bash
# The drop-in benchmark for BENCHMARKS.md: the PHP drop-in (DomainSync.php in the stand-in
# WHMCS root, engine through FFI) beside `opsync sync` on the same data: N domains in
# MariaDB (127.0.0.1, root), the sandbox with 20 ms latency per request, 1% drifted (expiry
# renewed at the registrar, auto-renew flipped). Each host gets its own database and
# sandbox, loaded the same. Reports wall time, API calls and peak memory.
# Usage: scripts/bench-dropin.sh [N]   (default: 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}

cargo build -q --release -p opsync -p opsync-testkit --bins
cargo build -q --release -p opsync-php
work=$(mktemp -d)
# The sandboxes start inside command substitutions: their pids are kept in files.
trap 'kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
export OPSYNC_CACHE_DIR="$work/cache"

python3 scripts/bench-fixture.py "$n" "$work"

# One database and one sandbox per host, loaded the same; prints the sandbox's base URL.
prepare() {
  local db=$1
  mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
  mysql -h127.0.0.1 -uroot "$db" < fixtures/whmcs/schema.mysql.sql
  mysql -h127.0.0.1 -uroot "$db" < "$work/rows.sql"
  target/release/op-sandbox --seed "$work/seed.json" --port 0 --latency-ms 20 > "$work/$db.sandbox" 2> /dev/null &
  echo $! > "$work/$db.pid"
  for _ in $(seq 1 100); do grep -q "at http" "$work/$db.sandbox" 2>/dev/null && break; sleep 0.1; done
  sed -n 's/.* at \(http[^ ]*\)$/\1/p' "$work/$db.sandbox"
}

calls() {
  curl -s "${1%/v1beta}/__sandbox/counters" | python3 -c \
    "import json,sys; c=json.load(sys.stdin); print(f\"{c['login']} | {c['list']} | {c['update']}\")"
}

echo "Machine: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/{print $2}') GiB; MariaDB $(mysql -V | sed 's/.*Distrib \([^,]*\).*/\1/'); $(php -r 'echo "PHP ", PHP_VERSION;')"
echo
echo "| host | domains | wall time | logins | list calls | updates (API) | peak memory |"
echo "|---|---|---|---|---|---|---|"
# Warm the module cache so both runs measure the sync, not the one-off compile.
target/release/opsync decide fixtures/scenarios/empty-snapshots.request.json > /dev/null

base=$(prepare opsync_bench_native)
cat > "$work/opsync.toml" <<TOML
[whmcs]
database_url = "mysql://root@127.0.0.1:3306/opsync_bench_native"
[openprovider]
username = "opsync-demo"
password = "demo-password"
base_url = "$base"
TOML
/usr/bin/time -f "%e %M" -o "$work/time" target/release/opsync sync --config "$work/opsync.toml" > /dev/null 2>&1
read -r wall rss < "$work/time"
echo "| opsync sync | $n | ${wall} s | $(calls "$base") | $((rss / 1024)) MiB |"

base=$(prepare opsync_bench_php)
root="$work/whmcs"
cp -r php-bridge/tests/standin "$root"
cat > "$root/configuration.php" <<PHP
<?php
\$db_host = '127.0.0.1'; \$db_port = '3306'; \$db_username = 'root'; \$db_password = ''; \$db_name = 'opsync_bench_php';
PHP
echo '{"openprovider": {"Username": "opsync-demo", "Password": "demo-password", "test_mode": ""}}' > "$root/standin-registrar.json"
cat > "$root/modules/registrars/openprovider/configuration/advanced-module-configurations.php" <<'PHP'
<?php return ['domainProcessingLimit' => 0];
PHP
php php-bridge/bin/opsync-whmcs-install.php "$root" --lib target/release/libopsync_php.so > /dev/null
# As an admin does next: activate the addon (its tables).
php -r "require '$root/init.php'; require '$root/modules/addons/opsync/opsync.php'; opsync_activate();"
OPSYNC_OP_BASE_URL="$base" OPSYNC_TOKEN_CACHE="$work/token.json" \
  /usr/bin/time -f "%e %M" -o "$work/time" php "$root/modules/registrars/openprovider/cron/DomainSync.php" > /dev/null
read -r wall rss < "$work/time"
echo "| PHP drop-in (FFI) | $n | ${wall} s | $(calls "$base") | $((rss / 1024)) MiB |"

mysql -h127.0.0.1 -uroot -e "DROP DATABASE opsync_bench_native; DROP DATABASE opsync_bench_php"
