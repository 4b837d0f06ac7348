#!/usr/bin/env bash
# Writes the API reference page with its live console into OUT_DIR/index.html: generates the
# TypeScript client from the example app, type-checks examples/web (tsc --strict, console.ts
# included), bundles examples/web/console.ts with esbuild for the browser (a classic script), and
# runs `tasks docs --console-js`, which inlines the bundle: one self-contained file.
#   scripts/docs.sh OUT_DIR       (APP=path/to/tasks to use another build of the example)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: scripts/docs.sh OUT_DIR}
APP=${APP:-target/debug/examples/tasks}
WEB=examples/web
"$APP" generate --output "$WEB/.gen/opensdk" --typescript 2>/dev/null
(cd "$WEB" && npx tsc -p tsconfig.json)
mkdir -p "$OUT"
OUT_ABS="$(cd "$OUT" && pwd)"
(cd "$WEB" && npx esbuild console.ts --bundle --format=iife --platform=browser --target=es2020 \
  --alias:@tasks/client=./.gen/opensdk/typescript/index.ts \
  --outfile="$OUT_ABS/console.js" --log-level=warning)
"$APP" docs --output "$OUT" --console-js "$OUT_ABS/console.js"
rm -f "$OUT_ABS/console.js"
