#!/usr/bin/env bash
# Every ```swift block of README.md and docs/*.md must appear verbatim (as one contiguous run of
# lines) in a Swift source file under examples/Sources, the package that CI compiles against
# jobq's public products (scripts/test.sh builds it). So a snippet in the docs is code that
# builds, and the two cannot drift apart: change one, change the other.
#
#   scripts/check-snippets.sh        # exit 0, or 1 listing each snippet not found
set -euo pipefail
cd "$(dirname "$0")/.."

sources=()
while IFS= read -r file; do sources+=("$file"); done < <(find examples/Sources -name '*.swift' | sort)
contents=()
for file in "${sources[@]}"; do contents+=("$(cat "$file")"); done

blocks=$(mktemp -d /tmp/jobq-snippets-XXXXXX)
trap 'rm -rf "$blocks"' EXIT
# One file per block: <blocks>/<n>, its first line "doc:line", then the block's lines.
awk -v dir="$blocks" '
  FNR == 1 { inside = 0 }
  !inside && /^```swift[[:space:]]*$/ { inside = 1; n++; out = dir "/" n; print FILENAME ":" FNR > out; next }
  inside && /^```[[:space:]]*$/ { inside = 0; close(out); next }
  inside { print > out }
' README.md docs/*.md

missing=0
count=0
for block in "$blocks"/*; do
  [[ -f "$block" ]] || continue
  count=$((count + 1))
  where=$(head -n 1 "$block")
  snippet=$(tail -n +2 "$block")
  found=""
  for i in "${!sources[@]}"; do
    if [[ "${contents[$i]}" == *"$snippet"* ]]; then found=${sources[$i]}; break; fi
  done
  if [[ -z "$found" ]]; then
    echo "check-snippets: the swift block at $where is not verbatim in any examples/Sources file" >&2
    missing=$((missing + 1))
  fi
done
if ((count == 0)); then
  echo "check-snippets: no swift blocks found in README.md and docs/*.md (is the pattern broken?)" >&2
  exit 1
fi
if ((missing > 0)); then
  echo "check-snippets: $missing of $count snippets differ from examples/; put each in (or update it in) examples/Sources" >&2
  exit 1
fi
echo "check-snippets: all $count swift snippets of README.md and docs/*.md are in examples/Sources"
