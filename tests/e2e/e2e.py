#!/usr/bin/env python3
"""End-to-end tests: drive the real faultline binary on every input shape and on broken input.

Usage: e2e.py FAULTLINE SOURCE_ROOT CASE   (CASE "all" runs every case)

Expectations are computed from the input itself (entry counts, per-revision requests and 5xx,
the revision with the worst error rate and the one that served before it), never copied from
faultline's own output. Inputs in other shapes (NDJSON, .gz, .zst, a sink directory tree,
stdin, damaged files) are derived from the shipped sample incident at test time.
"""

import gzip
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
SAMPLE_REL = "tests/data/incidents/checkout-bad-deploy.json"
TMP = ""


def run(args, stdin=None, env_extra=None, input_bytes=None):
    if stdin is None and input_bytes is None:
        stdin = subprocess.DEVNULL
    return run_cli(FAULTLINE, args, stdin=stdin, input_bytes=input_bytes, env_extra=env_extra)


def analyze_json(args, expect_rc=0, **kw):
    rc, out, err = run(["analyze", "--format", "json"] + args, **kw)
    check(rc == expect_rc, f"analyze {args}: exit {rc}, expected {expect_rc}; stderr:\n{err}")
    try:
        return json.loads(out), err
    except ValueError as e:
        raise Fail(f"analyze {args}: output is not JSON ({e}); stderr:\n{err}\n{out[:500]}")


# ---- facts about the input, computed independently of faultline ----

def sample_path():
    return os.path.join(ROOT, SAMPLE_REL)


def load_entries():
    with open(sample_path()) as f:
        data = json.load(f)
    check(isinstance(data, list) and data, "sample incident is not a non-empty JSON array")
    return data


def ts(e):
    return e.get("timestamp") or e.get("receiveTimestamp") or ""


def labels(e):
    return (e.get("resource") or {}).get("labels") or {}


def is_request(e):
    name = e.get("logName", "")
    if name:
        return name.endswith("%2Frequests") or name.endswith("/requests")
    return "httpRequest" in e


def revision_stats(entries):
    """(service, revision) -> {requests, r5xx, first}"""
    stats = {}
    for e in entries:
        lab = labels(e)
        svc, rev = lab.get("service_name", ""), lab.get("revision_name", "")
        if not rev:
            continue
        s = stats.setdefault((svc, rev), {"requests": 0, "r5xx": 0, "first": ts(e)})
        s["first"] = min(s["first"], ts(e))
        if is_request(e):
            s["requests"] += 1
            if int((e.get("httpRequest") or {}).get("status") or 0) >= 500:
                s["r5xx"] += 1
    return stats


def bad_and_previous(entries):
    """The revision with the worst 5xx rate (the bad deploy) and the revision of the same
    service that appeared last before it (the rollback target)."""
    stats = revision_stats(entries)
    cands = [(k, v) for k, v in stats.items() if v["requests"] >= 20]
    check(cands, "sample has no revision with traffic")
    (svc, bad), bs = max(cands, key=lambda kv: kv[1]["r5xx"] / kv[1]["requests"])
    before = [(v["first"], rev) for (s, rev), v in stats.items()
              if s == svc and rev != bad and v["first"] < bs["first"]]
    check(before, f"no revision of {svc} before {bad}")
    return svc, bad, max(before)[1]


def to_ndjson(entries, path, oldest_first=True):
    rows = sorted(entries, key=ts, reverse=not oldest_first)
    with open(path, "w") as f:
        for e in rows:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    return path


def tmp(name):
    return os.path.join(TMP, name)


# ---- shared assertions ----

