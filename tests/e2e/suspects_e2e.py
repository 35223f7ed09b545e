#!/usr/bin/env python3
"""Suspect commits end to end (issue 16): small git repositories built on the fly with the git
CLI, incidents whose Cloud Build commit-sha labels point at their commits, and the real
faultline binary with --repo. Each case is its own meson test:

    suspects_e2e.py FAULTLINE SOURCE_ROOT CASE

A history holds one bad commit among harmless ones (a docs change, a rename, a commit on a
merged branch); the bad commit must rank first and the harmless ones must not be blamed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Fail, check, run_cli  # noqa: E402

FAULTLINE = ""
ROOT = ""
TMP = ""

T0 = 1784944800  # 2026-07-25T02:00:00Z
SERVICE = "cart-api"
PREV_REV = "cart-api-00010-abc"
BAD_REV = "cart-api-00011-def"


# --- git repositories -----------------------------------------------------------------------

class Repo:
    """A repository in TMP/name written commit by commit; dates are fixed so SHAs are too."""

    def __init__(self, name):
        self.path = os.path.join(TMP, name)
        self.tick = 0
        os.makedirs(self.path)
        self.git("init", "-q", "-b", "main")

    def git(self, *args, capture=False):
        env = dict(os.environ)
        when = "%d +0000" % (1784500000 + self.tick * 3600)
        env.update(GIT_AUTHOR_NAME="Dev One", GIT_AUTHOR_EMAIL="dev@example.com",
                   GIT_COMMITTER_NAME="Dev One", GIT_COMMITTER_EMAIL="dev@example.com",
                   GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when, GIT_CONFIG_NOSYSTEM="1",
                   HOME=TMP)
        p = subprocess.run(["git", "-C", self.path] + list(args), env=env, check=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return p.stdout.decode().strip() if capture else None

    def write(self, rel, text):
        full = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def commit(self, message, files=None, author=None):
        for rel, text in (files or {}).items():
            if text is None:
                self.git("rm", "-q", rel)
            else:
                self.write(rel, text)
                self.git("add", rel)
        self.tick += 1
        args = ["commit", "-q", "--allow-empty", "-m", message]
        if author:
            args += ["--author", author]
        self.git(*args)
        return self.head()

    def head(self):
        return self.git("rev-parse", "HEAD", capture=True)


ENV_TS = """import { z } from "zod";

const schema = z.object({
  PORT: z.coerce.number().default(8080),
  KV_REDIS_URL: z.string().url(),
  KV_REDIS_PASSWORD: z.string().min(1),
});

export const env = schema.parse(process.env);
"""

SERVICE_YAML = """spec:
  template:
    spec:
      containers:
        - env:
            - name: KV_REDIS_URL
              value: redis://kv.internal:6379
            - name: KV_REDIS_PASSWORD
              valueFrom: {secretKeyRef: {name: kv-redis-password, key: latest}}
