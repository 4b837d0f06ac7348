#!/usr/bin/env bash
# make demo: builds the example app, serves it, and calls it over real gRPC with grpcurl the way
# Centrifugo does, then shuts it down gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${CENTRPC_CACHE:-$HOME/.cache/centrpc}/bin"
GRPCURL="$BIN/grpcurl"

echo "== building the example app (cargo build --example tasks)"
cargo build -q --example tasks
APP=target/debug/examples/tasks

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$(mktemp)
"$APP" serve --listen "127.0.0.1:$PORT" --shutdown-delay 200ms >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 50); do "$GRPCURL" -plaintext "127.0.0.1:$PORT" list >/dev/null 2>&1 && break; sleep 0.1; done

call() { # method json
  local data; data=$(printf '%s' "$2" | base64 -w0)
  local out; out=$("$GRPCURL" -plaintext -d "{\"method\":\"$1\",\"user\":\"42\",\"client\":\"demo\",\"transport\":\"websocket\",\"protocol\":\"json\",\"encoding\":\"json\",\"data\":\"$data\"}" \
    "127.0.0.1:$PORT" centrifugal.centrifugo.proxy.CentrifugoProxy/RPC)
  python3 - "$1" "$2" "$out" <<'PY'
import base64, json, sys
method, params, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if "result" in out:
    shown = base64.b64decode(out["result"].get("data", "")).decode() or "null"
    print(f"  rpc {method} {params}\n    -> result {shown}")
elif "error" in out:
    print(f"  rpc {method} {params}\n    -> error {json.dumps(out['error'])}")
else:
    print(f"  rpc {method} {params}\n    -> disconnect {json.dumps(out.get('disconnect'))}")
PY
}

echo "== centrpc serving on 127.0.0.1:$PORT; services by reflection:"
"$GRPCURL" -plaintext "127.0.0.1:$PORT" list | sed 's/^/  /'
echo "== calls as Centrifugo sends them (user 42):"
call tasks.create '{"title":"write the README"}'
call tasks.create '{"title":"ship it"}'
call tasks.complete '{"id":1}'
call tasks.get_stats '{"user_id":"42"}'
call tasks.get_stats '{"user_id":7}'
call tasks.fail '{"kind":"temporary"}'
call tasks.fail '{"kind":"panic"}'
call tasks.fail '{"kind":"disconnect"}'
call tasks.nope '{}'
echo "== health:"
"$GRPCURL" -plaintext -d '{"service":"readiness"}' "127.0.0.1:$PORT" grpc.health.v1.Health/Check | tr -d '\n ' | sed 's/^/  /'; echo
echo "== SIGTERM: graceful shutdown"
kill -TERM $PID; wait $PID || true
grep -E "shutdown|SIGTERM" "$LOG" | sed 's/^/  /'
