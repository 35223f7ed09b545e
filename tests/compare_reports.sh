#!/bin/sh
# Compare the JSON report of the shipped sample and of every scenario case between two builds
# (issue 9: the layering work must not change a byte). Usage:
#   tests/compare_reports.sh BASE_BUILD NEW_BUILD [WORKDIR]
# BASE_BUILD is a build dir of the base commit (e.g. `git worktree add /tmp/base9 fbc9902`,
# `meson setup /tmp/base9/b && ninja -C /tmp/base9/b`), NEW_BUILD one of this tree. Cases are
# generated with the base build's flgen from tests/scenarios/scenarios.txt (name, seeds, flags).
set -eu
base=$1; new=$2; work=${3:-$(mktemp -d)}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
fail=0; n=0
cmp_one() {  # $1 = label, $2 = input file
    "$base/faultline" analyze "$2" --format json > "$work/$1.base.json" 2>/dev/null || true
    "$new/faultline" analyze "$2" --format json > "$work/$1.new.json" 2>/dev/null || true
    n=$((n + 1))
    if ! cmp -s "$work/$1.base.json" "$work/$1.new.json"; then
        echo "DIFF $1"; fail=1
    fi
}
cmp_one sample "$src/tests/data/incidents/checkout-bad-deploy.json"
grep -v '^#' "$src/tests/scenarios/scenarios.txt" | while read -r name seeds expect flags; do
    [ -n "$name" ] || continue
    first=${seeds%-*}; last=${seeds#*-}
    s=$first
    while [ "$s" -le "$last" ]; do
        f="$work/$name-$s.ndjson"
        # shellcheck disable=SC2086
        "$base/tests/gen/flgen" --scenario "$name" --seed "$s" --format ndjson --out "$f" $flags
        cmp_one "$name-$s" "$f"
        s=$((s + 1))
    done
    echo "$fail" > "$work/.fail"
done
[ -f "$work/.fail" ] && [ "$(cat "$work/.fail")" = 1 ] && fail=1
total=$(ls "$work"/*.new.json | wc -l)
if [ "$fail" = 0 ]; then echo "identical: $total JSON reports ($work)"; else exit 1; fi
