#!/usr/bin/env bash
# Installs the external tools centrpc's tests, demo and benchmarks use, pinned and cached.
#
#   scripts/setup.sh [tool ...]     tools: centrifugo grpcurl ghz grpc-health-probe toxiproxy, and
#                                   the SDK environments python (venv), node (npm ci), go (module
#                                   download: the Go driver and the Kubernetes validator
#                                   deploy/validate), redis (Debian's redis-server, via apt-get) and
#                                   valgrind (Debian's package, for `make bench-guard`); helm (not
#                                   in `make setup`: only to render deploy/helm/values.yaml by hand)
#
# Binaries land in $CENTRPC_CACHE/bin (default ~/.cache/centrpc/bin), named with their version, so a
# fresh clone on the same machine reuses them and a version bump installs the new one. Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${CENTRPC_CACHE:-$HOME/.cache/centrpc}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

CENTRIFUGO_VERSION=6.9.1
GRPCURL_VERSION=1.9.3
GHZ_VERSION=0.121.0
HEALTH_PROBE_VERSION=0.4.62
HELM_VERSION=3.22.0
# The TCP fault proxy between Centrifugo and centrpc in tests/network_faults.rs (binary toxiproxy-server).
TOXIPROXY_VERSION=2.12.0

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "setup: Go (>= 1.26) is required to build Centrifugo and the gRPC tools; install it from https://go.dev/dl or your package manager" >&2
    exit 1
  fi
}

