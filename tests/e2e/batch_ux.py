#!/usr/bin/env python3
"""End-to-end tests of what a person narrowing an incident relies on (issue 13, batch side):
the input filter (--since/--until/--service/--revision/--min-severity), de-duplication of
overlapping exports, gcloud's default YAML and text output, -o onto an input, --fail-on-cause,
the help, human units in the header, and the report JSON Schema.

Usage: batch_ux.py FAULTLINE SOURCE_ROOT CASE   (CASE "all" runs every case)

Expectations are computed from the input (the shipped sample incident) with Python, never
copied from faultline's output.
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys

import clitest
from clitest import Fail, check, run_cli

FAULTLINE = ""
ROOT = ""
TMP = ""
SAMPLE_REL = "tests/data/incidents/checkout-bad-deploy.json"
SEVERITIES = {"DEFAULT": 0, "DEBUG": 100, "INFO": 200, "NOTICE": 300, "WARNING": 400,
              "ERROR": 500, "CRITICAL": 600, "ALERT": 700, "EMERGENCY": 800}


def run(args, input_bytes=None, env_extra=None):
    stdin = subprocess.DEVNULL if input_bytes is None else None
    return run_cli(FAULTLINE, args, stdin=stdin, input_bytes=input_bytes, env_extra=env_extra)


def analyze_json(args, expect_rc=0, input_bytes=None):
    rc, out, err = run(["analyze", "--format", "json"] + args, input_bytes=input_bytes)
    check(rc == expect_rc, f"analyze {args}: exit {rc}, expected {expect_rc}; stderr:\n{err}")
    try:
        return json.loads(out)
    except ValueError as e:
        raise Fail(f"analyze {args}: not JSON ({e}): {out[:300]}")


def sample():
    return os.path.join(ROOT, SAMPLE_REL)


def entries():
    with open(sample()) as f:
        return json.load(f)


def tmp(name):
    return os.path.join(TMP, name)


def ts(e):
    return e.get("timestamp") or e.get("receiveTimestamp")


def parse_ts(s):
    s = s.rstrip("Z")
    if "." in s:
        head, frac = s.split(".")
        s = head + "." + frac[:6]
    return datetime.datetime.fromisoformat(s).replace(tzinfo=datetime.timezone.utc)


def labels(e):
    return (e.get("resource") or {}).get("labels") or {}


def is_request(e):
    return e.get("logName", "").endswith("%2Frequests")


def effective_severity(e):
    """The severity faultline filters on: Cloud Logging's, or for a DEFAULT entry the level
    its structured logger wrote (pino's numbers in this sample: 50 error, 60 fatal; see
    docs/loggers.md)."""
    sev = SEVERITIES.get(e.get("severity", "DEFAULT"), 0)
    level = (e.get("jsonPayload") or {}).get("level")
    if sev == 0 and isinstance(level, int) and level >= 50:
        return 500 if level < 60 else 600
    return sev


def is_audit(e):
    n = e.get("logName", "")
    return "cloudaudit.googleapis.com" in n


def requests_by_revision(rows):
    out = {}
    for e in rows:
        if not is_request(e):
            continue
        k = (labels(e).get("service_name"), labels(e).get("revision_name"))
        r = out.setdefault(k, [0, 0])
        r[0] += 1
        r[1] += int((e.get("httpRequest") or {}).get("status") or 0) >= 500
    return out


def report_requests(doc):
    return {(r["service"], r["revision"]): [r["requests"], r["requests_5xx"]]
            for r in doc["revisions"] if r["requests"]}


def write_ndjson(rows, path):
    with open(path, "w") as f:
        for e in rows:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    return path


def essence(doc):
    return {k: doc[k] for k in ("window", "changes", "groups", "revisions", "causes")}


# ---- cases ----

def case_filter_since():
    """--since as RFC 3339 and as a duration back from the newest entry: the same entries are
    analysed whatever the order of the input, the thread count, or stdin."""
    rows = entries()
    newest = max(parse_ts(ts(e)) for e in rows)
    cut = newest - datetime.timedelta(minutes=20)
    kept = [e for e in rows if parse_ts(ts(e)) >= cut]
    expect = requests_by_revision(kept)
    check(0 < len(kept) < len(rows), "the sample does not straddle the cut")

    oldest_first = write_ndjson(sorted(rows, key=ts), tmp("old-first.ndjson"))
    newest_first = write_ndjson(sorted(rows, key=ts, reverse=True), tmp("new-first.ndjson"))
    docs = []
    for args in (["--since", "20m", oldest_first], ["--since", "20m", newest_first],
                 ["--since", "20m", "--threads", "1", newest_first],
                 ["--since", "20m", "--threads", "3", oldest_first],
                 ["--since", cut.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), sample()]):
        doc = analyze_json(args)
        check(report_requests(doc) == expect,
              f"{args}: requests per revision {report_requests(doc)}, expected {expect}")
        check(doc["input"]["filtered_out"] == len(rows) - len(kept),
              f"{args}: filtered_out {doc['input']['filtered_out']}, "
              f"expected {len(rows) - len(kept)}")
        check(doc["input"]["filter"] and "since" in doc["input"]["filter"],
              f"{args}: the report does not say which filter was applied: {doc['input']}")
        docs.append(doc)
    for d in docs[1:4]:
        check(essence(d) == essence(docs[0]), "the analysis depends on input order or threads")
    # Standard input is read twice too (spooled to a temporary file).
    with open(newest_first, "rb") as f:
        doc = analyze_json(["--since", "20m"], input_bytes=f.read())
    check(essence(doc) == essence(docs[0]), "--since 20m on stdin differs from the file")
    # Every format names the filter.
    for fmt, needle in (("text", "Filter   since "), ("md", "Filter: ` since "),
                        ("html", 'id="filter"')):
        rc, out, err = run(["analyze", "--format", fmt, "--since", "20m", sample()])
        check(rc == 0 and needle in out, f"{fmt} report does not show the filter ({needle})")
    rc, out, err = run(["analyze", "--since", "3x", sample()])
    check(rc == 1 and "--since" in err and not out, f"bad --since: exit {rc}, {err}")
    rc, out, err = run(["analyze", "--until", "2026-01-01", "--since", "2026-02-01", sample()])
    check(rc == 1 and "after --until" in err, f"since after until: exit {rc}, {err}")


def case_filter_service():
    """--service and --revision globs, --min-severity; change events stay."""
    rows = entries()
    doc = analyze_json(["--service", "orders-*", sample()])
    svcs = {r["service"] for r in doc["revisions"]}
    check(svcs == {"orders-api"}, f"--service orders-*: revisions of {svcs}")
    expect = requests_by_revision([e for e in rows if labels(e).get("service_name") == "orders-api"])
    check(report_requests(doc) == expect, "orders-api request counts differ from the input")
    check("service orders-*" in doc["input"]["filter"], doc["input"]["filter"])

    revs = sorted({labels(e).get("revision_name") for e in rows
                   if labels(e).get("service_name") == "checkout-api"
                   and labels(e).get("revision_name")})
    doc = analyze_json(["--revision", revs[0], "--revision", revs[-1] + "*", sample()])
    got = {r["revision"] for r in doc["revisions"] if r["requests"]}
    check(got == {revs[0], revs[-1]}, f"--revision twice: {got}, expected {revs[0]}, {revs[-1]}")

    doc = analyze_json(["--min-severity", "error", sample()])
    kept = [e for e in rows if is_audit(e) or effective_severity(e) >= 500]
    check(doc["input"]["filtered_out"] == len(rows) - len(kept),
          f"--min-severity error: filtered_out {doc['input']['filtered_out']}, "
          f"expected {len(rows) - len(kept)}")
    check(any(c["kind"] == "deploy" for c in doc["changes"]),
          "--min-severity dropped the deploy (change events must stay)")
    rc, out, err = run(["analyze", "--min-severity", "loud", sample()])
    check(rc == 1 and "--min-severity" in err, f"bad severity: exit {rc}")
    # classify takes the same filter.
    rc, out, err = run(["classify", "--all", "--service", "orders-api", sample()])
    lines = [json.loads(x) for x in out.splitlines()]
    check(rc == 0 and lines and all(x["service"] in ("orders-api", "") for x in lines),
          f"classify --service: {set(x['service'] for x in lines)}")


def case_dedup():
    """Overlapping exports: every entry counted once, whatever the order and thread count."""
    rows = sorted(entries(), key=ts)
    half = len(rows) // 2
    a = write_ndjson(rows[: half + 400], tmp("a.ndjson"))  # 400 entries in both files
    b = write_ndjson(rows[half:], tmp("b.ndjson"))
    ref = analyze_json([sample()])
    expect = requests_by_revision(rows)
    docs = []
    for args in ([a, b], [b, a], ["--threads", "1", b, a], ["--threads", "4", a, b],
                 [sample(), a]):
        doc = analyze_json(args)
        check(report_requests(doc) == expect,
              f"{args}: requests {report_requests(doc)} != input {expect}")
        docs.append(doc)
    for d in docs[:4]:
        check(d["input"]["duplicates"] == 400,
              f"duplicates {d['input']['duplicates']}, expected 400")
        check(essence(d) == essence(ref), "merged overlapping exports differ from the original")
    check(docs[4]["input"]["duplicates"] == half + 400, "sample + a: duplicates")
    rc, out, _ = run(["analyze", a, b])
    check("400 duplicate entries dropped" in out, "text report does not count the duplicates")
    doc = analyze_json(["--keep-duplicates", a, b])
    check(doc["input"]["duplicates"] == 0 and report_requests(doc) != expect,
          "--keep-duplicates still de-duplicates")


def yaml_docs(rows, literal_blocks):
    """rows as `gcloud logging read` prints them without --format=json: one block-style YAML
    document per entry, "---" between them, keys sorted; multi-line strings as literal blocks
    (literal_blocks) or as PyYAML's default quoted form."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(d, data):
        style = "|" if literal_blocks and "\n" in data else None
        return d.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump_all(rows, Dumper=Dumper, sort_keys=True, allow_unicode=True,
                         width=72).encode()


