#!/usr/bin/env bash
# How long `jobq submit -f FILE --dry-run` takes to read and check a workflow file, JSON and
# YAML, from 1,000 to 50,000 tasks (the documented limit). --dry-run needs no Redis for a file
# whose prerequisites are all its own tasks, so this measures parsing and checking only.
#
#   Benchmarks/workflow-file.sh                  # build release, 1k 4k 8k 16k 50k
#   SIZES="1000 50000" Benchmarks/workflow-file.sh
#   SKIP_BUILD=1 Benchmarks/workflow-file.sh     # reuse the last release build
#   JOBQ=.build/debug/jobq Benchmarks/workflow-file.sh   # another binary (no build)
#
# Each task has an id, handler, title, a small payload and (after the first 10) two
# prerequisites, so the files look like real fan-in workflows. Prints, for the fastest of RUNS
# runs (default 3), wall-clock seconds and CPU seconds (user + sys): on a busy shared machine the
# wall time mostly measures waiting for a core, the CPU time what the parse itself costs.
set -euo pipefail

cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000 4000 8000 16000 50000"}
RUNS=${RUNS:-3}

if [[ -z "${JOBQ:-}" ]]; then
  FLAGS=(${SWIFT_BUILD_FLAGS:-})
  if [[ -z "${SKIP_BUILD:-}" ]]; then
    swift build -c release "${FLAGS[@]}" --product jobq >&2
  fi
  JOBQ="$(swift build -c release "${FLAGS[@]}" --show-bin-path)/jobq"
fi

DIR=$(mktemp -d /tmp/jobq-wfbench-XXXXXX)
trap 'rm -rf "$DIR"' EXIT

generate() { # generate FORMAT COUNT > file
  python3 - "$1" "$2" <<'PY'
import sys
fmt, n = sys.argv[1], int(sys.argv[2])
def after(i):
    return [f"t{i - 1}", f"t{i - 10}"] if i >= 10 else []
if fmt == "json":
    print('{\n  "workflow": "bench",\n  "defaults": {"retries": 2, "timeout": "5m"},\n  "tasks": [')
    for i in range(n):
        deps = ", ".join(f'"{d}"' for d in after(i))
        comma = "," if i < n - 1 else ""
        print(f'    {{"id": "t{i}", "handler": "jobq.echo", "title": "step {i}", "payload": {{"n": {i}, "tags": ["a", "b"]}}, "after": [{deps}]}}{comma}')
    print("  ]\n}")
else:
    print("workflow: bench\ndefaults: {retries: 2, timeout: 5m}\ntasks:")
    for i in range(n):
        print(f"  - id: t{i}\n    handler: jobq.echo\n    title: step {i}\n    payload: {{n: {i}, tags: [a, b]}}\n    after: [{', '.join(after(i))}]")
PY
}

best_of() { # best_of FILE: "wall cpu" seconds of the fastest of RUNS runs (cpu = user + sys)
  local best="" best_cpu=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %U %S" -o "$DIR/time" "$JOBQ" submit -f "$1" --dry-run --json >/dev/null
    read -r wall user sys <"$DIR/time"
    if [[ -z "$best" ]] || (( $(echo "$wall < $best" | bc) )); then
      best=$wall
      best_cpu=$(echo "$user + $sys" | bc)
    fi
  done
  printf '%s %s' "$best" "$best_cpu"
}

echo "binary: $JOBQ"
printf '%8s %8s %8s %8s %8s %8s %8s\n' tasks "json MB" "wall s" "cpu s" "yaml MB" "wall s" "cpu s"
for n in $SIZES; do
  generate json "$n" >"$DIR/w$n.json"
  generate yaml "$n" >"$DIR/w$n.yaml"
  json_mb=$(echo "scale=1; $(stat -c %s "$DIR/w$n.json") / 1048576" | bc)
  yaml_mb=$(echo "scale=1; $(stat -c %s "$DIR/w$n.yaml") / 1048576" | bc)
  read -r json_wall json_cpu <<<"$(best_of "$DIR/w$n.json")"
  read -r yaml_wall yaml_cpu <<<"$(best_of "$DIR/w$n.yaml")"
  printf '%8s %8s %8s %8s %8s %8s %8s\n' "$n" "$json_mb" "$json_wall" "$json_cpu" "$yaml_mb" "$yaml_wall" "$yaml_cpu"
done
