#!/usr/bin/env python3
"""What a `tail --state` restart promises, and tail's input accounting (issue 10, items 3, 4, 7).
Usage: state_e2e.py FAULTLINE SCENARIO
  journal_damage   one garbled byte in the journal: the records that verify are kept, the loss
                   is said loudly (bytes, offset, the damaged file kept whole aside), exit 3
  journal_garbage  an emptied, then a garbage journal: said, kept aside, never truncated
  lock             a second tail on the same --state is refused (exit 2, a clear message)
  stdin_devnull    `tail - </dev/null` reads nothing and exits 0
  stdin_bad_input  malformed and oversize records are counted and warned about; exit 3
"""
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check, gen  # noqa: E402

N = 1000


def stop_with(tail, code):
    tail.p.send_signal(signal.SIGINT)
    tail.p.wait(30)
    tail.t_out.join(5)
    tail.t_err.join(5)
    check(tail.p.returncode == code, "tail exits %d (got %s)" % (code, tail.p.returncode))
    return tail.last()


def first_run(faultline, tmp):
    log = os.path.join(tmp, "app.ndjson")
    gen(log, "plain", 0, N, time.time() - 3600)
    state = os.path.join(tmp, "state")
    args = ["--follow", log, "--state", state, "--interval", "100ms", "--window", "1d"]
    tail = Tail(faultline, args)
    tail.wait_entries(N, 30)
    final = tail.stop()
    check(final["input"]["entries"] == N, "first run counts %d entries" % N)
    return args, os.path.join(state, "journal.dat")


def scenario_journal_damage(faultline, tmp):
    args, journal = first_run(faultline, tmp)
    size = os.path.getsize(journal)
    with open(journal, "r+b") as f:
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(b"#" if b != b"#" else b"%")
    tail = Tail(faultline, args)
    tail.wait(lambda t: t.last() is not None, 20, "a snapshot")
    final = stop_with(tail, 3)
    entries = final["input"]["entries"]
    check(N - 3 <= entries < N, "the records that verify still count (%d of %d)" % (entries, N))
    check(tail.err_count("is DAMAGED") == 1, "the damage is said on stderr")
    check(tail.err_count("LOST") == 1, "and that counts were lost")
    check(tail.err_count("go on from their own checkpoints") == 1,
          "and where the sources read again from")
    kept = glob.glob(os.path.join(os.path.dirname(journal), "journal.damaged-*"))
    check(len(kept) == 1 and os.path.getsize(kept[0]) == size,
          "the damaged journal is kept whole aside")
    # The next restart reads a clean journal.
    tail = Tail(faultline, args)
    tail.wait(lambda t: t.last() is not None, 20, "a snapshot")
    final = tail.stop()
    check(final["input"]["entries"] == entries, "the repaired journal resumes the same counts")
    check(tail.err_count("DAMAGED") == 0, "and reports no damage")


def scenario_journal_garbage(faultline, tmp):
    args, journal = first_run(faultline, tmp)
    state = os.path.dirname(journal)
    with open(journal, "wb"):
        pass  # emptied
    tail = Tail(faultline, args)
    tail.wait(lambda t: t.last() is not None, 20, "a snapshot")
    stop_with(tail, 3)
    check(tail.err_count("is empty, but a journal always starts with a header") == 1,
          "an emptied journal is said")
    with open(journal, "wb") as f:
        f.write(b"\x00garbage\n" * 500)
    tail = Tail(faultline, args)
    tail.wait(lambda t: t.last() is not None, 20, "a snapshot")
    stop_with(tail, 3)
    check(tail.err_count("is DAMAGED: 4500 of 4500 bytes") == 1, "a garbage journal is said")
    kept = sorted(glob.glob(os.path.join(state, "journal.damaged-*")))
    check(len(kept) == 2 and any(os.path.getsize(k) == 4500 for k in kept),
          "both damaged files are kept aside")


def scenario_lock(faultline, tmp):
    log = os.path.join(tmp, "app.ndjson")
    gen(log, "plain", 0, 50, time.time() - 600)
    state = os.path.join(tmp, "state")
    args = ["--follow", log, "--state", state, "--interval", "100ms"]
    tail = Tail(faultline, args)
    tail.wait_entries(50, 20)
    r = subprocess.run([faultline, "tail", "--format", "json"] + args, capture_output=True,
                       text=True, timeout=20)
    check(r.returncode == 2, "a second tail on the same --state exits 2 (%d)" % r.returncode)
    check("in use by another faultline tail (pid %d)" % tail.p.pid in r.stderr,
          "and says who holds it: " + r.stderr.strip())
    final = tail.stop()
    check(final["input"]["entries"] == 50, "the first tail is undisturbed")
    tail = Tail(faultline, args)  # the lock goes with the process
    tail.wait(lambda t: t.last() is not None, 20, "a snapshot")
    final = tail.stop()
    check(final["input"]["entries"] == 50, "a later tail takes the directory over")


def scenario_stdin_devnull(faultline, tmp):
    with open(os.devnull) as f:
        r = subprocess.run([faultline, "tail", "--format", "json", "-"], stdin=f,
                           capture_output=True, text=True, timeout=20)
    check(r.returncode == 0, "tail - </dev/null exits 0 (%d: %s)" % (r.returncode, r.stderr))
    final = json.loads(r.stdout.splitlines()[-1])
    check(final["input"]["entries"] == 0, "with nothing read")


def scenario_stdin_bad_input(faultline, tmp):
    path = os.path.join(tmp, "in.ndjson")
    gen(path, "plain", 0, 5, time.time() - 600)
    with open(path, "a") as f:
        f.write('{"timestamp": "2026-01-01T00:00:00Z",, "textPayload": "x"}\n')  # malformed
        f.write('{"textPayload": "' + "x" * (2 * 1024 * 1024) + '"}\n')  # oversize
    gen(path, "plain", 5, 5, time.time() - 500, append=True)
    for how in ("file", "pipe"):
        with open(path, "rb") as f:
            data = f.read()
        if how == "file":
            with open(path) as f:
                r = subprocess.run([faultline, "tail", "--format", "json", "-"], stdin=f,
                                   capture_output=True, text=True, timeout=30)
        else:
            r = subprocess.run([faultline, "tail", "--format", "json", "-"], input=data,
                               capture_output=True, timeout=30)
            r.stdout, r.stderr = r.stdout.decode(), r.stderr.decode()
        final = json.loads(r.stdout.splitlines()[-1])
        inp = final["input"]
        check(inp["entries"] == 10, "%s: the good entries count (%d)" % (how, inp["entries"]))
        check(inp["malformed"] == 1, "%s: the malformed record is counted" % how)
        check(inp["oversize"] == 1, "%s: the oversize record is counted" % how)
        check("over the 1024 KiB limit" in r.stderr, "%s: the oversize one is warned about" % how)
        check(r.returncode == 3, "%s: exit 3 as analyze (%d)" % (how, r.returncode))


def main():
    faultline, scenario = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        globals()["scenario_" + scenario](faultline, tmp)
    print("PASS", scenario)


if __name__ == "__main__":
    main()
