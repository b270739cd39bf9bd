#!/usr/bin/env bash
# Two builds of the engine side by side: `JobqBenchmarks limits --rounds 1` (no limits,
# concurrency limits on 1,000 keys, rate limits on 1,000 keys, unique keys; docs/performance.md)
# run alternately RUNS times with each binary, then the median of each variant's Redis CPU per
# task and of its ratio to "no limits" within the same run (the ratio drifts less than the
# absolute figure on a shared machine).
#
#   Benchmarks/limits-before-after.sh BEFORE/JobqBenchmarks AFTER/JobqBenchmarks [RUNS=6]
#
# Build each binary with `swift build --package-path Benchmarks --scratch-path .build-bench` in a
# checkout of each commit (the `limits` subcommand must exist in both) and copy it aside.
set -euo pipefail
before=$1 after=$2 runs=${3:-6}
out=$(mktemp /tmp/jobq-limits-XXXXXX)
trap 'rm -f "$out"' EXIT
for i in $(seq "$runs"); do
  for side in before after; do
    bin=$before; [ "$side" = after ] && bin=$after
    echo "run $i $side (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    "$bin" limits --rounds 1 | sed -n '/^variant/,/^$/p' | grep -v '^variant' | grep -v '^$' | sed "s/^/$side|/" >>"$out"
  done
done
python3 - "$out" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, rest = line.split('|', 1)
    m = re.match(r'(.+?)\s{2,}([\d.]+) µs\s+([\d.]+)', rest)
    if m:
        rows.setdefault((m.group(1).strip(), side), []).append((float(m.group(2)), float(m.group(3))))
print(f"{'variant':38} {'side':7} {'median µs':>10} {'× no limits':>12}   runs (µs)")
for (variant, side), values in rows.items():
    print(f"{variant:38} {side:7} {statistics.median(v for v, _ in values):10.1f} {statistics.median(r for _, r in values):12.2f}   "
          + " ".join(f"{v:.1f}" for v, _ in values))
PY
