#!/usr/bin/env bash
# Checks every feature combination the README documents, and builds the docs with warnings as
# errors (as docs.rs would, all features on). Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

combos=(
  ""                      # the minimal runtime: router, handlers, hooks, middleware, the tonic service
  "server"
  "metrics"
  "server,metrics"
  "token"
  "server-api"
  "rate-limit"
  "test-util"
  "cli"
  "codegen"
)
for features in "${combos[@]}"; do
  echo "features: centrpc --no-default-features --features '${features}'"
  cargo check --quiet -p centrpc --lib --no-default-features --features "$features"
done
echo "features: centrpc (default)"
cargo check --quiet -p centrpc --lib
echo "features: centrpc --all-features"
cargo check --quiet -p centrpc --lib --all-features
echo "features: centrpc-codegen --no-default-features"
cargo check --quiet -p centrpc-codegen --lib --no-default-features
echo "docs: cargo doc with warnings as errors"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --workspace --all-features --no-deps
