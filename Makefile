# centrpc: the two commands that matter are `make demo` and `make test`; both install what they
# need (pinned, cached under ~/.cache/centrpc) on first use.
export CARGO_BUILD_JOBS ?= 2
export CENTRPC_CACHE ?= $(HOME)/.cache/centrpc
# A failing command in a pipe fails the recipe (cargo test | tee).
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
# The repository's suites that need external tools are built only with this internal feature.
TEST_FEATURES := --features _external-tools

.PHONY: all setup build demo test lint unit features package fuzz soak bench bench-smoke bench-guard bench-guard-update golden clean

all: test

## setup: pinned tools (Centrifugo 6.9.1, grpcurl, grpc-health-probe, toxiproxy) into
## $(CENTRPC_CACHE)/bin, the official SDKs (centrifuge-python venv, centrifuge-js + ws,
## centrifuge-go), and the Go modules of the Kubernetes validator (deploy/validate)
setup:
	@bash scripts/setup.sh centrifugo grpcurl ghz grpc-health-probe toxiproxy python node go redis loadgen chromium valgrind >/dev/null

build:
	cargo build --examples

## demo: the main job — build, serve the example app, and make real calls. Installs only what the
## demo needs (Centrifugo and the Python SDK; with KEEP=1 also Node for the browser page), one
## progress line per step (full log: $(CENTRPC_CACHE)/setup.log)
demo:
	@SETUP_QUIET=1 bash scripts/setup.sh centrifugo python $(if $(filter 1,$(KEEP)),node)
	@bash scripts/demo.sh

## golden: regenerate the example app's API document and committed clients
## (centrpc-codegen/tests/golden) after a change to the generators or the example's types; the
## schema and codegen tests fail while they are stale
GOLDEN := centrpc-codegen/tests/golden
golden:
	cargo build --example tasks
	./target/debug/examples/tasks schema --output $(GOLDEN)/tasks.openrpc.json
	./target/debug/examples/tasks generate --schema $(GOLDEN)/tasks.openrpc.json --output $(GOLDEN) --all

## lint: formatting and clippy, warnings are errors; gofmt on the Kubernetes validator
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets $(TEST_FEATURES) -- -D warnings
	@test -z "$$(gofmt -l deploy/validate)" || { gofmt -l deploy/validate; echo "lint: run gofmt -w deploy/validate" >&2; exit 1; }

## unit: the Rust test suites of the workspace (unit, gRPC integration, middleware, hostile input,
## grpcurl, e2e through Centrifugo with the three SDKs, codegen, deployment manifests checked
## against the binary and Kubernetes' own validation), then the doctests (README included);
## fails if any test was skipped
unit: setup
	cargo build --workspace --examples $(TEST_FEATURES)
	cargo test --workspace --all-targets $(TEST_FEATURES) 2>&1 | tee target/unit.log
	cargo test --workspace --doc $(TEST_FEATURES) 2>&1 | tee -a target/unit.log
	@if grep -E "[1-9][0-9]* ignored" target/unit.log; then echo "make test: the tests above were skipped" >&2; exit 1; fi

## features: every documented feature combination builds, and the docs build warning-free
features:
	bash scripts/features.sh

## package: both crates package, and a scratch crate on the packaged centrpc serves a call
package:
	bash scripts/package.sh

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
test: lint unit features package fuzz bench-smoke bench-guard

clean:
	cargo clean
