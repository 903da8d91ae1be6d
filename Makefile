# opsync: `make test` checks everything, `make demo` shows the main job.
# Both install what a fresh machine lacks before they start.

CARGO ?= cargo
WASM_BINDGEN_VERSION := 0.2.130
TARGET := $(CURDIR)/target
export CARGO_TERM_COLOR ?= never
# Tests and the PHP face share one cache of the compiled engine.wasm.
export OPSYNC_CACHE_DIR ?= $(TARGET)/opsync-cache

DEBIAN_PACKAGES := php-cli php-cgi php-mysql php-sqlite3 php-curl phpunit php-codesniffer

.PHONY: test demo deps deps-rust deps-debian deps-wasm-tools deps-mariadb deps-deb deps-chromium fmt lint build rust-test js js-test php php-test php-lint addon-test addon-screenshot report-test report-screenshot bless bench deb deb-test deb-package

test: deps fmt lint rust-test js-test php-test addon-test report-test deb-test
	@echo "make test: all checks passed"

deps: deps-rust deps-debian deps-wasm-tools deps-mariadb

deps-rust:
	@command -v $(CARGO) >/dev/null || { echo "make: cargo is missing (install Rust with rustup)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy
	@rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown

# PHP with FFI and PHPUnit, from Debian, when missing (needs root, as CI is).
deps-debian:
	@missing=""; \
	command -v php >/dev/null || missing=1; \
	command -v phpunit >/dev/null || missing=1; \
	php -m 2>/dev/null | grep -qx pdo_mysql || missing=1; \
	php -m 2>/dev/null | grep -qx pdo_sqlite || missing=1; \
	php -m 2>/dev/null | grep -qx curl || missing=1; \
	command -v php-cgi >/dev/null || missing=1; \
	command -v phpcs >/dev/null || missing=1; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing $(DEBIAN_PACKAGES)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; \
	  else \
	    echo "make: please install $(DEBIAN_PACKAGES) (apt-get, as root)"; exit 1; \
	  fi; \
	fi

# wasm-pack works offline only with a wasm-bindgen-cli of exactly the crate's version.
deps-wasm-tools:
	@wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)$$" || \
	  $(CARGO) install --locked wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) || \
	  $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@command -v wasm-pack >/dev/null || $(CARGO) install --locked wasm-pack

# Tests create and drop their own databases on MariaDB at 127.0.0.1:3306 (root, no
# password). Start the local server when none answers; install it when there is none.
deps-mariadb:
	@mysqladmin -h127.0.0.1 -uroot --connect-timeout=2 ping >/dev/null 2>&1 || { \
	  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || { \
	    [ "$$(id -u)" = 0 ] || { echo "make: MariaDB is needed at 127.0.0.1:3306"; exit 1; }; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null; }; \
	  echo "make: starting MariaDB"; \
	  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null; \
	  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql; \
	  for i in $$(seq 1 30); do mysqladmin -h127.0.0.1 -uroot ping >/dev/null 2>&1 && break; sleep 1; done; \
	  mysqladmin -h127.0.0.1 -uroot ping >/dev/null 2>&1 || { echo "make: MariaDB did not start"; exit 1; }; }

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p opsync-engine --lib --target wasm32-unknown-unknown -- -D warnings

# One build of every crate and target, shared by the Rust tests, the PHP face (the FFI
# library and the opsync command), the sandbox and the Debian package: cargo resolves the
# workspace's features once, so no crate is compiled twice (a `cargo build -p` of one
# package resolves them apart and rebuilds wasmtime, tokio and serde's dependents).
build: deps-rust
	$(CARGO) build --workspace --all-targets

rust-test: build
	$(CARGO) test --workspace

# The npm package, for Node and for browsers.
js: deps-wasm-tools
	wasm-pack build engine/js --release --target nodejs --out-dir pkg-node --mode no-install
	wasm-pack build engine/js --release --target web --out-dir pkg-web --mode no-install

js-test: js
	node --test engine/js/test/

# The PHP face needs the FFI library and, for its fallback, the opsync command; the
# drop-in's end-to-end tests run the Openprovider sandbox and MariaDB too. All three come
# from the one build.
php: build

php-test: php deps-debian deps-mariadb php-lint
	cd php-bridge && OPSYNC_PHP_LIB=$(TARGET)/debug/libopsync_php.so OPSYNC_BIN=$(TARGET)/debug/opsync \
	  OPSYNC_SANDBOX=$(TARGET)/debug/op-sandbox phpunit --testsuite opsync

