#!/usr/bin/env python3
"""The HTML timeline on short, long and sparse windows, measured in headless Chromium.

Usage: html_axes.py FAULTLINE SOURCE_ROOT CASE   (CASE: 5min, 1h, 3d, years, or all)

For each window a generated input (requests with a 5xx tail, and a burst of CI changes with
long revision names close together, the case that made labels pile up) is rendered with
`faultline analyze --format html`. A copy of the page gets a small script that reads the
browser's layout (getBoundingClientRect) of every text label in the chart: axis ticks, change
labels, legend entries, notes. Chromium's --dump-dom returns what the script found. The checks:
no two label boxes overlap, every label lies inside the chart, the time axis has between 3 and
16 labels, the display has at most 240 buckets, and a window that crosses a year names it.
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import clitest
from clitest import Fail, check, run_cli

FAULTLINE = ""
TMP = ""

SPANS = {"5min": 300, "1h": 3600, "3d": 3 * 86400, "years": 3 * 365 * 86400 + 40 * 86400}

MEASURE = r"""
<script>
(function () {
  var svg = document.querySelector('svg.timeline');
  var out = {labels: [], svg: null};
  if (svg) {
    var s = svg.getBoundingClientRect();
    out.svg = [s.left, s.top, s.right, s.bottom];
    svg.querySelectorAll('text').forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (!r.width) return;
      out.labels.push({cls: (t.getAttribute('class') || (t.closest('.legend') ? 'legend' :
                       t.closest('.onset') ? 'onset' : '')) +
                       (t.getAttribute('data-axis') === 'x' ? ' xlabel' : ''),
                       text: t.textContent, box: [r.left, r.top, r.right, r.bottom]});
    });
  }
  var pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def dump_dom(path):
    prof = tempfile.mkdtemp(dir=TMP)
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={prof}", "--window-size=1400,1600",
           "--dump-dom", "file://" + path]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    check(p.returncode == 0, f"chromium exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    return p.stdout.decode("utf-8", "replace")


def entries(span_seconds, n=600):
    start = datetime.datetime(2025, 12, 30, 22, 0, tzinfo=datetime.timezone.utc)
    rows = []
    for i in range(n):
        t = start + datetime.timedelta(seconds=span_seconds * i / (n - 1))
        status = 500 if i > n * 0.8 and i % 3 else 200
        rev = "cart-api-00002-new" if i > n * 0.8 else "cart-api-00001-old"
        rows.append({
            "insertId": f"e{i}", "logName": "projects/p/logs/run.googleapis.com%2Frequests",
            "resource": {"type": "cloud_run_revision",
                         "labels": {"service_name": "cart-api", "revision_name": rev,
                                    "location": "us-central1"}},
            "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity": "ERROR" if status >= 500 else "INFO",
            "httpRequest": {"requestMethod": "GET", "status": status,
                            "requestUrl": f"https://cart.run.app/api/v1/cart/{i}"}})
        if status >= 500 and i % 2:
            rows.append({
                "insertId": f"x{i}", "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
                "resource": rows[-1]["resource"], "timestamp": rows[-1]["timestamp"],
                "severity": "ERROR",
                "textPayload": f"TypeError: Cannot read properties of undefined (reading 'id{i % 7}')"})
    # A burst of changes: eight deploys with long names within 2% of the window, and one at
    # the very end (its label must not be clipped).
    changes = []
    for k in range(8):
        t = start + datetime.timedelta(seconds=span_seconds * (0.8 + 0.0025 * k))
        changes.append({"time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "service": "cart-api",
                        "revision": f"cart-api-very-long-revision-name-{k:05d}-abcdef",
                        "kind": "deploy", "actor": "ci", "description": f"deploy {k}"})
    t = start + datetime.timedelta(seconds=span_seconds)
    changes.append({"time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "service": "cart-api",
                    "revision": "cart-api-00003-end", "kind": "deploy", "actor": "ci",
                    "description": "last deploy"})
    return rows, changes, start, start + datetime.timedelta(seconds=span_seconds)


def overlap(a, b):
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def check_span(name):
    seconds = SPANS[name]
    rows, changes, start, end = entries(seconds)
    inp = os.path.join(TMP, f"{name}.ndjson")
    with open(inp, "w") as f:
        for e in rows:
            f.write(json.dumps(e) + "\n")
    ch = os.path.join(TMP, f"{name}-changes.ndjson")
    with open(ch, "w") as f:
        for c in changes:
            f.write(json.dumps(c) + "\n")
    page = os.path.join(TMP, f"{name}.html")
    rc, _, err = run_cli(FAULTLINE, ["analyze", "--format", "html", "--changes", ch, "-o", page,
                                     inp], stdin=subprocess.DEVNULL)
    check(rc == 0, f"{name}: analyze exit {rc}: {err}")
    html = open(page).read()
    m = re.search(r'data-display-buckets="(\d+)"', html)
    check(m and int(m.group(1)) <= 240, f"{name}: {m and m.group(1)} display buckets (max 240)")
    probe = os.path.join(TMP, f"{name}-probe.html")
    with open(probe, "w") as f:
        f.write(html.replace("</body>", MEASURE + "</body>"))
    dom = dump_dom(probe)
    m = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    check(m, f"{name}: the measuring script left no result")
    got = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&")
                     .replace("&lt;", "<").replace("&gt;", ">"))
    check(got["svg"], f"{name}: no timeline svg")
    labels = got["labels"]
    sl, st, sr, sb = got["svg"]
    for lab in labels:
        b = lab["box"]
        check(b[0] >= sl - 0.5 and b[2] <= sr + 0.5 and b[1] >= st - 0.5 and b[3] <= sb + 0.5,
              f"{name}: label {lab['text']!r} {b} outside the chart {got['svg']}")
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            check(not overlap(a["box"], b["box"]),
                  f"{name}: labels overlap: {a['text']!r} {a['box']} and {b['text']!r} "
                  f"{b['box']}")
    ticks = [x["text"] for x in labels if "xlabel" in x["cls"]]
    check(3 <= len(ticks) <= 16, f"{name}: {len(ticks)} time-axis labels: {ticks}")
    if start.year != end.year:
        check(any(str(end.year) in t for t in ticks) and any(str(start.year) in t or
                                                              str(start.year + 1) in t
                                                              for t in ticks),
              f"{name}: the window crosses a year but the axis does not say which: {ticks}")
    changed = [x["text"] for x in labels if "change-label" in x["cls"]]
    # Every change has its line; a label, or a count in the note that says where to look.
    lines = re.findall(r'<line class="change[^"]*"', html)
    check(len(lines) == len(changes) + 1, f"{name}: {len(lines)} change lines, expected "
          f"{len(changes) + 1} (the CI changes and the new revision first seen)")
    m = re.search(r'data-unlabelled="(\d+)"', html)
    hidden = int(m.group(1)) if m else 0
    check(len(changed) + hidden == len(lines),
          f"{name}: {len(changed)} change labels + {hidden} counted as hidden != {len(lines)}")
    check(len(changed) >= 4, f"{name}: only {len(changed)} change labels placed: {changed}")
    check("fp:" not in " ".join(x["text"] for x in labels), f"{name}: fp: hash in a label")
    print(f"  {name}: {len(labels)} labels, axis {ticks[:3]}...{ticks[-1:]}, "
          f"{len(changed)} change labels")


def _set_tmp(d):
    global TMP
    TMP = d


def main():
    global FAULTLINE
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    FAULTLINE, which = os.path.abspath(sys.argv[1]), sys.argv[3]
    if not chromium():
        if os.environ.get("FAULTLINE_SKIP_CHROMIUM") == "1":
            print("SKIP: chromium not installed")
            return 77
        print("FAIL: chromium is not installed (FAULTLINE_SKIP_CHROMIUM=1 skips)")
        return 1
    cases = {name: (lambda n=name: check_span(n)) for name in SPANS}
    return clitest.run_cases(cases, which, "fl-axes-", _set_tmp)


if __name__ == "__main__":
    sys.exit(main())
