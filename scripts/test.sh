#!/usr/bin/env bash
# `npm test`: sets up local services, runs the quality gates, then every test against real
# FerretDB, PostgreSQL and Redis. Ends with one line "N passed, N failed[, N skipped]".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"
set +e

# Set-up must not change tracked files or leave new unignored ones (a rewritten lock file, a data
# directory): compare the tree before and after, so a clone with work in progress can run this too.
tree_state() { git status --porcelain 2>/dev/null || true; }
tree_before=$(tree_state)

SETUP_FOR_TESTS=1 EXTRA_DATABASES="runtime_hub_test" bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

gates_failed=0
# Each gate logs to its own file, so two can run at once.
gate() {
  local name=$1 slug=$2 usual=$3
  shift 3
  run_step "gate: $name" "$usual" "$DATA_DIR/logs/gate-$slug.log" "$@"
}
# Runs the gates given as "name|slug|usual|command…" side by side (each is one single-threaded process,
# and this machine has two CPUs), then counts the ones that failed.
gates_together() {
  local pids=() spec name slug usual command
  for spec in "$@"; do
    IFS='|' read -r name slug usual command <<<"$spec"
    # Unquoted on purpose: the command is a list of words.
    gate "$name" "$slug" "$usual" $command &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || gates_failed=$((gates_failed + 1))
  done
}
tree_unchanged() {
  local after
  after=$(tree_state)
  if [ "$after" != "$tree_before" ]; then
    echo "set-up changed the working tree (git status --porcelain before → after):"
    diff <(echo "$tree_before") <(echo "$after")
    return 1
  fi
}
gate "set-up leaves the working tree clean" tree "a second" tree_unchanged || gates_failed=$((gates_failed + 1))
gates_together \
  "typecheck (tsc --noEmit, hub and console)|typecheck|30-90 s|npm run --silent typecheck" \
  "lint (eslint)|lint|40-150 s|npx eslint --max-warnings 0 ."
gates_together \
  "format (prettier --check)|format|5-50 s|npx prettier --check --log-level warn ." \
  "openapi.json matches the code|openapi|10-25 s|npm run --silent openapi:check"

say "running the tests (vitest, two files at a time; usually 8-13 minutes for the whole suite, longer on a busy machine)"
results=".vitest-results.json"
rm -f "$results"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
vitest_rc=$?

# Benchmark smoke, for information only (it never fails the run): GET /version against a bare node:http
# server, so a regression of the per-request path shows in every full run. Skipped when files are named.
if [ "$#" -eq 0 ]; then
  say "bench smoke: GET /version against bare node:http (information only)"
  BENCH_HUB_ENTRY=src BENCH_DURATION_SECONDS=3 BENCH_WARMUP_SECONDS=1 BENCH_ROUNDS=2 \
    timeout 60 node --import @swc-node/register/esm-register bench/version/run.ts || true
fi

if [ -f "$results" ]; then
  read -r passed failed skipped < <(node -e '
    const r = require(process.argv[1]);
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    const failedSuites = (r.testResults || []).filter((s) => s.status === "failed" && (s.assertionResults || []).length === 0).length;
    console.log(r.numPassedTests, r.numFailedTests + failedSuites, skipped);' "$PWD/$results")
else
  passed=0; failed=1; skipped=0
fi
failed=$((failed + gates_failed))
if [ "$vitest_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

summary="$passed passed, $failed failed"
if [ "$skipped" -gt 0 ]; then summary="$summary, $skipped skipped"; fi
echo "$summary"
[ "$failed" -eq 0 ]
