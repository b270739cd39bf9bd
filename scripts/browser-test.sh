#!/usr/bin/env bash
# The dashboard's end-to-end tests in a real headless Chromium (Tests/Browser), part of
# scripts/test.sh. Installs what they need when it is missing: Debian's chromium and
# chromium-driver, and Selenium from PyPI. Screenshots of every page are kept in
# .build/dashboard-screenshots (or SCREENSHOT_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "the browser tests need: apt-get install -y ${missing[*]} (run as root)" >&2
    exit 1
  fi
  echo "installing: apt-get install -y ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! python3 -c "import selenium" 2>/dev/null; then
  echo "installing: pip install selenium" >&2
  python3 -m pip install -q --root-user-action=ignore "selenium>=4.20,<5"
fi

swift build --product jobq >/dev/null
swift build --product jobq-worker >/dev/null
export JOBQ_BIN="$(swift build --show-bin-path)"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$PWD/.build/dashboard-screenshots}"
python3 Tests/Browser/test_dashboard.py
echo "screenshots: $SCREENSHOT_DIR" >&2
