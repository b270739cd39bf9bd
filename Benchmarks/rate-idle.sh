#!/usr/bin/env bash
# Idle CPU while 10,000 tasks are held back by a rate limit (docs/flow-control.md, "Rate
# limits"): a private redis-server on a Unix socket, two `jobq-worker` processes of 8 slots,
# 10,000 `jobq.noop` tasks of one rate key at 1 per 10 minutes. Once the claims have parked the
# backlog, the CPU time the workers and redis-server use over 10 s is read from /proc (user +
# system ticks), and `ps -o %cpu` is printed beside it.
#
#   Benchmarks/rate-idle.sh                      # uses .build/debug/{jobq,jobq-worker}
#   BIN=/path/to/bin Benchmarks/rate-idle.sh     # another build
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$(swift build --show-bin-path)}
TASKS=${TASKS:-10000}
SECONDS_MEASURED=${SECONDS_MEASURED:-10}

DIR=$(mktemp -d /tmp/jobq-rate-idle-XXXXXX)
SOCK="$DIR/redis.sock"
redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --save "" --appendonly no \
  --dir "$DIR" --logfile "$DIR/redis.log" --daemonize yes --pidfile "$DIR/redis.pid" >/dev/null
WORKERS=()
cleanup() {
  for pid in "${WORKERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  [[ -f "$DIR/redis.pid" ]] && kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
  sleep 0.2
  rm -rf "$DIR"
}
trap cleanup EXIT
for _ in $(seq 1 100); do [[ -S "$SOCK" ]] && break; sleep 0.05; done
export JOBQ_REDIS_URL="unix://$SOCK"
REDIS_PID=$(cat "$DIR/redis.pid")

{
  echo "defaults: {rate_key: api, rate_limit: 1/10m}"
  echo "tasks:"
  for i in $(seq 1 "$TASKS"); do echo "  - {id: t$i, handler: jobq.noop}"; done
} > "$DIR/held.yaml"
"$BIN/jobq" submit -f "$DIR/held.yaml" --run held >/dev/null

for n in 1 2; do
  "$BIN/jobq-worker" --enable-test-handlers --concurrency 8 >"$DIR/worker$n.log" 2>&1 &
  WORKERS+=($!)
done
# wait until the backlog is parked (one task ran: the rate's one start)
for _ in $(seq 1 120); do
  parked=$(redis-cli -s "$SOCK" --raw LLEN "jobq:{default}:rate:api:parked")
  [[ "$parked" -ge $((TASKS - 1)) ]] && break
  sleep 0.5
done
sleep 2
echo "parked: $(redis-cli -s "$SOCK" --raw LLEN "jobq:{default}:rate:api:parked") of $TASKS; ready: $(redis-cli -s "$SOCK" --raw LLEN "jobq:{default}:q:default")"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
declare -A before
for pid in "$REDIS_PID" "${WORKERS[@]}"; do before[$pid]=$(ticks "$pid"); done
sleep "$SECONDS_MEASURED"
for pid in "$REDIS_PID" "${WORKERS[@]}"; do
  used=$(( $(ticks "$pid") - before[$pid] ))
  name=$([[ $pid == "$REDIS_PID" ]] && echo redis-server || echo jobq-worker)
  printf "%-13s pid %-7s cpu over %ss: %s ticks = %.2f %%   (ps -o %%cpu, lifetime: %s)\n" \
    "$name" "$pid" "$SECONDS_MEASURED" "$used" "$(echo "$used * 100 / $HZ / $SECONDS_MEASURED" | bc -l)" "$(ps -o %cpu= -p "$pid" | tr -d ' ')"
done
