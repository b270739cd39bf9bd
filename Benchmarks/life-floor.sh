#!/usr/bin/env bash
# How far jobq's batched no-op life is from the floor of its Redis commands (docs/performance.md,
# "The floor of a task's life"): a private redis-server on a Unix socket runs
# Benchmarks/floor/life.lua (the commands of submit + claim + complete for 100 tasks, no logic)
# 200 times, and prints the Redis CPU per task (INFO cpu, user + sys) of each of ROUNDS rounds;
# then, in the same script, jobq's own batched life (`JobqBenchmarks limits --only off`, the
# same 20,000 tasks in batches of 100) when the benchmark binary is built. Between the two, what
# single pieces of Lua cost inside a Redis function (Benchmarks/floor/lua-costs.lua).
#
#   Benchmarks/life-floor.sh                 # ROUNDS=5
#   FLOOR_ATTEMPT=1 Benchmarks/life-floor.sh # the floor with an attempt entry per completion
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
  for i in $(seq 1 200); do echo "EVALSHA $SHA 0 r$round-$i- ${FLOOR_ATTEMPT:-0}"; done | cli >/dev/null
  after=$(cpu)
  figures+=("$(python3 -c "print('%.1f' % (($after - $before) * 1e6 / 20000))")")
done
median=$(printf '%s\n' "${figures[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "floor: the commands of a batched no-op life, no logic (Benchmarks/floor/life.lua, 20,000 tasks in batches of 100)"
echo "  Redis CPU per task, median ${median} µs; rounds: ${figures[*]}"
echo "pieces of Lua in a Redis function (Benchmarks/floor/lua-costs.lua: each 1,000 times per call, minus an empty loop)"
cli function load replace "$(cat Benchmarks/floor/lua-costs.lua)" >/dev/null
cli hset jobqfloor:t state PENDING spec x payload '{}' created 1 >/dev/null
per_call() { # µs per FCALL of $1 over ${2:-10} calls on one connection
  cli config resetstat >/dev/null
  for _ in $(seq 1 "${2:-10}"); do echo "FCALL $1 0 a b c d 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21"; done | cli >/dev/null
  cli info commandstats | tr -d '\r' | awk -F'usec_per_call=' '/^cmdstat_fcall:/ { split($2, v, ","); print v[1] }'
}
echo "  FCALL of an empty function (21 arguments): $(per_call jobqfloor_empty 10000) µs"
empty_loop=$(per_call jobqfloor_loop)
for piece in exists hmget16 hmget5 hset6 table22 concat8 match_spec memo_spec; do
  printf '  %-11s %s µs\n' "$piece" "$(python3 -c "print('%.2f' % (($(per_call jobqfloor_$piece) - $empty_loop) / 1000))")"
done
if [[ -x "$BENCH" ]]; then
  echo "jobq: the same life through the engine's scripts ($BENCH limits --rounds $ROUNDS --only off)"
  "$BENCH" limits --rounds "$ROUNDS" --only off | grep -E '^no limits' | sed 's/^/  /'
else
  echo "jobq: build the benchmark for the engine's figure beside it: swift build -c release --package-path Benchmarks --scratch-path .build-bench"
fi
