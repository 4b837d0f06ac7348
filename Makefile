# centrpc: the two commands that matter are `make demo` and `make test`; both install what they
# need (pinned, cached under ~/.cache/centrpc) on first use.
export CARGO_BUILD_JOBS ?= 2
export CENTRPC_CACHE ?= $(HOME)/.cache/centrpc

.PHONY: all setup build demo test lint unit bench clean

all: test

## setup: install pinned tools (Centrifugo 6.9.1, grpcurl, grpc-health-probe) into $(CENTRPC_CACHE)/bin
setup:
	@bash scripts/setup.sh centrifugo grpcurl grpc-health-probe >/dev/null

build:
	cargo build --examples

## demo: the main job — build, serve the example app, and make real calls
demo: setup
	@bash scripts/demo.sh

## lint: formatting and clippy, warnings are errors
lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

## unit: the Rust test suites (unit, gRPC integration, hostile input, grpcurl)
unit: setup
	cargo test --all-targets
	cargo test --doc

## test: every suite
test: lint unit

clean:
	cargo clean
