#!/usr/bin/env bash
# Builds the browser example into OUT_DIR/site: generates the TypeScript client from the example
# app (examples/web/.gen/opensdk), type-checks the page against it (tsc --strict), and bundles
# examples/web/main.ts with esbuild for the browser (platform=browser: a Node-only import in the
# generated client would fail the build).
#   scripts/web.sh OUT_DIR        (APP=path/to/tasks to use another build of the example)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: scripts/web.sh OUT_DIR}
APP=${APP:-target/debug/examples/tasks}
WEB=examples/web
"$APP" generate --output "$WEB/.gen/opensdk" --typescript 2>/dev/null
(cd "$WEB" && npx tsc -p tsconfig.json)
mkdir -p "$OUT/site"
(cd "$WEB" && npx esbuild main.ts --bundle --format=esm --platform=browser --target=es2020 \
  --alias:@tasks/client=./.gen/opensdk/typescript/index.ts \
  --outfile="$(cd "$OLDPWD" && cd "$OUT/site" && pwd)/app.js" --log-level=warning)
cp "$WEB/index.html" "$OUT/site/"
