#!/usr/bin/env python3
"""faultline tail - (stdin): the final report ranks like `faultline analyze` on the same
entries; --on-new-cause and --webhook fire once for a new top cause (not on every snapshot);
SIGHUP reloads the rules. Usage: stdin_e2e.py FAULTLINE"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check, gen  # noqa: E402
from http_e2e import Google, wait_for  # noqa: E402


def main():
    faultline = sys.argv[1]
    t0 = time.time() - 600
    with tempfile.TemporaryDirectory() as tmp:
        inc = os.path.join(tmp, "incident.ndjson")
        gen(inc, "baseline", 0, 200, t0)
        gen(inc, "deploy", t0=t0, append=True)
        gen(inc, "burst", 1000, 300, t0, append=True)

        # 1. Finite stdin: snapshots, then the final report when input ends.
        with open(inc) as f:
            r = subprocess.run([faultline, "tail", "--interval", "200ms", "-"], stdin=f,
                               capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "tail - exits 0 at the end of stdin")
        lines = [json.loads(l) for l in r.stdout.splitlines()]
        check(len(lines) >= 1, "one JSON document per line (%d lines)" % len(lines))
        final = lines[-1]
        a = subprocess.run([faultline, "analyze", "--format", "json", inc], capture_output=True,
                           text=True, timeout=30)
        batch = json.loads(a.stdout)
        check(final["input"]["entries"] == batch["input"]["entries"] == 502, "502 entries")
        key = lambda d: [(c["kind"], c["service"], c["revision"], c["error_class"],
                          round(c["score"], 3)) for c in d["causes"]]
        check(key(final) == key(batch), "same ranked causes as analyze")

        # gcloud's --format=json layout (a pretty-printed array) reads the same.
        arr = os.path.join(tmp, "incident.json")
        with open(inc) as f, open(arr, "w") as out:
            json.dump([json.loads(l) for l in f], out, indent=2)
        with open(arr) as f:
            r = subprocess.run([faultline, "tail", "--format", "json", "-"], stdin=f,
                               capture_output=True, text=True, timeout=30)
        check(key(json.loads(r.stdout.splitlines()[-1])) == key(batch),
              "a gcloud JSON array on stdin gives the same result")

        # A restart with the same --state does not announce the same cause again.
        state = os.path.join(tmp, "state")
        marker0 = os.path.join(tmp, "fired0.txt")
        for run in range(2):
            with open(inc) as f:
                r = subprocess.run([faultline, "tail", "--state", state, "--on-new-cause",
                                    "echo fired >> " + marker0, "-"], stdin=f,
                                   capture_output=True, text=True, timeout=30)
            check(r.returncode == 0, "run %d with --state exits 0" % (run + 1))
            check(json.loads(r.stdout.splitlines()[-1])["input"]["entries"] == 502,
                  "run %d: 502 entries (the second replays the journal, the input is "
                  "recognised as duplicates)" % (run + 1))
        with open(marker0) as f:
            check(f.read().splitlines() == ["fired"], "announced once across the restart")

        # 2. Hooks: fire once for the new top cause, however many snapshots show it.
        g = Google()
        try:
            marker = os.path.join(tmp, "fired.txt")
            cmd = 'echo "$FAULTLINE_CAUSE_KIND $FAULTLINE_CAUSE_REVISION" >> %s' % marker
            fifo = os.path.join(tmp, "in.fifo")
            os.mkfifo(fifo)
            tail = Tail(faultline, ["--interval", "100ms", "--on-new-cause", cmd,
                                    "--webhook", g.url + "/hook", "-"],
                        stdin=os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
            w = open(fifo, "w")
            with open(inc) as f:
                w.write(f.read())
            w.flush()
            tail.wait_entries(502)
            wait_for(lambda: len(g.stats()["hooks"]) >= 1, 10, "the webhook")
            time.sleep(1.0)  # ten more snapshots with the same top cause
            hooks = g.stats()["hooks"]
            check(len(hooks) == 1, "webhook fired once (%d)" % len(hooks))
            check(hooks[0]["cause"]["revision"] == "checkout-00002-xyz",
                  "webhook carries the cause")
            with open(marker) as f:
                fired = f.read().splitlines()
            check(fired == ["deploy checkout-00002-xyz"], "--on-new-cause ran once: %r" % fired)

            # 3. SIGHUP reloads the rules without losing counts.
            tail.p.send_signal(signal.SIGHUP)
            tail.wait(lambda t: t.err_count("rules reloaded") == 1, 5, "the reload message")
            w.close()  # end of input: final report
            tail.p.wait(20)
            tail.t_out.join(5)
            check(tail.p.returncode == 0, "exits 0 at the end of input")
            check(tail.last()["input"]["entries"] == 502, "counts kept across the reload")
        finally:
            g.close()
    print("PASS stdin")


if __name__ == "__main__":
    main()
