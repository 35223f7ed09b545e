#!/usr/bin/env python3
"""Line numbers and warnings through the chunked NDJSON reader (issue 15): with several threads
the reader hands out chunks of whole lines (in place for a mapped file, decompressed for .gz,
read for stdin) and the workers cut them, counting lines from the chunk's start. A broken line
deep in a file of many chunks must still be reported as FILE:LINE with its true line, the same
with 1 and 2 threads, mapped or not, plain, gzip or piped.

Usage: chunk_lines.py FAULTLINE SOURCE_ROOT CASE   (CASE "all" runs every case)

Expected line numbers come from how the input is written here, never from faultline's output.
"""

import gzip
import json
import os
import re
import subprocess
import sys

import clitest
from clitest import Fail, check, run_cli

FAULTLINE = ""
TMP = ""
LOG = "projects/p/logs/run.googleapis.com%2Frequests"


def tmp(name):
    return os.path.join(TMP, name)


def entry(i):
    return json.dumps({
        "timestamp": "2026-07-25T03:%02d:%02d.%06dZ" % (i // 3600 % 60, i // 60 % 60, i % 1000000),
        "insertId": f"id{i}", "severity": "INFO", "logName": LOG,
        "resource": {"type": "cloud_run_revision",
                     "labels": {"service_name": "checkout-api",
                                "revision_name": "checkout-api-00001-abc"}},
        "httpRequest": {"status": 200, "requestMethod": "GET",
                        "requestUrl": "https://checkout.example.com/api/cart/%d" % i},
        "labels": {"pad": "x" * (i % 700)}})  # lengths vary so lines fall on every offset


def build(record_max):
    """About 5 MB of NDJSON (20 chunks of 256 KiB) with, at known lines: invalid JSON, blank
    and CRLF lines, and one line longer than record_max (1 MiB). Returns (bytes, malformed lines,
    oversize lines, entries)."""
    lines, bad, big = [], [], []
    n = 0
    for i in range(9000):
        if i in (4321, 8888, 8999):
            lines.append(b'{"timestamp": "2026-07-25T03:00:00Z", "insertId": broken}')
            bad.append(len(lines))
        elif i == 6000:
            lines.append(b'{"insertId":"big","textPayload":"' + b"y" * (record_max + 10) + b'"}')
            big.append(len(lines))
        elif i % 997 == 0:
            lines.append(b"   ")
        else:
            text = entry(i).encode()
            lines.append(text + (b"\r" if i % 5 == 0 else b""))
            n += 1
    return b"\n".join(lines) + b"\n", bad, big, n


def warned_lines(err, path, what):
    name = re.escape(path)
    return sorted(int(m) for m in re.findall(name + r":(\d+): " + what, err))


def check_run(args, path, bad, big, n, env=None, input_bytes=None, label=""):
    stdin = subprocess.DEVNULL if input_bytes is None else None
    rc, out, err = run_cli(FAULTLINE, ["analyze", "--format", "json"] + args, stdin=stdin, input_bytes=input_bytes, env_extra=env)
    check(rc == 3, f"{label}: exit {rc}, expected 3 (partial input); stderr:\n{err[:1500]}")
    doc = json.loads(out)
    check(doc["input"]["entries"] == n, f"{label}: {doc['input']['entries']} entries, want {n}")
    got_bad = warned_lines(err, path, r"malformed: ")
    got_big = warned_lines(err, path, r"oversize: record larger than 1048576 bytes skipped")
    check(got_bad == bad and got_big == big,
          f"{label}: warned lines {got_bad} (oversize {got_big}), want malformed {bad} and "
          f"oversize {big}; stderr:\n{err[:1500]}")
    return doc


def essence(doc):
    d = dict(doc)
    d.pop("generated_by", None)
    d.pop("input", None)
    return json.dumps(d, sort_keys=True)


def case_deep_line_numbers():
    data, bad, big, n = build(1 << 20)  # FL_RECORD_MAX
    check(len(data) > 20 * 256 * 1024 * 0.9, f"input only {len(data)} bytes: too few chunks")
    path = tmp("deep.ndjson")
    with open(path, "wb") as f:
        f.write(data)
    gz = tmp("deep.ndjson.gz")
    with gzip.open(gz, "wb") as f:
        f.write(data)
    reports = []
    for threads in ("1", "2"):
        for env, label in ((None, "mapped"), ({"FL_NO_MMAP": "1"}, "read(2)")):
            reports.append(check_run(["--threads", threads, path], path, bad, big, n, env,
                                     label=f"{label}, --threads {threads}"))
        reports.append(check_run(["--threads", threads, gz], gz, bad, big, n,
                                 label=f"gzip, --threads {threads}"))
        reports.append(check_run(["--threads", threads, "-"], "-", bad, big, n,
                                 input_bytes=data, label=f"stdin, --threads {threads}"))
    first = essence(reports[0])
    for r in reports[1:]:
        check(essence(r) == first, "the report differs between threads or input forms")


def case_line_ends():
    """NDJSON lines are parsed where they lie and the parse finds each line's end (round five);
    a line that is not one object followed by blanks and a newline is cut and parsed as
    before. Every kind of line end, among many good lines (so that the parser's remembered key
    layouts are in use), gives the same warnings with the same FILE:LINE and texts (those the
    reader gave before round five, jansson's words) with 1 and 2 threads, mapped or read."""
    odd = [  # (line, expected warning after "FILE:LINE: ", or None when the line is an entry)
        (b'{"textPayload":"crlf","insertId":"c1"}\r', None),
        (b"\r", None),  # blank
        (b" \t ", None),  # blank
        (b'{"textPayload":"escaped\\nnewline","insertId":"c2"}  \t', None),
        (b'{"textPayload":"d"} x', "line 1 column 21: end of file expected"),
        (b'{"textPayload":', "line 1 column 16: unexpected end of input"),  # split over two
        (b'"e"}', "line 1 column 1: '[' or '{' expected"),
        (b'{"textPayload":"f"}{"textPayload":"g"}', "line 1 column 20: end of file expected"),
        (b'{"textPayload":"bad \xff","insertId":"c3"}',
         "entry kept: invalid UTF-8 replaced by U+FFFD"),
        (b'{"textPayload":"h","insertId":"c4"},', "line 1 column 36: end of file expected"),
    ]
    lines, want = [], []
    n = 0
    for i in range(3000):
        if i % 300 == 150:
            for text, warn in odd:
                lines.append(text)
                if warn is None or warn.startswith("entry kept"):
                    n += text.strip() != b""
                if warn:
                    want.append((len(lines), warn))
        lines.append(entry(i).encode())
        n += 1
    last = b'{"textPayload":"h"'  # the last line, without a newline
    data = b"\n".join(lines) + b"\n" + last
    want.append((len(lines) + 1, "line 1 column 19: '}' expected"))
    path = tmp("line_ends.ndjson")
    with open(path, "wb") as f:
        f.write(data)
    reports = []
    for threads in ("1", "2"):
        for env, label in ((None, "mapped"), ({"FL_NO_MMAP": "1"}, "read(2)")):
            label = f"{label}, --threads {threads}"
            rc, out, err = run_cli(FAULTLINE, ["analyze", "--format", "json", "-q", "--threads",
                                               threads, path], stdin=subprocess.DEVNULL,
                                   env_extra=env)
            check(rc == 3, f"{label}: exit {rc}, expected 3 (partial input); stderr:\n{err[:1500]}")
            doc = json.loads(out)
            got = [(w["line"], w["message"]) for w in doc["input"]["warnings"]]
            check(got == [(ln, f"{path}:{ln}: {msg}") for ln, msg in want],
                  f"{label}: warnings {got[:12]}, want {want[:12]}")
            check(doc["input"]["entries"] == n,
                  f"{label}: {doc['input']['entries']} entries, want {n}")
            reports.append(essence(doc))
    check(all(r == reports[0] for r in reports), "the report differs between threads or reads")


def _set_tmp(d):
    global TMP
    TMP = d


def main():
    global FAULTLINE
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    FAULTLINE, which = os.path.abspath(sys.argv[1]), sys.argv[3]
    cases = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
    return clitest.run_cases(dict(sorted(cases.items())), which, "fl-chunk-", _set_tmp)


if __name__ == "__main__":
    sys.exit(main())