def assert_incident(doc, entries, label, exact_entries=True):
    svc, bad, prev = bad_and_previous(entries)
    inp = doc["input"]
    if exact_entries:
        check(inp["entries"] == len(entries),
              f"{label}: input.entries {inp['entries']} != {len(entries)} entries in the input")
    check(inp["malformed"] == 0 and inp["truncated"] == [],
          f"{label}: clean input reported as damaged: {inp}")
    check(doc["causes"], f"{label}: no causes")
    c = doc["causes"][0]
    check(c["rank"] == 1, f"{label}: first cause has rank {c['rank']}")
    check(c["kind"] == "deploy" and c["revision"] == bad,
          f"{label}: cause #1 is {c['kind']} {c['revision']}, expected deploy {bad}")
    check(c["previous_revision"] == prev,
          f"{label}: previous_revision {c['previous_revision']}, expected {prev}")
    check(doc["confident"], f"{label}: not confident about the bad deploy")
    rollback = [a for a in c["actions"] if "update-traffic" in a]
    check(rollback and svc in rollback[0] and f"--to-revisions={prev}=100" in rollback[0],
          f"{label}: no rollback command to {prev} in {c['actions']}")
    # Per-revision traffic equals what the input holds.
    stats = revision_stats(entries)
    got = {(r["service"], r["revision"]): r for r in doc["revisions"]}
    for key, s in stats.items():
        if s["requests"] == 0:
            continue
        check(key in got, f"{label}: revision {key} missing from revisions[]")
        check(got[key]["requests"] == s["requests"] and got[key]["requests_5xx"] == s["r5xx"],
              f"{label}: {key} requests/5xx {got[key]['requests']}/{got[key]['requests_5xx']}, "
              f"input has {s['requests']}/{s['r5xx']}")
    return svc, bad, prev


def essence(doc):
    """What must not depend on the input's shape or order."""
    return {
        "window": doc["window"],
        "changes": doc["changes"],
        "groups": [(g["key"], g["count"], g["first_seen"], g["last_seen"]) for g in doc["groups"]],
        "revisions": doc["revisions"],
        "causes": doc["causes"],
        "entries": doc["input"]["entries"],
    }


def assert_same(a, b, label):
    ea, eb = essence(a), essence(b)
    for k in ea:
        check(ea[k] == eb[k], f"{label}: '{k}' differs from the reference analysis:\n"
              f"{json.dumps(ea[k])[:600]}\nvs\n{json.dumps(eb[k])[:600]}")


_reference = None


def reference():
    """The analysis of the shipped array, the yardstick the other shapes are compared to."""
    global _reference
    if _reference is None:
        _reference, _ = analyze_json([sample_path()])
    return _reference


# ---- cases ----

def case_array():
    entries = load_entries()
    # The shipped file must be what gcloud writes: a pretty-printed array, newest first.
    with open(sample_path()) as f:
        head = f.read(4096)
    check(head.lstrip().startswith("[") and "\n" in head.strip()[:200],
          "sample is not a pretty-printed JSON array")
    check(ts(entries[0]) >= ts(entries[-1]), "sample array is not newest first")
    # The generator's ground truth, when shipped, must agree with the oracle computed here
    # from the raw entries (two independent sources for "which revision is bad").
    truth_path = sample_path().replace(".json", ".truth.json")
    if os.path.exists(truth_path):
        with open(truth_path) as f:
            want = json.load(f)["expected"]
        got = dict(zip(("service", "revision", "previous_revision"), bad_and_previous(entries)))
        for k, v in got.items():
            check(want.get(k) == v, f"oracle says {k}={v}, ground truth says {want.get(k)}")
    doc, _ = analyze_json(["--no-multiline", sample_path()])
    assert_incident(doc, entries, "array --no-multiline")
    doc, _ = analyze_json([sample_path()])
    assert_incident(doc, entries, "array", exact_entries=False)


def case_ndjson():
    entries = load_entries()
    p = to_ndjson(entries, tmp("incident.ndjson"))
    doc, _ = analyze_json([p])
    assert_incident(doc, entries, "ndjson", exact_entries=False)
    assert_same(doc, reference(), "ndjson vs array")
    doc, _ = analyze_json(["--no-multiline", p])
    check(doc["input"]["entries"] == len(entries), "ndjson --no-multiline: entry count")


