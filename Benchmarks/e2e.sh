#!/usr/bin/env bash
# End-to-end figures with real `jobq-worker` processes against a private redis-server on a Unix
# socket (no TCP, no persistence): no-op throughput with 1 and 2 worker processes, 1,000 chains
# of 10, one task depending on 2,000, and submit->DONE latency on an idle system. Then the same
# Redis measured directly with redis-benchmark, for comparison.
#
#   Benchmarks/e2e.sh                 # build release, run everything
#   COUNT=200000 Benchmarks/e2e.sh    # more no-op tasks
#   SKIP_BUILD=1 Benchmarks/e2e.sh    # reuse the last release build
#   SWIFT_BUILD_FLAGS="--scratch-path /tmp/b" Benchmarks/e2e.sh   # another build directory
#
# Both executables come from the benchmarks package (Benchmarks/Package.swift, which depends on
# jobq by path): `jobq-worker` is jobq's own product, built from here so it lands next to
# `JobqBenchmarks`. The producer side is `JobqBenchmarks producer`: it starts the worker
# processes itself, submits through the library, and stops the workers with SIGTERM.
set -euo pipefail

cd "$(dirname "$0")"
COUNT=${COUNT:-100000}
LATENCY_SAMPLES=${LATENCY_SAMPLES:-2000}
CONCURRENCY=${CONCURRENCY:-256}

FLAGS=(${SWIFT_BUILD_FLAGS:-})
if [[ -z "${SKIP_BUILD:-}" ]]; then
  swift build -c release "${FLAGS[@]}" --product jobq-worker >&2
  swift build -c release "${FLAGS[@]}" --product JobqBenchmarks >&2
fi
BIN_PATH="$(swift build -c release "${FLAGS[@]}" --show-bin-path)"
BIN="$BIN_PATH/JobqBenchmarks"
WORKER="$BIN_PATH/jobq-worker"

DIR=$(mktemp -d /tmp/jobq-e2e-XXXXXX)
SOCK="$DIR/redis.sock"
redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --save "" --appendonly no \
  --dir "$DIR" --logfile "$DIR/redis.log" --daemonize yes --pidfile "$DIR/redis.pid" >/dev/null
cleanup() {
  [[ -f "$DIR/redis.pid" ]] && kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
  sleep 0.2
  rm -rf "$DIR"
}
trap cleanup EXIT
for _ in $(seq 1 100); do [[ -S "$SOCK" ]] && break; sleep 0.05; done

URL="unix://$SOCK"
bench() { "$BIN" producer --url "$URL" --worker-executable "$WORKER" --worker-concurrency "$CONCURRENCY" --worker-log "$DIR/workers.log" "$@"; }

echo "== jobq end-to-end ($(nproc) CPUs, redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), unix socket)"
bench --workload noop --count "$COUNT" --batch 1000 --workers 1
bench --workload noop --count "$COUNT" --batch 1000 --workers 2
bench --workload drain --count "$COUNT" --batch 1000 --workers 1
bench --workload drain --count "$COUNT" --batch 1000 --workers 2
bench --workload chains --count 10000 --chain-length 10 --workers 1
bench --workload chains --count 10000 --chain-length 10 --workers 2
bench --workload fanin --count 2000 --workers 1
bench --workload latency --count "$LATENCY_SAMPLES" --workers 1

echo "== redis-benchmark on the same server (for scale: plain commands, no scripts)"
rb() { redis-benchmark -s "$SOCK" -q "$@" | tr '\r' '\n' | grep 'requests per second'; }
rb -n 200000 -t ping,set,lpush,rpop
rb -n 200000 -P 16 -t set,lpush,rpop | sed 's/^/pipelined x16: /'
rb -n 100000 eval "redis.call('incr', KEYS[1]) return 1" 1 bench:counter | sed 's/^/EVAL (one-line script): /'
if grep -qi "error\|fatal" "$DIR/workers.log" 2>/dev/null; then
  echo "== worker log excerpts"
  grep -i "error\|fatal" "$DIR/workers.log" | head -20
fi
