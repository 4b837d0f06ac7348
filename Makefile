# centrpc: the two commands that matter are `make demo` and `make test`; both install what they
# need (pinned, cached under ~/.cache/centrpc) on first use.
export CARGO_BUILD_JOBS ?= 2
export CENTRPC_CACHE ?= $(HOME)/.cache/centrpc

.PHONY: all setup build demo test lint unit bench clean

all: test

## setup: pinned tools (Centrifugo 6.9.1, grpcurl, grpc-health-probe) into $(CENTRPC_CACHE)/bin,
## and the official SDKs (centrifuge-python venv, centrifuge-js + ws, centrifuge-go)
setup:
	@bash scripts/setup.sh centrifugo grpcurl grpc-health-probe python node go redis loadgen >/dev/null

build:
	cargo build --examples

## demo: the main job — build, serve the example app, and make real calls
demo: setup
	@bash scripts/demo.sh

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

## test: every suite
test: lint unit

clean:
	cargo clean