def real_entries():
    with open("/work/shared/samples/logentries.ndjson") as f:
        return [json.loads(x) for x in f if x.strip()]


def case_gcloud_formats():
    """gcloud's default YAML is read like the JSON it stands for; `gcloud run services logs
    read` text is refused with exit 2, a hint, and no empty report on stdout."""
    rows = entries()
    ref = analyze_json([sample()])
    for literal in (True, False):
        p = tmp(f"export-{literal}.yaml")
        with open(p, "wb") as f:
            f.write(yaml_docs(rows, literal))
        doc = analyze_json([p])
        check(essence(doc) == essence(ref), f"YAML (literal blocks {literal}) analysed "
              "differently from the JSON export")
        check(doc["input"]["entries"] == len(rows), "YAML entries miscounted")
    with open(tmp("export-True.yaml"), "rb") as f:
        doc = analyze_json([], input_bytes=b"---\n" + f.read())
    check(essence(doc) == essence(ref), "YAML on stdin (leading ---) differs")
    # Real Cloud Logging entries (multi-line stack traces, unicode): classify sees the same
    # entries, field for field, from YAML as from JSON.
    if os.path.exists("/work/shared/samples/logentries.ndjson"):
        real = real_entries()
        nd = write_ndjson(real, tmp("real.ndjson"))
        want = sorted(run(["classify", "--all", "--no-redact", "--no-multiline", nd])[1]
                      .splitlines())
        for literal in (True, False):
            yp = tmp(f"real-{literal}.yaml")
            with open(yp, "wb") as f:
                f.write(yaml_docs(real, literal))
            got = sorted(run(["classify", "--all", "--no-redact", "--no-multiline", yp])[1]
                         .splitlines())
            check(got == want, f"real entries from YAML (literal {literal}) differ from JSON")
    # A damaged document is one malformed record naming its line; the others are read.
    docs = yaml_docs(rows[:20], True).split(b"\n---\n")
    docs[3] = b"insertId: x\n  bad: [1, 2]\nlogName: 'unterminated\n"
    p = tmp("damaged.yaml")
    with open(p, "wb") as f:
        f.write(b"\n---\n".join(docs))
    doc = analyze_json([p], expect_rc=3)
    check(doc["input"]["entries"] == 19 and doc["input"]["malformed"] == 1,
          f"damaged YAML: {doc['input']['entries']} entries, {doc['input']['malformed']} malformed")
    check(doc["input"]["warnings"][0]["line"] > 1, "the warning does not name the line")

    text_lines = "".join(
        f"{ts(e)[:10]} {ts(e)[11:19]} {(e.get('httpRequest') or {}).get('requestMethod', '')} "
        f"{(e.get('httpRequest') or {}).get('status', '')} "
        f"{(e.get('httpRequest') or {}).get('requestUrl', e.get('textPayload', ''))}\n"
        for e in rows[:50])
    for cmd in (["analyze"], ["analyze", "--format", "json"], ["postmortem"]):
        rc, out, err = run(cmd, input_bytes=text_lines.encode())
        check(rc == 2, f"run logs text {cmd}: exit {rc}, expected 2; {err}")
        check(out == "", f"run logs text {cmd}: wrote a report to stdout: {out[:200]}")
        check("gcloud logging read" in err and "--format=json" in err,
              f"run logs text {cmd}: no hint on stderr: {err}")


