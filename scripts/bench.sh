#!/usr/bin/env bash
# `npm run bench`: runs every benchmark (bench/<name>/run.ts) against the local services, one after
# the other, and fails if any fails.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"
bash scripts/setup.sh
status=0
for script in bench/*/run.ts; do
  [ -e "$script" ] || continue
  say "bench: $script"
  node --import @swc-node/register/esm-register "$script" || status=1
done
exit "$status"