def case_gzip():
    entries = load_entries()
    p = to_ndjson(entries, tmp("incident.ndjson"))
    subprocess.run(["gzip", "-k", "-f", p], check=True)
    doc, _ = analyze_json([p + ".gz"])
    assert_incident(doc, entries, "ndjson.gz", exact_entries=False)
    assert_same(doc, reference(), "ndjson.gz vs array")
    # A gzipped pretty array, as `gcloud ... --format=json | gzip` makes.
    shutil.copy(sample_path(), tmp("array.json"))
    subprocess.run(["gzip", "-f", tmp("array.json")], check=True)
    doc, _ = analyze_json([tmp("array.json.gz")])
    assert_same(doc, reference(), "array.json.gz vs array")


def case_zstd():
    entries = load_entries()
    p = to_ndjson(entries, tmp("incident.ndjson"))
    subprocess.run(["zstd", "-q", "-f", p, "-o", p + ".zst"], check=True)
    doc, _ = analyze_json([p + ".zst"])
    assert_incident(doc, entries, "ndjson.zst", exact_entries=False)
    assert_same(doc, reference(), "ndjson.zst vs array")
    subprocess.run(["zstd", "-q", "-f", sample_path(), "-o", tmp("array.json.zst")], check=True)
    doc, _ = analyze_json([tmp("array.json.zst")])
    assert_same(doc, reference(), "array.json.zst vs array")


def sink_tree(entries, root):
    """Lays entries out as a Cloud Logging sink writes them to Cloud Storage:
    <log id>/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json, one JSON entry per line."""
    files = {}
    for e in sorted(entries, key=ts):
        log_id = e.get("logName", "").split("/logs/")[-1].replace("%2F", "/") or "other"
        t = ts(e)
        day, hour = t[:10].replace("-", "/"), t[11:13]
        path = os.path.join(root, log_id, day, f"{hour}:00:00_{hour}:59:59_S0.json")
        files.setdefault(path, []).append(e)
    for path, rows in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            for e in rows:
                f.write(json.dumps(e, separators=(",", ":")) + "\n")
    return sorted(files)


def case_directory():
    entries = load_entries()
    root = tmp("sink")
    files = sink_tree(entries, root)
    check(any("run.googleapis.com/stderr/" in f for f in files), "tree has no stderr log")
    doc, _ = analyze_json([root])
    assert_incident(doc, entries, "directory", exact_entries=False)
    check(doc["input"]["files"] == len(files),
          f"directory: input.files {doc['input']['files']} != {len(files)} files in the tree")
    assert_same(doc, reference(), "directory vs array")
    # Two inputs (part of the tree and the rest as a file) merge into one analysis.
    doc2, _ = analyze_json([os.path.join(root, "run.googleapis.com")] +
                           [f for f in files if "/run.googleapis.com/" not in f])
    assert_same(doc2, reference(), "split inputs vs array")


def case_stdin():
    entries = load_entries()
    p = to_ndjson(entries, tmp("incident.ndjson"))
    with open(p, "rb") as f:
        doc, _ = analyze_json(["-"], stdin=f)
    assert_incident(doc, entries, "stdin -", exact_entries=False)
    assert_same(doc, reference(), "stdin vs array")
    # No input argument at all also means stdin; the pretty array works there too.
    with open(sample_path(), "rb") as f:
        doc, _ = analyze_json([], stdin=f)
    assert_same(doc, reference(), "stdin (array, no argument) vs array")


