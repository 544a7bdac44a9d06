#!/usr/bin/env bash
# SeaweedFS: the S3-compatible object store the hub uses when BLOB_STORE=s3 (and that the S3 tests
# start for themselves). `build` builds the pinned release once and caches the binary outside the work
# tree (a fresh clone reuses it); `start` runs master, volume, filer and S3 gateway in one process on
# loopback with S3 credentials configured as in production; `stop` ends the process `start` began;
# `ensure` (run by setup.sh) starts it when the hub's configuration asks for a local S3 store. Telemetry is on by default in SeaweedFS and reports to an outside host,
# so every start passes -master.telemetry=false.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

WEED_VERSION="v0.0.0-20261109003541-7506e5f91cd6"
WEED_CACHE_DIR="${RUNTIME_HUB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/runtime-hub}"
WEED_BIN="${WEED_BIN:-$WEED_CACHE_DIR/bin/weed}"

weed_ok() { [ -x "$WEED_BIN" ] && "$WEED_BIN" version >/dev/null 2>&1; }

# Builds through a small wrapper module: SeaweedFS's own go.mod carries one replace directive
# (go-bip39 moved), and replace directives of a dependency are ignored, so the wrapper repeats it.
ensure_weed_binary() {
  if weed_ok; then return 0; fi
  command -v go >/dev/null 2>&1 || die "Go is needed once to build SeaweedFS (apt-get install golang, or install Go) — then re-run"
  local build="$WEED_CACHE_DIR/weed-build" log="$WEED_CACHE_DIR/weed-build.log"
  mkdir -p "$build" "$(dirname "$WEED_BIN")"
  # Two builds at once (two test runs, or a test run and a set-up) share one lock, and the second
  # waits for the first's binary rather than building it again.
  exec 9>"$WEED_CACHE_DIR/weed-build.lock"
  flock 9
  if weed_ok; then flock -u 9; return 0; fi
  say "building SeaweedFS $WEED_VERSION (once; several minutes of CPU; log in $log)"
  cat >"$build/go.mod" <<EOF
module runtime-hub/seaweedfs-build

go 1.25

require github.com/seaweedfs/seaweedfs $WEED_VERSION

replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0
EOF
  rm -f "$build/go.sum"
  (
    cd "$build"
    go get "github.com/seaweedfs/seaweedfs/weed@$WEED_VERSION"
    go build -trimpath -o "$WEED_BIN.tmp" github.com/seaweedfs/seaweedfs/weed
    mv "$WEED_BIN.tmp" "$WEED_BIN"
  ) >"$log" 2>&1 &
  local pid=$! started=$SECONDS next_report=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    if [ "$SECONDS" -ge "$next_report" ] && kill -0 "$pid" 2>/dev/null; then
      say "still building SeaweedFS ($((SECONDS - started)) s so far)"
      next_report=$((SECONDS + 30))
    fi
  done
  wait "$pid" || { flock -u 9; die "building SeaweedFS failed; see $log"; }
  flock -u 9
  say "built SeaweedFS in $((SECONDS - started)) s: $WEED_BIN"
}

