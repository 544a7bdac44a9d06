#!/usr/bin/env bash
# `npm test`: sets up local services, runs the quality gates, then every test against real
# FerretDB, PostgreSQL and Redis. Ends with one line "N passed, N failed[, N skipped]".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"
set +e

EXTRA_DATABASES="runtime_hub_test" bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

gates_failed=0
gate() {
  local name=$1; shift
  say "gate: $name"
  if ! "$@"; then
    echo "[runtime-hub] gate failed: $name" >&2
    gates_failed=$((gates_failed + 1))
  fi
}
gate "typecheck (tsc --noEmit)" npx tsc --noEmit -p tsconfig.json
gate "lint (eslint)" npx eslint --max-warnings 0 .
gate "format (prettier --check)" npx prettier --check --log-level warn .
gate "openapi.json matches the code" npm run --silent openapi:check

results=".vitest-results.json"
rm -f "$results"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
vitest_rc=$?

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
