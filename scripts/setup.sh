#!/usr/bin/env bash
# Brings up everything the hub needs on this machine, reusing whatever already runs:
# npm dependencies, FerretDB (MongoDB wire protocol; SQLite storage, or PostgreSQL), PostgreSQL, Redis,
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

# FerretDB keeps its documents in SQLite files under data/ferretdb (the default) or, with
# FERRETDB_HANDLER=postgresql, in the PostgreSQL database of FERRETDB_POSTGRESQL_URL: a cluster of its
# own, which set-up creates under data/ferretdb/postgresql and starts when nothing listens at that
# loopback address, so FerretDB's connection pool never competes with the hub's own PostgreSQL.
FERRETDB_POSTGRESQL_DEFAULT_URL=postgres://postgres@127.0.0.1:5433/ferretdb

# FerretDB v1's PostgreSQL update (and findAndModify) holds the pooled connection that read the document
# while it takes a second one to write it, and an open cursor holds one until it is exhausted or closed.
# Once updates and cursors hold every connection of the pool, FerretDB stops answering for good, until it
# is restarted. That cannot happen while pool_max_conns exceeds everything its clients can hold at once:
# their connections (MONGO_POOL_MAX) plus their open cursors (METADATA_OPEN_CURSORS_MAX). Without a
# pool_max_conns in the URL, set-up sizes the pool for FERRETDB_CLIENT_PROCESSES hub processes (default 4:
# an `npm start`, a CLI command, a test or two) of this configuration.
ferretdb_client_needs() {
  echo $(( ${MONGO_POOL_MAX:-50} + ${METADATA_OPEN_CURSORS_MAX:-64} ))
}

# Prints the FerretDB arguments that choose its storage, one a line; fails on a bad setting.
ferretdb_storage_args() {
  case "${FERRETDB_HANDLER:-sqlite}" in
    sqlite)
      echo "--handler=sqlite"
      echo "--sqlite-url=file:$DATA_DIR/ferretdb/sqlite/"
      ;;
    postgresql)
      local url="${FERRETDB_POSTGRESQL_URL:-$FERRETDB_POSTGRESQL_DEFAULT_URL}" needs pool processes
      case "$url" in postgres://* | postgresql://*) ;; *) die "FERRETDB_POSTGRESQL_URL must be a postgres:// URL, not '$url'" ;; esac
      needs=$(ferretdb_client_needs)
      pool=$(echo "$url" | sed -nE 's#.*[?&]pool_max_conns=([0-9]+).*#\1#p')
      if [ -z "$pool" ]; then
        processes="${FERRETDB_CLIENT_PROCESSES:-4}"
        [[ "$processes" =~ ^[1-9][0-9]*$ ]] || die "FERRETDB_CLIENT_PROCESSES must be a positive integer, not '$processes'"
        pool=$(( processes * needs + 1 ))
        case "$url" in *\?*) url="$url&pool_max_conns=$pool" ;; *) url="$url?pool_max_conns=$pool" ;; esac
      elif [ "$pool" -le "$needs" ]; then
        die "FERRETDB_POSTGRESQL_URL has pool_max_conns=$pool, but one hub process can hold $needs connections (MONGO_POOL_MAX + METADATA_OPEN_CURSORS_MAX): FerretDB would stop answering once they are all taken. Use more than the total of every process using this FerretDB (docs/consistency.md)"
      fi
      echo "--handler=postgresql"
      echo "--postgresql-url=$url"
      ;;
    *) die "FERRETDB_HANDLER must be sqlite or postgresql, not '${FERRETDB_HANDLER}'" ;;
  esac
}

# Runs a PostgreSQL server program as the postgres user when set-up runs as root (initdb refuses root).
pg_server_tool() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ]; then
    apt_install postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  local tool="$bin/$1"
  shift
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$tool" "$@"; else "$tool" "$@"; fi
}

# The PostgreSQL database behind FerretDB's postgresql handler: reuses a server that listens at the
# URL's address, else creates and starts a cluster of FerretDB's own there; creates the database.
ensure_ferretdb_postgres() {
  local url=$1
  local host port db pool base
  host=$(host_of "$url"); port=$(port_of "$url" 5432)
  db=$(echo "$url" | sed -nE 's#^[a-z]+://[^/]*/([^?]+).*#\1#p')
  pool=$(echo "$url" | sed -nE 's#.*[?&]pool_max_conns=([0-9]+).*#\1#p')
  [ -n "$db" ] || die "FERRETDB_POSTGRESQL_URL names no database"
  if ! port_open "$host" "$port"; then
    case "$host" in 127.0.0.1|localhost) ;; *) die "FerretDB's PostgreSQL at $host:$port is not reachable";; esac
    local dir="$DATA_DIR/ferretdb/postgresql"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      say "creating FerretDB's PostgreSQL cluster in $dir"
      mkdir -p "$dir"
      if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
      # FerretDB accepts only UTF8 databases with the C, POSIX or en_US.UTF8 collation.
      pg_server_tool initdb -D "$dir/data" -A trust -U postgres --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
        die "initdb failed; see $dir/initdb.log"
    fi
    say "starting FerretDB's PostgreSQL on $host:$port (data in $dir)"
    # max_connections leaves room above the pool for psql and set-up's own queries.
    pg_server_tool pg_ctl -D "$dir/data" -l "$dir/server.log" -w -o \
      "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=$(( pool + 10 ))" start >/dev/null ||
      die "FerretDB's PostgreSQL did not start; see $dir/server.log"
  fi
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  base="${url%%\?*}"; base="${base%/*}"
  if [ "$(psql "$base/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
    say "creating database $db for FerretDB"
    psql "$base/postgres" -qc "CREATE DATABASE \"$db\" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
  fi
  local max
  max=$(psql "$base/postgres" -tAc "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int")
  if [ "$max" -lt "$pool" ]; then
    die "FerretDB's pool (pool_max_conns=$pool) is larger than its PostgreSQL at $host:$port allows ($max connections); raise max_connections there"
  fi
}

ensure_ferretdb() {
  local host port
  host=$(host_of "$MONGO_URL"); port=$(port_of "$MONGO_URL" 27017)
  if port_open "$host" "$port"; then return 0; fi
  case "$host" in 127.0.0.1|localhost) ;; *) die "MongoDB at $host:$port is not reachable (only a local FerretDB can be started here)";; esac
  local storage
  storage=$(ferretdb_storage_args) || exit 1
  mapfile -t storage <<<"$storage"
  ensure_ferretdb_binary
  local dir="$DATA_DIR/ferretdb"
  mkdir -p "$dir/sqlite" "$dir/state"
  local where="$dir/sqlite"
  if [ "${storage[0]}" = "--handler=postgresql" ]; then
    ensure_ferretdb_postgres "${storage[1]#--postgresql-url=}"
    where="PostgreSQL at $(host_of "${storage[1]#*=}"):$(port_of "${storage[1]#*=}" 5432)"
  fi
  say "starting FerretDB on 127.0.0.1:$port (data in $where)"
  nohup "$FERRETDB_BIN" "${storage[@]}" \
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

# Sourced (by the tests of its functions), it defines them and stops here.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi

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
