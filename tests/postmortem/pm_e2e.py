#!/usr/bin/env python3
"""End-to-end tests for the HTML report, the postmortem draft, --attach and redaction.

Usage: pm_e2e.py FAULTLINE SOURCE_ROOT FLGEN CASE   (CASE "all" runs every case)

Cases:
  html_chromium     the sample incident's HTML report in headless Chromium: no console errors,
                    a real screenshot, and every SVG data point equal to the JSON report's series
  html_day          a generated 24-hour archive: display buckets adapt and still sum exactly
  postmortem        the draft for the sample: template sections, facts checked against JSON
  webhook_retry     503 twice then 200: three attempts, same webhook-id, valid signatures
  webhook_4xx       400: exactly one attempt, exit status 1
  webhook_timeout   a stalled answer is retried after the client timeout
  github_slack      GitHub comment and Slack Block Kit bodies through API-base overrides
  transport         plain http to a non-loopback host is refused before any analysis
  redaction_corpus  planted secrets in logs and --changes: none in md/json/html/text/postmortem
                    or in the webhook, GitHub and Slack bodies; --no-redact shows them (so the
                    check can fail)

Network: only a local HTTP server on 127.0.0.1 (random free port). Expectations come from the
input or from the JSON report, never from the output under test.
"""

import base64
import hashlib
import hmac
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from clitest import Fail, check, run_cli  # noqa: E402

FAULTLINE = ROOT = FLGEN = TMP = ""
SAMPLE_REL = "tests/data/incidents/checkout-bad-deploy.json"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
GH_TOKEN = "ghp_FAKEfakeFAKEfake0123456789abcdefABCD"


# The user's attachment settings must not leak into a case.
ATTACH_ENV = ("GITHUB_TOKEN", "FAULTLINE_WEBHOOK_SECRET", "FAULTLINE_GITHUB_API_URL",
              "FAULTLINE_SLACK_HOOKS_URL", "FAULTLINE_ATTACH_TIMEOUT_MS")


def run(args, env_extra=None, timeout=120):
    return run_cli(FAULTLINE, args, env_extra=env_extra, unset=ATTACH_ENV, timeout=timeout)


def sample():
    return os.path.join(ROOT, SAMPLE_REL)


def analyze(fmt, inp, extra=()):
    out = os.path.join(TMP, f"report-{fmt}-{abs(hash((inp, extra)))}.{fmt}")
    rc, _, err = run(["analyze", "--format", fmt, "-o", out, *extra, inp])
    check(rc in (0, 3), f"analyze --format {fmt} {inp}: exit {rc}\n{err}")
    with open(out, encoding="utf-8") as f:
        return f.read()


# ---------------------------------------------------------------- SVG data attributes

