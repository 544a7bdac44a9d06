#!/usr/bin/env bash
# `npm start`: sets up local services, builds when the sources changed, and serves the hub on local
# defaults (http://127.0.0.1:8000, docs at /redoc). Migrations are applied by the hub as it boots.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

bash scripts/setup.sh
load_dotenv

# What dist/ is compiled from, by content (a checkout resets timestamps, so they cannot say).
sources_key() {
  find src tsconfig.json tsconfig.build.json package.json package-lock.json -type f -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

stamp=dist/.sources-sha256
want=$(sources_key)
if [ -f dist/main.js ] && [ -f dist/cli.js ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  say "dist/ is up to date with the sources; not rebuilding"
else
  run_step "compiling TypeScript to dist/" "15-45 s" "$DATA_DIR/logs/build.log" npm run --silent build ||
    die "the build failed"
  echo "$want" > "$stamp"
fi

if [ "${DEMO_DATA:-false}" != "true" ]; then
  say "tip: DEMO_DATA=true in .env (or \`npx runtime-hub demo load\`) loads a small demo dataset for the README walkthroughs"
fi
say "starting the hub on ${PUBLIC_BASE_URL:-http://127.0.0.1:${PORT:-8000}} (docs at /redoc; Ctrl-C stops it)"
exec node dist/main.js
