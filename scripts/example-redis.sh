# Sourced by the scripts that run an example end to end (run-readme-example.sh,
# run-crawl-example.sh): a private redis-server on a Unix socket in a fresh directory (no
# persistence), JOBQ_REDIS_URL pointing at it, and clean-up on exit of the worker the script
# starts (WORKER_PID) and of the server. The script sets EXAMPLE (its name, for messages) first.
DIR=$(mktemp -d "/tmp/jobq-$EXAMPLE-XXXXXX")
SOCK="$DIR/redis.sock"
WORKER_PID=""
cleanup() {
  [[ -n "$WORKER_PID" ]] && kill "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null || true
  [[ -f "$DIR/redis.pid" ]] && kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
  sleep 0.2
  rm -rf "$DIR"
}
trap cleanup EXIT
fail() {
  echo "run-$EXAMPLE-example: FAILED: $*" >&2
  echo "--- worker output:" >&2
  cat "$DIR/worker.log" >&2 || true
  exit 1
}

redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --save "" --appendonly no \
  --dir "$DIR" --logfile "$DIR/redis.log" --daemonize yes --pidfile "$DIR/redis.pid" >/dev/null
for _ in $(seq 1 100); do [[ -S "$SOCK" ]] && break; sleep 0.05; done
[[ -S "$SOCK" ]] || fail "redis-server did not start (see $DIR/redis.log)"
export JOBQ_REDIS_URL="unix://$SOCK"
