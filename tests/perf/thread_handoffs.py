#!/usr/bin/env python3
"""Issue 15: a run with two threads does not put a thread to sleep for every batch.

With a reader thread handing batches to the workers, each 256 KiB batch woke a sleeping thread
about 1.5 times (voluntary context switches, ru_nvcsw: ~1,600 per 256 MB on a quiet machine),
and each wake-up cost both cores time in the scheduler. The workers now read the next batch
themselves when they have nothing to parse (src/engine/pipeline.c), so a thread sleeps only
when the other one is reading and there is nothing else to do: ~16 per 256 MB quiet, a few
hundred under a load average of 10.

Writes FL_HANDOFF_BYTES (default 64M) of flgen --bench NDJSON to a file (mapped input) and
the same compressed with zstd when the zstd tool is there (decompressed into the batches),
runs `faultline analyze --threads 2` on each a few times, and checks the fewest voluntary
context switches per batch against FL_HANDOFF_MAX (default 0.8). Measured with the reader
thread: 1.9-2.2 mapped, 0.96-1.46 zstd; without it, at a load average of 9: 0.04-0.33 mapped
(a worker runs out of batches while the other, holding the oldest one, is preempted), 0.22
zstd (a worker finds the other decompressing and nothing else to do). A count, not a time: it
does not depend on how fast the machine is. (Not a pipe: a read that waits for the writer is
a voluntary switch too, and counts how fast the writer is.)

  thread_handoffs.py FLGEN FAULTLINE            (meson test thread_handoffs)
"""
import os
import shutil
import subprocess
import sys
import tempfile

BATCH = 256 * 1024


def switches(args):
    fl = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(fl.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"thread_handoffs: {' '.join(args)}: exit {os.waitstatus_to_exitcode(status)}")
    return usage.ru_nvcsw


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    flgen, faultline = sys.argv[1], sys.argv[2]
    size = os.environ.get("FL_HANDOFF_BYTES", "64M")
    most = float(os.environ.get("FL_HANDOFF_MAX", "0.8"))
    runs = int(os.environ.get("FL_HANDOFF_RUNS", "3"))
    args = [faultline, "analyze", "--threads", "2", "--format", "json", "--quiet",
            "-o", "/dev/null"]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "in.ndjson")
        subprocess.run([flgen, "--bench", "--bytes", size, "--seed", "1", "--out", path],
                       check=True)
        batches = os.path.getsize(path) / BATCH
        inputs = [("mapped file", path)]
        if shutil.which("zstd"):
            subprocess.run(["zstd", "-q", "-3", path, "-o", path + ".zst"], check=True)
            inputs.append(("zstd", path + ".zst"))
        for kind, name in inputs:
            fewest = min(switches(args + [name]) for _ in range(runs))
            per = fewest / batches
            print(f"thread_handoffs: {kind}: {fewest} voluntary context switches for "
                  f"{batches:.0f} batches ({per:.3f} a batch, fewest of {runs} runs)")
            if per > most:
                print(f"FAIL: {kind}: {per:.3f} sleeps a batch > {most}")
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
