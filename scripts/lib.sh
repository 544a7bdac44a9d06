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
