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
  "devtools"
)
# A combination must build without a warning (dead code behind a missing cfg shows up here).
check() {
  echo "features: cargo check $*"
  local out
  out=$(cargo check --quiet "$@" 2>&1) || { echo "$out" >&2; exit 1; }
  if grep -q "^warning" <<<"$out"; then
    echo "$out" >&2
    echo "features: warnings with: cargo check $*" >&2
    exit 1
  fi
}
for features in "${combos[@]}"; do
  check -p centrpc --lib --no-default-features --features "$features"
done
check -p centrpc --lib
check -p centrpc --lib --all-features
check -p centrpc-codegen --lib --no-default-features
echo "docs: cargo doc with warnings as errors"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --workspace --all-features --no-deps
