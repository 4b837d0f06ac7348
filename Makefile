# centrpc: the two commands that matter are `make demo` and `make test`; both install what they
# need (pinned, cached under ~/.cache/centrpc) on first use.
export CARGO_BUILD_JOBS ?= 2
export CENTRPC_CACHE ?= $(HOME)/.cache/centrpc

.PHONY: all setup build demo test lint unit fuzz soak bench bench-smoke bench-guard bench-guard-update golden clean

all: test

## setup: pinned tools (Centrifugo 6.9.1, grpcurl, grpc-health-probe) into $(CENTRPC_CACHE)/bin,
## and the official SDKs (centrifuge-python venv, centrifuge-js + ws, centrifuge-go)
setup:
	@bash scripts/setup.sh centrifugo grpcurl ghz grpc-health-probe python node go redis loadgen chromium valgrind >/dev/null

build:
	cargo build --examples

## demo: the main job — build, serve the example app, and make real calls
demo: setup
	@bash scripts/demo.sh

## golden: regenerate the committed clients of the example app (tests/golden) after a change to
## the generators or the example's types; the codegen tests fail while they are stale
golden:
	cargo build --example tasks
	./target/debug/examples/tasks generate --output tests/golden --all
	./target/debug/examples/tasks schema --output tests/golden/tasks.openrpc.json

## lint: formatting and clippy, warnings are errors
lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

## unit: the Rust test suites (unit, gRPC integration, hostile input, grpcurl, e2e through
## Centrifugo with the three SDKs); the e2e suite runs the example binary, so build it first
unit: setup
	cargo build --examples
	cargo test --all-targets
	cargo test --doc

## fuzz: each cargo-fuzz target briefly (FUZZ_SECONDS, default 20); longer runs: FUZZ_SECONDS=600 make fuzz
fuzz:
	bash scripts/fuzz.sh

## soak (long, not in `make test`): 10 min at 70 % of measured capacity through Centrifugo
## (SOAK_SECONDS to change); zero lost or mismatched replies and RSS growth under 5 %
soak: setup
	python3 scripts/soak.py

## bench (not in `make test`): centrpc against bare tonic, Centrifugo's own ping and a Python
## backend, backend-only and end to end, plus payload / method-count / client scaling; writes
## bench/results/<date>.{md,json,png}. BENCH_MODE=full for the ~10 min run.
BENCH_MODE ?= quick
bench: setup
	$(CENTRPC_CACHE)/venv/bin/python scripts/bench.py --mode $(BENCH_MODE)

## bench-smoke: every benchmark scenario once on tiny inputs (debug build, temp dir), so the
## harness cannot rot
bench-smoke: setup
	$(CENTRPC_CACHE)/venv/bin/python scripts/bench.py --mode smoke

## bench-guard: instructions per call under callgrind (release build; client + server in one
## process, so the counts are deterministic) for small / 10 kB / invalid-params / subscribe calls
## and bare tonic; fails when a scenario grows more than 3 % over bench/guard/baseline.json, then
## proves it can fail (a deliberately slowed run must trip it). README: "Performance guard".
bench-guard:
	@bash scripts/setup.sh valgrind >/dev/null
	python3 scripts/bench_guard.py
	python3 scripts/bench_guard.py --self-test --no-build

## bench-guard-update: re-measure and rewrite bench/guard/baseline.json; commit it on purpose,
## with the reason in the commit message
bench-guard-update:
	@bash scripts/setup.sh valgrind >/dev/null
	python3 scripts/bench_guard.py --update

## test: every suite
test: lint unit fuzz bench-smoke bench-guard

clean:
	cargo clean