def case_output_clash():
    """-o naming an input (or a path inside an input directory) is refused, the input kept."""
    p = write_ndjson(entries(), tmp("incident.ndjson"))
    before = open(p, "rb").read()
    for cmd in (["analyze"], ["postmortem"], ["classify"]):
        rc, out, err = run(cmd + ["-o", p, p])
        check(rc == 1 and "overwrite" in err, f"{cmd} -o INPUT: exit {rc}, {err}")
        check(open(p, "rb").read() == before, f"{cmd} -o INPUT changed the export")
    d = tmp("logs")
    os.mkdir(d)
    write_ndjson(entries(), os.path.join(d, "x.json"))
    rc, out, err = run(["analyze", "-o", os.path.join(d, "report.txt"), d])
    check(rc == 1 and not os.path.exists(os.path.join(d, "report.txt")),
          f"-o inside the input directory: exit {rc}")
    rc, out, err = run(["analyze", "-o", tmp("report.txt"), p])
    check(rc == 0 and os.path.exists(tmp("report.txt")), "a separate -o path was refused")


def case_fail_on_cause():
    rc, _, _ = run(["analyze", "-q", sample()])
    check(rc == 0, f"without --fail-on-cause: exit {rc}")
    rc, out, _ = run(["analyze", "--fail-on-cause", sample()])
    check(rc == 4 and "MOST LIKELY CAUSE" in out, f"--fail-on-cause with a cause: exit {rc}")
    rc, out, _ = run(["postmortem", "--fail-on-cause", sample()])
    check(rc == 4 and out, f"postmortem --fail-on-cause: exit {rc}")
    flgen = os.environ.get("FLGEN")
    if flgen:
        p = tmp("healthy.ndjson")
        subprocess.run([flgen, "--scenario", "healthy", "--seed", "1", "--out", p], check=True)
        rc, _, _ = run(["analyze", "--fail-on-cause", p])
        check(rc == 0, f"--fail-on-cause on a healthy hour: exit {rc}")