"""

PRICING_TS = "\n".join(["export function priceCart(cart: Cart): number {",
                        "  let total = 0;",
                        "  for (const line of cart.lines) total += line.price * line.quantity;",
                        "  return total;",
                        "}",
                        "// rounding, currencies and discounts are applied by the caller",
                        "// (see src/routes/checkout.ts)", ""])


def base_history(repo):
    """The files every case starts from, and PREV: a couple of commits."""
    repo.commit("first version", {
        "README.md": "# cart-api\n",
        "src/env.ts": ENV_TS,
        "deploy/service.yaml": SERVICE_YAML,
        "src/lib/price.ts": PRICING_TS,
        "src/routes/checkout.ts": "export const checkout = () => 1;\n",
        "src/db/pool.ts": "export const pool = { max: 20, idleTimeoutMillis: 10000 };\n",
        "src/cache/lru.ts": "export const MAX_ENTRIES = 1000;\n",
        "src/routes/orders.ts": "export const orders = () => 2;\n",
    })
    return repo.commit("routes: name the handlers", {
        "src/routes/orders.ts": "export const listOrders = () => 2;\n"})


def harmless_before(repo):
    repo.commit("docs: describe the cart", {"README.md": "# cart-api\n\nThe cart service.\n"})
    # a pure rename of an unrelated file
    repo.git("mv", "src/routes/orders.ts", "src/routes/order-list.ts")
    repo.commit("routes: file named after its handler")


def harmless_after(repo):
    repo.commit("orders: retry once", {
        "src/routes/order-list.ts": "export const listOrders = () => 2; // retried once\n"})


def history(name, bad_files, bad_message, rename=None):
    """PREV, harmless commits, the bad commit on a branch merged into main (BAD = the merge).
    Returns (repo, prev, bad, bad_commit, harmless commit SHAs)."""
    repo = Repo(name)
    prev = base_history(repo)
    harmless_before(repo)
    fork = repo.head()
    harmless = [repo.git("rev-parse", "HEAD~1", capture=True), fork]
    repo.git("checkout", "-q", "-b", "feature")
    if rename:
        repo.git("mv", rename[0], rename[1])
    bad_commit = repo.commit(bad_message, bad_files)
    repo.git("checkout", "-q", "main")
    harmless_after(repo)
    harmless.append(repo.head())
    repo.tick += 1
    repo.git("merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature")
    return repo, prev, repo.head(), bad_commit, harmless


# --- incidents --------------------------------------------------------------------------------

def ts(sec):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%06dZ" % (sec * 7919 % 1000000)


def entry(sec, rev, sha, n, **kw):
    e = {
        "insertId": "%08x%04x" % (int(sec), n),
        "logName": "projects/shop-test/logs/run.googleapis.com%2Fstdout",
        "resource": {"type": "cloud_run_revision", "labels": {
            "service_name": SERVICE, "revision_name": rev, "location": "us-central1",
            "configuration_name": SERVICE, "project_id": "shop-test"}},
        "timestamp": ts(sec),
        "labels": {"instanceId": "00ab" + rev[-3:], "commit-sha": sha,
                   "managed-by": "gcp-cloud-build-deploy-cloud-run"},
    }
    e.update(kw)
    return e


def incident(path, prev_sha, bad_sha, error_text):
    """An hour of cart-api: PREV serves the first half cleanly, BAD the second with 40% of its
    requests failing and error_text logged for each failure. NDJSON, oldest first."""
    out = []
    n = 0
    for i in range(0, 3600, 6):
        sec = T0 + i
        bad = i >= 1800
        rev, sha = (BAD_REV, bad_sha) if bad else (PREV_REV, prev_sha)
        fail = bad and (i // 6) % 5 < 2
        n += 1
        out.append(entry(sec, rev, sha, n, logName="projects/shop-test/logs/run.googleapis.com%2Frequests",
                         severity="ERROR" if fail else "INFO",
                         httpRequest={"requestMethod": "POST", "status": 500 if fail else 200,
                                      "requestUrl": "https://cart-api-x.a.run.app/api/cart",
                                      "latency": "0.05s"}))
        if fail:
            n += 1
            out.append(entry(sec + 0.001, rev, sha, n, severity="ERROR",
                             logName="projects/shop-test/logs/run.googleapis.com%2Fstderr",
                             textPayload=error_text))
        elif i % 60 == 0:
            n += 1
            out.append(entry(sec + 0.002, rev, sha, n, textPayload="cache hit for key cart:%d" % i))
    with open(path, "w") as f:
        for e in out:
            f.write(json.dumps(e) + "\n")
    return path


ZOD = ('ZodError: [{"code":"invalid_type","expected":"string","received":"undefined",'
       '"path":["KV_REDIS_PASSWORD"],"message":"Required"}]')
HIKARI = ("java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, "
          "request timed out after 30000ms.")
NODE_OOM = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
STACK = ("TypeError: Cannot read properties of undefined (reading 'price')\n"
         "    at priceCart (/app/dist/lib/pricing.js:3:58)\n"
         "    at checkout (/app/dist/routes/checkout.js:12:9)\n"
         "    at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)")


# --- running faultline ------------------------------------------------------------------------

def analyze_json(args, expect_rc=0):
    rc, out, err = run_cli(FAULTLINE, ["analyze", "--format", "json"] + args)
    check(rc == expect_rc, "exit %d (expected %d): %s" % (rc, expect_rc, err))
    return json.loads(out), err


def deploy_cause(doc):
    for c in doc["causes"]:
        if c["kind"] == "deploy" and c["revision"] == BAD_REV:
            return c
    raise Fail("no deploy cause for %s: %s" % (BAD_REV, [c["summary"] for c in doc["causes"]]))


def ranks_first(name, bad_files, message, error_text, reason_part, rename=None):
    repo, prev, bad, bad_commit, harmless = history(name, bad_files, message, rename)
    inc = incident(os.path.join(TMP, name + ".ndjson"), prev, bad, error_text)
    doc, _ = analyze_json(["--repo", repo.path, inc])
    c = deploy_cause(doc)
    cr = c["commit_range"]
    check(cr["previous"] == prev and cr["bad"] == bad, "range: %s" % cr)
    check(cr["searched"] and cr["commits"] == 5, "commits walked: %s" % cr)
    sus = c["suspects"]
    check(sus, "no suspects: %s" % cr)
    check(sus[0]["sha"] == bad_commit, "top suspect %s (%s), expected %s" % (
        sus[0]["sha"], sus[0]["subject"], bad_commit))
    check(any(reason_part in r for r in sus[0]["reasons"]),
          "reason %r not in %s" % (reason_part, sus[0]["reasons"]))
    blamed = {s["sha"] for s in sus}
    check(not blamed & set(harmless), "harmless commits blamed: %s" % sus)
    check(bad not in blamed, "the merge commit itself was blamed")
    return repo, inc, doc


# --- cases ------------------------------------------------------------------------------------

def case_schema():
    # two files: the reason must name the one whose line held the value
    ranks_first("schema", {"app/notes.md": "the password moves into the URL\n",
                           "deploy/service.yaml": SERVICE_YAML.replace(
        "            - name: KV_REDIS_PASSWORD\n"
        "              valueFrom: {secretKeyRef: {name: kv-redis-password, key: latest}}\n", "")},
        "deploy: drop the separate redis password", ZOD,
        "removed `KV_REDIS_PASSWORD` from deploy/service.yaml")


def case_pool():
    repo, inc, doc = ranks_first(
        "pool", {"src/db/pool.ts": "export const pool = { max: 2, idleTimeoutMillis: 10000 };\n"},
        "db: smaller pool", HIKARI, "src/db/pool.ts")
    # the clone's origin gives the compare link; --repo-url wins over it
    check(deploy_cause(doc)["commit_range"]["compare_url"] is None, "link without a remote")
    repo.git("remote", "add", "origin", "git@github.com:acme/cart-api.git")
    cr = deploy_cause(analyze_json(["--repo", repo.path, inc])[0])["commit_range"]
    check((cr["compare_url"] or "").startswith("https://github.com/acme/cart-api/compare/"),
          "origin link: %s" % cr)
    cr = deploy_cause(analyze_json(["--repo", repo.path, "--repo-url",
                                    "https://gitlab.com/acme/cart", inc])[0])["commit_range"]
    check((cr["compare_url"] or "").startswith("https://gitlab.com/acme/cart/-/compare/"),
          "--repo-url link: %s" % cr)


def case_oom():
    ranks_first("oom", {"src/cache/lru.ts": "export const MAX_ENTRIES = 5_000_000;\n"},
                "cache: keep more entries", NODE_OOM, "src/cache/lru.ts")


def case_stack():
    # the bad commit renames price.ts to pricing.ts and changes it: the stack names the new name
    _, _, doc = ranks_first("stack", {"src/lib/pricing.ts": PRICING_TS.replace(
        "line.price", "line.item.price")}, "pricing: price from the item", STACK,
        "in the stack trace (app/dist/lib/pricing.js)", rename=("src/lib/price.ts", "src/lib/pricing.ts"))
    top = deploy_cause(doc)["suspects"][0]
    check(any("renamed src/lib/price.ts to src/lib/pricing.ts" in r for r in top["reasons"]),
          "rename not named: %s" % top["reasons"])


def case_shallow():
    repo, prev, bad, _, _ = history(
        "full", {"deploy/service.yaml": SERVICE_YAML.replace("KV_REDIS_PASSWORD", "KV_PASS")},
        "deploy: rename the password variable")
    shallow = os.path.join(TMP, "shallow")
    subprocess.run(["git", "clone", "-q", "--depth", "2", "file://" + repo.path, shallow], check=True)
    inc = incident(os.path.join(TMP, "shallow.ndjson"), prev, bad, ZOD)
    doc, err = analyze_json(["--repo", shallow, inc])
    c = deploy_cause(doc)
    note = c["commit_range"]["note"] or ""
    check("is not in the repository" in note and "shallow" in note, "note: %r" % note)
    check("--unshallow" in note, "no way out named: %r" % note)
    check(c["suspects"] == [], "suspects from a broken history: %s" % c["suspects"])
    # the text report says it too, and is still written
    rc, text, _ = run_cli(FAULTLINE, ["analyze", "--repo", shallow, inc])
    check(rc == 0 and "shallow clone" in text and "MOST LIKELY CAUSE" in text, text[-800:])


def case_unknown():
    repo = Repo("unknown")
    base_history(repo)
    inc = incident(os.path.join(TMP, "unknown.ndjson"), "1" * 40, "2" * 40, ZOD)
    doc, _ = analyze_json(["--repo", repo.path, inc])
    cr = deploy_cause(doc)["commit_range"]
    check("commit 222222222222 is not in the repository" in (cr["note"] or ""), "note: %s" % cr)
    check(cr["log"] == "git log --oneline 111111111111..222222222222", "log: %s" % cr)
    # not a repository at all: a warning, the report all the same
    rc, out, err = run_cli(FAULTLINE, ["analyze", "--format", "json", "--repo",
                                       os.path.join(TMP, "nowhere"), inc])
    check(rc == 0 and "cannot read the repository" in err, "rc %d, stderr %r" % (rc, err))
    cr = deploy_cause(json.loads(out))["commit_range"]
    check("could not be read" in (cr["note"] or ""), "note: %s" % cr)


def case_rewritten():
    """PREV was force-pushed away from main: still in the clone, but not an ancestor of BAD."""
    repo = Repo("rewritten")
    base = base_history(repo)
    prev = repo.commit("wip: try a bigger pool",
                       {"src/db/pool.ts": "export const pool = { max: 50 };\n"})
    repo.git("reset", "-q", "--hard", base)
    harmless_before(repo)
    bad_commit = repo.commit("deploy: drop the password", {
        "deploy/service.yaml": SERVICE_YAML.replace("KV_REDIS_PASSWORD", "KV_PASS")})
    inc = incident(os.path.join(TMP, "rewritten.ndjson"), prev, bad_commit, ZOD)
    doc, _ = analyze_json(["--repo", repo.path, inc])
    c = deploy_cause(doc)
    note = c["commit_range"]["note"] or ""
    check("is not an ancestor of" in note, "note: %r" % note)
    check(c["commit_range"]["commits"] == 3, "walked: %s" % c["commit_range"])
    check(c["suspects"] and c["suspects"][0]["sha"] == bad_commit, "suspects: %s" % c["suspects"])


def case_huge():
    """Thousands of commits: the walk stops at its cap and says so, quickly."""
    path = os.path.join(TMP, "huge")
    os.makedirs(path)
    subprocess.run(["git", "init", "-q", "-b", "main", path], check=True)
    n = 3000
    parts = []
    for i in range(n):
        content = ("line %d\n" % i).encode()
        msg = ("commit %d\n" % i).encode()
        parts.append(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
        parts.append(b"committer Dev <dev@example.com> %d +0000\n" % (1784500000 + i))
        parts.append(b"data %d\n%s" % (len(msg), msg))
        if i:
            parts.append(b"from :%d\n" % i)
        parts.append(b"M 100644 inline src/f%d.ts\ndata %d\n%s\n" % (i % 50, len(content), content))
    subprocess.run(["git", "-C", path, "fast-import", "--quiet"], input=b"".join(parts), check=True)
    sha = lambda ref: subprocess.run(["git", "-C", path, "rev-parse", ref], check=True,
                                     stdout=subprocess.PIPE).stdout.decode().strip()
    inc = incident(os.path.join(TMP, "huge.ndjson"), sha("main~%d" % (n - 1)), sha("main"), ZOD)
    start = time.monotonic()
    doc, _ = analyze_json(["--repo", path, inc])
    took = time.monotonic() - start
    cr = deploy_cause(doc)["commit_range"]
    check(cr["commits"] == 500, "walked %s" % cr)
    check("more than 500 commits" in (cr["note"] or ""), "note: %s" % cr)
    check(took < 30, "took %.1f s" % took)
    print("huge range: %d commits, walked %d in %.2f s" % (n - 1, cr["commits"], took))


def case_no_repo():
    """Without --repo: the range and, with --repo-url, the compare link."""
    prev, bad = "a" * 40, "b" * 40
    inc = incident(os.path.join(TMP, "norepo.ndjson"), prev, bad, ZOD)
    doc, _ = analyze_json(["--repo-url", "git@github.com:acme/cart-api.git", inc])
    cr = deploy_cause(doc)["commit_range"]
    check(cr["log"] == "git log --oneline aaaaaaaaaaaa..bbbbbbbbbbbb", "log: %s" % cr)
    check(cr["compare_url"] == "https://github.com/acme/cart-api/compare/%s...%s" % (prev, bad),
          "url: %s" % cr)
    check(not cr["searched"] and deploy_cause(doc)["suspects"] == [], "searched: %s" % cr)
    rc, text, _ = run_cli(FAULTLINE, ["analyze", "--repo-url", "https://github.com/acme/cart-api",
                                      inc])
    check("Code change: git log --oneline aaaaaaaaaaaa..bbbbbbbbbbbb" in text, text)
    check("https://github.com/acme/cart-api/compare/" in text, text)
    # no --repo-url either: the range still
    doc, _ = analyze_json([inc])
    cr = deploy_cause(doc)["commit_range"]
    check(cr["log"] and cr["compare_url"] is None, "plain: %s" % cr)


def case_formats():
    """Every format names the suspects; the postmortem's root cause names the top one."""
    repo, inc, doc = ranks_first("formats", {"deploy/service.yaml": SERVICE_YAML.replace(
        "KV_REDIS_PASSWORD", "KV_REDIS_PASS")}, "deploy: shorter variable name", ZOD,
        "`KV_REDIS_PASSWORD`")
    top = deploy_cause(doc)["suspects"][0]
    short = top["sha"][:10]
    rc, text, _ = run_cli(FAULTLINE, ["analyze", "--repo", repo.path, inc])
    check("Suspect commits:" in text and short in text and
          "removed `KV_REDIS_PASSWORD` from deploy/service.yaml" in text, text)
    rc, md, _ = run_cli(FAULTLINE, ["analyze", "--format", "md", "--repo", repo.path, inc])
    check("Suspect commits, most likely first" in md and short in md, md)
    rc, html, _ = run_cli(FAULTLINE, ["analyze", "--format", "html", "--repo", repo.path, inc])
    check('class="suspect-list"' in html and 'data-sha="%s"' % top["sha"] in html, "html")
    rc, pm, err = run_cli(FAULTLINE, ["postmortem", "--repo", repo.path, inc])
    check(rc == 0, err)
    root = pm.split("## Root Cause", 1)[1]
    check("**Suspect commit**" in root and short in root and
          "deploy: shorter variable name" in root, root[:1500])