class SvgPoints(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.svg = None
        self.points, self.bars, self.changes, self.onset = [], [], [], None
        self.tags = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        cls = a.get("class", "")
        if tag == "svg" and "timeline" in cls:
            self.svg = a
        elif tag == "circle" and cls == "pt":
            self.points.append(a)
        elif tag == "rect" and cls == "bar":
            self.bars.append(a)
        elif tag == "line" and cls.split()[:1] == ["change"]:
            self.changes.append(a)
        elif tag == "g" and cls == "onset":
            self.onset = a


def secs(ts):
    """RFC 3339 to the second, as the chart writes it."""
    return ts[:19] + "Z" if ts else ts


def check_chart_against_json(page, report):
    p = SvgPoints()
    p.feed(page)
    check(p.svg is not None, "no <svg class=timeline> in the page")
    win = report["window"]
    bs = int(p.svg["data-bucket-seconds"])
    ds = int(p.svg["data-display-bucket-seconds"])
    check(bs == win["bucket_seconds"], f"bucket seconds {bs} != JSON {win['bucket_seconds']}")
    check(int(p.svg["data-buckets"]) == win["buckets"], "bucket count differs from JSON")
    check(secs(p.svg["data-origin"]) == secs(win["bucket_origin"]), "bucket origin differs")
    check(ds % bs == 0, f"display bucket {ds} is not a multiple of {bs}")
    k = ds // bs
    nd = (win["buckets"] + k - 1) // k
    check(int(p.svg["data-display-buckets"]) == nd, "display bucket count is wrong")

    def display(series, j):
        return sum(series[j * k:(j + 1) * k])

    revs = {(r["service"], r["revision"]): r for r in report["revisions"]}
    drawn = {}
    for pt in p.points:
        key = (pt["data-service"], pt["data-revision"])
        check(key in revs, f"chart has a revision the JSON does not: {key}")
        j = int(pt["data-bucket"])
        s = revs[key]["series"]
        want = (display(s["requests"], j), display(s["r5xx"], j))
        got = (int(pt["data-requests"]), int(pt["data-r5xx"]))
        check(got == want, f"{key} bucket {j}: chart {got}, JSON {want}")
        drawn.setdefault(key, set()).add(j)
    for key, r in revs.items():
        if r["requests"] or r["requests_5xx"]:
            check(drawn.get(key) == set(range(nd)), f"revision {key} not drawn for every bucket")
    check(len(p.points) >= nd, "too few chart points")

    groups = {g["key"]: g for g in report["groups"]}
    seen_bars = 0
    for b in p.bars:
        j = int(b["data-bucket"])
        if b["data-group"] == "(other)":
            continue
        g = groups.get(b["data-group"])
        check(g is not None, f"bar for unknown group {b['data-group']}")
        check(int(b["data-count"]) == display(g["series"], j),
              f"group {g['key']} bucket {j}: bar {b['data-count']}, JSON "
              f"{display(g['series'], j)}")
        seen_bars += 1
    top = report["groups"][:6]
    want_bars = sum(1 for g in top for j in range(nd) if display(g["series"], j))
    check(seen_bars == want_bars, f"{seen_bars} bars for the top groups, JSON implies {want_bars}")

    times = {secs(c["time"]) for c in report["changes"]}
    for c in p.changes:
        check(secs(c["data-time"]) in times, f"change marker at {c['data-time']} not in JSON")
    check(len(p.changes) == len(report["changes"]), "not every change has a marker")
    if report["causes"] and report["causes"][0].get("onset"):
        check(p.onset is not None, "top cause onset not highlighted")
        check(secs(p.onset["data-time"]) == secs(report["causes"][0]["onset"]),
              "onset marker time differs from JSON")
        check(p.onset["data-class"] == report["causes"][0]["error_class"], "onset class differs")
    return p, nd


def check_self_contained(page):
    check(page.startswith("<!DOCTYPE html>"), "not an HTML document")
    check("<script" not in page.lower(), "the page contains a script element")
    for pat in (r"\bsrc\s*=", r"<link[^>]+stylesheet", r"@import", r"url\(\s*['\"]?https?:",
                r"href\s*=\s*['\"]https?:"):
        check(not re.search(pat, page, re.I), f"external resource reference: {pat}")
    check("@media print" in page, "no print stylesheet")


# ---------------------------------------------------------------- Chromium

def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chrome(args, url):
    exe = chromium()
    prof = tempfile.mkdtemp(dir=TMP)
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={prof}", "--enable-logging=stderr",
           "--v=0", *args, url]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def console_errors(log):
    return [l for l in log.splitlines() if "CONSOLE" in l or "Uncaught" in l]


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is not a PNG")
    return struct.unpack(">II", head[16:24])


