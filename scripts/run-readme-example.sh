#!/usr/bin/env bash
# Runs the README's two library examples against each other, as a reader would: a private
# redis-server (Unix socket, no persistence, removed afterwards), the worker example
# (examples/Sources/ReadmeWorker) in the background, then the producer example
# (examples/Sources/ReadmeProducer), which submits the "nightly" workflow and waits for it.
# Passes when the producer reports "nightly: 3D" and Redis itself holds the three tasks DONE,
# with the result flowing from fetch to total to notify's log line.
#
#   scripts/run-readme-example.sh                 # builds examples/ (debug) first
#   SKIP_BUILD=1 scripts/run-readme-example.sh    # reuse the last build
#   SWIFT_BUILD_FLAGS="--scratch-path /tmp/x" scripts/run-readme-example.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FLAGS=(--package-path examples ${SWIFT_BUILD_FLAGS:-})
if [[ -z "${SKIP_BUILD:-}" ]]; then
  swift build "${FLAGS[@]}" --product readme-worker >&2
  swift build "${FLAGS[@]}" --product readme-producer >&2
fi
BIN=$(swift build "${FLAGS[@]}" --show-bin-path)

EXAMPLE=readme
source scripts/example-redis.sh

"$BIN/readme-worker" >"$DIR/worker.log" 2>&1 &
WORKER_PID=$!

output=$(timeout 120 "$BIN/readme-producer" 2>&1) || fail "the producer exited with $?: $output"
echo "producer: $output"
[[ "$output" =~ ^(nightly-[0-9A-Z]{26}):\ DONE\ 3D$ ]] || fail "the producer printed \"$output\", not \"nightly-<ULID>: DONE 3D\""
run="${BASH_REMATCH[1]}"

# Redis's own record, independently of the library: every task of the run DONE, and the run too.
rc() { redis-cli -s "$SOCK" --raw "$@"; }
[[ $(rc HGET "jobq:{default}:wf:$run" state) == DONE ]] || fail "run $run is not DONE in its record"
ids=$(rc ZRANGE "jobq:{default}:wf:$run:tasks" 0 -1)
[[ $(echo "$ids" | grep -c .) == 3 ]] || fail "the workflow holds \"$ids\", not three tasks"
for id in $ids; do
  state=$(rc HGET "jobq:{default}:t:$id" state)
  [[ "$state" == DONE ]] || fail "task $id is $state, not DONE"
done
log=$(rc LRANGE "jobq:{default}:t:$run/notify:log" 0 -1)
[[ "$log" == *"nightly total: 242.75 EUR"* ]] || fail "notify's log is \"$log\", without the total of fetch's amounts"
echo "run-readme-example: the README's worker and producer ran a run of the nightly workflow to DONE (3 tasks)"