def case_determinism():
    repo, inc, doc = ranks_first("det", {"deploy/service.yaml": SERVICE_YAML.replace(
        "KV_REDIS_PASSWORD", "REDIS_PASSWORD")}, "deploy: rename", ZOD, "KV_REDIS_PASSWORD")
    outs = set()
    for threads in ("1", "2", "3"):
        rc, out, _ = run_cli(FAULTLINE, ["analyze", "--format", "json", "--threads", threads,
                                         "--repo", repo.path, inc])
        check(rc == 0, "rc %d" % rc)
        outs.add(out)
    check(len(outs) == 1, "JSON differs between runs")


def case_sample():
    """The README's Quick start: the shipped sample incident and its repository."""
    repo = os.path.join(TMP, "sample-repo")
    subprocess.run(["git", "init", "-q", repo], check=True)
    with open(os.path.join(ROOT, "tests/data/incidents/checkout-bad-deploy.repo.fi"), "rb") as f:
        subprocess.run(["git", "-C", repo, "fast-import", "--quiet"], stdin=f, check=True)
    sample = os.path.join(ROOT, "tests/data/incidents/checkout-bad-deploy.json")
    doc, _ = analyze_json(["--repo", repo, sample])
    c = doc["causes"][0]
    check(c["revision"] == "checkout-api-00082-5u4", "top cause %s" % c["summary"])
    sus = c["suspects"]
    check(sus and sus[0]["subject"] ==
          "deploy: read the redis credentials from the kv-redis-url secret", "suspects: %s" % sus)
    check("removed `KV_REDIS_PASSWORD` from deploy/service.yaml" in sus[0]["reasons"], sus[0])
    check(c["commit_range"]["commits"] == 6, c["commit_range"])


