#!/usr/bin/env python3
"""faultline tail --window: once the window has slid, a group of entries that have neither a
service nor a revision (a script's `gcloud logging write`, a logger shipped without a resource)
counts the entries still in the window, as a group of Cloud Run entries does. Before the fix
those entries had no per-minute cells, so the first slide dropped their count to 0: the
on-call screen showed a group that was still failing every minute with no errors at all.

Twenty minutes, each minute: two "disk quota exceeded" errors from a backup script (resource "global":
no service, no revision) and one from the Cloud Run revision checkout-00002 (the same template, so the same
group), plus one "worker lost heartbeat" line of a structured logger shipped without a resource
(its own, unmatched group). Fed
through stdin and through a followed file with --window 5m.
Usage: window_norev_e2e.py FAULTLINE"""
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check  # noqa: E402

QUOTA = "quota_exhausted"  # the rule's class
HEARTBEAT = "heartbeat"


def ts(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def script_entry(i, t):
    # resource "global", as `gcloud logging write` sends by default: no service, no revision.
    return {"insertId": "gl-%d" % i, "timestamp": ts(t), "severity": "ERROR",
            "logName": "projects/acme-shop/logs/backup-job",
            "resource": {"type": "global", "labels": {"project_id": "acme-shop"}},
            "textPayload": "disk quota exceeded on /var/lib/app (volume %d)" % (i % 3)}


def run_entry(i, t):
    return {"insertId": "run-%d" % i, "timestamp": ts(t), "severity": "ERROR",
            "logName": "projects/acme-shop/logs/run.googleapis.com%2Fstderr",
            "resource": {"type": "cloud_run_revision",
                         "labels": {"project_id": "acme-shop", "service_name": "checkout",
                                    "revision_name": "checkout-00002-xyz",
                                    "location": "europe-west1"}},
            "textPayload": "disk quota exceeded on /var/lib/app (volume %d)" % (i % 3)}


def logger_line(i, t):
    # A structured logger's line shipped without a resource (no service, no revision).
    return {"insertId": "log-%d" % i, "timestamp": ts(t),
            "logName": "projects/acme-shop/logs/worker",
            "jsonPayload": {"level": "error", "msg": "worker 17 lost heartbeat", "seq": i}}


def incident(path):
    # Whole minutes, 30 minutes ago, so every entry sits well inside a minute.
    t0 = (int(time.time()) // 60 - 30) * 60
    lines, n = [], 0
    for minute in range(20):
        base = t0 + minute * 60
        lines += [script_entry(n, base + 10), run_entry(n + 1, base + 20),
                  script_entry(n + 2, base + 25), logger_line(n + 3, base + 30)]
        n += 4
    with open(path, "w") as f:
        for e in lines:
            f.write(json.dumps(e) + "\n")
    return n


def counts(doc):
    """(quota group count, heartbeat group count); 0 for a group that is gone."""
    quota = [g["count"] for g in doc["groups"] if g["key"] == QUOTA]
    beat = [g["count"] for g in doc["groups"] if HEARTBEAT in g["title"]]
    check(len(quota) <= 1 and len(beat) <= 1, "one group each")
    return (quota or [0])[0], (beat or [0])[0]


def check_window(doc, how):
    # Anchor 19:30 minus 5 min: minutes 14..19 stay (minute granularity), 6 minutes.
    quota, beat = counts(doc)
    check(quota == 18, "%s: the disk-quota group counts its 18 entries in the window, script and "
          "Cloud Run (%d)" % (how, quota))
    check(beat == 6, "%s: the logger's group counts its 6 entries in the window (%d)"
          % (how, beat))


def main():
    faultline = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        inc = os.path.join(tmp, "incident.ndjson")
        total = incident(inc)

        # analyze has no window: every entry counts.
        a = subprocess.run([faultline, "analyze", "--format", "json", inc],
                           capture_output=True, text=True, timeout=30)
        check(a.returncode == 0, "analyze exits 0")
        check(counts(json.loads(a.stdout)) == (60, 20), "analyze counts 60 and 20 errors")

        # 1. stdin: the final report, after the window slid past the first fourteen minutes.
        with open(inc) as f:
            r = subprocess.run([faultline, "tail", "--format", "json", "--window", "5m",
                                "--interval", "100ms", "-"], stdin=f, capture_output=True,
                               text=True, timeout=30)
        check(r.returncode == 0, "tail - exits 0 at the end of stdin")
        docs = [json.loads(line) for line in r.stdout.splitlines()]
        check(docs and docs[-1]["input"]["entries"] == total, "tail read all %d entries" % total)
        check_window(docs[-1], "stdin")

        # 2. A followed file: a snapshot once every entry has arrived and the multiline hold
        #    has released the last lines (2 s), then the final report.
        state = os.path.join(tmp, "state")
        tail = Tail(faultline, ["--follow", inc, "--state", state, "--interval", "100ms",
                                "--window", "5m"])
        try:
            tail.wait_entries(total)
            tail.wait(lambda t: t.last()["input"]["entries"] == total
                      and counts(t.last()) == (18, 6), 10, "a snapshot of the slid window")
            check_window(tail.last(), "follow snapshot")
        finally:
            final = tail.stop()
        check_window(final, "follow final report")
    print("PASS window_norev")


if __name__ == "__main__":
    main()
