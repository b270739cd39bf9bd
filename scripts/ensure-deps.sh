#!/usr/bin/env bash
# Makes sure the system packages jobq needs are present: redis-server (the broker, and the
# tests' private servers), libhiredis-dev + pkg-config (the C client jobq wraps).
# Installs them with apt-get when run as root (or with sudo); otherwise prints the command.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! pkg-config --exists hiredis 2>/dev/null && [ ! -f /usr/include/hiredis/hiredis.h ]; then
  missing+=(libhiredis-dev)
fi
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "jobq needs these Debian packages: ${missing[*]}" >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get is not available: install ${missing[*]} with your package manager, then re-run." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${sudo[*]} apt-get install -y ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