def case_help():
    """User help: the new options with an example each; internal flags and build paths out."""
    for cmd in ("analyze", "classify", "postmortem"):
        rc, out, _ = run([cmd, "--help"])
        check(rc == 0, f"{cmd} --help: exit {rc}")
        for opt in ("--since", "--until", "--service", "--revision", "--min-severity"):
            check(opt in out, f"{cmd} --help lacks {opt}")
        check("--slow-json" not in out, f"{cmd} --help shows the internal --slow-json")
        check("--since" in out.split("Example")[-1] or "--service" in out.split("Example")[-1],
              f"{cmd} --help has no example of the filter")
    rc, out, _ = run(["analyze", "--help"])
    check("--fail-on-cause" in out and "4  a confident cause" in out, "exit code 4 not in help")
    rc, out, _ = run(["patterns", "--help"])
    check(rc == 0 and ROOT not in out and "/build" not in out,
          f"patterns --help prints a build-tree path: {out}")
    rc, out, _ = run(["--version"])
    check(rc == 0 and "PCRE2" in out and "JIT" in out and "jansson" in out,
          f"--version lacks library versions / JIT: {out}")


def span_entries(span_seconds, n=400):
    """n request entries spread evenly over span_seconds, the last 10% of them 5xx."""
    start = datetime.datetime(2023, 12, 30, 22, 0, tzinfo=datetime.timezone.utc)
    rows = []
    for i in range(n):
        t = start + datetime.timedelta(seconds=span_seconds * i / (n - 1))
        status = 500 if i > n * 0.9 else 200
        rows.append({
            "insertId": f"span-{i}",
            "logName": "projects/p/logs/run.googleapis.com%2Frequests",
            "resource": {"type": "cloud_run_revision",
                         "labels": {"service_name": "cart-api", "revision_name": "cart-api-00001-abc",
                                    "location": "us-central1"}},
            "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity": "ERROR" if status >= 500 else "INFO",
            "httpRequest": {"requestMethod": "GET", "status": status,
                            "requestUrl": f"https://cart-api.run.app/api/v1/cart/{48000 + i}"},
        })
    return rows