# go_install NAME VERSION MODULE_PATH [LDFLAGS]: installs MODULE_PATH@vVERSION as $BIN/NAME-VERSION
# and points the unversioned $BIN/NAME at it.
go_install() {
  local name=$1 version=$2 module=$3 ldflags=${4:-}
  local target="$BIN/$name-$version"
  if [ ! -x "$target" ]; then
    need_go
    echo "setup: building $name $version from the Go module proxy (first run only)..." >&2
    local tmp
    tmp=$(mktemp -d)
    CGO_ENABLED=0 GOBIN="$tmp" go install -ldflags "-s -w $ldflags" "$module@v$version"
    mv "$tmp/$(basename "${module%/v[0-9]*}")" "$target" 2>/dev/null || mv "$tmp"/* "$target"
    rmdir "$tmp"
  fi
  ln -sf "$target" "$BIN/$name"
}

# python_env: a virtualenv with e2e/python/requirements.txt, rebuilt when the file changes.
python_env() {
  local req="$ROOT/e2e/python/requirements.txt" venv="$CACHE/venv"
  local stamp="$venv/.requirements-$(sha256sum "$req" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    command -v python3 >/dev/null || { echo "setup: python3 (>= 3.10) is required" >&2; exit 1; }
    echo "setup: creating the Python environment $venv..." >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
    touch "$stamp"
  fi
}

# node_env: npm packages from the lockfiles: the JS driver (centrifuge + ws), the generated
# TypeScript client's type-check and e2e harness (typescript, centrifuge, ws), and the browser
# example (centrifuge, esbuild, playwright-core driving Debian's chromium), and the official
# OpenRPC tooling that validates the API document (@open-rpc/schema-utils-js).
node_env() {
  command -v npm >/dev/null || { echo "setup: Node.js >= 20 with npm is required" >&2; exit 1; }
  local dir
  for dir in "$ROOT/e2e/js" "$ROOT/e2e/generated/typescript" "$ROOT/examples/web" "$ROOT/e2e/openrpc"; do
    local stamp="$dir/node_modules/.lock-$(sha256sum "$dir/package-lock.json" | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
      echo "setup: npm ci in ${dir#"$ROOT"/}..." >&2
      (cd "$dir" && npm ci --silent --no-audit --no-fund >&2)
      touch "$stamp"
    fi
  done
}

# go_env: downloads into the module cache the Go driver's modules (centrifuge-go) and the
# Kubernetes validator's (deploy/validate: k8s.io/api, k8s.io/apimachinery, sigs.k8s.io/yaml).
go_env() {
  need_go
  (cd "$ROOT/e2e/go" && go mod download)
  (cd "$ROOT/deploy/validate" && go mod download)
}

# redis: Debian's redis-server, for the scale-out test (two Centrifugo nodes sharing a Redis engine).
redis_env() {
  if ! command -v redis-server >/dev/null 2>&1; then
    command -v apt-get >/dev/null || { echo "setup: redis-server is required (install Redis 7)" >&2; exit 1; }
    echo "setup: installing redis-server (Debian package)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends redis-server >&2
  fi
}

# valgrind: callgrind counts instructions per call for `make bench-guard` (Debian's package).
valgrind_env() {
  if ! command -v valgrind >/dev/null 2>&1; then
    command -v apt-get >/dev/null || { echo "setup: valgrind is required (install valgrind)" >&2; exit 1; }
    echo "setup: installing valgrind (Debian package)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends valgrind >&2
  fi
}

# chromium: Debian's Chromium for the headless browser test (never a browser a test tool downloads).
chromium_env() {
  if [ ! -x /usr/bin/chromium ]; then
    command -v apt-get >/dev/null || { echo "setup: Chromium is required at /usr/bin/chromium" >&2; exit 1; }
    echo "setup: installing chromium (Debian package, first run only)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
  fi
}

# loadgen: the project's own load generator (bench/loadgen, on centrifuge-go); Go's build cache
# makes rebuilding it cheap, so it is rebuilt every time and always matches the checkout.
loadgen_build() {
  need_go
  (cd "$ROOT/bench/loadgen" && go build -o "$BIN/loadgen" .)
}

install_tool() {
  case "$1" in
    centrifugo) go_install centrifugo "$CENTRIFUGO_VERSION" github.com/centrifugal/centrifugo/v6 \
                  "-X github.com/centrifugal/centrifugo/v6/internal/build.Version=$CENTRIFUGO_VERSION" ;;
    grpcurl) go_install grpcurl "$GRPCURL_VERSION" github.com/fullstorydev/grpcurl/cmd/grpcurl ;;
    ghz) go_install ghz "$GHZ_VERSION" github.com/bojand/ghz/cmd/ghz ;;
    grpc-health-probe) go_install grpc-health-probe "$HEALTH_PROBE_VERSION" github.com/grpc-ecosystem/grpc-health-probe ;;
    helm) go_install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
            "-X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" ;;
    toxiproxy) go_install toxiproxy-server "$TOXIPROXY_VERSION" github.com/Shopify/toxiproxy/v2/cmd/server \
                 "-X github.com/Shopify/toxiproxy/v2.Version=$TOXIPROXY_VERSION" ;;
    python) python_env ;;
    node) node_env ;;
    go) go_env ;;
    redis) redis_env ;;
    loadgen) loadgen_build ;;
    chromium) chromium_env ;;
    valgrind) valgrind_env ;;
    *) echo "setup: unknown tool '$1' (known: centrifugo grpcurl ghz grpc-health-probe toxiproxy helm python node go redis loadgen chromium valgrind)" >&2; exit 2 ;;
  esac
}

# With SETUP_QUIET=1 each tool is one progress line; its full output goes to $LOG, whose path
# (and last lines) are printed if the step fails.
LOG="${CENTRPC_SETUP_LOG:-$CACHE/setup.log}"
step() {
  if [ "${SETUP_QUIET:-0}" != 1 ]; then
    install_tool "$1"
    return
  fi
  printf 'setup: %-18s' "$1" >&2
  if SETUP_QUIET=0 bash "$0" "$1" >>"$LOG" 2>&1; then
    echo "ok" >&2
  else
    echo "FAILED; full log: $LOG" >&2
    tail -n 20 "$LOG" | sed 's/^/  | /' >&2
    exit 1
  fi
}

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(centrifugo grpcurl)
[ "${SETUP_QUIET:-0}" != 1 ] || : > "$LOG"
for t in "${tools[@]}"; do step "$t"; done
[ "${SETUP_QUIET:-0}" = 1 ] || echo "$BIN"
