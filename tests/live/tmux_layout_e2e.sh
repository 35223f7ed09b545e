#!/usr/bin/env bash
# The live screen's layout on real terminals (tmux) at 80x24 and 200x50, with the shipped
# incident (4 revisions, 10 error groups, a deploy with 32% 5xx) plus hostile log lines:
#  - the top cause's rollback command is shown whole (wrapped, never cut) with the summary;
#  - every revision has its line, and the error groups section is not empty;
#  - the sparklines share one labelled scale: 32% 5xx never draws as a full block;
#  - the header shows the newest entry's time (with its date: the entries are months old),
#    not the wall clock;
#  - escape sequences in log text (ESC[H ESC[J, ESC c, OSC 52, C1 CSI) are shown as '?', so
#    they neither wipe the frame nor write the clipboard.
# `tail -f FILE` (the tail(1) reflex) is how the screen is started. Usage: SCRIPT FAULTLINE
set -u
FL=$(readlink -f "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TMP=$(mktemp -d)
S=fllayout
# One tmux server per size (a socket is not reused while its server shuts down).
cleanup() {
    for s in "$TMP"/tmux-*.sock; do [ -S "$s" ] && tmux -S "$s" kill-server 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
screen() { tmux -S "$SOCK" capture-pane -p -t "$S"; }
fail() { echo "FAIL ($SIZE): $*"; echo "--- screen ---"; screen; exit 1; }
ok() { echo "ok ($SIZE): $*"; }
wait_screen() { # PATTERN SECONDS WHAT
    for _ in $(seq $(( $2 * 10 ))); do
        screen | grep -q -- "$1" && return 0
        sleep 0.1
    done
    fail "timed out waiting for $3"
}

LOG="$TMP/incident.ndjson"
python3 "$HERE/screen_input.py" "$ROOT/tests/data/incidents/checkout-bad-deploy.json" "$LOG" 40 \
    > /dev/null || { echo "FAIL: input"; exit 1; }
REVS="checkout-api-00081-plt checkout-api-00082-5u4 orders-api-00118-vh3 orders-api-00119-kxf"

for SIZE in 80x24 200x50; do
    W=${SIZE%x*}
    H=${SIZE#*x}
    SOCK="$TMP/tmux-$SIZE.sock"
    tmux -S "$SOCK" -f /dev/null new-session -d -s "$S" -x "$W" -y "$H" \
        "env TERM=xterm-256color '$FL' tail -f '$LOG' --interval 300ms --window 10000d; sleep 60"
    tmux -S "$SOCK" set -g set-clipboard on
    wait_screen "entries 2837" 20 "all entries to be counted"
    sleep 1 # one more frame with everything ranked

    screen | head -1 | grep -q "newest entry 2026-07-25 03:32:26 UTC" ||
        fail "the header does not show the newest entry's time"
    ok "header shows the newest entry's time and date"
    screen | grep -q "1\. 0\.[0-9]*  deploy .*checkout-api/checkout-api-00082-5u4" ||
        fail "the deploy is not the top cause"
    screen | grep -q '\$ gcloud run services update-traffic checkout-api' ||
        fail "the rollback command is not shown"
    screen | grep -q -- "--to-revisions=checkout-api-00081-plt=100" ||
        fail "the rollback command is cut"
    ok "rollback command shown whole"
    screen | grep -q "checkout-api-00081-plt\.$" ||
        fail "the summary is cut before 'roll back to ...'"
    ok "the top cause's summary is shown to its end"
    for rev in $REVS; do
        screen | grep -q "^  $rev .*req .*5xx" || fail "revision $rev is missing"
    done
    ok "every revision has its line"
    screen | grep -q "one scale: █ = [0-9]" || fail "no label for the sparklines' shared scale"
    bad=$(screen | grep "^  checkout-api-00082-5u4 " | sed 's/.* 5xx //')
    echo "$bad" | grep -q "[▁▂▃▄]" || fail "no 5xx sparkline for the failing revision"
    echo "$bad" | grep -q "█" && fail "32% 5xx is drawn at full height (own scale)"
    ok "sparklines share one labelled scale (32% 5xx below full height)"
    screen | grep -A1 "^Error groups" | tail -1 | grep -q "^ .* [0-9][0-9]*  [A-Za-z]" ||
        fail "the error groups section is empty"
    ok "error groups shown"
    screen | grep -q "follow:" || fail "source health is not shown"
    n=$(screen | sed '/^$/d' | wc -l)
    [ "$n" -le "$H" ] || fail "$n lines on a $H-line terminal"
    widest=$(screen | python3 -c 'import sys; print(max(map(len, sys.stdin.read().split("\n"))))')
    [ "$widest" -le "$W" ] || fail "a line is $widest columns wide"
    if [ "$SIZE" = 200x50 ]; then
        screen | grep -q "hostile ?\[H?\[J?c ?\].*cHduZWQtY2xpcGJvYXJk? ?J c1-csi ?\[" ||
            fail "escape sequences from log text are not shown as '?'"
        ok "escape sequences in log text are shown as '?'"
    fi
    tmux -S "$SOCK" list-buffers | grep -q . && fail "log text wrote the clipboard (OSC 52)"
    ok "no clipboard write"
    tmux -S "$SOCK" kill-server 2>/dev/null
done
echo "PASS tmux layout"