def case_html_chromium():
    if not chromium():
        if os.environ.get("FAULTLINE_SKIP_CHROMIUM") == "1":
            print("SKIP: chromium not installed (FAULTLINE_SKIP_CHROMIUM=1)")
            sys.exit(77)
        raise Fail("chromium is not installed (apt-get install chromium); set "
                   "FAULTLINE_SKIP_CHROMIUM=1 to skip this case")
    # The detector must see a console error when there is one.
    bad = os.path.join(TMP, "control.html")
    with open(bad, "w") as f:
        f.write("<!DOCTYPE html><html><body><script>console.error('control-error');"
                "undefinedFn();</script></body></html>")
    _, _, log = chrome(["--dump-dom"], "file://" + bad)
    check(console_errors(log), "console detector saw nothing on the control page:\n" + log[-2000:])

    page = analyze("html", sample())
    report = json.loads(analyze("json", sample()))
    check_self_contained(page)
    path = os.path.join(TMP, "report.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    rc, dom, log = chrome(["--dump-dom"], "file://" + path)
    check(rc == 0, f"chromium --dump-dom exit {rc}\n{log[-2000:]}")
    errs = console_errors(log)
    check(not errs, "console errors while loading the report:\n" + "\n".join(errs))
    # What the browser built from the page, not the page text, is checked against JSON.
    check_chart_against_json(dom, report)
    check("ZodError" in dom and "Ranked causes" in dom, "page content missing from the DOM")

    shot = os.path.join(TMP, "report.png")
    rc, _, log = chrome(["--screenshot=" + shot, "--window-size=1400,2400",
                         "--hide-scrollbars"], "file://" + path)
    check(rc == 0 and os.path.exists(shot), f"no screenshot (exit {rc})\n{log[-2000:]}")
    w, h = png_size(shot)
    check((w, h) == (1400, 2400), f"screenshot is {w}x{h}")
    check(os.path.getsize(shot) > 30000, "screenshot is nearly empty")
    check(not console_errors(log), "console errors during the screenshot")
    keep = os.environ.get("FAULTLINE_SCREENSHOT_OUT")
    if keep:
        shutil.copy(shot, keep)
    print(f"screenshot {shot}: {w}x{h}, {os.path.getsize(shot)} bytes")


def case_html_day():
    day = os.path.join(TMP, "day.ndjson")
    p = subprocess.run([FLGEN, "--scenario", "bad_config_deploy", "--minutes", "1440", "--rate",
                        "2", "--seed", "7", "--out", day], stderr=subprocess.PIPE, timeout=120)
    check(p.returncode == 0, "flgen failed: " + p.stderr.decode())
    page = analyze("html", day)
    report = json.loads(analyze("json", day))
    check_self_contained(page)
    parsed, nd = check_chart_against_json(page, report)
    ds = int(parsed.svg["data-display-bucket-seconds"])
    check(report["window"]["buckets"] > 1000, "the archive is not a day long")
    check(ds > report["window"]["bucket_seconds"] and nd <= 240,
          f"24 h archive shown in {nd} buckets of {ds} s: not adapted")
    check(len(page) < 1500000, f"24 h page is {len(page)} bytes")
    # Time axis: several labelled UTC ticks, one with the date.
    ticks = re.findall(r'<text class="tick" [^>]*data-time="([^"]+)"', page)
    check(len(ticks) >= 4, "too few time ticks")


# ---------------------------------------------------------------- postmortem draft

SECTIONS = ["# Postmortem: ", "## Summary", "## Impact", "## Timeline (UTC)", "## Root Cause",
            "## Resolution", "## Action Items", "## Lessons Learned"]


def case_postmortem():
    out = os.path.join(TMP, "pm.md")
    rc, stdout, err = run(["postmortem", sample(), "-o", out])
    check(rc == 0, f"postmortem exit {rc}\n{err}")
    md = open(out, encoding="utf-8").read()
    report = json.loads(analyze("json", sample()))
    pos = -1
    for s in SECTIONS:
        i = md.find(s)
        check(i > pos, f"section {s!r} missing or out of order")
        pos = i
    top = report["causes"][0]
    check(f"`{top['revision']}`" in md, "bad revision not named")
    check(f"`{top['previous_revision']}`" in md, "last healthy revision not named")
    req = sum(r["requests"] for r in report["revisions"])
    e5 = sum(r["requests_5xx"] for r in report["revisions"])
    check(f"{e5} of {req} requests returned 5xx" in md, "failed request counts differ from JSON")
    g = next(g for g in report["groups"] if g["key"] == top["error_class"])
    first = g["first_seen"][:10] + " " + g["first_seen"][11:19]
    check(f"**First error**: {first} UTC" in md, f"first error {first} not in the summary")
    tl = md[md.index("## Timeline (UTC)"):md.index("## Root Cause")]
    for c in report["changes"]:
        if c["kind"] == "revision_ready" and not c["revision"]:
            continue
        t = c["time"][:10] + " " + c["time"][11:19]
        check(t in tl, f"change at {t} missing from the timeline")
    check("**onset of cause #1**" in tl, "onset not in the timeline")
    check("_TODO (human): customer impact in money_" in md, "money blank missing")
    check("Owner: _TODO_" in md, "owner blanks missing")
    check("CI gate" in md and "canary" in md, "deploy action items missing")
    check(f"--to-revisions={top['previous_revision']}=100" in md, "rollback command missing")
    for line in md.splitlines():
        check(not re.search(r"\]\(https?:", line) or line.startswith("```"), "link in draft")
    # stdout when no -o; same text.
    rc, stdout, _ = run(["postmortem", sample()])
    check(rc == 0 and stdout == md, "stdout draft differs from the -o file")


# ---------------------------------------------------------------- local webhook server

class Recorder:
    def __init__(self):
        self.requests = []
        self.counts = {}
        self.lock = threading.Lock()


def make_server():
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            with rec.lock:
                rec.counts[self.path] = rec.counts.get(self.path, 0) + 1
                count = rec.counts[self.path]
                rec.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                     "body": body, "t": time.time()})
            status, answer = 200, b"ok"
            if self.path.startswith("/hook/flaky") and count <= 2:
                status, answer = 503, b'{"error":"try later"}'
            elif self.path.startswith("/hook/bad"):
                status, answer = 400, b'{"error":"bad request"}'
            elif self.path.startswith("/hook/slow") and count == 1:
                time.sleep(2.5)
            elif self.path.startswith("/gh/"):
                status, answer = 201, b'{"id":1}'
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, rec


