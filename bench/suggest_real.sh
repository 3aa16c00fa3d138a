#!/usr/bin/env bash
# Run `layerlens suggest --format json` (safe fixes, then --unsafe-fixes) over the top-level
# Dockerfile of each repository work tree given, with the last 200 commits replayed, and
# print per repository: suggestions by fix class and the fixes each mode would apply.
# Usage: bash bench/suggest_real.sh /tmp/repos/* [path/to/Dockerfile ...]
# (work trees of public repositories with a top-level Dockerfile, or Dockerfile paths)
set -u
LL="$(dirname "$0")/../.venv/bin/layerlens"
for arg in "$@"; do
  if [ -f "$arg" ]; then df="$arg"; repo="$arg"; else df="$arg/Dockerfile"; repo="$arg"; fi
  [ -f "$df" ] || continue
  for mode in safe unsafe; do
    extra=(); [ "$mode" = unsafe ] && extra=(--unsafe-fixes)
    out=$(timeout 600 "$LL" suggest "$df" --max-commits 200 --format json --exit-zero \
          "${extra[@]}" 2>/dev/null) || { echo "$(basename "$repo") $mode: failed"; continue; }
    python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
from collections import Counter
c = Counter(s["fix"] for s in d["suggestions"])
print(sys.argv[1], sys.argv[2], "suggestions:", dict(c), "applied:",
      [(a["rule"], a["fix"]) for a in d["applied"]])' "$(basename "$repo")" "$mode" <<<"$out"
  done
done
