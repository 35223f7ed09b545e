#!/usr/bin/env python3
"""Memory budget (issue 10, the --max-memory item): --max-memory follows the memory the process
holds, not its resident size. A Cloud Logging page of 300 entries of 100 KB each is held at
once (the HTTP body and its parsed document, ~60 MB): over a 40 MiB budget the sources pause
while it is being counted; once it is freed the held memory falls below the low-water mark and
they resume, so entries written afterwards are still fetched. Nothing is dropped: every entry
counts once. (Budgeting on RSS paused and never resumed: freed memory stays resident.)
Usage: budget_e2e.py FAULTLINE"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check  # noqa: E402
from http_e2e import Google, entries, logging_args  # noqa: E402

BIG = 300


def main():
    faultline = sys.argv[1]
    g = Google()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {"FAULTLINE_LOGGING_ENDPOINT": g.url,
                   "CLOUDSDK_AUTH_ACCESS_TOKEN": "test-token"}
            now = time.time()
            big = entries(0, BIG, now - 900)
            for i, e in enumerate(big):
                e["textPayload"] = "KeyError: 'PAYMENT_API_URL' %d %s" % (i, "x" * 100000)
            g.control(entries=big, page_size=BIG)
            tail = Tail(faultline, logging_args(["--max-memory", "40", "--state",
                                                 os.path.join(tmp, "state")]), env)
            tail.wait_entries(BIG, 60)
            tail.wait(lambda t: t.err_count("sources paused") >= 1, 10, "the sources to pause")
            tail.wait(lambda t: t.err_count("sources resumed") >= 1, 20, "the sources to resume")
            check(any("MiB held" in l for l in tail.stderr), "the message says what is held")
            g.control(entries=entries(1000, 20, time.time() - 1002))  # written just now
            tail.wait_entries(BIG + 20, 30)
            time.sleep(0.5)
            final = tail.stop()
            check(final["input"]["entries"] == BIG + 20,
                  "nothing dropped: exactly %d entries (%d)" % (BIG + 20,
                                                               final["input"]["entries"]))
    finally:
        g.close()
    print("PASS budget")


if __name__ == "__main__":
    main()
