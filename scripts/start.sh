#!/usr/bin/env bash
# `npm start`: sets up local services, builds, migrates and serves the hub on local defaults
# (http://127.0.0.1:8000, docs at /redoc).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

bash scripts/setup.sh
say "building"
npm run --silent build
node dist/cli.js migrate >/dev/null
exec node dist/main.js
