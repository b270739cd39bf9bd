#!/usr/bin/env bash
# The test command (README, CI): system packages, build, then every test against real
# redis-servers that the tests start themselves on Unix sockets, and the dashboard in a real
# headless Chromium. Then the two packages beside
# the root one, which use jobq as a user would (by path, products only): examples/ (the docs'
# Swift snippets, checked verbatim against it, and the README's producer + worker run end to
# end, and the crawl example of examples/crawl.yaml) and Benchmarks/ (built, not run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
scripts/check-snippets.sh
swift build --build-tests
# One test at a time: many tests start their own redis-servers and worker processes, kill them,
# or submit thousands of tasks; run in parallel on a 2-core machine they starve each other
# (fixture PINGs time out, a neighbour's large script makes the shared server answer BUSY), and
# what fails is the machine, not jobq. Sequential, the suite takes about 3 minutes here.
swift test --skip-build --no-parallel
# The dashboard in a real headless Chromium (installs chromium, chromium-driver and Selenium
# when missing; screenshots of every page in .build/dashboard-screenshots).
scripts/browser-test.sh

# One scratch directory for both packages: jobq and its dependencies are compiled once for the
# two of them (for the root package they are compiled with other flags, so not shared with it).
PACKAGES_SCRATCH="$PWD/.build/packages"
swift build --package-path examples --scratch-path "$PACKAGES_SCRATCH"
swift build --package-path Benchmarks --scratch-path "$PACKAGES_SCRATCH"
SKIP_BUILD=1 SWIFT_BUILD_FLAGS="--scratch-path $PACKAGES_SCRATCH" scripts/run-readme-example.sh
# Issue 11's example: a crawl that maps over what it finds, spawns children per link and asks
# before it publishes, run with `jobq submit -f` and `jobq answer` as a user would.
SKIP_BUILD=1 SWIFT_BUILD_FLAGS="--scratch-path $PACKAGES_SCRATCH" scripts/run-crawl-example.sh
