#!/usr/bin/env bash
# The Redis CPU that the dashboard's per-minute counters (Keyspace throughput:<hour>, prelude.lua
# flush()) add to a script call that ended tasks: the exact Lua added to flush(), run 200,000
# times inside EVAL against a private redis-server, with and without it, alternated three times.
# Prints Redis's own CPU (INFO cpu, user + sys) per flush. Divide by the tasks per call for the
# cost per task (one for a single completion, ~100-500 for the worker's batches).
#
#   Benchmarks/throughput-counters.sh
set -euo pipefail
dir=$(mktemp -d /tmp/jobq-rate-XXXXXX)
trap 'redis-cli -s "$dir/r.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
redis-server --port 0 --unixsocket "$dir/r.sock" --save "" --appendonly no --daemonize yes --dir "$dir" >/dev/null
for _ in $(seq 50); do redis-cli -s "$dir/r.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
script=$(cat <<'LUA'
local n, with, NOW = tonumber(ARGV[1]), ARGV[2] == '1', tonumber(ARGV[3])
local counters = { done = 1 }
for i = 1, n do
  redis.call('HINCRBY', 'stats', 'done', 1)
  if with and (counters.done or counters.failed) then
    local minute = math.floor((NOW + i) / 60000)
    local key = 'rate:' .. math.floor(minute / 60)
    if counters.done then redis.call('HINCRBY', key, minute .. ':done', counters.done) end
    if counters.failed then redis.call('HINCRBY', key, minute .. ':failed', counters.failed) end
    redis.call('PEXPIRE', key, 266400000)
  end
end
return n
LUA
)
cpu() { redis-cli -s "$dir/r.sock" INFO cpu | awk -F: '/used_cpu_(user|sys):/ { s += $2 } END { printf "%.6f", s }'; }
for round in 1 2 3; do
  for with in 0 1; do
    before=$(cpu)
    for _ in $(seq 20); do redis-cli -s "$dir/r.sock" EVAL "$script" 0 10000 "$with" 1765100000000 >/dev/null; done
    after=$(cpu)
    echo "round $round, counters $([[ $with == 1 ]] && echo on || echo off): $(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", (a - b) * 1e6 / 200000 }') µs per flush"
  done
done
