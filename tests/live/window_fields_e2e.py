#!/usr/bin/env python3
"""faultline tail --window: once the window has slid, a group's field values
(groups[].fields) count the entries still in the window, as the group's count does; a value
seen only before the window is gone. Before the fix the field counts kept every entry ever
seen, so "env_var = DATABASE_URL (30 times)" could stand next to a group of 6 errors.

Twenty minutes of one error class (schema_validation, whose rule captures env_var): in the
first ten minutes three errors a minute name DATABASE_URL, and throughout one a minute names
PAYMENT_API_URL. Fed through stdin and through a followed file with --window 5m.
Usage: window_fields_e2e.py FAULTLINE"""
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check  # noqa: E402


def ts(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry(i, t, var):
    return {"insertId": "w-%d" % i, "timestamp": ts(t), "severity": "ERROR",
            "logName": "projects/acme-shop/logs/run.googleapis.com%2Fstderr",
            "resource": {"type": "cloud_run_revision",
                         "labels": {"project_id": "acme-shop", "service_name": "checkout",
                                    "revision_name": "checkout-00002-xyz",
                                    "location": "europe-west1"}},
            "labels": {"instanceId": "00d4e5f6"},
            "textPayload": "KeyError: '%s' environment variable is not set" % var}


def incident(path):
    # Whole minutes, 30 minutes ago, so every entry sits well inside a minute.
    t0 = (int(time.time()) // 60 - 30) * 60
    lines, n = [], 0
    for minute in range(20):
        base = t0 + minute * 60
        if minute < 10:
            for k in range(3):
                lines.append(entry(n, base + 10 + k, "DATABASE_URL"))
                n += 1
        lines.append(entry(n, base + 30, "PAYMENT_API_URL"))
        n += 1
    with open(path, "w") as f:
        for e in lines:
            f.write(json.dumps(e) + "\n")
    return n


def group(doc):
    gs = [g for g in doc["groups"] if g["key"] == "schema_validation"]
    check(len(gs) == 1, "one schema_validation group")
    return gs[0]


def check_window(doc, how):
    g = group(doc)
    fields = {f["name"]: f for f in g["fields"]}
    check("env_var" in fields, "%s: the group still has its env_var field" % how)
    f = fields["env_var"]
    check(f["value"] == "PAYMENT_API_URL",
          "%s: the top value is the one still in the window (%s)" % (how, f["value"]))
    check(f["count"] == g["count"],
          "%s: env_var count %d equals the group's count %d" % (how, f["count"], g["count"]))
    # Anchor 19:30 minus 5 min: minutes 14..19 stay (minute granularity).
    check(g["count"] == 6, "%s: six entries in the window (%d)" % (how, g["count"]))


def main():
    faultline = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        inc = os.path.join(tmp, "incident.ndjson")
        total = incident(inc)

        # analyze has no window: every entry counts, DATABASE_URL on top.
        a = subprocess.run([faultline, "analyze", "--format", "json", inc],
                           capture_output=True, text=True, timeout=30)
        check(a.returncode == 0, "analyze exits 0")
        g = group(json.loads(a.stdout))
        check(g["count"] == total == 50, "analyze counts all 50 entries")
        check([(f["name"], f["value"], f["count"]) for f in g["fields"]]
              == [("env_var", "DATABASE_URL", 30)], "analyze: env_var DATABASE_URL 30 times")

        # 1. stdin: the final report, after the window slid past the first fifteen minutes.
        with open(inc) as f:
            r = subprocess.run([faultline, "tail", "--format", "json", "--window", "5m",
                                "--interval", "100ms", "-"], stdin=f, capture_output=True,
                               text=True, timeout=30)
        check(r.returncode == 0, "tail - exits 0 at the end of stdin")
        docs = [json.loads(line) for line in r.stdout.splitlines()]
        check(docs and docs[-1]["input"]["entries"] == total, "tail read all 50 entries")
        check_window(docs[-1], "stdin")

        # 2. A followed file: a snapshot once every entry has arrived.
        state = os.path.join(tmp, "state")
        tail = Tail(faultline, ["--follow", inc, "--state", state, "--interval", "100ms",
                                "--window", "5m"])
        try:
            tail.wait_entries(total)
            tail.wait(lambda t: t.last()["input"]["entries"] == total
                      and any(g["key"] == "schema_validation" and g["count"] == 6
                              for g in t.last()["groups"]), 10, "a snapshot of the slid window")
            check_window(tail.last(), "follow snapshot")
        finally:
            final = tail.stop()
        check_window(final, "follow final report")
    print("PASS window_fields")


if __name__ == "__main__":
    main()
