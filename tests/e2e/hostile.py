#!/usr/bin/env python3
"""Hostile-input and fault tests through the real CLI (issue 10): caps that fold instead of
aborting, far-away timestamps, symlink loops, damaged archives, odd JSON and timestamps, and
secrets in every shape. Each case builds its input at test time and checks what the user sees:
the exit status, the report and the warnings.

Usage: hostile.py FAULTLINE SOURCE_ROOT CASE   (CASE "all" runs every case)
"""

import gzip
import json
import os
import sys

import clitest
from clitest import Fail, check, run_cli

FAULTLINE = ""
ROOT = ""
TMP = ""

REQUESTS_LOG = "projects/p/logs/run.googleapis.com%2Frequests"
STDERR_LOG = "projects/p/logs/run.googleapis.com%2Fstderr"


def tmp(name):
    return os.path.join(TMP, name)


def run(args, timeout=120, input_bytes=None):
    import subprocess
    stdin = subprocess.DEVNULL if input_bytes is None else None
    return run_cli(FAULTLINE, args, stdin=stdin, input_bytes=input_bytes, timeout=timeout)


def analyze_json(args, timeout=120):
    rc, out, err = run(["analyze", "--format", "json"] + args, timeout=timeout)
    try:
        return rc, json.loads(out), err
    except ValueError as e:
        raise Fail(f"analyze {args}: exit {rc}, output is not JSON ({e}); stderr:\n{err[:2000]}")


def entry(i, ts, service="checkout-api", revision="checkout-api-00001-abc", status=200,
          severity="INFO", text=None):
    e = {"timestamp": ts, "insertId": f"id{i}", "severity": severity,
         "resource": {"type": "cloud_run_revision",
                      "labels": {"service_name": service, "revision_name": revision,
                                 "location": "us-west1"}}}
    if text is None:
        e["logName"] = REQUESTS_LOG
        e["httpRequest"] = {"status": status, "requestMethod": "GET",
                            "requestUrl": "https://checkout.example.com/api/cart"}
    else:
        e["logName"] = STDERR_LOG
        e["textPayload"] = text
    return e


def write_ndjson(path, entries):
    with open(path, "w") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    return path


def warnings_of(doc):
    return [w["message"] for w in doc["input"]["warnings"]]


