#!/usr/bin/env bash
# Runs examples/crawl.yaml with its worker (examples/Sources/Crawl, `crawl-worker`) as a user
# would: a private redis-server, the worker, `jobq submit -f`, then — once the run asks
# "Publish an index of 4 pages?" — `jobq answer RUN/confirm yes`. Passes when the run ends DONE,
# the map made one child per page, pages spawned children for their links (runs RUN.pages.N.links),
# and the index the last task wrote lists the 4 pages with what their children read.
#
#   scripts/run-crawl-example.sh                 # builds jobq and examples/ (debug) first
#   SKIP_BUILD=1 SWIFT_BUILD_FLAGS="--scratch-path X" scripts/run-crawl-example.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

FLAGS=(--package-path examples ${SWIFT_BUILD_FLAGS:-})
if [[ -z "${SKIP_BUILD:-}" ]]; then
  swift build --product jobq >&2
  swift build "${FLAGS[@]}" --product crawl-worker >&2
fi
BIN=$(swift build "${FLAGS[@]}" --show-bin-path)
JOBQ="$(swift build --show-bin-path)/jobq"

EXAMPLE=crawl
source scripts/example-redis.sh

# the worker reads examples/crawl-site and writes crawl-index.tsv relative to where it runs
ln -s "$ROOT/examples" "$DIR/examples"
(cd "$DIR" && exec "$BIN/crawl-worker") >"$DIR/worker.log" 2>&1 &
WORKER_PID=$!

run=$("$JOBQ" submit -f examples/crawl.yaml --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["run"])')
echo "run: $run"
asked=""
for _ in $(seq 1 300); do
  if "$JOBQ" status "$run" | grep -q "asks: Publish an index of 4 pages?"; then asked=1; break; fi
  sleep 0.1
done
[[ -n "$asked" ]] || fail "the run never asked: $("$JOBQ" status "$run")"
"$JOBQ" status "$run"
"$JOBQ" answer "$run/confirm" yes
timeout 60 "$JOBQ" wait "$run" >/dev/null || fail "the run did not end DONE: $("$JOBQ" status "$run")"

# what the last task wrote: each page, and what its spawned children read one level down
index="$DIR/crawl-index.tsv"
[[ -f "$index" ]] || fail "no index was written"
cat "$index"
[[ $(grep -c . "$index") == 4 ]] || fail "the index lists $(grep -c . "$index") pages, not 4"
grep -q $'examples/crawl-site/index.md\t10 words\t2 links\t2 read below' "$index" || fail "index.md's two links were not read by its children"
# the map's child run and the spawned runs, in Redis's own record
rc() { redis-cli -s "$SOCK" --raw "$@"; }
[[ $(rc HGET "jobq:{default}:wf:$run.pages" total) == 4 ]] || fail "the map did not make 4 children"
spawned=$(rc ZRANGE "jobq:{default}:runs" 0 -1 | grep -c "^$run\.pages\.[0-9]*\.links$" || true)
[[ "$spawned" == 3 ]] || fail "$spawned pages spawned children, not 3"
echo "run-crawl-example: OK (map of 4 pages, 3 of them spawned children, answered, index written)"
