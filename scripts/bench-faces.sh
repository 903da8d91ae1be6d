#!/usr/bin/env bash
# Measures what BENCHMARKS.md reports for the engine faces and prints it as markdown:
#   - a whole `opsync decide` process on a one-row request, cold and warm module cache
#   - PHP's first call through FFI (library load, module from the cache, one decide)
# The native-versus-wasm table comes from `cargo bench -p opsync --bench faces`.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v hyperfine >/dev/null || {
  [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
}
cargo build -q --release -p opsync -p opsync-php

bin=target/release/opsync
lib=target/release/libopsync_php.so
request=fixtures/scenarios/contract-example.request.json
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
export OPSYNC_CACHE_DIR="$cache/engine"

echo "Machine: $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "engine.wasm: $(stat -c %s target/engine-wasm/wasm32-unknown-unknown/wasm/opsync_engine.wasm) bytes"
echo
echo "### opsync decide, one-row request (hyperfine)"
hyperfine -N --style basic --warmup 0 --runs 10 --export-markdown "$cache/cold.md" \
  --prepare "rm -rf $OPSYNC_CACHE_DIR" -n "cold cache (compile engine.wasm)" "$bin decide $request" >/dev/null
hyperfine -N --style basic --warmup 3 --runs 50 --export-markdown "$cache/warm.md" \
  -n "warm cache" "$bin decide $request" \
  -n "native engine (no wasm)" "$bin decide --engine native $request" >/dev/null
cat "$cache/cold.md"; tail -n +3 "$cache/warm.md"
echo
echo "### PHP: first call through FFI in a new process"
php_probe='require "php-bridge/src/autoload.php";
$t0 = hrtime(true); $e = new Opsync\Engine(getenv("LIB"), null, "ffi");
$t1 = hrtime(true); $e->decide(file_get_contents($argv[1]));
$t2 = hrtime(true); $e->decide(file_get_contents($argv[1]));
$t3 = hrtime(true);
printf("%.1f %.1f %.1f\n", ($t1-$t0)/1e6, ($t2-$t1)/1e6, ($t3-$t2)/1e6);'
rm -rf "$OPSYNC_CACHE_DIR"
cold=$(LIB=$lib php -r "$php_probe" "$request")
warm=$(for _ in 1 2 3 4 5; do LIB=$lib php -r "$php_probe" "$request"; done | sort -n -k2 | sed -n 3p)
echo "| cache | load library (ms) | first decide (ms) | second decide (ms) |"
echo "|---|---|---|---|"
echo "| cold | $(echo "$cold" | tr ' ' '|' | sed 's/|/ | /g') |"
echo "| warm (median of 5) | $(echo "$warm" | tr ' ' '|' | sed 's/|/ | /g') |"
