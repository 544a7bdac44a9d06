#!/usr/bin/env bash
# Brings up everything the hub needs on this machine, reusing whatever already runs:
# npm dependencies, FerretDB (MongoDB wire protocol, SQLite backend), PostgreSQL, Redis,
# and the PostgreSQL databases. Idempotent and quiet when everything is up. Reads .env (with dotenv's
# parser, as the hub does) for the service URLs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

host_of() { echo "$1" | sed -E 's#^[a-z]+://([^@/]*@)?([^:/?]+).*#\2#'; }
port_of() { local p; p=$(echo "$1" | sed -nE 's#^[a-z]+://([^@/]*@)?[^:/?]+:([0-9]+).*#\2#p'); echo "${p:-$2}"; }

# Reinstalls only when the dependencies in package.json or the lock file changed since the last install
# (by content, not by timestamp, which a checkout resets; a changed script is not a reason). `npm install`
# rather than `npm ci`: the lock file comes from a registry mirror that serves only this platform's
# optional binaries, so `npm ci` calls it incomplete.
ensure_node_modules() {
  local stamp=node_modules/.runtime-hub-deps
  local want
  want=$({
    node -e 'const p = require("./package.json");
      console.log(JSON.stringify([p.dependencies, p.devDependencies, p.optionalDependencies, p.overrides]))'
    cat package-lock.json
  } | sha256sum | cut -d' ' -f1)
  if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    run_step "installing npm dependencies" "about a minute" "$DATA_DIR/logs/npm-install.log" \
      npm install --no-fund --no-audit --loglevel=error || die "npm install failed"
    echo "$want" > "$stamp"
  fi
}

# FerretDB v1.24.2's module ships without build/version/version.txt, so a plain
# `go install …@v1.24.2` builds a binary that panics at start. We build the same
# pinned release from a vendored copy with that one file supplied, once per machine: the binary is
# cached under $CACHE_DIR (keyed by the pinned module files), so a fresh clone links it instead of
# building again.
ensure_ferretdb_binary() {
  FERRETDB_BIN="$TOOLS_DIR/bin/ferretdb"
  if [ -x "$FERRETDB_BIN" ] && "$FERRETDB_BIN" --version >/dev/null 2>&1; then return 0; fi
  local key cached
  key=$(cat scripts/ferretdb/go.mod scripts/ferretdb/go.sum scripts/ferretdb/tools.go | sha256sum | cut -c1-16)
  cached="$CACHE_DIR/ferretdb-v1.24.2-$key/ferretdb"
  if ! { [ -x "$cached" ] && "$cached" --version >/dev/null 2>&1; }; then
    command -v go >/dev/null 2>&1 || die "Go is needed once to build FerretDB v1.24.2 (apt-get install golang, or install Go) — then re-run"
    local build
    mkdir -p "$(dirname "$cached")"
    build=$(mktemp -d "$(dirname "$cached")/build.XXXXXX")
    cp scripts/ferretdb/go.mod scripts/ferretdb/go.sum scripts/ferretdb/tools.go "$build/"
    run_step "building FerretDB v1.24.2 (once per machine)" "1-3 minutes" "$TOOLS_DIR/ferretdb-build.log" \
      bash -c 'cd "$1" && go mod vendor &&
        echo "v1.24.2" > vendor/github.com/FerretDB/FerretDB/build/version/version.txt &&
        go build -mod=vendor -trimpath -o "$1/ferretdb" github.com/FerretDB/FerretDB/cmd/ferretdb' _ "$build" ||
      { rm -rf "$build"; die "building FerretDB failed; see $TOOLS_DIR/ferretdb-build.log"; }
    mv -f "$build/ferretdb" "$cached"
    rm -rf "$build"
  fi
  mkdir -p "$TOOLS_DIR/bin"
  ln -sfn "$cached" "$FERRETDB_BIN"
}

ensure_ferretdb() {
  local host port
  host=$(host_of "$MONGO_URL"); port=$(port_of "$MONGO_URL" 27017)
  if port_open "$host" "$port"; then return 0; fi
  case "$host" in 127.0.0.1|localhost) ;; *) die "MongoDB at $host:$port is not reachable (only a local FerretDB can be started here)";; esac
  ensure_ferretdb_binary
  local dir="$DATA_DIR/ferretdb"
  mkdir -p "$dir/sqlite" "$dir/state"
  say "starting FerretDB on 127.0.0.1:$port (data in $dir)"
  nohup "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$dir/sqlite/" \
    --listen-addr="127.0.0.1:$port" --debug-addr="127.0.0.1:${FERRETDB_DEBUG_PORT:-8088}" \
    --state-dir="$dir/state" --telemetry=disable --log-level=WARN \
    >>"$dir/ferretdb.log" 2>&1 &
  echo $! > "$dir/ferretdb.pid"
  wait_for_port 127.0.0.1 "$port" FerretDB || die "FerretDB did not start; see $dir/ferretdb.log"
}

ensure_postgres() {
  local host port
  host=$(host_of "$DATABASE_URL"); port=$(port_of "$DATABASE_URL" 5432)
  if ! port_open "$host" "$port"; then
    case "$host" in 127.0.0.1|localhost) ;; *) die "PostgreSQL at $host:$port is not reachable";; esac
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      apt_install postgresql
      local conf; conf=$(ls -d /etc/postgresql/*/main | head -1)
      # Local development trusts loopback connections, as the database URL carries no password.
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$conf/pg_hba.conf"
    fi
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
    wait_for_port "$host" "$port" PostgreSQL || die "PostgreSQL did not start on $host:$port"
  fi
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  local base="${DATABASE_URL%/*}"
  local db
  for db in "${DATABASE_URL##*/}" ${EXTRA_DATABASES:-}; do
    db="${db%%\?*}"
    if [ "$(psql "$base/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
      say "creating database $db"
      psql "$base/postgres" -qc "CREATE DATABASE \"$db\"" >/dev/null
    fi
  done
}

ensure_redis() {
  local host port
  host=$(host_of "$REDIS_URL"); port=$(port_of "$REDIS_URL" 6379)
  if port_open "$host" "$port"; then return 0; fi
  case "$host" in 127.0.0.1|localhost) ;; *) die "Redis at $host:$port is not reachable";; esac
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  say "starting Redis on 127.0.0.1:$port"
  mkdir -p "$DATA_DIR/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$DATA_DIR/redis" --logfile "$DATA_DIR/redis/redis.log" >/dev/null
  wait_for_port 127.0.0.1 "$port" Redis || die "Redis did not start; see $DATA_DIR/redis/redis.log"
}

# The console's browser tests and benchmark drive Debian's Chromium (playwright-core brings no browser).
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  apt_install chromium
}

ensure_node_modules
# What only the tests and benchmarks use: Chromium for the console's browser tests, and a FerretDB
# binary for the tests that start FerretDB instances of their own (even when one already serves 27017).
if [ "${SETUP_FOR_TESTS:-0}" = "1" ]; then
  ensure_chromium
  ensure_ferretdb_binary
fi
load_dotenv
MONGO_URL="${MONGO_URL:-mongodb://127.0.0.1:27017}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/runtime_hub}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
ensure_ferretdb
ensure_postgres
ensure_redis
bash scripts/seaweedfs.sh ensure
