#!/usr/bin/env bash
# make demo: builds the example app, starts it and Centrifugo 6.9.1 on free loopback ports with a
# config the app prints itself, makes real calls over WebSocket with the official Python SDK,
# prints what happened, and shuts everything down cleanly.
#   KEEP=1 make demo   keeps both running, serves the browser page (examples/web) and the API
#                      reference page with its live console (`tasks docs`), and prints their
#                      URLs, the WebSocket URL and a token to try it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CENTRPC_CACHE:-$HOME/.cache/centrpc}"
BIN="$CACHE/bin"

echo "== building the example app (cargo build --example tasks)"
cargo build -q --example tasks
APP=target/debug/examples/tasks

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
WORK=$(mktemp -d)
APP_PORT=$(free_port); CF_PORT=$(free_port); METRICS_PORT=$(free_port); WEB_PORT=$(free_port)
secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
export CENTRPC_LISTEN="127.0.0.1:$APP_PORT" CENTRPC_METRICS_LISTEN="127.0.0.1:$METRICS_PORT"
export CENTRPC_AUTH_KEY=x-centrpc-auth CENTRPC_AUTH_VALUE="$(secret)"
export CENTRPC_HMAC_SECRET="$(secret)" CENTRPC_CENTRIFUGO_API_KEY="$(secret)"
export CENTRPC_CENTRIFUGO_PORT="$CF_PORT" CENTRPC_CENTRIFUGO_ADDRESS=127.0.0.1
export CENTRPC_CENTRIFUGO_API_URL="http://127.0.0.1:$CF_PORT/api"
export CENTRPC_CALL_TIMEOUT=2s CENTRPC_SHUTDOWN_DELAY=200ms
export CENTRPC_ALLOWED_ORIGINS="http://127.0.0.1:$WEB_PORT"

"$APP" centrifugo-config > "$WORK/centrifugo.json"
"$APP" serve 2> "$WORK/centrpc.log" &
APP_PID=$!
"$BIN/centrifugo" -c "$WORK/centrifugo.json" > "$WORK/centrifugo.log" 2>&1 &
CF_PID=$!
cleanup() {
  kill -TERM "$CF_PID" 2>/dev/null || true
  kill -TERM "$APP_PID" 2>/dev/null || true
  wait "$CF_PID" "$APP_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$CF_PORT/health" >/dev/null 2>&1 && (exec 3<>"/dev/tcp/127.0.0.1/$APP_PORT") 2>/dev/null && break
  sleep 0.1
done

TOKEN=$("$APP" token --user 42 --meta '{"plan":"pro"}')
WS="ws://127.0.0.1:$CF_PORT/connection/websocket"
echo "== Centrifugo 6.9.1 on :$CF_PORT (config from \`tasks centrifugo-config\`), centrpc on :$APP_PORT"
"$CACHE/venv/bin/python" examples/demo_client.py "$WS" "$TOKEN"
echo "== generating the typed Python client from the Rust types (tasks generate --python)"
"$APP" generate --python --output "$WORK/gen" >/dev/null
PYTHONPATH="$WORK" "$CACHE/venv/bin/python" examples/demo_typed.py "$WS" "$TOKEN" 42

echo "== centrpc metrics (http://127.0.0.1:$METRICS_PORT/metrics):"
curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep '^centrpc_calls_total' | sed 's/^/  /'

if [ "${KEEP:-0}" = 1 ]; then
  echo "== building the browser page (generated TypeScript client + esbuild)"
  APP="$APP" bash scripts/web.sh "$WORK/web"
  WEB_TOKEN=$("$APP" token --user web --ttl 24h)
  printf '{"url":"%s","token":"%s","user":"web"}' "$WS" "$WEB_TOKEN" > "$WORK/web/site/config.json"
  echo "== writing the API reference page (tasks docs, live console bundled with esbuild)"
  APP="$APP" bash scripts/docs.sh "$WORK/web/site/docs" 2>/dev/null
  python3 -m http.server "$WEB_PORT" --bind 127.0.0.1 --directory "$WORK/web/site" >/dev/null 2>&1 &
  WEB_PID=$!
  trap 'kill $WEB_PID 2>/dev/null || true; cleanup' EXIT
  cat <<TXT
== still running (Ctrl-C to stop):
  browser page  : http://127.0.0.1:$WEB_PORT/   (the generated TypeScript client in your browser)
  API reference : http://127.0.0.1:$WEB_PORT/docs/#url=$WS&token=$WEB_TOKEN
  call a method : CENTRPC_LISTEN=$CENTRPC_LISTEN CENTRPC_AUTH_KEY=$CENTRPC_AUTH_KEY CENTRPC_AUTH_VALUE=$CENTRPC_AUTH_VALUE $APP call tasks.get_stats '{"user_id":"42"}'
    through Centrifugo: CENTRPC_HMAC_SECRET=$CENTRPC_HMAC_SECRET CENTRPC_CENTRIFUGO_PORT=$CF_PORT $APP call --via-centrifugo tasks.get_stats '{"user_id":"42"}'
  WebSocket URL : $WS
  token (user 42): $TOKEN
  try it        : $CACHE/venv/bin/python examples/demo_client.py $WS <token>
  for the README's typed-client quick start, in another terminal:
    export CENTRPC_WS_URL=$WS CENTRPC_TOKEN=$TOKEN
  mint tokens   : CENTRPC_HMAC_SECRET=$CENTRPC_HMAC_SECRET $APP token --user alice
  Centrifugo config: $WORK/centrifugo.json
TXT
  wait "$APP_PID"
fi
echo "== shutting down: SIGTERM to centrpc (readiness NOT_SERVING, drain), then Centrifugo"
kill -TERM "$APP_PID"; wait "$APP_PID" || true
grep -E "centrpc::server.*(SIGTERM|shutdown)" "$WORK/centrpc.log" | sed -E 's/^.*(INFO|WARN) /  /'
