#!/usr/bin/env bash
# The README's run command: from a fresh clone to a finished workflow on screen.
#
# Builds jobq, starts a private redis-server (through `jobq dev`) unless JOBQ_REDIS_URL points
# at one, starts two workers, submits examples/demo-workflow.yaml (a fan-out, a fan-in, a task
# that fails once and is retried, results passed along) and follows it with `jobq watch`.
# Exits with the workflow's outcome.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--inside" ]; then
  scripts/ensure-deps.sh
  echo "==> building jobq and jobq-worker (the first build takes a few minutes)" >&2
  swift build --product jobq >&2
  swift build --product jobq-worker >&2
  bin="$(swift build --show-bin-path)"
  if [ -n "${JOBQ_REDIS_URL:-}" ]; then
    exec env JOBQ_BIN="$bin" "$0" --inside
  fi
  echo "==> no JOBQ_REDIS_URL: starting a private redis-server (jobq dev)" >&2
  exec env JOBQ_BIN="$bin" "$bin/jobq" dev -- "$0" --inside
fi

bin="${JOBQ_BIN:?}"
logs="$(mktemp -d /tmp/jobq-demo-XXXXXX)"
export JOBQ_NAMESPACE="${JOBQ_NAMESPACE:-demo}"   # every run of the demo is a run of its own: one namespace is enough
workers=()
stop_workers() {
  for pid in "${workers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${workers[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_workers EXIT

echo "==> Redis: $JOBQ_REDIS_URL   namespace: $JOBQ_NAMESPACE" >&2
for n in 1 2; do
  "$bin/jobq-worker" --enable-test-handlers --concurrency 4 --worker-id "demo-worker-$n" \
    --lease 10s --heartbeat 2s 2>"$logs/worker-$n.log" &
  workers+=("$!")
done
echo "==> two workers running (logs: $logs/worker-*.log)" >&2

run="$("$bin/jobq" submit -f examples/demo-workflow.yaml)"
status=0
"$bin/jobq" watch "$run" --timeout 2m || status=$?

echo
echo "==> the fan-in's result, built from its prerequisites' results (!retval):"
"$bin/jobq" result "$run/report" --pretty || true
echo
echo "==> the runs of the demo in this namespace (run the demo again: a new run beside this one):"
"$bin/jobq" runs --definition demo --limit 5 || true
cat >&2 <<TIPS

The private Redis stops with this demo. To keep one and run workers in other terminals:
  export PATH="$bin:\$PATH"
  jobq dev                                        # prints: export JOBQ_REDIS_URL=...
  jobq-worker --enable-test-handlers              # in two more terminals, after that export
  run=\$(jobq submit -f examples/demo-workflow.yaml) && jobq watch "\$run"
  jobq graph "\$run" --format svg -o demo.svg     # the DAG, coloured by state
Workers on other machines: point --redis (or JOBQ_REDIS_URL) at one shared Redis; see docs/worker.md.
TIPS
exit "$status"