def verify_signature(req):
    h = {k.lower(): v for k, v in req["headers"].items()}
    mid, ts, sig = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    check(mid and ts and sig, f"missing Standard Webhooks headers: {h}")
    key = base64.b64decode(SECRET[len("whsec_"):])
    mac = hmac.new(key, f"{mid}.{ts}.".encode() + req["body"], hashlib.sha256).digest()
    want = "v1," + base64.b64encode(mac).decode()
    check(want in sig.split(" "), f"bad signature {sig}, expected {want}")
    check(abs(int(ts) - time.time()) < 300, "webhook-timestamp is not now")
    return mid


def postmortem_attach(urls, env_extra=None, inp=None, extra=()):
    env = {"FAULTLINE_WEBHOOK_SECRET": SECRET}
    env.update(env_extra or {})
    args = ["postmortem", inp or sample(), "-o", os.path.join(TMP, "att.md"), *extra]
    for u in urls:
        args += ["--attach", u]
    return run(args, env_extra=env)


def case_webhook_retry():
    srv, rec = make_server()
    port = srv.server_address[1]
    rc, _, err = postmortem_attach([f"http://127.0.0.1:{port}/hook/flaky"])
    srv.shutdown()
    check(rc == 0, f"exit {rc}\n{err}")
    reqs = [r for r in rec.requests if r["path"] == "/hook/flaky"]
    check(len(reqs) == 3, f"{len(reqs)} attempts, expected 3 (503, 503, 200)")
    ids = {verify_signature(r) for r in reqs}
    check(len(ids) == 1, f"webhook-id changed between retries: {ids}")
    check(next(iter(ids)).startswith("msg_"), "webhook-id is not msg_...")
    check(len({r["body"] for r in reqs}) == 1, "body changed between retries")
    gaps = [reqs[i + 1]["t"] - reqs[i]["t"] for i in range(2)]
    check(gaps[0] >= 0.2 and gaps[1] >= gaps[0] * 0.9, f"no exponential backoff: gaps {gaps}")
    body = json.loads(reqs[0]["body"])
    check(body["type"] == "faultline.postmortem", "wrong event type")
    check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body["timestamp"]), "bad timestamp")
    md = open(os.path.join(TMP, "att.md"), encoding="utf-8").read()
    check(body["data"]["markdown"] == md, "webhook markdown differs from the written draft")
    report = json.loads(analyze("json", sample()))
    check(body["data"]["causes"][0]["revision"] == report["causes"][0]["revision"],
          "webhook cause differs from the JSON report")
    check(body["data"]["summary"] == report["causes"][0]["summary"], "summary differs")


def case_webhook_4xx():
    srv, rec = make_server()
    port = srv.server_address[1]
    rc, _, err = postmortem_attach([f"http://127.0.0.1:{port}/hook/bad"])
    srv.shutdown()
    check(rc == 1, f"exit {rc} on a 400, expected 1\n{err}")
    check(len(rec.requests) == 1, f"{len(rec.requests)} attempts on a 400: 4xx must not retry")
    check("400" in err, "the error does not name the status")
    check(os.path.exists(os.path.join(TMP, "att.md")), "the draft was not written")


