#!/usr/bin/env python3
"""faultline tail gives analyze's answer (issue 17).

Scenarios (usage: multiline_e2e.py FAULTLINE SCENARIO):
  sigterm, sigkill  A Python traceback split one frame per entry (as Cloud Run writes a
                    container's stderr), its lines interleaved with two other instances' lines,
                    is followed by `tail --follow FILE --state DIR`; tail is stopped (SIGTERM, or
                    SIGKILL after a checkpoint) in the middle of the traceback and restarted, then
                    the rest is appended. The final report counts the traceback once, as one error
                    of its class, with the same groups and entries as `analyze` of the file.
  hold              The stream goes quiet in the middle of a traceback: after --multiline-hold the
                    trace is counted as it is, without waiting for the end of the input.
  filters           --service, a relative --since, --min-severity and duplicates across two
                    followed files: tail's final report names the filter and counts what analyze
                    counts for the same files and options.

The traceback is SQLAlchemy's QueuePool timeout as sqlalchemy/pool/impl.py (QueuePool._do_get)
raises it: "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00".
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check, fail  # noqa: E402

TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/app/orders/handlers.py", line 88, in create_order',
    "    session.execute(insert_stmt)",
    '  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/pool/impl.py", line 169, '
    "in _do_get",
    "    raise exc.TimeoutError(",
    "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection "
    "timed out, timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)",
]


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int(
        round((t % 1) * 1e6) % 1000000)


def entry(n, t, text, instance="inst-a", log="stderr", severity=None, service="orders-api"):
    e = {
        "insertId": "ml-%05d" % n,
        "timestamp": stamp(t),
        "textPayload": text,
        "logName": "projects/acme-shop/logs/run.googleapis.com%2F" + log,
        "labels": {"instanceId": instance},
        "resource": {"type": "cloud_run_revision",
                     "labels": {"service_name": service, "revision_name": service + "-00007-xk2",
                                "location": "us-central1", "project_id": "acme-shop"}},
    }
    if severity:
        e["severity"] = severity
    return e


def traceback_entries(t0):
    """The traceback of inst-a, one frame per entry, with inst-b and inst-c printing between."""
    out = []
    n = 0
    for k, line in enumerate(TRACEBACK):
        t = t0 + k * 0.002
        out.append(entry(n, t, line))
        n += 1
        out.append(entry(n, t + 0.0005, "GET /api/v1/orders/%d 200 12ms" % k, "inst-b", "stdout",
                         "INFO"))
        n += 1
        if k % 2 == 0:
            out.append(entry(n, t + 0.0007, "cache miss for key order:%d" % k, "inst-c",
                             "stdout", "INFO"))
            n += 1
    # Later, unrelated traffic, so the report has more than the one error.
    for k in range(20):
        out.append(entry(n, t0 + 5 + k, "GET /api/v1/orders 200 9ms", "inst-b", "stdout",
                         "INFO"))
        n += 1
    return out


def write(path, entries, mode="a"):
    with open(path, mode) as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")


def analyze(faultline, paths, extra=()):
    p = subprocess.run([faultline, "analyze", "--format", "json"] + list(extra) + list(paths),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        fail("analyze exited %d: %s" % (p.returncode, p.stderr))
    return json.loads(p.stdout)


def groups(doc):
    return sorted((g.get("class") or "", g["count"], g.get("title") or "") for g in doc["groups"])


def pool_errors(doc):
    return [g for g in doc["groups"] if g.get("class") == "pool_exhausted"]


def fragments(doc):
    """Groups made of a lone piece of the traceback: what tail counted before issue 17."""
    return [g for g in doc["groups"]
            if (g.get("title") or "").lstrip().startswith(("File ", "raise ", "session.", "Trace"))]


def restart(faultline, how):
    t0 = time.time() - 600
    es = traceback_entries(t0)
    cut = next(i for i, e in enumerate(es) if e["textPayload"] == TRACEBACK[3])
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "orders.ndjson")
        state = os.path.join(tmp, "state")
        args = ["--follow", log, "--state", state, "--interval", "100ms", "--window", "2h",
                "--checkpoint-interval", "100ms", "--multiline-hold", "20s"]
        write(log, es[:cut], "w")
        tail = Tail(faultline, args)
        tail.wait_entries(cut)
        if how == "sigkill":
            time.sleep(0.6)  # past a checkpoint: the first frames are journaled and acknowledged
            tail.kill()
        else:
            tail.p.send_signal(signal.SIGTERM)
            if tail.p.wait(20) != 0:
                fail("tail exited %d after SIGTERM" % tail.p.returncode)
            tail.t_out.join(5)
        write(log, es[cut:])
        tail = Tail(faultline, args)
        tail.wait(lambda t: t.err_count("resumed") >= 1, 10, "the journal replay")
        tail.wait_entries(len(es))
        final = tail.stop()
        batch = analyze(faultline, [log])
        check(final["input"]["entries"] == len(es) == batch["input"]["entries"],
              "%s restart: every entry counted once (%d)" % (how, final["input"]["entries"]))
        pool = pool_errors(final)
        check(len(pool) == 1 and pool[0]["count"] == 1,
              "%s restart: the traceback is one pool_exhausted error (%s)" % (how, pool))
        check(not fragments(final), "%s restart: no frame counted on its own" % how)
        check(final["input"]["duplicates"] == batch["input"]["duplicates"] == 0,
              "%s restart: records delivered again are not duplicates in the data" % how)
        check(groups(final) == groups(batch),
              "%s restart: the same groups as analyze\n  tail    %s\n  analyze %s" %
              (how, groups(final), groups(batch)))


def hold(faultline):
    t0 = time.time() - 600
    es = [entry(i, t0 + i * 0.001, line) for i, line in enumerate(TRACEBACK[:-1])]
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "quiet.ndjson")
        write(log, es, "w")
        tail = Tail(faultline, ["--follow", log, "--interval", "100ms", "--window", "2h",
                                "--multiline-hold", "500ms"])
        tail.wait_entries(len(es))
        # Nothing else arrives: the trace is released after the hold, not at the end.
        tail.wait(lambda t: len((t.last() or {}).get("groups", [])) > 0, 10,
                  "the held trace released")
        final = tail.stop()
        check(len(final["groups"]) == 1 and final["groups"][0]["count"] == 1,
              "a trace whose stream went quiet counts once, as one entry (%s)" % groups(final))
        batch = analyze(faultline, [log])
        check(groups(final) == groups(batch), "the same group as analyze of the cut trace")


def filters(faultline):
    t0 = time.time() - 3600
    a, b = [], []
    n = 0
    for k in range(60):  # one entry a minute for an hour, two services, three severities
        t = t0 + k * 60
        svc = "checkout-api" if k % 2 == 0 else "search-api"
        sev = ["INFO", "WARNING", "ERROR"][k % 3]
        text = "upstream connect error or disconnect/reset before headers. reset reason: " \
               "connection timeout" if sev == "ERROR" else "handled request %d" % k
        e = entry(n, t, text, "inst-%d" % (k % 4), "stdout", sev, svc)
        n += 1
        (a if k < 40 else b).append(e)
    # The files overlap: the last 10 of a are also the first 10 of b (an export read twice).
    b = a[-10:] + b
    with tempfile.TemporaryDirectory() as tmp:
        fa, fb = os.path.join(tmp, "a.ndjson"), os.path.join(tmp, "b.ndjson")
        write(fa, a, "w")
        write(fb, b, "w")
        opts = ["--service", "checkout-*", "--since", "30m", "--min-severity", "WARNING"]
        tail = Tail(faultline, ["--follow", fa, "--follow", fb, "--interval", "100ms",
                                "--window", "2h"] + opts)
        tail.wait_entries(60)
        time.sleep(0.3)
        final = tail.stop()
        batch = analyze(faultline, [fa, fb], opts)
        fin, bat = final["input"], batch["input"]
        check(fin["filter"] and fin["filter"] == bat["filter"],
              "the report names the filter as analyze does: %r" % fin["filter"])
        check("service checkout-*" in fin["filter"] and "severity >= WARNING" in fin["filter"],
              "the filter names the service and the severity")
        check(fin["duplicates"] == bat["duplicates"] and fin["duplicates"] > 0,
              "duplicates across the two files: %d, analyze %d" %
              (fin["duplicates"], bat["duplicates"]))
        check(groups(final) == groups(batch),
              "the same groups as analyze\n  tail    %s\n  analyze %s" %
              (groups(final), groups(batch)))
        kept = sum(g["count"] for g in final["groups"])
        check(kept > 0, "some errors pass the filter (%d)" % kept)
        # --until as a duration would move with every entry: refused.
        p = subprocess.run([faultline, "tail", "--until", "5m", "--follow", fa],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20)
        check(p.returncode == 1 and "--until" in p.stderr, "tail --until DURATION is refused")


def main():
    faultline, scenario = sys.argv[1], sys.argv[2]
    if scenario in ("sigterm", "sigkill"):
        restart(faultline, scenario)
    elif scenario == "hold":
        hold(faultline)
    elif scenario == "filters":
        filters(faultline)
    else:
        fail("unknown scenario " + scenario)
    print("PASS " + scenario)


if __name__ == "__main__":
    main()