def clock(i):
    return "2026-07-25T03:%02d:%02dZ" % (i // 60 % 60, i % 60)


# ---- item 1: caps fold into "other", warn once, never abort ----

def case_revision_cap():
    """5,000 service x revision pairs (cap 4,096): a report, every request counted, one
    warning, exit 0 (today: "out of memory", exit 2, no report)."""
    n = 5000
    es = [entry(i, clock(i), service=f"svc-{i // 2}", revision=f"svc-{i // 2}-0000{i % 2}-abc",
                status=500 if i % 3 == 0 else 200) for i in range(n)]
    p = write_ndjson(tmp("pairs.ndjson"), es)
    for threads in ("1", "2"):
        rc, doc, err = analyze_json(["--threads", threads, p])
        check(rc == 0, f"--threads {threads}: exit {rc}, expected 0; stderr:\n{err[:500]}")
        check(doc["input"]["entries"] == n, f"entries {doc['input']['entries']} != {n}")
        revs = doc["revisions"]
        check(sum(r["requests"] for r in revs) == n, "requests were lost past the cap")
        check(sum(r["requests_5xx"] for r in revs) == (n + 2) // 3, "5xx were lost past the cap")
        check(len(revs) <= 4097, f"{len(revs)} revisions kept: the cap does not hold")
        other = [r for r in revs if r["service"] == "(other services)"]
        check(len(other) == 1, "no '(other services)' pair for what passed the cap")
        ws = [w for w in warnings_of(doc) if "service x revision pairs" in w]
        check(len(ws) == 1, f"expected one cap warning, got {warnings_of(doc)}")


def case_group_cap():
    """12,000 distinct unmatched error messages (cap 2,000 groups): every error counted, the
    rest in one group, one warning, exit 0."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
             "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
             "sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu"]
    n = 12000
    es = []
    for i in range(n):
        a, b, c = words[i % 26], words[i // 26 % 26], words[i // 676 % 26]
        es.append(entry(i, clock(i), severity="ERROR",
                        text=f"widget {a} {b} {c} refused the frobnication"))
    p = write_ndjson(tmp("groups.ndjson"), es)
    rc, doc, err = analyze_json([p])
    check(rc == 0, f"exit {rc}; stderr:\n{err[:500]}")
    check(sum(g["count"] for g in doc["groups"]) == n, "errors were lost past the group cap")
    check(len(doc["groups"]) <= 2001, f"{len(doc['groups'])} groups: the cap does not hold")
    check(any("error groups" in w for w in warnings_of(doc)), "no warning for the group cap")


# ---- item 2: a far-away timestamp neither hangs nor stretches the window ----

def sample_entries():
    with open(os.path.join(ROOT, "tests/data/incidents/checkout-bad-deploy.json")) as f:
        return json.load(f)


def essence(doc):
    """The report without the input section (whose warnings name lines of one file)."""
    d = dict(doc)
    d.pop("input", None)
    return json.dumps(d, sort_keys=True)


def case_time_outlier():
    """The shipped incident plus entries stamped 9999-12-31 (with and without resource labels)
    and 1971-01-01: the window, buckets and causes are those of the incident alone, each
    outlier is named by file:line, and the result is the same for any order or thread count
    (today: the unlabelled one hangs analyze, the labelled one makes 188,743,680-s buckets)."""
    base = sample_entries()
    rc, ref, _ = analyze_json([write_ndjson(tmp("plain.ndjson"), base)])
    check(rc == 0, f"plain incident: exit {rc}")
    far = {"timestamp": "9999-12-31T23:59:59Z", "severity": "ERROR", "insertId": "far-1",
           "logName": STDERR_LOG, "textPayload": "clock skew from the future"}
    far_labelled = dict(far, insertId="far-2",
                        resource={"type": "cloud_run_revision",
                                  "labels": {"service_name": "checkout-api",
                                             "revision_name": "checkout-api-00082-5u4"}})
    past = dict(far_labelled, insertId="far-3", timestamp="1971-01-01T00:00:00Z")
    p = write_ndjson(tmp("far.ndjson"), base + [far, far_labelled, past])
    outs = []
    for threads, path in (("1", p), ("2", p),
                          ("1", write_ndjson(tmp("far-rev.ndjson"),
                                             [past, far] + base[::-1] + [far_labelled]))):
        rc, doc, err = analyze_json(["--threads", threads, path], timeout=60)
        check(rc == 0, f"exit {rc}; stderr:\n{err[:500]}")
        check(doc["input"]["entries"] == len(base) + 3, "the outliers were not counted")
        check(doc["window"] == ref["window"],
              f"window {doc['window']} != incident window {ref['window']}")
        check(doc["causes"][0]["revision"] == ref["causes"][0]["revision"], "top cause changed")
        outs.append(essence(doc))
        ws = warnings_of(doc)
        lines = sorted(w for w in ws if "far from the rest of the input" in w)
        check(len(lines) == 3, f"expected 3 outlier warnings, got {ws}")
    check(outs[0] == outs[1] == outs[2], "the report depends on input order or thread count")
    # the first line of the file, and the far entry: nothing says which is odd; bounded cost
    two = write_ndjson(tmp("two.ndjson"), [base[0], far])
    rc, doc, err = analyze_json([two], timeout=20)
    check(rc == 0 and doc["window"]["buckets"] <= 65536, f"two entries: exit {rc}, {doc['window']}")


# ---- items 9, 10, 13: secrets in every output, service accounts kept ----

def pem_key_lines(seed):
    """A synthetic PKCS#8 private key as PEM lines (random bytes, not a real key)."""
    import base64
    import random
    rnd = random.Random(seed)
    body = base64.b64encode(bytes(rnd.randrange(256) for _ in range(1190))).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ["-----BEGIN PRIVATE KEY-----"] + lines + ["-----END PRIVATE KEY-----"]


def all_outputs(path, extra=()):
    """Every batch output faultline writes for path: four report formats, the postmortem
    draft and classify."""
    outs = {}
    for fmt in ("text", "md", "json", "html"):
        rc, out, err = run(["analyze", "--format", fmt] + list(extra) + [path])
        check(rc in (0, 3), f"analyze --format {fmt}: exit {rc}; {err[:300]}")
        outs[fmt] = out + err
    rc, out, err = run(["postmortem"] + list(extra) + [path])
    check(rc in (0, 3), f"postmortem: exit {rc}; {err[:300]}")
    outs["postmortem"] = out + err
    rc, out, err = run(["classify"] + list(extra) + [path])
    check(rc in (0, 3), f"classify: exit {rc}; {err[:300]}")
    outs["classify"] = out + err
    return outs


def case_pem_per_entry():
    """A private key logged one line per entry, as Cloud Run splits stderr: no line of its
    body reaches any output, whether multi-line reassembly joins the entries or not."""
    base = sample_entries()
    key = pem_key_lines(7)
    planted = []
    for k, line in enumerate(key):
        planted.append({"timestamp": "2026-07-25T03:10:00.%06dZ" % (k * 1000),
                        "insertId": f"pem-{k}", "severity": "ERROR", "logName": STDERR_LOG,
                        "resource": {"type": "cloud_run_revision",
                                     "labels": {"service_name": "checkout-api",
                                                "revision_name": "checkout-api-00082-5u4",
                                                "instance_id": "00f1"}},
                        "textPayload": line})
    p = write_ndjson(tmp("pem.ndjson"), base + planted)
    body = key[1:-1]
    for extra in ((), ("--no-multiline",)):
        for name, out in all_outputs(p, extra).items():
            for line in body:
                for frag in (line[:16], line[-16:]):
                    if len(frag) >= 12:
                        check(frag not in out,
                              f"{name} {' '.join(extra)}: key material {frag!r} leaked")
    # Keys of many sizes: the last, shorter line of each (padded or not, starting with '+'
    # or '/') is key material too. Only a final line too short to tell from a word may stay:
    # under 16 characters without padding, under 8 with it.
    import base64
    import random
    rnd = random.Random(11)
    lines = []
    for _ in range(40):
        raw = bytes(rnd.randrange(256) for _ in range(rnd.randrange(600, 2400)))
        b64 = base64.b64encode(raw).decode()
        lines += [b64[i:i + 64] for i in range(0, len(b64), 64)]
    many = [dict(planted[1], insertId=f"k-{k}", textPayload=line) for k, line in enumerate(lines)]
    rc, out, err = run(["classify", "--no-multiline", write_ndjson(tmp("keys.ndjson"), many)])
    check(rc == 0, f"classify: exit {rc}")
    for line in lines:
        if len(line) >= 16 or (line.endswith("=") and len(line.rstrip("=")) >= 8):
            piece = line[:8] if len(line) < 24 else line[:12]
            check(piece not in out, f"classify: key line {line!r} leaked")



def case_service_accounts_kept():
    """Service-account principals are machine identities and stay in every report; people
    who deployed are shown by default (issue 13 item 4) and hidden with --redact-actors
    (tests/e2e/redact_actors.py covers every output)."""
    p = os.path.join(ROOT, "tests/data/incidents/checkout-bad-deploy.json")
    for name, out in all_outputs(p).items():
        if name == "classify":
            continue  # classify prints log lines; the principals are in audit fields
        check("675795479@cloudbuild.gservice" in out,
              f"{name}: the Cloud Build service account was redacted")
    for fmt in ("text", "md", "json", "html"):
        rc, out, err = run(["analyze", "--redact-actors", "--format", fmt, p])
        check(rc in (0, 3), f"analyze --redact-actors --format {fmt}: exit {rc}; {err[:300]}")
        check("675795479@cloudbuild.gservice" in out,
              f"{fmt} --redact-actors: the Cloud Build service account was redacted")
        check("maria.gonzalez@" not in out and "sam.okafor@" not in out,
              f"{fmt} --redact-actors: a personal address leaked")


# ---- weaker spots: almost-JSON and timestamps RFC 3339 rejects ----

def case_almost_json():
    """Invalid UTF-8, \\u0000, a lone surrogate or 1e999 (in fields faultline uses or not)
    keep the entry with the text replaced and a warning naming the line; the fast and the
    jansson reader agree (today: each such entry is dropped as malformed, exit 3)."""
    good = [json.dumps(entry(i, clock(i))).encode() for i in range(20)]
    def err_entry(i, text):
        return json.dumps(entry(100 + i, clock(30 + i), severity="ERROR", text=text)).encode()
    odd = [
        err_entry(0, "cart total XX").replace(b"XX", b"\xff\xfe bad"),  # raw bytes in a used field
        json.dumps(dict(entry(101, clock(31)), jsonPayload={"extra": "a\u0000b"})).encode()
        .replace(b"\\\\u0000", b"\\u0000"),
        err_entry(2, "surrogate here: SURR").replace(b"SURR", b"\\ud800"),
        json.dumps(dict(entry(103, clock(33)), labels={"x": "y"})).encode()
        .replace(b'"y"', b"1e999"),
    ]
    lines = good[:10] + odd + good[10:]
    p = tmp("almost.ndjson")
    with open(p, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    docs = []
    for extra in ([], ["--slow-json"]):
        rc, doc, err = analyze_json(extra + [p])
        check(rc == 0, f"{extra}: exit {rc}; {err[:400]}")
        check(doc["input"]["entries"] == 24 and doc["input"]["malformed"] == 0,
              f"{extra}: {doc['input']['entries']} entries, {doc['input']['malformed']} malformed")
        ws = warnings_of(doc)
        for line_no, what in ((11, "invalid UTF-8"), (12, "u0000"), (13, "surrogate"),
                              (14, "out-of-range number")):
            check(any(f":{line_no}:" in w and what in w for w in ws),
                  f"{extra}: no warning for line {line_no} ({what}): {ws}")
        docs.append(essence(doc))
    check(docs[0] == docs[1], "the fast and the jansson reader disagree")


def case_bad_timestamps():
    """Timestamps RFC 3339 rejects (Feb 30, +99:99 offsets, garbage) are ignored with a
    warning naming the line (today: Feb 30 becomes Mar 2, +99:99 is accepted, garbage is
    silent); the epoch is a timestamp, not "unknown" (today: 1970-01-01T00:00:00Z is null)."""
    es = [entry(i, clock(i)) for i in range(200)]
    odd = [("2026-02-30T03:00:00Z", "Feb 30"), ("2026-07-25T03:00:00+99:99", "+99:99"),
           ("yesterday at noon", "garbage")]
    for k, (ts, _) in enumerate(odd):
        e = entry(300 + k, ts, severity="ERROR", text=f"odd stamp {k}")
        e.pop("receiveTimestamp", None)
        es.insert(50 + k, e)
    es.insert(60, entry(400, "1970-01-01T00:00:00Z", severity="ERROR", text="epoch stamp"))
    p = write_ndjson(tmp("stamps.ndjson"), es)
    rc, doc, err = analyze_json([p])
    check(rc == 0, f"exit {rc}; {err[:400]}")
    ws = warnings_of(doc)
    for k, (ts, what) in enumerate(odd):
        check(any(f":{51 + k}:" in w and "RFC 3339" in w for w in ws),
              f"no warning for the {what} timestamp on line {51 + k}: {ws}")
    check(any(":61" in w and "1970-01-01T00:00:00Z" in w and "far from" in w for w in ws),
          f"the epoch entry is not named as an outlier: {ws}")
    check(doc["window"]["start"].startswith("2026-07-25T03:00"), f"window {doc['window']}")


def case_change_cap():
    """25,000 change events (cap 20,000): the latest are kept, the rest counted in one warning,
    exit 0 (today: every event is kept and each new one is compared with all before it)."""
    p = tmp("changes.ndjson")
    with open(p, "w") as f:
        for i in range(25000):
            f.write(json.dumps({"time": "2026-07-25T%02d:%02d:%02dZ"
                                % (2 + i // 3600 % 2, i // 60 % 60, i % 60),
                                "service": f"svc-{i % 500}", "kind": "config", "actor": "ci",
                                "description": f"flag {i}"}) + "\n")
    sample = os.path.join(ROOT, "tests/data/incidents/checkout-bad-deploy.json")
    rc, doc, err = analyze_json(["--changes", p, sample], timeout=120)
    check(rc == 0, f"exit {rc}; {err[:300]}")
    ws = [w for w in warnings_of(doc) if "change events" in w]
    check(len(ws) == 1 and "the latest 20000 are kept" in ws[0], f"no change-cap warning: {ws}")
    times = sorted(c["time"] for c in doc["changes"])
    check(len(times) <= 20000 + 20, f"{len(times)} changes kept")
    check(times[-1].startswith("2026-07-25T03:59:59"), f"the latest change is gone: {times[-1]}")



# ---- item 6: a symlink loop reads each file once ----

def case_symlink_loop():
    """A sink copy with a link back to its own root and a second name for a file: each file is
    read once (today: 32 times), with a warning naming the loop."""
    d = tmp("sink/run.googleapis.com/stderr/2026/07/25")
    os.makedirs(d)
    write_ndjson(os.path.join(d, "03:00:00_03:59:59_S0.json"),
                 [entry(i, clock(i)) for i in range(5)])
    os.symlink("../../../..", os.path.join(d, "loop"))
    os.symlink("03:00:00_03:59:59_S0.json", os.path.join(d, "alias.json"))
    os.symlink("missing.json", os.path.join(d, "dangling.json"))
    rc, doc, err = analyze_json([tmp("sink")])
    check(doc["input"]["entries"] == 5, f"{doc['input']['entries']} entries read for 5")
    check(doc["input"]["files"] == 1, f"{doc['input']['files']} files opened for 1")
    ws = warnings_of(doc)
    check(any("loop" in w and "same directory" in w for w in ws), f"no loop warning: {ws}")
    check(any("alias.json" in w and "same file" in w for w in ws), f"no alias warning: {ws}")
    check(rc == 3, f"exit {rc}: the dangling link is unreadable input (3 expected)")


# ---- weaker spot: bytes after the last gzip member ----

def case_gzip_trailing_garbage():
    """A .gz with non-gzip bytes after its last member is partial input: exit 3 and a
    warning (today: exit 0). Zero padding after the member stays clean."""
    es = [entry(i, clock(i)) for i in range(20)]
    body = "".join(json.dumps(e) + "\n" for e in es).encode()
    p = tmp("tail.json.gz")
    with open(p, "wb") as f:
        f.write(gzip.compress(body) + b"PK\x03\x04 not gzip at all" * 10)
    rc, doc, err = analyze_json([p])
    check(rc == 3, f"trailing garbage: exit {rc}, expected 3")
    check(doc["input"]["entries"] == 20, "the entries before the garbage were not all read")
    check(any("after the last gzip member" in w for w in warnings_of(doc)), "no warning")
    q = tmp("padded.json.gz")
    with open(q, "wb") as f:
        f.write(gzip.compress(body) + b"\0" * 5000)
    rc, doc, err = analyze_json([q])
    check(rc == 0 and doc["input"]["entries"] == 20, f"zero padding: exit {rc}")


def _set_tmp(d):
    global TMP
    TMP = d


def main():
    global FAULTLINE, ROOT
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    FAULTLINE, ROOT, which = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    cases = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
    return clitest.run_cases(dict(sorted(cases.items())), which, "fl-hostile-", _set_tmp)


if __name__ == "__main__":
    sys.exit(main())
