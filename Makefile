# opsync: `make test` checks everything, `make demo` shows the main job.
# Both install what a fresh machine lacks before they start.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: test demo fmt lint rust-test bench deps

test: deps fmt lint rust-test
	@echo "make test: all checks passed"

deps:
	@command -v $(CARGO) >/dev/null || { echo "make: cargo is missing (install Rust with rustup)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy
	@rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

rust-test:
	$(CARGO) test --workspace

bench:
	$(CARGO) bench -p opsync-engine

# Until `opsync sync` lands, the demo shows the engine deciding the contract's example.
demo: deps
	$(CARGO) build -q -p opsync
	@echo "== opsync decide < fixtures/scenarios/contract-example.request.json"
	@./target/debug/opsync decide --engine native < fixtures/scenarios/contract-example.request.json