def case_webhook_timeout():
    srv, rec = make_server()
    port = srv.server_address[1]
    rc, _, err = postmortem_attach([f"http://127.0.0.1:{port}/hook/slow"],
                                   env_extra={"FAULTLINE_ATTACH_TIMEOUT_MS": "800"})
    time.sleep(0.1)
    srv.shutdown()
    check(rc == 0, f"exit {rc}\n{err}")
    reqs = [r for r in rec.requests if r["path"] == "/hook/slow"]
    check(len(reqs) == 2, f"{len(reqs)} attempts after a timeout, expected 2")
    check(len({verify_signature(r) for r in reqs}) == 1, "webhook-id changed after a timeout")


def case_github_slack():
    srv, rec = make_server()
    port = srv.server_address[1]
    slack_path = "/services/T0FAKE/B0FAKE/FAKEslackPATHsecret123"
    rc, out, err = postmortem_attach(
        ["https://github.com/acme/shop/issues/42", "https://hooks.slack.com" + slack_path],
        env_extra={"GITHUB_TOKEN": GH_TOKEN,
                   "FAULTLINE_GITHUB_API_URL": f"http://127.0.0.1:{port}/gh",
                   "FAULTLINE_SLACK_HOOKS_URL": f"http://127.0.0.1:{port}"})
    srv.shutdown()
    check(rc == 0, f"exit {rc}\n{err}")
    check(GH_TOKEN not in out + err and "FAKEslackPATHsecret123" not in out + err,
          "a credential was printed")
    gh = [r for r in rec.requests if r["path"].startswith("/gh/")]
    check(len(gh) == 1 and gh[0]["path"] == "/gh/repos/acme/shop/issues/42/comments",
          f"GitHub request path: {[r['path'] for r in gh]}")
    h = {k.lower(): v for k, v in gh[0]["headers"].items()}
    check(h.get("authorization") == "Bearer " + GH_TOKEN, "GitHub Authorization header")
    check(h.get("accept") == "application/vnd.github+json", "GitHub Accept header")
    check(h.get("x-github-api-version"), "X-GitHub-Api-Version missing")
    check("user-agent" in h, "User-Agent missing (GitHub requires one)")
    body = json.loads(gh[0]["body"])
    md = open(os.path.join(TMP, "att.md"), encoding="utf-8").read()
    check(list(body) == ["body"] and body["body"] == md, "GitHub body is not {body: draft}")
    sl = [r for r in rec.requests if r["path"] == slack_path]
    check(len(sl) == 1, "Slack webhook not called once")
    s = json.loads(sl[0]["body"])
    blocks = s["blocks"]
    check(isinstance(s.get("text"), str) and s["text"], "Slack fallback text missing")
    check(blocks[0]["type"] == "header" and blocks[0]["text"]["type"] == "plain_text",
          "first block is not a plain_text header")
    check(len(blocks[0]["text"]["text"]) <= 150, "header over Slack's limit")
    check(blocks[-1]["type"] == "context", "last block is not context")
    check(len(blocks) <= 50, "too many blocks")
    texts = [b.get("text", {}).get("text", "") for b in blocks]
    check(any("*Summary*" in t for t in texts), "no summary section")
    report = json.loads(analyze("json", sample()))
    check(any("*#1 deploy*" in t and report["causes"][0]["revision"] in t for t in texts),
          "top cause section missing")
    fields = [f for b in blocks for f in b.get("fields", [])]
    check(fields and len(fields) <= 10 and all(f["type"] == "mrkdwn" for f in fields),
          "summary fields malformed")
    check(all(len(t) <= 3000 for t in texts), "section text over Slack's limit")


def case_transport():
    for url, why in (("http://example.com/hook", "only https"),
                     ("ftp://127.0.0.1/x", "scheme"),
                     ("https://github.com/acme/shop", "issue")):
        t0 = time.time()
        rc, _, err = run(["postmortem", sample(), "--attach", url])
        check(rc == 1, f"{url}: exit {rc}, expected 1\n{err}")
        check(why in err, f"{url}: message does not explain ({err.strip()})")
        check(time.time() - t0 < 5, "rejected URL should fail before the analysis")
    # GitHub without a token: refused, and the message names the variable.
    rc, _, err = run(["postmortem", sample(), "--attach", "https://github.com/a/b/issues/1"],
                     env_extra={"FAULTLINE_GITHUB_API_URL": "http://127.0.0.1:9"})
    check(rc == 1 and "GITHUB_TOKEN" in err, f"missing token not reported: {err}")


