#!/usr/bin/env bash
# make demo: a real sync on the embedded default (SQLite) against the Openprovider sandbox.
# Creates target/demo/whmcs.sqlite from fixtures/whmcs + fixtures/demo, serves the sandbox
# seeded from fixtures/demo/openprovider.json, runs `opsync sync` twice, stops the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p opsync -p opsync-testkit --bins
demo=target/demo
rm -rf "$demo" && mkdir -p "$demo"

python3 - "$demo/whmcs.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript(open("fixtures/whmcs/schema.sqlite.sql").read())
db.executescript(open("fixtures/demo/whmcs.sql", encoding="utf-8").read())
db.commit()
PY

target/debug/op-sandbox --seed fixtures/demo/openprovider.json --port 0 > "$demo/sandbox.out" &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do grep -q "at http" "$demo/sandbox.out" 2>/dev/null && break; sleep 0.1; done
base_url=$(sed -n 's/.* at \(http[^ ]*\)$/\1/p' "$demo/sandbox.out")

cat > "$demo/opsync.toml" <<TOML
# The demo's configuration: SQLite, the local sandbox, no mail (the report is printed).
[whmcs]
database_url = "sqlite://$PWD/$demo/whmcs.sqlite"
[openprovider]
username = "opsync-demo"
password = "demo-password"
base_url = "$base_url"
[policy]
due_date_offset_days = 10
TOML

echo "== opsync sync (first run: the WHMCS database has drifted from Openprovider)"
target/debug/opsync sync --config "$demo/opsync.toml" || true
echo
echo "== opsync sync (second run: nothing left to do, nothing new to report; the 7 open problems are one line)"
target/debug/opsync sync --config "$demo/opsync.toml"
echo
echo "Database: $demo/whmcs.sqlite   Configuration: $demo/opsync.toml"
