#!/usr/bin/env python3
"""gs://BUCKET/PREFIX inputs against a local Cloud Storage stand-in (mock_gcs.py, 127.0.0.1):

  python3 gcs_e2e.py FAULTLINE

A sink tree of a generated incident (plain, .gz, .zst and a Content-Encoding: gzip object) is
served as a bucket. With list pages of 3 objects, a 503 on the second page, a 429 on one
download, two downloads cut mid-body and one cut after its last byte (the resume gets 416),
`analyze gs://...` writes the same JSON report as
`analyze` of the local copy; so does it when the server ignores Range (the resumed download
skips what it had); an object whose every download is cut is reported as truncated; shards of
the bucket merge to the same report.
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Fail, check, run_cli  # noqa: E402
from sinktree import sink_tree  # noqa: E402

FAULTLINE = sys.argv[1]
FLGEN = os.environ.get("FLGEN", "")
HERE = os.path.dirname(os.path.abspath(__file__))
TMP = tempfile.mkdtemp(prefix="fl-gcs-")
ROOT = os.path.join(TMP, "bucket")


class Server:
    def __init__(self, *args):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "mock_gcs.py"), "--root",
                                   ROOT] + list(args), stdout=subprocess.PIPE)
        self.port = int(self.p.stdout.readline())

    def stats(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/stats" % self.port, timeout=10) as r:
            return json.load(r)

    def close(self):
        self.p.kill()
        self.p.wait()


def analyze(args, env=None):
    rc, out, err = run_cli(FAULTLINE, ["analyze", "-q", "--format", "json"] + args,
                           env_extra=env or {},
                           unset=("STORAGE_EMULATOR_HOST", "CLOUD_RUN_TASK_INDEX",
                                  "CLOUD_RUN_TASK_COUNT"))
    return rc, out, err


def on(server, scheme=False):
    host = "127.0.0.1:%d" % server.port
    return {"STORAGE_EMULATOR_HOST": ("http://" + host + "/") if scheme else host}


def build_bucket():
    nd = os.path.join(TMP, "inc.ndjson")
    subprocess.run([FLGEN, "--scenario", "dependency_outage", "--seed", "4", "--out", nd],
                   check=True, timeout=120)
    logs = os.path.join(ROOT, "logs")
    n = sink_tree(nd, logs, slot_seconds=600)
    files = sorted(os.path.relpath(os.path.join(d, f), ROOT).replace(os.sep, "/")
                   for d, _, fs in os.walk(logs) for f in fs)
    check(n >= 10, "only %d objects" % n)
    # one object compressed as a .gz file, one stored with Content-Encoding: gzip (same name)
    gz = files[1] + ".gz"
    with open(os.path.join(ROOT, files[1]), "rb") as f:
        data = f.read()
    os.remove(os.path.join(ROOT, files[1]))
    with open(os.path.join(ROOT, gz), "wb") as f:
        f.write(gzip.compress(data))
    enc = files[2]
    with open(os.path.join(ROOT, enc), "rb") as f:
        data = f.read()
    with open(os.path.join(ROOT, enc), "wb") as f:
        f.write(gzip.compress(data))
    zst = None
    if shutil.which("zstd"):
        zst = files[3] + ".zst"
        subprocess.run(["zstd", "-q", "--rm", os.path.join(ROOT, files[3]), "-o",
                        os.path.join(ROOT, zst)], check=True)
    files = sorted(os.path.relpath(os.path.join(d, f), ROOT).replace(os.sep, "/")
                   for d, _, fs in os.walk(logs) for f in fs)
    return files, gz, enc, zst


def main_case():
    files, gz, enc, zst = build_bucket()
    rc, want, err = analyze([os.path.join(ROOT, "logs")])
    check(rc == 0, "local analyze: rc %d %s" % (rc, err))
    check(json.loads(want)["input"]["files"] == len(files), "local copy file count")
    plain = [f for f in files if f not in (gz, enc, zst)]

    # paging, a 503 mid-list, a 429 on a download, two downloads cut mid-body
    s = Server("--page-size", "3", "--fail-page", "2", "--fail-get", plain[0], "--cut", gz,
               "--cut", plain[-1], "--overstate", plain[1])
    try:
        rc, got, err = analyze(["gs://sink-bucket/logs"], on(s))
        st = s.stats()
    finally:
        s.close()
    check(rc == 0, "analyze gs://: rc %d %s" % (rc, err))
    check(got == want, "gs:// report differs from the local copy's")
    pages = {x["page"] for x in st["lists"]}
    check(len(pages) == (len(files) + 2) // 3, "pages listed: %s for %d objects"
          % (sorted(pages), len(files)))
    check(sum(1 for x in st["lists"] if x["page"] == 2) == 2, "page 2 was not retried")
    check(st["served_503"] == 1 and st["served_429"] == 1 and st["cuts"] == 2,
          "faults not served: %s" % st)
    resumed = {x["name"] for x in st["ranges"] if x["from"] > 0}
    check(resumed == {gz, plain[-1], plain[1]}, "cut downloads not resumed with Range: %s"
          % st["ranges"])
    check(any(x.get("status") == 416 and x["name"] == plain[1] for x in st["ranges"]),
          "the resume past the end was not answered 416: %s" % st["ranges"])
    check(all(a == "" for a in st["auth"]), "credentials sent to the emulator")

    # a server that ignores Range: the resumed download skips what it already had
    s = Server("--no-range", "--cut", plain[-2], "--cut", enc)
    try:
        rc, got, err = analyze(["gs://sink-bucket/logs/"], on(s, scheme=True))
    finally:
        s.close()
    check(rc == 0 and got == want, "without Range support: rc %d, same report %s (%s)"
          % (rc, got == want, err))

    # shards of the bucket merge to the same report
    s = Server("--page-size", "5")
    try:
        paths = []
        for i in range(3):
            out = os.path.join(TMP, "g%d.flsum" % i)
            rc, _, err = analyze(["--shard", "%d/3" % i, "--summary-out", out,
                                  "gs://sink-bucket/logs"], on(s))
            check(rc == 0, "gs:// shard %d: %s" % (i, err))
            paths.append(out)
        rc, got, err = run_cli(FAULTLINE, ["merge", "-q", "--format", "json"] + paths[::-1])
        check(rc == 0 and got == want, "merged gs:// shards differ from the local report")
    finally:
        s.close()

    # an object that breaks off every time: reported as truncated, the rest still analysed
    s = Server("--cut-always", plain[0])
    try:
        rc, got, err = analyze(["gs://sink-bucket/logs"], on(s))
    finally:
        s.close()
    doc = json.loads(got)
    check(rc == 3, "a cut object should make the input partial (rc 3), got %d" % rc)
    check(doc["input"]["truncated"] == ["gs://sink-bucket/" + plain[0]],
          "truncated: %s" % doc["input"]["truncated"])
    msg = doc["input"]["warnings"][0]["message"]
    check("gave up after" in msg, "the warning should say the download was retried: " + msg)

    # nothing listening: the input is unreadable, with the reason
    rc, _, err = run_cli(FAULTLINE, ["analyze", "gs://sink-bucket/logs"],
                         env_extra={"STORAGE_EMULATOR_HOST": "127.0.0.1:1"})
    check(rc == 2 and "cannot list objects" in err, "no server: rc %d %s" % (rc, err))


def main():
    try:
        main_case()
    except Fail as e:
        print("FAIL gcs: %s" % e)
        return 1
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("ok gcs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
