#!/usr/bin/env bash
# Installs the external tools centrpc's tests, demo and benchmarks use, pinned and cached.
#
#   scripts/setup.sh [tool ...]     tools: centrifugo grpcurl ghz grpc-health-probe (default: centrifugo grpcurl)
#
# Binaries land in $CENTRPC_CACHE/bin (default ~/.cache/centrpc/bin), named with their version, so a
# fresh clone on the same machine reuses them and a version bump installs the new one. Idempotent.
set -euo pipefail

CACHE="${CENTRPC_CACHE:-$HOME/.cache/centrpc}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

CENTRIFUGO_VERSION=6.9.1
GRPCURL_VERSION=1.9.3
GHZ_VERSION=0.121.0
HEALTH_PROBE_VERSION=0.4.62

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

install_tool() {
  case "$1" in
    centrifugo) go_install centrifugo "$CENTRIFUGO_VERSION" github.com/centrifugal/centrifugo/v6 \
                  "-X github.com/centrifugal/centrifugo/v6/internal/build.Version=$CENTRIFUGO_VERSION" ;;
    grpcurl) go_install grpcurl "$GRPCURL_VERSION" github.com/fullstorydev/grpcurl/cmd/grpcurl ;;
    ghz) go_install ghz "$GHZ_VERSION" github.com/bojand/ghz/cmd/ghz ;;
    grpc-health-probe) go_install grpc-health-probe "$HEALTH_PROBE_VERSION" github.com/grpc-ecosystem/grpc-health-probe ;;
    *) echo "setup: unknown tool '$1' (known: centrifugo grpcurl ghz grpc-health-probe)" >&2; exit 2 ;;
  esac
}

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(centrifugo grpcurl)
for t in "${tools[@]}"; do install_tool "$t"; done
echo "$BIN"
