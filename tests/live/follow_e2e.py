#!/usr/bin/env python3
"""faultline tail --follow FILE: append, rotate (rename + new file), truncate, and restart from
the checkpoint in --state DIR (after SIGKILL, with lines appended while it was down): every
line is counted exactly once. Usage: follow_e2e.py FAULTLINE"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check, gen  # noqa: E402


def append(path, tmp, first, n, t0):
    chunk = os.path.join(tmp, "chunk.ndjson")
    gen(chunk, "plain", first, n, t0)
    with open(chunk) as src, open(path, "a") as dst:
        dst.write(src.read())


def main():
    faultline = sys.argv[1]
    t0 = time.time() - 1200
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "app.ndjson")
        state = os.path.join(tmp, "state")
        args = ["--follow", log, "--state", state, "--interval", "100ms", "--window", "2h"]
        append(log, tmp, 0, 100, t0)
        tail = Tail(faultline, args)
        tail.wait_entries(100)
        append(log, tmp, 100, 50, t0 + 50)
        tail.wait_entries(150)
        check(tail.entries() == 150, "appended lines counted")

        os.rename(log, log + ".1")
        append(log + ".1", tmp, 150, 20, t0 + 80)  # the writer finishes the old file
        append(log, tmp, 170, 100, t0 + 100)
        tail.wait_entries(270)
        tail.wait(lambda t: t.err_count("rotated") >= 1, 5, "the rotation notice")
        check(tail.entries() == 270, "rotation: old file finished, new file read from 0")

        with open(log, "w"):
            pass  # copytruncate-style truncation
        tail.wait(lambda t: t.err_count("truncated") >= 1, 5, "the truncation notice")
        append(log, tmp, 270, 30, t0 + 200)
        tail.wait_entries(300)
        time.sleep(0.5)
        check(tail.entries() == 300, "truncation: new lines counted from the start")

        # Partial last line: not counted until its newline arrives.
        with open(log, "a") as f:
            f.write('{"insertId":"e-300","timestamp":"%s","textPayload":"half' %
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + 300)))
        time.sleep(1.5)  # past a checkpoint
        check(tail.entries() == 300, "a line without its newline is not counted yet")
        tail.kill()

        with open(log, "a") as f:
            f.write(' line"}\n')
        append(log, tmp, 301, 49, t0 + 310)
        tail = Tail(faultline, args)
        tail.wait_entries(350)
        time.sleep(1.0)
        final = tail.stop()
        check(final["input"]["entries"] == 350,
              "restart from the checkpoint: %d entries, expected exactly 350" %
              final["input"]["entries"])
        check(tail.err_count("redelivered") == 0,
              "the restart continued from the saved offset (nothing read twice)")
    print("PASS follow")


if __name__ == "__main__":
    main()