def case_human_window():
    """The text header says how long the window is in units a person reads."""
    for seconds, want in ((300, "(5 min"), (3 * 86400, "(3 d"), (3 * 365 * 86400, "years")):
        p = write_ndjson(span_entries(seconds), tmp(f"span{seconds}.ndjson"))
        rc, out, err = run(["analyze", p])
        header = [x for x in out.splitlines() if x.startswith("Window")]
        check(rc == 0 and header, f"{seconds}s: exit {rc}, {err}")
        check(want in header[0] and " s buckets" not in header[0],
              f"{seconds}s: header {header[0]!r} lacks {want!r} or uses raw seconds")


def case_routes():
    """HTTP errors group by route template; classify prints the request line; the HTML legend
    and the text report name groups, never fp: hashes."""
    rows = entries()
    failing = {}
    for e in rows:
        h = e.get("httpRequest") or {}
        if is_request(e) and int(h.get("status") or 0) >= 500:
            path = re.sub(r"^https?://[^/]+", "", h["requestUrl"]).split("?")[0]
            route = "/".join("<id>" if seg.isdigit() else seg for seg in path.split("/"))
            key = f"HTTP {h['status']} {h['requestMethod']} {route}"
            failing[key] = failing.get(key, 0) + 1
    doc = analyze_json([sample()])
    got = {g["title"]: g["count"] for g in doc["groups"] if g["title"].startswith("HTTP ")}
    # Single requests may match a rule (a 504 is a request_timeout); every repeated one groups
    # by its route.
    for key, n in failing.items():
        if n < 2:
            continue
        check(got.get(key) == n, f"group {key!r}: {got.get(key)} in the report, {n} in the input")
    rc, out, _ = run(["classify", sample()])
    lines = [json.loads(x) for x in out.splitlines()]
    req = [x for x in lines if x["class"] is None and x["severity"] == "ERROR"
           and "/api/" in x["message"]]
    check(req and all(x["message"] for x in lines), "classify prints empty messages")
    check(re.match(r"^(GET|POST|PUT|DELETE) \S+ -> 5\d\d$", req[0]["message"]),
          f"classify request line: {req[0]['message']!r}")
    rc, html, _ = run(["analyze", "--format", "html", sample()])
    visible = re.sub(r'data-group="[^"]*"', "", html)
    check("fp:" not in visible, "the HTML report shows fp: hashes")
    check("/api/v1/cart/&lt;id&gt;" in visible, "the HTML legend does not name the route")
    rc, text, _ = run(["analyze", sample()])
    check("fp:" not in text and "/api/v1/cart/<id>" in text, "text report: routes / fp: hashes")