# Every PHP file parses (php -l), and the drop-in keeps to PSR-12 (phpcs, php-bridge/phpcs.xml;
# its errors fail, its warnings, PSR-12's "should"s such as the soft line length, are shown).
php-lint: deps-debian
	find php-bridge scripts -name '*.php' -not -path '*/node_modules/*' -print0 | xargs -0 -n1 php -l -n >/dev/null
	cd php-bridge && phpcs -n

# The addon page in headless Chromium, served by PHP's web server as a web server runs PHP
# (FFI restricted, an empty environment, proc_open disabled, a 30 s time limit), with and
# without the engine preloaded, and a forged POST: php-bridge/tests/Browser.
# `make addon-screenshot` refreshes the pictures in php-bridge/INSTALL.md.
addon-test: php deps-debian deps-mariadb deps-chromium
	cd php-bridge/tests/chromium && npm ci --no-audit --no-fund --silent
	cd php-bridge && OPSYNC_PHP_LIB=$(TARGET)/debug/libopsync_php.so OPSYNC_BIN=$(TARGET)/debug/opsync \
	  OPSYNC_SANDBOX=$(TARGET)/debug/op-sandbox phpunit --testsuite browser

addon-screenshot: addon-test
	cp $(TARGET)/addon-page.png php-bridge/addon-page.png
	cp $(TARGET)/addon-page-preloaded.png php-bridge/addon-page-plan.png

# The Debian package (`make deb`, release build): target/debian/opsync_<version>-1_<arch>.deb.
# The man pages and completions are generated from the clap definitions first.
# `make deb-test` packages the test build instead (the binary `make build` built: the same
# files, no release compile; cargo-deb warns that a dev profile is not for releases) and
# installs it into a throwaway root: scripts/test-deb.sh.
CARGO_DEB_VERSION := 3.8.0

deps-deb:
	@$(CARGO) deb --version 2>/dev/null | grep -q " $(CARGO_DEB_VERSION)$$" || \
	  $(CARGO) install --locked cargo-deb --version $(CARGO_DEB_VERSION)
	@command -v dpkg-deb >/dev/null && command -v systemd-analyze >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "make: please install dpkg-dev and systemd (apt-get, as root)"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev systemd >/dev/null; }

deb: deps-rust deps-deb
	$(CARGO) build --release -p opsync --bin opsync
	$(MAKE) deb-package DEB_PROFILE=release DEB_BUILD=$(TARGET)/release

deb-test: php deps-deb
	$(MAKE) deb-package DEB_PROFILE=dev DEB_BUILD=$(TARGET)/debug
	./scripts/test-deb.sh $(TARGET)/debian/opsync_*.deb

deb-package:
	rm -rf $(DEB_BUILD)/generated && mkdir -p $(DEB_BUILD)/generated/man
	$(DEB_BUILD)/opsync man-pages $(DEB_BUILD)/generated/man
	gzip -9n $(DEB_BUILD)/generated/man/*.1
	$(DEB_BUILD)/opsync completions bash > $(DEB_BUILD)/generated/opsync.bash
	$(DEB_BUILD)/opsync completions zsh > $(DEB_BUILD)/generated/_opsync
	$(DEB_BUILD)/opsync completions fish > $(DEB_BUILD)/generated/opsync.fish
	rm -f $(TARGET)/debian/opsync_*.deb
	$(CARGO) deb -p opsync --no-build --profile $(DEB_PROFILE) --output $(TARGET)/debian/

# The report's HTML in a real browser (headless Chromium from Debian): its DOM asserted,
# a screenshot taken. `make report-screenshot` refreshes the README's picture.
deps-chromium:
	@command -v chromium >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "make: please install chromium (apt-get, as root)"; exit 1; }; \
	  echo "make: installing chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

report-test: php deps-chromium
	./scripts/test-report-browser.sh $(TARGET)/debug/opsync $(TARGET)/report.png

report-screenshot: report-test
	cp $(TARGET)/report.png docs/report.png

# After a deliberate rule change: every scenario's expected answer as the engine gives it
# now (fixtures/scenarios, fixtures/reports). Tests never write them; read the diff.
bless:
	$(CARGO) run -q -p opsync-engine --example bless
	@git status --short fixtures/

bench:
	$(CARGO) bench -p opsync-engine
	$(CARGO) bench -p opsync --bench faces
	$(CARGO) bench -p opsync --bench read_whmcs

# The main job on the embedded default: a sync of a SQLite WHMCS database against the
# Openprovider sandbox, twice (the second run has nothing left to do).
demo: deps-rust
	./scripts/demo.sh