def case_tail():
    """faultline tail takes --repo too: its JSON snapshots carry the suspects."""
    repo, prev, bad, bad_commit, _ = history("tail", {"deploy/service.yaml": SERVICE_YAML.replace(
        "KV_REDIS_PASSWORD", "KV_PASS")}, "deploy: rename the password variable")
    inc = incident(os.path.join(TMP, "tail.ndjson"), prev, bad, ZOD)
    with open(inc, "rb") as f:
        rc, out, err = run_cli(FAULTLINE, ["tail", "--format", "json", "--window", "2h",
                                           "--repo", repo.path, "-"],
                               stdin=f)
    check(rc == 0, "rc %d: %s" % (rc, err))
    last = json.loads(out.strip().splitlines()[-1])
    sus = deploy_cause(last)["suspects"]
    check(sus and sus[0]["sha"] == bad_commit, "tail suspects: %s" % sus)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    global FAULTLINE, ROOT, TMP
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        print("usage: suspects_e2e.py FAULTLINE SOURCE_ROOT {%s}" % "|".join(CASES),
              file=sys.stderr)
        return 2
    FAULTLINE, ROOT = os.path.abspath(sys.argv[1]), sys.argv[2]
    TMP = tempfile.mkdtemp(prefix="fl-suspects-")
    try:
        CASES[sys.argv[3]]()
    except (Fail, subprocess.CalledProcessError) as e:
        print("FAIL %s: %s" % (sys.argv[3], e), file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("ok %s" % sys.argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
