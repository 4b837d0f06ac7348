#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for FUZZ_SECONDS each (default 20) under libFuzzer
# with memory caps: the smoke run of `make test`. Longer runs: FUZZ_SECONDS=600 scripts/fuzz.sh.
# Needs the nightly toolchain (rustup) and cargo-fuzz (installed here on first use, cached).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CENTRPC_CACHE:-$HOME/.cache/centrpc}"
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: the nightly Rust toolchain is required (rustup toolchain install nightly --profile minimal)" >&2
  exit 1
fi
if ! cargo fuzz --version 2>/dev/null | grep -q "0.13.1"; then
  echo "fuzz: installing cargo-fuzz 0.13.1 (first run only)..." >&2
  cargo install cargo-fuzz --locked --version 0.13.1 >&2
fi
SECS="${FUZZ_SECONDS:-20}"
# One cached target dir for every clone on this machine: the sanitizer build is the slow part.
TARGET_DIR="$CACHE/fuzz-target"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
for target in dispatch hooks streams; do
  echo "fuzz: $target for ${SECS}s"
  set +e
  cargo +nightly fuzz run --target-dir "$TARGET_DIR" --jobs 1 "$target" -- \
    -max_total_time="$SECS" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 >"$LOG" 2>&1
  rc=$?
  set -e
  grep -E "^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)" "$LOG" | sed 's/^/  /' || true
  # libFuzzer exits non-zero on a crash, panic, leak, timeout or OOM (and cargo on a build error).
  if [ "$rc" -ne 0 ]; then
    tail -40 "$LOG" >&2
    echo "fuzz: $target FAILED (exit $rc); the input is in fuzz/artifacts/$target" >&2
    exit 1
  fi
done
