#!/usr/bin/env python3
"""faultline tail's command line keeps tail(1) habits (issue 13, item 5) and Pub/Sub entries keep
their time (item 9). Cases:
  files      `tail FILE FILE` follows both files (lines appended later are counted)
  short_f    `tail -f FILE` follows FILE; --format is long-only (-f is not a format)
  stdin      `cmd | faultline tail` without `-` reads the pipe to its end
  pubsub     a LogEntry without timestamp inside a Pub/Sub envelope (the real push sample,
             and pull-style messages with only publishTime) gets the envelope's time in
             `analyze` and in `tail`, not "no timestamped entries" or the wall clock
  pubsub_pull the same through `tail --pubsub` (REST pull from mock_google.py on 127.0.0.1)
Usage: tail_cli_e2e.py FAULTLINE SOURCE_ROOT CASE"""
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check, fail, gen  # noqa: E402


def case_files(fl, tmp, t0):
    a, b = os.path.join(tmp, "a.ndjson"), os.path.join(tmp, "b.ndjson")
    gen(a, "baseline", 0, 200, t0)
    gen(b, "deploy", t0=t0)
    t = Tail(fl, ["--interval", "200ms", a, b])
    t.wait_entries(202)  # 200 + the deploy's 2 entries
    gen(b, "burst", 1000, 300, t0, append=True)  # written after tail started: followed
    t.wait_entries(502)
    final = t.stop()
    check(final["input"]["entries"] == 502, "tail FILE FILE follows both files (502 entries)")
    check(final["causes"] and final["causes"][0]["revision"] == "checkout-00002-xyz",
          "the deploy in the second file is the top cause")


