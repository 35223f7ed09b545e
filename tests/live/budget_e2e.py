#!/usr/bin/env python3
"""Memory budget: above --max-memory the sources are paused (the count stops growing while the
file keeps lines unread), nothing is dropped: a restart with a larger budget and the same
--state counts exactly the rest. Usage: budget_e2e.py FAULTLINE"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check, gen  # noqa: E402

N = 60000


def main():
    faultline = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "big.ndjson")
        gen(log, "plain", 0, N, time.time() - 86000)
        state = os.path.join(tmp, "state")
        base = ["--follow", log, "--state", state, "--interval", "100ms", "--window", "2d"]
        tail = Tail(faultline, base + ["--max-memory", "16"])
        tail.wait(lambda t: t.err_count("sources paused") >= 1, 30, "the sources to pause")
        time.sleep(1.0)
        paused_at = tail.entries()
        time.sleep(1.0)
        check(tail.entries() == paused_at, "nothing read while paused (%d entries)" % paused_at)
        final = tail.stop()
        check(final["input"]["entries"] < N, "paused before the end of the file")
        tail = Tail(faultline, base + ["--max-memory", "1024"])
        tail.wait_entries(N, 60)
        time.sleep(0.5)
        final = tail.stop()
        check(final["input"]["entries"] == N, "nothing dropped: exactly %d entries" % N)
    print("PASS budget")


if __name__ == "__main__":
    main()