def case_postmortem_window():
    """A 12-minute burst of errors in a year of logs, with the same error coming back once a
    month afterwards: the postmortem's Duration is the burst (onset to recovery), not months,
    and no report names a group by its fp: hash."""
    start = datetime.datetime(2025, 3, 1, tzinfo=datetime.timezone.utc)
    rows = []

    def req(i, t, status):
        rows.append({
            "insertId": f"r{i}", "logName": "projects/p/logs/run.googleapis.com%2Frequests",
            "resource": {"type": "cloud_run_revision",
                         "labels": {"service_name": "cart-api", "revision_name": "cart-api-00007-x",
                                    "location": "europe-west1"}},
            "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity": "ERROR" if status >= 500 else "INFO",
            "httpRequest": {"requestMethod": "POST", "status": status,
                            "requestUrl": f"https://cart.run.app/api/v1/cart/{1000 + i}/items"}})

    for i in range(2000):  # background traffic over a year
        req(i, start + datetime.timedelta(hours=4.38 * i), 200)
    burst = start + datetime.timedelta(days=40, hours=3)
    for i in range(60):  # the incident: 12 minutes of 500s
        req(10000 + i, burst + datetime.timedelta(seconds=12 * i), 500)
    for m in range(1, 9):  # the same failure, once a month afterwards
        req(20000 + m, burst + datetime.timedelta(days=30 * m), 500)
    p = write_ndjson(rows, tmp("year.ndjson"))
    rc, out, err = run(["postmortem", p])
    check(rc == 0, f"postmortem exit {rc}: {err}")
    dur = [x for x in out.splitlines() if x.startswith("**Duration**")]
    # A year of logs is counted in 8.5-hour buckets: the end of the burst is known to one of
    # them, and the draft says so and how to get minutes.
    check(dur and re.search(r"at most \d+ h( \d+ min)? ", dur[0]) and "--since" in dur[0],
          f"postmortem Duration over a year of logs: {dur}")
    rc, narrow, _ = run(["postmortem", "--since", "2025-04-10", "--until", "2025-04-11", p])
    dur = [x for x in narrow.splitlines() if x.startswith("**Duration**")]
    check(dur and re.search(r"\*\*Duration\*\*: 1[12] min", dur[0]),
          f"postmortem Duration with --since/--until around the burst: {dur}")
    check("fp:" not in out, "the postmortem names a group by its fp: hash")
    check("/api/v1/cart/<id>/items" in out, "the postmortem does not name the failing route")
    for fmt in ("text", "md"):
        rc, out, _ = run(["analyze", "--format", fmt, p])
        check("fp:" not in out, f"the {fmt} report names a group by its fp: hash")
        if fmt == "text":
            check("2025-" in out.split("Top error")[0],
                  "a year-long window's summary times have no year")
            table = out.split("Top error groups")[1].splitlines()[2]
            check(re.search(r"\b2025-04-10\s+2025-12-06\b", table),
                  f"the group table of a window across a year has no years: {table!r}")


def case_links():
    """Each cause links to its Logs Explorer query and its service's Cloud Run revisions page,
    built from the project and region the entries carry."""
    rows = entries()
    project = sorted({labels(e).get("project_id") for e in rows if labels(e).get("project_id")})[0]
    doc = analyze_json([sample()])
    c = doc["causes"][0]
    region = {labels(e).get("location") for e in rows
              if labels(e).get("service_name") == c["service"]} - {None}
    links = c["links"]
    ex = links["logs_explorer"] or ""
    check(ex.startswith("https://console.cloud.google.com/logs/query;query=")
          and ex.endswith(f"?project={project}") and c["service"] in ex and c["revision"] in ex
          and ";timeRange=" in ex, f"logs_explorer link: {ex}")
    want = (f"https://console.cloud.google.com/run/detail/{region.pop()}/{c['service']}"
            f"/revisions?project={project}")
    check(links["revisions"] == want, f"revisions link {links['revisions']}, expected {want}")
    rc, text, _ = run(["analyze", sample()])
    check(ex in text and want in text, "the text report does not print the links whole")
    rc, md, _ = run(["analyze", "--format", "md", sample()])
    check(f"[Logs Explorer]({ex})" in md, "the Markdown report has no Logs Explorer link")


def case_schema():
    """docs/report.schema.json accepts faultline's reports and rejects broken ones (every
    report a test produces goes through it in clitest.run_cli)."""
    before = clitest.reports_validated
    doc = analyze_json([sample()])
    analyze_json(["--since", "10m", "--service", "checkout-api", sample()])
    check(clitest.reports_validated == before + 2, "run_cli did not validate the reports")
    for label, broken in (("no causes", {k: v for k, v in doc.items() if k != "causes"}),
                          ("bad time", dict(doc, window=dict(doc["window"], start="yesterday"))),
                          ("bad kind", dict(doc, causes=[dict(doc["causes"][0], kind="bad")]))):
        try:
            clitest.validate_report(broken, label)
        except Fail:
            continue
        raise Fail(f"the schema accepted a report with {label}")


