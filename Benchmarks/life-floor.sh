#!/usr/bin/env bash
# How far jobq's batched no-op life is from the floor of its Redis commands (docs/performance.md,
# "The floor of a task's life"): a private redis-server on a Unix socket runs
# Benchmarks/floor/life.lua (the commands of submit + claim + complete for 100 tasks, no logic)
# 200 times, and prints the Redis CPU per task (INFO cpu, user + sys) of each of ROUNDS rounds;
# then, in the same script, jobq's own batched life (`JobqBenchmarks limits --only off`, the
# same 20,000 tasks in batches of 100) when the benchmark binary is built.
#
#   Benchmarks/life-floor.sh                 # ROUNDS=5
#   BENCH=path/to/JobqBenchmarks Benchmarks/life-floor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
BENCH=${BENCH:-.build-bench/release/JobqBenchmarks}
DIR=$(mktemp -d /tmp/jobq-floor-XXXXXX)
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
cli() { redis-cli -s "$SOCK" "$@"; }
cpu() { cli info cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.6f", s }'; }
SHA=$(cli script load "$(cat Benchmarks/floor/life.lua)")
figures=()
for round in $(seq 1 "$ROUNDS"); do
  cli flushall >/dev/null
  before=$(cpu)
  for i in $(seq 1 200); do echo "EVALSHA $SHA 0 r$round-$i-"; done | cli >/dev/null
  after=$(cpu)
  figures+=("$(python3 -c "print('%.1f' % (($after - $before) * 1e6 / 20000))")")
done
median=$(printf '%s\n' "${figures[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "floor: the commands of a batched no-op life, no logic (Benchmarks/floor/life.lua, 20,000 tasks in batches of 100)"
echo "  Redis CPU per task, median ${median} µs; rounds: ${figures[*]}"
if [[ -x "$BENCH" ]]; then
  echo "jobq: the same life through the engine's scripts ($BENCH limits --rounds $ROUNDS --only off)"
  "$BENCH" limits --rounds "$ROUNDS" --only off | grep -E '^no limits' | sed 's/^/  /'
else
  echo "jobq: build the benchmark for the engine's figure beside it: swift build -c release --package-path Benchmarks --scratch-path .build-bench"
fi