def case_attach_userinfo():
    """Issue 10 item 11: a failing --attach shows its URL without userinfo or query."""
    srv, rec = make_server()
    port = srv.server_address[1]
    urls = [f"http://user:PASSWORD1@127.0.0.1:{port}/hook/bad?token=QUERYSECRET",
            "http://user:PASSWORD1@example.com/hook?token=QUERYSECRET"]
    for url in urls:
        rc, out, err = postmortem_attach([url])
        check(rc == 1, f"{url}: exit {rc}, expected 1\n{err}")
        check("PASSWORD1" not in out + err and "QUERYSECRET" not in out + err,
              f"userinfo or query printed: {err.strip()}")
    srv.shutdown()
    check(len(rec.requests) == 1, "the loopback URL was tried (and answered 400)")


# ---------------------------------------------------------------- redaction corpus

def corpus_input():
    """NDJSON LogEntries carrying the planted secrets, plus a --changes file with more."""
    data = os.path.join(ROOT, "tests", "data", "redact")
    lines = open(os.path.join(data, "secrets.txt"), encoding="utf-8").read().splitlines()
    planted = open(os.path.join(data, "planted.txt"), encoding="utf-8").read().splitlines()
    t0 = 1763633400  # 2025-11-20T10:10:00Z
    out = os.path.join(TMP, "corpus.ndjson")

    def ts(s):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + s)) + ".000000Z"

    res = {"type": "cloud_run_revision",
           "labels": {"service_name": "vault-api", "revision_name": "vault-api-00007-abc",
                      "location": "us-central1", "project_id": "acme-prod",
                      "configuration_name": "vault-api"}}
    with open(out, "w", encoding="utf-8") as f:
        n = 0
        for i in range(600):  # steady traffic so the chart and impact have requests
            f.write(json.dumps({"insertId": f"req{i}", "timestamp": ts(i), "severity": "INFO",
                                "logName": "projects/acme-prod/logs/run.googleapis.com%2Frequests",
                                "resource": res, "httpRequest": {"status": 200 if i % 9 else 500,
                                "requestMethod": "GET", "requestUrl": "https://vault/x",
                                "latency": "0.01s"}}) + "\n")
        for line in lines:
            n += 1
            text = line.replace("\\n", "\n") if n % 2 else line  # both PEM forms
            f.write(json.dumps({"insertId": f"e{n}", "timestamp": ts(300 + n),
                                "severity": "ERROR", "textPayload": text, "resource": res,
                                "logName": "projects/acme-prod/logs/run.googleapis.com%2Fstderr"})
                    + "\n")
        hostile = ("render failed <script>alert('x')</script> [click](http://evil.test) "
                   "| a | b |")
        f.write(json.dumps({"insertId": "hostile", "timestamp": ts(500), "severity": "ERROR",
                            "textPayload": hostile, "resource": res,
                            "logName": "projects/acme-prod/logs/run.googleapis.com%2Fstderr"}) + "\n")
    changes = os.path.join(TMP, "changes.ndjson")
    extra = ["Sup3rS3cretPw1x", "ci-bot@corp-fake.example.com",
             "ghp_CHANGESfakeTOKEN0123456789abcdefXYZ"]
    with open(changes, "w") as f:
        f.write(json.dumps({"time": ts(250), "service": "vault-api",
                            "revision": "vault-api-00007-abc", "kind": "deploy",
                            "actor": extra[1],
                            "description": f"deploy with DB_PASSWORD={extra[0]} using {extra[2]}"})
                + "\n")
    return out, changes, planted + extra


