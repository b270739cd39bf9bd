#!/usr/bin/env bash
# The test command (README, CI): system packages, build, then every test against real
# redis-servers that the tests start themselves on Unix sockets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
swift build --build-tests
swift test --skip-build
