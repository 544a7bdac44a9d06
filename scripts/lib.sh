# Shared helpers for the local-services scripts. Sourced, never executed.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT_DIR/.tools"
DATA_DIR="${RUNTIME_HUB_DATA_DIR:-$ROOT_DIR/data}"

say() { if [ "${QUIET:-0}" != "1" ]; then echo "[runtime-hub] $*"; fi; }
die() { echo "[runtime-hub] ERROR: $*" >&2; exit 1; }

# True when something accepts TCP connections on host:port.
port_open() { (exec 3<>"/dev/tcp/$1/$2") >/dev/null 2>&1; }

wait_for_port() {
  local host=$1 port=$2 name=$3 tries=${4:-100}
  for _ in $(seq "$tries"); do
    if port_open "$host" "$port"; then return 0; fi
    sleep 0.2
  done
  return 1
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "cannot install $* : apt-get is not available; install it yourself and re-run"
  say "installing $* from Debian packages"
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]; then
    apt-get update -qq >/dev/null
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Exports the keys of .env that the environment does not set already. dotenv parses the file, as the hub
# does, so a value such as `0 3 * * *` or `Runtime Hub` reaches these scripts exactly as the hub reads it
# (shell `source` would run it as commands). Needs node_modules, so call it after the npm install.
load_dotenv() {
  local file="${1:-$ROOT_DIR/.env}"
  [ -f "$file" ] || return 0
  local script exports
  read -r -d '' script <<'JS' || true
const parsed = require('dotenv').parse(require('node:fs').readFileSync(process.argv[1]));
const quote = (value) => `'${value.replaceAll("'", "'\\''")}'`;
for (const [key, value] of Object.entries(parsed)) {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && !(key in process.env)) {
    console.log(`export ${key}=${quote(value)}`);
  }
}
JS
  exports=$(cd "$ROOT_DIR" && node -e "$script" "$file") || die "could not read $file (see the message above)"
  eval "$exports"
}

# Runs a long, otherwise silent step: says what it is and how long it usually takes, keeps one line
# ticking with the elapsed seconds on a terminal (a line every 15 s elsewhere), and shows the step's
# own output only when it fails. Usage: run_step "what" "usual duration" log-file command args…
run_step() {
  local what=$1 usual=$2 log=$3
  shift 3
  local start=$SECONDS elapsed=0 shown=-1 tty=0 rc=0
  if [ -t 2 ] && [ "${QUIET:-0}" != "1" ]; then tty=1; fi
  mkdir -p "$(dirname "$log")"
  if [ "$tty" = 0 ]; then say "$what (usually $usual)"; fi
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    elapsed=$((SECONDS - start))
    if [ "$tty" = 1 ] && [ "$elapsed" != "$shown" ]; then
      printf '\r\033[K[runtime-hub] %s: %ss (usually %s)' "$what" "$elapsed" "$usual" >&2
      shown=$elapsed
    elif [ "$tty" = 0 ] && [ "$elapsed" -ge 15 ] && [ $((elapsed % 15)) = 0 ] && [ "$elapsed" != "$shown" ]; then
      say "  … $what: ${elapsed}s so far"
      shown=$elapsed
    fi
    sleep 0.2
  done
  if wait "$pid"; then rc=0; else rc=$?; fi
  elapsed=$((SECONDS - start))
  if [ "$tty" = 1 ]; then printf '\r\033[K' >&2; fi
  if [ "$rc" = 0 ]; then
    say "$what: done in ${elapsed}s"
  else
    cat "$log" >&2
    echo "[runtime-hub] $what failed after ${elapsed}s (output above, also in $log)" >&2
  fi
  return "$rc"
}

# Where built tools are kept across clones, so a fresh clone (CI clones afresh) reuses them.
CACHE_DIR="${RUNTIME_HUB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/runtime-hub}"

# Compiles the hub into dist/ unless dist/ was built from exactly the current sources: compared by
# content (a checkout resets timestamps), so a restart with nothing changed skips the 15-45 s build.
build_if_changed() {
  local stamp=dist/.sources-sha256 want
  local inputs=(src console scripts/build-console.ts tsconfig.json tsconfig.build.json package.json package-lock.json)
  want=$(cd "$ROOT_DIR" && for path in "${inputs[@]}"; do if [ -e "$path" ]; then find "$path" -type f -print0; fi; done |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
  if [ -f "$ROOT_DIR/dist/main.js" ] && [ -f "$ROOT_DIR/dist/cli.js" ] && [ "$(cat "$ROOT_DIR/$stamp" 2>/dev/null)" = "$want" ]; then
    say "dist/ is up to date with the sources; not rebuilding"
    return 0
  fi
  run_step "compiling TypeScript to dist/" "15-60 s" "$DATA_DIR/logs/build.log" \
    bash -c 'cd "$1" && npm run --silent build' _ "$ROOT_DIR" || die "the build failed"
  echo "$want" > "$ROOT_DIR/$stamp"
}
