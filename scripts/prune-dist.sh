#!/usr/bin/env bash
# Removes compiled files in dist/ whose TypeScript source is gone (a deleted or renamed test would
# otherwise still run under tap, from its stale .js). Keeps everything else, so `tsc` stays
# incremental: a developer's rebuild recompiles only what changed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -d "$root/dist" ] || exit 0
cd "$root/dist"
removed=0
while IFS= read -r -d '' js; do
  if [ ! -f "$root/${js%.js}.ts" ]; then
    rm -f "$js" "$js.map"
    removed=$((removed + 1))
  fi
done < <(find . -name '*.js' -not -path './node_modules/*' -print0)
find . -type d -empty -delete
[ "$removed" -eq 0 ] || echo "prune-dist: removed $removed compiled file(s) whose source is gone"
