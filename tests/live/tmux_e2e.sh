#!/usr/bin/env bash
# The live screen of `faultline tail` on a real terminal (tmux): it draws the top causes, is
# redrawn in place as entries arrive (new error groups marked NEW), and Ctrl-C leaves the
# alternate screen and prints the final report. Usage: tmux_e2e.sh FAULTLINE
set -u
FL=$(readlink -f "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
SOCK="$TMP/tmux.sock"
S=fltail
trap 'tmux -S "$SOCK" kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; echo "--- screen ---"; screen; exit 1; }
ok() { echo "ok: $*"; }
screen() { tmux -S "$SOCK" capture-pane -p -t "$S"; }
wait_screen() { # PATTERN SECONDS WHAT
    for _ in $(seq $(( $2 * 10 ))); do
        screen | grep -q -- "$1" && return 0
        sleep 0.1
    done
    fail "timed out waiting for $3"
}

T0=$(python3 -c 'import time; print(time.time() - 600)')
LOG="$TMP/app.ndjson"
python3 "$HERE/gen_incident.py" baseline --n 200 --t0 "$T0" > "$LOG"
python3 "$HERE/gen_incident.py" deploy --t0 "$T0" >> "$LOG"

tmux -S "$SOCK" new-session -d -s "$S" -x 120 -y 40 \
    "env TERM=xterm-256color '$FL' tail --follow '$LOG' --interval 300ms --window 2h; echo TAIL-EXIT=\$?; sleep 60"
wait_screen "Top causes" 10 "the live screen"
ok "the live screen is drawn"
wait_screen "entries 202" 10 "the first entries"
screen | grep -q "follow:" || fail "source health is not shown"
ok "source health is shown"

python3 "$HERE/gen_incident.py" burst --first 1000 --n 300 --t0 "$T0" >> "$LOG"
wait_screen "entries 502" 10 "the burst to be counted"
wait_screen "1\. .*deploy .*checkout-00002-xyz" 10 "the deploy as the top cause"
ok "the new revision's deploy is the top cause"
screen | grep -q "NEW" || fail "the new error group is not highlighted"
ok "the new error group is marked NEW"
n=$(screen | grep -c "Top causes")
[ "$n" = 1 ] || fail "the screen scrolled instead of redrawing ($n headers)"
ok "redrawn in place (one header on screen)"
screen | grep -q "5xx" || fail "no per-revision 5xx line"
ok "per-revision request/5xx sparklines shown"

tmux -S "$SOCK" send-keys -t "$S" C-c
wait_screen "TAIL-EXIT=" 15 "tail to exit"
screen | grep -q "TAIL-EXIT=0" || fail "tail did not exit 0"
ok "Ctrl-C exits 0"
screen | grep -q "MOST LIKELY CAUSE" || fail "no final report after Ctrl-C"
screen | grep -q "Top causes" && fail "the live screen was left on the terminal"
ok "the final report is printed on the normal screen"
echo "PASS tmux"
