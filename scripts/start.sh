#!/usr/bin/env bash
# `npm start`: sets up local services, builds when the sources changed, and serves the hub on local
# defaults (http://127.0.0.1:8000, docs at /redoc). Migrations are applied by the hub as it boots.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

bash scripts/setup.sh
load_dotenv

build_if_changed

if [ "${DEMO_DATA:-false}" != "true" ]; then
  say "tip: DEMO_DATA=true in .env (or \`npx runtime-hub demo load\`) loads a small demo dataset for the README walkthroughs"
fi
say "starting the hub on ${PUBLIC_BASE_URL:-http://127.0.0.1:${PORT:-8000}} (docs at /redoc; Ctrl-C stops it)"
exec node dist/main.js
