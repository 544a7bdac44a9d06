#!/usr/bin/env bash
# `npm run bench [-- NAME…]`: sets up local services, builds the hub, then runs every bench/<name>/run.ts
# in turn (or only the named ones). Each prints its table and ratio and writes bench/results/<name>.json.
# Exits non-zero when any benchmark fails or misses its target, after running all of them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

SETUP_FOR_TESTS=1 bash scripts/setup.sh
say "building"
npm run --silent build

benches=()
if [ "$#" -gt 0 ]; then
  for name in "$@"; do
    [ -f "bench/$name/run.ts" ] || die "no benchmark bench/$name/run.ts"
    benches+=("bench/$name/run.ts")
  done
else
  for file in bench/*/run.ts; do
    if [ -f "$file" ]; then benches+=("$file"); fi
  done
fi
[ "${#benches[@]}" -gt 0 ] || die "no benchmarks found under bench/*/run.ts"

failed=()
for file in "${benches[@]}"; do
  name=$(basename "$(dirname "$file")")
  say "bench: $name"
  if ! node --import @swc-node/register/esm-register "$file"; then
    failed+=("$name")
  fi
  echo
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "[runtime-hub] ${#failed[@]} of ${#benches[@]} benchmarks failed or missed their target: ${failed[*]}" >&2
  exit 1
fi
say "${#benches[@]} of ${#benches[@]} benchmarks met their target"
