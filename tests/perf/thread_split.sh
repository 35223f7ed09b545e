#!/usr/bin/env bash
# How the work of `faultline analyze --threads N` is split between its threads, in CPU
# seconds per thread (perf samples of cpu-clock at 4 kHz). Unlike wall clock this does not
# depend on what else the machine runs: on idle cores the run cannot take less than
# max(busiest thread, total / cores).
#
#   tests/perf/thread_split.sh FAULTLINE [--threads N] INPUT...      (needs perf)
set -uo pipefail
fl=${1:?usage: thread_split.sh FAULTLINE [--threads N] INPUT...}
shift
threads=2
if [ "${1:-}" = "--threads" ]; then threads=$2; shift 2; fi
data=$(mktemp "${TMPDIR:-/tmp}/fl-split.XXXXXX")
trap 'rm -f "$data"' EXIT
for f in "$@"; do
    if ! perf record -q -F 4000 -e cpu-clock -o "$data" \
            "$fl" analyze --threads "$threads" --format json -o /dev/null "$f" >/dev/null 2>&1; then
        echo "thread_split: perf record failed on $f"; exit 1
    fi
    perf report -i "$data" --no-children --stdio --sort pid -n 2>/dev/null |
        awk '/^ +[0-9]/ {print $2}' | sort -rn | tr '\n' ' ' |
        awk -v name="$(basename "$f")" -v cores="$(nproc)" '{
            t = 0; for (i = 1; i <= NF; i++) t += $i
            printf "%-24s threads (s):", name
            for (i = 1; i <= NF; i++) printf " %.3f", $i / 4000
            b = $1 / 4000; if (t / 4000 / cores > b) b = t / 4000 / cores
            printf "  total %.3f  busiest %.3f  bound on %d idle cores %.3f s\n", t / 4000, $1 / 4000, cores, b
        }'
done