def case_redaction_corpus():
    inp, changes, planted = corpus_input()
    srv, rec = make_server()
    port = srv.server_address[1]
    env = {"GITHUB_TOKEN": GH_TOKEN, "FAULTLINE_GITHUB_API_URL": f"http://127.0.0.1:{port}/gh",
           "FAULTLINE_SLACK_HOOKS_URL": f"http://127.0.0.1:{port}"}
    urls = [f"http://127.0.0.1:{port}/hook/ok", "https://github.com/acme/vault/issues/1",
            "https://hooks.slack.com/services/T1/B1/cccccccccccc"]

    def outputs(no_redact):
        # The planted CI actor is a person: shown by default (issue 13 item 4), so the
        # redacted run hides actors too; everything else planted is a secret either way.
        extra = ["--changes", changes] + (["--no-redact"] if no_redact else ["--redact-actors"])
        got = {}
        for fmt in ("md", "json", "html", "text"):
            got[fmt] = analyze(fmt, inp, tuple(extra))
        start = len(rec.requests)
        rc, _, err = postmortem_attach(urls, env_extra=env, inp=inp, extra=extra)
        check(rc in (0, 3), f"postmortem on the corpus: exit {rc}\n{err}")
        if no_redact:
            check("--no-redact" in err and "warning" in err, "--no-redact gives no warning")
        got["postmortem"] = open(os.path.join(TMP, "att.md"), encoding="utf-8").read()
        for r in rec.requests[start:]:
            kind = ("webhook" if r["path"].startswith("/hook") else
                    "github" if r["path"].startswith("/gh") else "slack")
            # JSON bodies escape some characters; compare against the decoded text too.
            got[kind] = r["body"].decode() + "\n" + json.dumps(json.loads(r["body"]),
                                                               ensure_ascii=False)
        check(len(rec.requests) - start == 3, "not every attachment was posted")
        return got

    red = outputs(False)
    raw = outputs(True)
    srv.shutdown()
    leaks = [(name, v) for name, text in red.items() for v in planted if v in text]
    check(not leaks, f"{len(leaks)} planted secrets survived, e.g. {leaks[:5]}")
    # The check has teeth: unredacted, the secrets are there.
    # JSON and HTML carry every group's samples; the others only the top cause's.
    for name, share in (("json", 0.9), ("html", 0.9), ("md", 0.01), ("postmortem", 0.01),
                        ("webhook", 0.01), ("github", 0.01)):
        shown = sum(1 for v in planted if v in raw[name])
        check(shown >= max(1, len(planted) * share),
              f"--no-redact {name} shows only {shown}/{len(planted)} planted values: "
              f"the corpus does not reach the output")
    # Untrusted text stays text.
    check("<script>alert" not in red["html"] and "&lt;script&gt;alert" in red["html"],
          "script from a log line is not escaped in HTML")
    check_self_contained(red["html"])
    for name in ("md", "postmortem"):
        fenced = False
        for line in red[name].splitlines():
            if line.startswith("```"):
                fenced = not fenced
                continue
            if not fenced:
                # Code spans are inert; what is left must not link.
                prose = re.sub(r"(`+)(?:(?!\1).)+?\1", "", line)
                check("](http://evil.test)" not in prose, f"{name}: injected link: {line}")
                check("<script" not in prose, f"{name}: raw HTML: {line}")
                check(not re.match(r"^\s*\|\s*a\s*\|", line), f"{name}: injected table row")
    print(f"{len(planted)} planted secrets, none in {sorted(red)}")


CASES = {
    "html_chromium": case_html_chromium,
    "html_day": case_html_day,
    "postmortem": case_postmortem,
    "webhook_retry": case_webhook_retry,
    "webhook_4xx": case_webhook_4xx,
    "webhook_timeout": case_webhook_timeout,
    "attach_userinfo": case_attach_userinfo,
    "github_slack": case_github_slack,
    "transport": case_transport,
    "redaction_corpus": case_redaction_corpus,
}


def main():
    global FAULTLINE, ROOT, FLGEN, TMP
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    FAULTLINE, ROOT, FLGEN, case = sys.argv[1:]
    names = list(CASES) if case == "all" else [case]
    failed = 0
    for name in names:
        TMP = tempfile.mkdtemp(prefix=f"fl-pm-{name}-")
        t0 = time.time()
        try:
            CASES[name]()
            print(f"ok   {name} ({time.time() - t0:.1f}s)")
            shutil.rmtree(TMP, ignore_errors=True)
        except Fail as e:
            failed += 1
            print(f"FAIL {name}: {e}\n     (files kept in {TMP})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