def case_completions():
    """bash/zsh/fish completion and the man page, generated at build time from the option
    tables (through --help): they offer every user option and its values, never internal ones."""
    d = os.path.join(os.path.dirname(FAULTLINE), "completions")
    rc, helptext, _ = run(["analyze", "--help"])
    opts = re.findall(r"^  (?:-\w, |    )(--[a-z-]+)", helptext, re.M)
    opts = [o for o in opts if o != "--help"]
    check(len(opts) > 15, f"analyze --help lists only {opts}")

    def bash_complete(words):
        script = (f"source {os.path.join(d, 'faultline')}; COMP_WORDS=({words}); "
                  "COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _faultline; echo \"${COMPREPLY[@]}\"")
        p = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(p.returncode == 0, f"bash completion failed: {p.stderr.decode()}")
        return p.stdout.decode().split()

    got = bash_complete("faultline analyze --")
    check(set(opts) <= set(got), f"bash completes {sorted(set(opts) - set(got))} not")
    check("--slow-json" not in got, "bash completion offers the internal --slow-json")
    _, top, _ = run(["--help"])
    formats = re.search(r"Report formats: (.*)", top).group(1).split()
    check(bash_complete("faultline analyze --format ''") == formats,
          f"bash does not complete --format values {formats}")
    check("ERROR" in bash_complete("faultline classify --min-severity E"),
          "bash does not complete --min-severity levels")
    check(bash_complete("faultline pat") == ["patterns"], "bash does not complete commands")
    zsh = open(os.path.join(d, "_faultline")).read()
    check(zsh.startswith("#compdef faultline") and all(o in zsh for o in opts),
          "zsh completion lacks options")
    fish = open(os.path.join(d, "faultline.fish")).read()
    check(all(f"-l {o[2:]}" in fish for o in opts), "fish completion lacks options")
    man = os.path.join(d, "faultline.1")
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", man], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        text = re.sub(r".\x08", "", p.stdout.decode())
        check(p.returncode == 0 and not p.stderr, f"groff warns: {p.stderr.decode()[:300]}")
        check(all(o in text for o in opts) and "EXIT STATUS" in text,
              "the man page lacks options or the exit status")


def case_slack():
    """--format slack: mrkdwn that reads right when pasted into Slack: no Markdown escapes,
    headings or tables; the command in a code block; log text escaped (&, <, >)."""
    rows = entries()
    bad = [e for e in rows if labels(e).get("revision_name") and not is_request(e)][0]
    planted = []
    for i in range(300):  # enough to be among the top error groups
        e = dict(bad, insertId=f"slack-{i}", severity="ERROR",
                 textPayload="render failed: <script>alert(1)</script> & `rm -rf` now")
        e.pop("jsonPayload", None)
        planted.append(e)
    p = write_ndjson(rows + planted, tmp("slack.ndjson"))
    rc, out, err = run(["analyze", "--format", "slack", "--title", "cart <down> & out", p])
    check("*cart &lt;down&gt; &amp; out*" in out, "the title is not escaped for Slack")
    # The group is named by its template (numbers, paths and quoted strings masked).
    check("`render failed: &lt;script&gt;alert(&lt;num&gt;)" in out and "&amp;" in out,
          f"log text not escaped inside a code span: {out[-600:]}")
    check(rc == 0 and out, f"--format slack: exit {rc}, {err}")
    for md in ("\\_", "\\#", "**", "\n#", "|---", "<details>"):
        check(md not in out, f"Slack output contains Markdown {md!r}")
    check("<script>" not in out, "raw < > from log text in the Slack message")
    check(re.search(r"```\ngcloud run services update-traffic \S+ --region=\S+ "
                    r"--to-revisions=\S+=100\n```", out),
          "the rollback command is not in a code block")
    check(re.search(r"<https://console\.cloud\.google\.com/logs/query;[^|>]+\|Logs Explorer>",
                    out), "no Slack link to the Logs Explorer")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def _set_tmp(d):
    global TMP
    TMP = d


def main():
    global FAULTLINE, ROOT
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    FAULTLINE, ROOT, which = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    ROOT = os.path.abspath(ROOT)
    return clitest.run_cases(dict(sorted(CASES.items())), which, "fl-ux-", _set_tmp)


if __name__ == "__main__":
    sys.exit(main())