def case_malformed():
    entries = load_entries()
    p = to_ndjson(entries, tmp("bad.ndjson"))
    with open(p) as f:
        lines = f.readlines()
    bad_lines = [5, len(lines) // 2]
    for n in bad_lines:
        lines[n - 1] = '{"timestamp": "2026-11-20T10:00:00Z", "textPayload": broken\n'
    with open(p, "w") as f:
        f.writelines(lines)
    doc, err = analyze_json(["--no-multiline", p], expect_rc=3)
    inp = doc["input"]
    check(inp["malformed"] == len(bad_lines), f"malformed count {inp['malformed']}")
    check(inp["entries"] == len(entries) - len(bad_lines),
          f"entries {inp['entries']}, expected {len(entries) - len(bad_lines)}")
    where = {(w["file"], w["line"]) for w in inp["warnings"] if w["kind"] == "malformed"}
    for n in bad_lines:
        check((p, n) in where, f"no malformed warning for {p}:{n} in {inp['warnings']}")
    check(f"{p}:{bad_lines[0]}" in err, f"stderr does not name {p}:{bad_lines[0]}:\n{err}")
    # The text report still ranks the incident and names the damage.
    rc, out, _ = run(["analyze", "--no-multiline", p])
    check(rc == 3, f"text report exit {rc}")
    check(f"{p}:{bad_lines[0]}" in out, "text report does not name the malformed line")
    check("MOST LIKELY CAUSE" in out, "text report lost the cause on partial input")


def truncate_file(path, fraction):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(int(size * fraction))


def check_truncated_report(path, n_entries):
    """The JSON report of a cut compressed file: exit 3, the file listed as truncated, and the
    entries before the damage counted."""
    doc, _ = analyze_json([path], expect_rc=3)
    inp = doc["input"]
    check(path in inp["truncated"], f"truncated[] is {inp['truncated']}")
    check(0 < inp["entries"] < n_entries,
          f"entries before the damage: {inp['entries']} of {n_entries}")


def case_truncated_gz():
    entries = load_entries()
    p = to_ndjson(entries, tmp("cut.ndjson"))
    subprocess.run(["gzip", "-f", p], check=True)
    truncate_file(p + ".gz", 0.6)
    check_truncated_report(p + ".gz", len(entries))
    rc, out, _ = run(["analyze", p + ".gz"])
    check(rc == 3 and "truncated" in out, "text report does not say truncated")
    rc, out, _ = run(["analyze", "--format", "md", p + ".gz"])
    check(rc == 3 and "Truncated" in out, "markdown report does not say truncated")


def case_truncated_zst():
    entries = load_entries()
    p = to_ndjson(entries, tmp("cut.ndjson"))
    subprocess.run(["zstd", "-q", "-f", "--rm", p, "-o", p + ".zst"], check=True)
    truncate_file(p + ".zst", 0.6)
    check_truncated_report(p + ".zst", len(entries))


def case_oversize():
    entries = load_entries()
    p = to_ndjson(entries, tmp("big.ndjson"))
    huge = dict(entries[0])
    huge.pop("jsonPayload", None)
    huge["textPayload"] = "x" * (1536 * 1024)
    with open(p, "a") as f:
        f.write(json.dumps(huge) + "\n")
    doc, _ = analyze_json(["--no-multiline", p], expect_rc=3)
    inp = doc["input"]
    check(inp["oversize"] == 1, f"oversize {inp['oversize']}")
    check(inp["entries"] == len(entries), f"entries {inp['entries']} != {len(entries)}")
    check(any(w["kind"] == "oversize" and w["file"] == p for w in inp["warnings"]),
          f"no oversize warning naming {p}")


def case_unreadable():
    missing = tmp("does-not-exist.json")
    rc, out, err = run(["analyze", missing])
    check(rc == 2, f"nothing readable: exit {rc}, expected 2; stderr {err}")
    check(missing in err, "stderr does not name the unreadable path")
    # One good input and one missing: partial (3), the report is written.
    doc, _ = analyze_json([missing, sample_path()], expect_rc=3)
    check(doc["input"]["unreadable"] == 1, f"unreadable {doc['input']['unreadable']}")
    check(doc["causes"] and doc["causes"][0]["kind"] == "deploy", "partial run lost the cause")
    # A file that holds nothing valid at all.
    junk = tmp("junk.json")
    with open(junk, "w") as f:
        f.write("this is not json\nneither is this\n")
    rc, _, err = run(["analyze", "--format", "json", junk])
    check(rc == 2, f"all-malformed input: exit {rc}, expected 2")


def write_rule_file(path, regex):
    rule = {
        "id": "e2e_broken.rule",
        "class": "e2e_broken",
        "title": "deliberately broken rule",
        "severity": "ERROR",
        "implies": "dependency",
        "regex": [regex],
        "remediation": ["nothing"],
    }
    with open(path, "w") as f:
        json.dump({"rules": [rule]}, f, indent=2)


def case_bad_patterns():
    d = tmp("badrules")
    os.makedirs(d)
    f = os.path.join(d, "broken.json")
    write_rule_file(f, "connection (refused")
    rc, out, err = run(["analyze", "--patterns", d, sample_path()])
    check(rc == 1, f"bad rules: exit {rc}, expected 1")
    check(f in err and "e2e_broken.rule" in err and re.search(r"offset \d+", err),
          f"error does not name file, rule id and offset:\n{err}")
    rc, out, err = run(["patterns", "check", d])
    check(rc == 1, f"patterns check on bad rules: exit {rc}")
    check(f in out and "e2e_broken.rule" in out and re.search(r"offset \d+", out),
          f"patterns check output lacks file/rule/offset:\n{out}")
    rc, _, err = run(["analyze", "--patterns", tmp("no-such-dir"), sample_path()])
    check(rc == 1, f"missing --patterns dir: exit {rc}")


def case_user_patterns():
    """A user rule directory adds a class (and overrides built-ins by id)."""
    entries = load_entries()
    svc, bad, prev = bad_and_previous(entries)
    d = tmp("userrules")
    os.makedirs(d)
    # Mark every 5xx request log of the bad revision with a custom class.
    rule = {"id": "e2e_custom.any", "class": "e2e_custom", "title": "custom e2e class",
            "severity": "ERROR", "implies": "config", "any_severity": True,
            "regex": ["(?i)e2e-marker-[0-9]+"], "remediation": ["check the marker"]}
    with open(os.path.join(d, "custom.json"), "w") as f:
        json.dump({"rules": [rule]}, f)
    marked = []
    for i, e in enumerate(sorted(entries, key=ts)[:50]):
        e = dict(e)
        e.pop("jsonPayload", None)
        e["severity"] = "ERROR"
        e["textPayload"] = f"boom e2e-marker-{i}"
        e["insertId"] = f"e2e-{i}"
        marked.append(e)
    p = to_ndjson(marked, tmp("marked.ndjson"))
    rc, out, err = run(["classify", "--patterns", d, p])
    check(rc == 0, f"classify with user rules: exit {rc}: {err}")
    rows = [json.loads(line) for line in out.splitlines()]
    check(len(rows) == len(marked) and all(r["class"] == "e2e_custom" for r in rows),
          f"user rule did not classify all {len(marked)} marked entries")
    rc, out, _ = run(["patterns", "list", "--patterns", d])
    check(rc == 0 and "e2e_custom.any" in out, "patterns list does not show the user rule")


def case_classify():
    entries = load_entries()
    by_id = {e.get("insertId"): e for e in entries}
    p = sample_path()
    rc, out, err = run(["classify", "--all", "--no-multiline", p])
    check(rc == 0, f"classify --all: exit {rc}: {err}")
    rows = [json.loads(line) for line in out.splitlines()]
    check(len(rows) == len(entries), f"classify --all printed {len(rows)} of {len(entries)}")
    keys = ["insertId", "timestamp", "service", "revision", "severity", "class", "rule",
            "group", "template", "fields", "message", "family", "family_template"]
    for r in rows:
        check(list(r.keys()) == keys, f"classify keys {list(r.keys())}")
        if r["class"] is not None:
            check(r["group"] == r["class"] == r["family"], f"matched entry grouped apart: {r}")
        else:
            check(r["group"].startswith("fp:") and r["family"].startswith("fam:"),
                  f"unmatched entry without fp:/fam: keys: {r}")
        check(r["insertId"] in by_id, f"unknown insertId {r['insertId']}")
        e = by_id[r["insertId"]]
        check(r["service"] == labels(e).get("service_name", r["service"]), "service mismatch")
        check((r["class"] is None) == (r["rule"] is None), "class without rule or vice versa")
        if r["rule"] is not None:
            check(r["rule"].startswith(r["class"]), f"rule {r['rule']} not of class {r['class']}")
    classes = {r["class"] for r in rows if r["class"]}
    check(classes, "classify found no class in the incident")
    rc, out, _ = run(["classify", "--no-multiline", p])
    some = [json.loads(line) for line in out.splitlines()]
    check(0 < len(some) < len(rows), f"classify without --all printed {len(some)}")
    errorish = {"ERROR", "CRITICAL", "ALERT", "EMERGENCY"}
    for r in some:
        e = by_id[r["insertId"]]
        status = int((e.get("httpRequest") or {}).get("status") or 0)
        check(r["class"] is not None or r["severity"] in errorish or status >= 500,
              f"classify printed a non-error, unmatched entry: {r}")
    want = sum(1 for r in rows if r["class"] is not None or r["severity"] in errorish or
               int((by_id[r["insertId"]].get("httpRequest") or {}).get("status") or 0) >= 500)
    check(len(some) == want, f"classify without --all printed {len(some)}, expected {want}")
    # Families are a property of the set of entries: the reversed input gives each entry the
    # same group and family.
    rev = os.path.join(TMP, "reversed.json")
    with open(rev, "w") as f:
        json.dump(list(reversed(entries)), f)
    rc, out, err = run(["classify", "--all", "--no-multiline", rev])
    check(rc == 0, f"classify --all reversed: exit {rc}: {err}")
    back = {r["insertId"]: (r["group"], r["family"]) for r in map(json.loads, out.splitlines())}
    for r in rows:
        check(back.get(r["insertId"]) == (r["group"], r["family"]),
              f"family depends on input order for {r['insertId']}")


def case_patterns_check():
    rc, out, err = run(["patterns", "check"])
    check(rc == 0, f"built-in rules do not pass check: exit {rc}\n{out}{err}")
    rc, out, _ = run(["patterns", "list"])
    check(rc == 0, "patterns list failed")
    for cls in ["schema_validation", "pool_exhausted", "mongo_server_selection", "oom",
                "redis_timeout", "auth_failed", "quota_exhausted", "upstream_timeout",
                "startup_failure", "no_instance", "image_pull", "db_unreachable", "tls_cert",
                "smtp_failure"]:
        check(re.search(rf"\s{cls}\s", out), f"patterns list lacks class {cls}")


def case_changes():
    entries = load_entries()
    svc, bad, prev = bad_and_previous(entries)
    t0 = min(ts(e) for e in entries)
    p = tmp("changes.ndjson")
    with open(p, "w") as f:
        f.write(json.dumps({"time": t0, "service": svc, "kind": "config",
                            "actor": "ci@example.com",
                            "description": "e2e flag flip FEATURE_X=on"}) + "\n")
        f.write("this line is not json\n")
        f.write("\n")
    doc, err = analyze_json(["--changes", p, sample_path()])
    ext = [c for c in doc["changes"] if "e2e flag flip" in c["description"]]
    check(len(ext) == 1, f"--changes event missing from changes[]: {doc['changes'][:3]}")
    check(ext[0]["service"] == svc, "--changes event lost its service")
    check(any(w["file"] == p and w["line"] == 2 for w in doc["input"]["warnings"]),
          f"bad change line not reported as {p}:2")
    check(doc["causes"][0]["revision"] == bad, "--changes event displaced the bad deploy")
    rc, _, err = run(["analyze", "--changes", tmp("none.ndjson"), sample_path()])
    check(rc == 1 and "none.ndjson" in err, f"missing --changes file: exit {rc}")
    # tail reads --changes with the same loader: the bad line is warned about and skipped.
    with open(sample_path(), "rb") as f:
        r = subprocess.run([FAULTLINE, "tail", "--format", "json", "--window", "24h", "--changes", p,
                            "-"],
                           input=f.read(), capture_output=True, timeout=60)
    check(r.returncode == 0, f"tail --changes with a bad line: exit {r.returncode}")
    check(f"{p}:2".encode() in r.stderr or (p.encode() in r.stderr and b"2" in r.stderr),
          f"tail does not name {p}:2: {r.stderr[-400:]!r}")
    last = json.loads(r.stdout.splitlines()[-1])
    check(any("e2e flag flip" in c["description"] for c in last["changes"]),
          "tail lost the good --changes line")
    check(any(w["file"] == p and w["line"] == 2 for w in last["input"]["warnings"]),
          f"tail's report does not carry {p}:2")


def case_output_file():
    out_path = tmp("report.md")
    rc, out, err = run(["analyze", "--format", "md", "-o", out_path, sample_path()])
    check(rc == 0, f"-o: exit {rc}: {err}")
    check(out == "", "-o FILE still wrote to stdout")
    with open(out_path) as f:
        md = f.read()
    check(md.startswith("# "), "report file is not the Markdown report")
    rc, _, err = run(["analyze", "-o", tmp("no/such/dir/r.txt"), sample_path()])
    check(rc == 1 and "cannot write" in err, f"unwritable -o: exit {rc}")


def case_formats():
    entries = load_entries()
    svc, bad, prev = bad_and_previous(entries)
    stats = revision_stats(entries)[(svc, bad)]
    rc, text, _ = run(["analyze", sample_path()])
    check(rc == 0, "text report failed")
    check("MOST LIKELY CAUSE" in text and bad in text, "text report does not name the cause")
    check(f"--to-revisions={prev}=100" in text, "text report lacks the rollback command")
    check("\033[" not in text, "colour written with NO_COLOR set / not a terminal")
    # Commands and console links are never wrapped: they must stay copyable.
    check(all(len(line) <= 100 or "gcloud" in line or "https://" in line
              for line in text.splitlines()),
          "text report exceeds 100 columns")
    rc, md, _ = run(["analyze", "--format", "md", sample_path()])
    check(rc == 0, "md report failed")
    first = "\n".join(md.splitlines()[:16])
    check("**Summary:**" in first and bad in first and f"--to-revisions={prev}=100" in first,
          "Markdown does not explain the top cause (revision, rollback) in its first lines")
    for section in ["## Ranked causes", "## Timeline (UTC)", "## Error groups", "## Input"]:
        check(section in md, f"Markdown lacks {section}")
    # Evidence numbers come from the input: the bad revision's failed/total requests (the bad
    # revision only served after the deploy, so all its requests are "since the rollout").
    check(f"{stats['r5xx']}/{stats['requests']}" in md,
          f"Markdown never states {stats['r5xx']}/{stats['requests']} failed requests of {bad}")
    # The top group's count in the summary equals the entries `classify` puts in that class.
    rc, out, _ = run(["classify", sample_path()])
    by_class = {}
    for line in out.splitlines():
        c = json.loads(line)["class"]
        if c:
            by_class[c] = by_class.get(c, 0) + 1
    doc = json.loads(run(["analyze", "--format", "json", sample_path()])[1])
    top_class = doc["causes"][0]["error_class"]
    check(top_class in by_class, f"classify never yields the top class {top_class}")
    check(f"`` {top_class} ``, {by_class[top_class]} in total" in md or
          f"` {top_class} `, {by_class[top_class]} in total" in md,
          f"Markdown summary does not state {by_class[top_class]} {top_class} errors")
    rc, out, _ = run(["analyze", "--format", "json", sample_path()])
    json.loads(out)
    rc, _, err = run(["analyze", "--format", "pdf", sample_path()])
    check(rc == 1 and "pdf" in err, "unknown format accepted")


def case_determinism():
    a = run(["analyze", "--format", "json", sample_path()])
    b = run(["analyze", "--format", "json", sample_path()])
    check(a[0] == 0 and a[1] == b[1], "two runs gave different JSON")
    c = run(["analyze", "--format", "json", "--threads", "3", sample_path()])
    check(c[1] == a[1], "--threads 3 changed the JSON")
    d = run(["analyze", "--format", "json", "--slow-json", sample_path()])
    check(d[0] == 0 and d[1] == a[1], "--slow-json (jansson reader) gave different JSON")
    m1 = run(["analyze", "--format", "md", sample_path()])
    m2 = run(["analyze", "--format", "md", sample_path()])
    check(m1[1] == m2[1], "two runs gave different Markdown")


def case_usage():
    rc, out, _ = run(["--help"])
    check(rc == 0 and "analyze" in out and "Exit status" in out, "faultline --help")
    rc, out, _ = run(["--version"])
    check(rc == 0 and re.match(r"faultline \d+\.\d+", out), "faultline --version")
    rc, out, _ = run(["analyze", "--help"])
    for opt in ["--format", "--output", "--patterns", "--changes", "--threshold", "--max-causes",
                "--threads", "--no-multiline", "--no-redact", "--title", "--quiet",
                "Exit status"]:
        check(opt in out, f"analyze --help lacks {opt}")
    rc, _, err = run(["analyze", "--bogus"])
    check(rc == 1 and "--bogus" in err, "unknown option not rejected with exit 1")
    rc, _, err = run(["nonsense"])
    check(rc == 1, "unknown command not exit 1")
    rc, _, err = run(["analyze", "--threshold", "7", sample_path()])
    check(rc == 1, "out-of-range threshold accepted")
    rc, _, err = run(["analyze", "--no-redact", "-q", "--format", "json", sample_path()])
    check(rc == 0 and "--no-redact" in err, "--no-redact does not warn on stderr")


def case_threshold():
    doc, _ = analyze_json(["--threshold", "1", sample_path()])
    check(not doc["confident"] and doc["threshold"] == 1, "threshold 1 still confident")
    rc, out, _ = run(["analyze", "--threshold", "1", sample_path()])
    check("No confident cause" in out, "text report does not say it is not confident")
    doc, _ = analyze_json(["--max-causes", "1", sample_path()])
    check(len(doc["causes"]) == 1, "--max-causes 1")


def case_redaction():
    """A secret in a log line never reaches any output unless --no-redact is given."""
    entries = load_entries()
    secret = "AKIAIOSFODNN7EXAMPLE"
    svc, bad, prev = bad_and_previous(entries)
    planted = []
    for i, e in enumerate(sorted(entries, key=ts)):
        if labels(e).get("revision_name") == bad and not is_request(e) and len(planted) < 5:
            e = dict(e)
            e.pop("jsonPayload", None)
            e["severity"] = "ERROR"
            e["textPayload"] = f"S3 upload failed for key {secret} user=ops@example.com"
            e["insertId"] = f"secret-{i}"
            planted.append(e)
    check(planted, "no entry to plant a secret in")
    p = to_ndjson(entries + planted, tmp("secret.ndjson"))
    for fmt in ["text", "md", "json"]:
        rc, out, _ = run(["analyze", "--format", fmt, p])
        check(rc == 0, f"{fmt}: exit {rc}")
        check(secret not in out and "ops@example.com" not in out, f"{fmt} report leaks the secret")
    rc, out, _ = run(["analyze", "--format", "json", "--no-redact", p])
    check(secret in out, "--no-redact did not keep the text as it is")
    rc, out, _ = run(["classify", p])
    check(rc == 0 and "secret-" in out, "classify lost the planted entries")
    check(secret not in out, "classify leaks the secret")
    rc, out, err = run(["classify", "--no-redact", p])
    check(secret in out and "--no-redact" in err, "classify --no-redact")


def case_healthy():
    """A healthy hour (generated by flgen): every format says there is no confident cause."""
    flgen = os.environ.get("FLGEN")
    check(flgen and os.path.exists(flgen), "FLGEN (the tests/gen generator) is not set")
    p = tmp("healthy.ndjson")
    subprocess.run([flgen, "--scenario", "healthy", "--seed", "1", "--out", p], check=True)
    with open(p) as f:
        n = sum(1 for line in f if line.strip())
    doc, _ = analyze_json(["--no-multiline", p])
    check(doc["input"]["entries"] == n, f"entries {doc['input']['entries']} != {n}")
    check(not doc["confident"], "a healthy hour produced a confident cause")
    rc, out, _ = run(["analyze", p])
    check(rc == 0 and "No confident cause" in out and "MOST LIKELY CAUSE" not in out,
          "text report on a healthy hour does not say 'No confident cause'")
    rc, out, _ = run(["analyze", "--format", "md", p])
    check("**Summary:** no confident cause" in out, "Markdown on a healthy hour")


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
    return clitest.run_cases(dict(sorted(CASES.items())), which, "fl-e2e-", _set_tmp)


if __name__ == "__main__":
    sys.exit(main())
