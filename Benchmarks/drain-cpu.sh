#!/usr/bin/env bash
# Redis CPU of two jobq builds side by side, alternated on one private redis-server (TCP
# 127.0.0.1, no persistence): what a change to the scripts costs or saves, with the machine's
# drift falling on both.
#
#   Benchmarks/drain-cpu.sh BEFORE_BIN AFTER_BIN [N] [ROUNDS]
#
# BEFORE_BIN and AFTER_BIN each hold a release `jobq` and `jobq-worker` (`swift build -c release`,
# then copy .build/release/jobq{,-worker} aside before the change). Per build and round:
#   - one-task submits: 200 `jobq submit jobq.noop` processes; the script's own time per call
#     (INFO commandstats usec_per_call of evalsha or fcall: the process start-up is not in it);
#   - a drain: N no-op tasks filled with one `jobq submit -f`, then one `jobq-worker` at its
#     default settings until `stats done` reaches N; Redis CPU per task (INFO cpu, user + sys)
#     and the scripts' time per task.
set -euo pipefail
BEFORE=${1:?usage: drain-cpu.sh BEFORE_BIN AFTER_BIN [N] [ROUNDS]}
AFTER=${2:?usage: drain-cpu.sh BEFORE_BIN AFTER_BIN [N] [ROUNDS]}
N=${3:-20000}
ROUNDS=${4:-2}
PORT=${DRAIN_CPU_PORT:-6412}
DIR=$(mktemp -d)
URL=redis://127.0.0.1:$PORT/0
cli() { redis-cli -p "$PORT" "$@"; }
cpu() { cli info cpu | awk -F: '/used_cpu_(user|sys):/ { s += $2 } END { printf "%.6f", s }'; }
script_usec() { cli info commandstats | awk -F'[:,=]' '/^cmdstat_(evalsha|fcall):/ { c += $3; u += $5 } END { printf "%.1f", (c ? u / c : 0) }'; }
script_total() { cli info commandstats | awk -F'[:,=]' '/^cmdstat_(evalsha|fcall):/ { u += $5 } END { print u + 0 }'; }

redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --dir "$DIR"
trap 'kill "$(cat "$DIR/redis.pid")" 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 50); do cli ping >/dev/null 2>&1 && break; sleep 0.1; done

python3 -c "import json; json.dump({'workflow': 'drain', 'tasks': [{'id': 't%d' % i, 'handler': 'jobq.noop'} for i in range($N)]}, open('$DIR/tasks.json', 'w'))"

echo "build   round  one-task submit (script µs/call)  drain of $N: redis cpu/task  scripts/task  tasks/s"
for round in $(seq "$ROUNDS"); do
  for label in before after; do
    bin=$BEFORE; [ "$label" = after ] && bin=$AFTER
    cli flushall >/dev/null
    cli config resetstat >/dev/null
    for _ in $(seq 200); do "$bin/jobq" submit jobq.noop --redis "$URL" --namespace drain >/dev/null; done
    submit_usec=$(script_usec)

    cli flushall >/dev/null
    "$bin/jobq" submit -f "$DIR/tasks.json" --redis "$URL" --namespace drain >/dev/null
    cli config resetstat >/dev/null
    before_cpu=$(cpu)
    start=$(date +%s.%N)
    "$bin/jobq-worker" --redis "$URL" --namespace drain --enable-test-handlers --log-level warning >"$DIR/worker.log" 2>&1 &
    worker=$!
    for _ in $(seq 6000); do
      done_count=$(cli hget 'jobq:{drain}:stats' done)
      [ "${done_count:-0}" -ge "$N" ] && break
      sleep 0.02
    done
    end=$(date +%s.%N)
    after_cpu=$(cpu)
    kill "$worker"; wait "$worker" 2>/dev/null || true
    printf "%-7s %5s  %31s  %27.1f µs  %9.1f µs  %7.0f\n" "$label" "$round" "$submit_usec" \
      "$(echo "($after_cpu - $before_cpu) * 1000000 / $N" | bc -l)" \
      "$(echo "$(script_total) / $N" | bc -l)" "$(echo "$N / ($end - $start)" | bc -l)"
  done
done