# Ports: SEAWEEDFS_S3_PORT (default 8333), and master/volume/filer 30/20/10 below it unless set. SeaweedFS
# also listens on each of those ports + 10000 for gRPC, so a second instance must sit at least 40 away.
# The metrics port stays off, and so do the Iceberg and Lance catalogs that `weed server -s3` would
# otherwise open on fixed ports of their own.
start_weed() {
  local s3_port="${SEAWEEDFS_S3_PORT:-8333}"
  local master_port="${SEAWEEDFS_MASTER_PORT:-$((s3_port - 30))}"
  local volume_port="${SEAWEEDFS_VOLUME_PORT:-$((s3_port - 20))}"
  local filer_port="${SEAWEEDFS_FILER_PORT:-$((s3_port - 10))}"
  local dir="${SEAWEEDFS_DATA_DIR:-$DATA_DIR/seaweedfs}"
  local access_key="${S3_ACCESS_KEY_ID:-runtime-hub}" secret_key="${S3_SECRET_ACCESS_KEY:-runtime-hub-secret}"
  if port_open 127.0.0.1 "$s3_port"; then return 0; fi
  ensure_weed_binary
  mkdir -p "$dir/master" "$dir/volume"
  # Several test files (or a test run and a set-up) may ask at once: one starts it, the others wait.
  exec 8>"$dir/start.lock"
  flock 8
  if port_open 127.0.0.1 "$s3_port"; then flock -u 8; return 0; fi
  # The same identity file production mounts: one identity with its own key pair and full rights on
  # the hub's buckets. Anonymous requests are refused, since no anonymous identity exists.
  (
    umask 077
    printf '{"identities":[{"name":"runtime-hub","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","List","Tagging","Write"]}]}\n' \
      "$access_key" "$secret_key" >"$dir/s3.json"
  )
  say "starting SeaweedFS S3 on 127.0.0.1:$s3_port (data in $dir)"
  nohup "$WEED_BIN" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false \
    -dir="$dir/volume" -master.dir="$dir/master" \
    -master.port="$master_port" -master.port.grpc="$((master_port + 10000))" \
    -volume.port="$volume_port" -volume.port.grpc="$((volume_port + 10000))" \
    -filer=true -filer.port="$filer_port" -filer.port.grpc="$((filer_port + 10000))" \
    -s3=true -s3.port="$s3_port" -s3.port.grpc="$((s3_port + 10000))" -s3.config="$dir/s3.json" \
    -s3.port.iceberg=0 -s3.port.lance=0 -metricsIp=127.0.0.1 -metricsPort=0 \
    -volume.max=0 -master.volumeSizeLimitMB=1024 \
    >>"$dir/weed.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/weed.pid"
  echo "$master_port $((master_port + 10000)) $volume_port $((volume_port + 10000)) $filer_port $((filer_port + 10000)) $s3_port $((s3_port + 10000))" >"$dir/ports"
  local tries=0
  until port_open 127.0.0.1 "$s3_port"; do
    tries=$((tries + 1))
    if ! kill -0 "$pid" 2>/dev/null || [ "$tries" -gt 600 ]; then
      flock -u 8
      die "SeaweedFS did not start; see $dir/weed.log"
    fi
    sleep 0.1
  done
  flock -u 8
}

# SeaweedFS can take a while over a graceful stop; after 10 s it is killed. Its Unix sockets in /tmp are
# removed with it.
stop_weed() {
  local dir="${SEAWEEDFS_DATA_DIR:-$DATA_DIR/seaweedfs}" pid port
  [ -f "$dir/weed.pid" ] || return 0
  pid=$(cat "$dir/weed.pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  for port in $(cat "$dir/ports" 2>/dev/null); do
    rm -f /tmp/seaweedfs-*-"$port".sock
  done
  rm -f "$dir/weed.pid"
}

# For scripts/setup.sh: when the hub is configured for S3 (BLOB_STORE=s3) at a loopback S3_ENDPOINT,
# start SeaweedFS there with the hub's own credentials; a remote endpoint must already be reachable.
ensure_for_hub() {
  [ "${BLOB_STORE:-local}" = "s3" ] || return 0
  local endpoint="${S3_ENDPOINT:-http://127.0.0.1:8333}" host port
  host=$(echo "$endpoint" | sed -E 's#^[a-z]+://([^:/]+).*#\1#')
  port=$(echo "$endpoint" | sed -nE 's#^[a-z]+://[^:/]+:([0-9]+).*#\1#p')
  port="${port:-$([ "${endpoint%%://*}" = https ] && echo 443 || echo 80)}"
  case "$host" in
    127.0.0.1|localhost) ;;
    *) port_open "$host" "$port" || die "the S3 store at $endpoint is not reachable"; return 0 ;;
  esac
  if port_open 127.0.0.1 "$port"; then return 0; fi
  if [ -z "${S3_ACCESS_KEY_ID:-}" ] || [ -z "${S3_SECRET_ACCESS_KEY:-}" ]; then
    die "BLOB_STORE=s3: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (in .env): the local SeaweedFS is given the same pair"
  fi
  SEAWEEDFS_S3_PORT="$port" start_weed
}

case "${1:-start}" in
  ensure) ensure_for_hub ;;
  build) ensure_weed_binary ;;
  bin) ensure_weed_binary >&2; echo "$WEED_BIN" ;;
  start) start_weed ;;
  stop) stop_weed ;;
  *) die "usage: scripts/seaweedfs.sh build|bin|start|stop|ensure" ;;
esac