def case_short_f(fl, tmp, t0):
    a = os.path.join(tmp, "a.ndjson")
    gen(a, "baseline", 0, 200, t0)
    t = Tail(fl, ["-f", a, "--interval", "200ms"])
    t.wait_entries(200)
    gen(a, "deploy", t0=t0, append=True)
    t.wait_entries(202)
    final = t.stop()
    check(final["input"]["entries"] == 202, "tail -f FILE follows FILE like tail(1)")
    h = subprocess.run([fl, "tail", "--help"], capture_output=True, text=True, timeout=30)
    lines = h.stdout.splitlines()
    fmt = [l for l in lines if "--format" in l and l.lstrip().startswith("-")]
    check(fmt and fmt[0].startswith("      --format"), "--format is long-only in tail's help")
    check(any(l.strip().startswith("-F, --follow") for l in lines), "-F, --follow in the help")
    # `-f json` names a file to follow (it may appear later, as with tail -F), not a format.
    p = subprocess.Popen([fl, "tail", "-f", os.path.join(tmp, "json"), "--format", "json"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    running = p.poll() is None
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    check(running and "not one of" not in err, "-f is not read as --format (%s)" % err.strip())


def case_stdin(fl, tmp, t0):
    inc = os.path.join(tmp, "incident.ndjson")
    gen(inc, "baseline", 0, 200, t0)
    gen(inc, "deploy", t0=t0, append=True)
    gen(inc, "burst", 1000, 300, t0, append=True)
    r = subprocess.run("cat '%s' | '%s' tail --interval 200ms" % (inc, fl), shell=True,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "cmd | faultline tail exits 0 (%d: %s)" % (r.returncode,
                                                                       r.stderr.strip()))
    final = json.loads(r.stdout.splitlines()[-1])
    check(final["input"]["entries"] == 502, "the pipe is read to its end (502 entries)")
    check(final["causes"][0]["revision"] == "checkout-00002-xyz", "and ranked")


def envelope(entry, publish_time, attrs=None):
    msg = {"data": base64.b64encode(json.dumps(entry).encode()).decode(),
           "messageId": "1", "publishTime": publish_time}
    if attrs:
        msg["attributes"] = attrs
    return json.dumps({"message": msg, "subscription": "projects/p/subscriptions/s"})


def case_pubsub(fl, tmp, root):
    sample = os.path.join(root, "tests", "data", "ingest", "pubsub_push.ndjson")
    a = subprocess.run([fl, "analyze", "--format", "json", sample], capture_output=True,
                       text=True, timeout=60)
    doc = json.loads(a.stdout)
    check(doc["window"]["start"] == "2022-07-25T22:19:09.903683Z",
          "analyze: the real push sample's entry has the logging timestamp attribute's time "
          "(%s)" % doc["window"]["start"])
    # Pull-style messages from a sink whose LogEntries carry no timestamp: publishTime only.
    path = os.path.join(tmp, "pull.ndjson")
    res = {"type": "cloud_run_revision",
           "labels": {"service_name": "checkout", "revision_name": "checkout-00002-xyz",
                      "location": "us-central1"}}
    with open(path, "w") as f:
        for i in range(30):
            e = {"severity": "ERROR", "resource": res, "insertId": "ps-%d" % i,
                 "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
                 "textPayload": "Error: connect ECONNREFUSED 10.0.0.7:6379"}
            f.write(envelope(e, "2024-03-01T10:%02d:00Z" % i) + "\n")
    a = subprocess.run([fl, "analyze", "--format", "json", path], capture_output=True,
                       text=True, timeout=60)
    check(a.returncode in (0, 4) and "no timestamped entries" not in a.stderr,
          "analyze: publishTime-only messages are not 'no timestamped entries' (%s)" %
          a.stderr.strip()[:200])
    doc = json.loads(a.stdout)
    check(doc["window"]["start"] == "2024-03-01T10:00:00Z" and
          doc["window"]["end"] == "2024-03-01T10:29:00Z", "analyze: the window is publishTime's")
    with open(path) as f:
        r = subprocess.run([fl, "tail", "--format", "json", "--window", "10000d", "-"], stdin=f,
                           capture_output=True, text=True, timeout=60)
    final = json.loads(r.stdout.splitlines()[-1])
    check(final["window"]["end"] == "2024-03-01T10:29:00Z",
          "tail: entries keep publishTime, not today's clock (%s)" % final["window"]["end"])
    check(final["input"]["entries"] == 30, "tail: every message counted")


def case_pubsub_pull(fl, tmp):
    from http_e2e import Google, SUB
    g = Google()
    try:
        res = {"type": "cloud_run_revision",
               "labels": {"service_name": "checkout", "revision_name": "checkout-00002-xyz"}}
        g.control(publish=[{"insertId": "pull-%d" % i, "severity": "ERROR", "resource": res,
                            "textPayload": "KeyError: 'PAYMENT_API_URL'"} for i in range(20)])
        t = Tail(fl, ["--pubsub", SUB, "--interval", "200ms", "--window", "10000d"],
                 {"PUBSUB_EMULATOR_HOST": g.host})
        t.wait_entries(20)
        final = t.stop()
        # mock_google.py stamps every message with publishTime 2026-01-01T00:00:00Z.
        check(final["window"]["end"] == "2026-01-01T00:00:00Z",
              "tail --pubsub: entries without timestamp take publishTime (%s)" %
              final["window"]["end"])
    finally:
        g.close()


def main():
    fl, root, case = sys.argv[1], sys.argv[2], sys.argv[3]
    t0 = time.time() - 600
    with tempfile.TemporaryDirectory() as tmp:
        if case == "files":
            case_files(fl, tmp, t0)
        elif case == "short_f":
            case_short_f(fl, tmp, t0)
        elif case == "stdin":
            case_stdin(fl, tmp, t0)
        elif case == "pubsub":
            case_pubsub(fl, tmp, root)
        elif case == "pubsub_pull":
            case_pubsub_pull(fl, tmp)
        else:
            fail("unknown case " + case)
    print("PASS " + case)


if __name__ == "__main__":
    main()
