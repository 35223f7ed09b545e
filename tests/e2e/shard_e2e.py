#!/usr/bin/env python3
"""Shards and summaries through the real CLI (issue 14).

  python3 shard_e2e.py FALTLINE SOURCE_ROOT CASE

scenarios  every scenario of the suite (with and without audit logs), laid out as a sink
           directory, read as 1..8 shards (--summary-out), merged in a shuffled order: the JSON
           report is byte for byte the one pass's. A bad .gz and malformed lines are added so
           the input warnings merge too.
bench      the same for flgen --bench traffic (1..8 shards), in all four report formats.
sample     the shipped sample incident (its report names a commit range), in every format.
env        CLOUD_RUN_TASK_INDEX/COUNT and JOB_COMPLETION_INDEX (+ --shard-count) pick the shard;
           two shards never share a file, all shards cover all files, and the split is the
           documented FNV-1a-64(relative path) mod N.
refuse     merge refuses another format version, a bad checksum, a truncated file, a file that
           is no summary, and the same shard twice; a missing shard is named.
"""

import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Fail, check, run_cli  # noqa: E402
from sinktree import sink_tree  # noqa: E402

FAULTLINE = sys.argv[1]
SRC = sys.argv[2]
FLGEN = os.environ.get("FLGEN", "")
TMP = tempfile.mkdtemp(prefix="fl-shard-")


def run(args, env_extra=None, unset=()):
    return run_cli(FAULTLINE, args, env_extra=env_extra,
                   unset=("CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT",
                          "JOB_COMPLETION_INDEX") + tuple(unset))


def flgen(args, out):
    subprocess.run([FLGEN] + args + ["--out", out], check=True, timeout=120)


def add_damage(root):
    """A gzip file cut short and a file with malformed lines: warnings that must merge."""
    d = os.path.join(root, "damaged")
    os.makedirs(d, exist_ok=True)
    good = b'{"timestamp":"2026-03-28T01:00:00Z","severity":"ERROR","textPayload":"x"}\n'
    blob = gzip.compress(good * 200)
    with open(os.path.join(d, "cut.json.gz"), "wb") as f:
        f.write(blob[: len(blob) // 2])
    with open(os.path.join(d, "bad.json"), "wb") as f:
        f.write(good + b"{not json\n" + good + b"[1,2\n")


def summaries(tree, n, tag, extra=()):
    paths = []
    for i in range(n):
        out = os.path.join(TMP, "%s-%d-of-%d.flsum" % (tag, i, n))
        rc, _, err = run(["analyze", "-q", "--shard", "%d/%d" % (i, n), "--summary-out", out,
                          tree] + list(extra))
        check(rc in (0, 3), "%s shard %d/%d: rc %d: %s" % (tag, i, n, rc, err))
        check(os.path.getsize(out) > 0, "empty summary")
        paths.append(out)
    return paths


def merged(paths, fmt, seed):
    order = list(paths)
    random.Random(seed).shuffle(order)
    rc, out, err = run(["merge", "-q", "--format", fmt] + order)
    check(rc in (0, 3), "merge rc %d: %s" % (rc, err))
    return out


def single(tree, fmt):
    rc, out, err = run(["analyze", "-q", "--format", fmt, tree])
    check(rc in (0, 3), "single pass rc %d: %s" % (rc, err))
    return out


def assert_identical(a, b, label):
    if a != b:
        pa, pb = os.path.join(TMP, "single.out"), os.path.join(TMP, "merged.out")
        open(pa, "w").write(a)
        open(pb, "w").write(b)
        diff = subprocess.run(["diff", pa, pb], stdout=subprocess.PIPE).stdout.decode()[:1500]
        raise Fail("%s: merged report differs from the single pass:\n%s" % (label, diff))


def scenario_rows():
    rows = []
    with open(os.path.join(SRC, "tests", "scenarios", "scenarios.txt")) as f:
        for line in f:
            parts = line.split("#")[0].split()
            if len(parts) >= 3:
                first = int(parts[1].split("-")[0])
                rows.append((parts[0], first, parts[3:]))
    return rows


def case_scenarios():
    rows = scenario_rows()
    check(len(rows) >= 16, "scenario list not found")
    for k, (name, seed, flags) in enumerate(rows):
        tag = "%s-%d" % (name, seed)
        nd = os.path.join(TMP, tag + ".ndjson")
        flgen(["--scenario", name, "--seed", str(seed)] + flags, nd)
        tree = os.path.join(TMP, tag)
        sink_tree(nd, tree, slot_seconds=300)
        if k % 4 == 0:
            add_damage(tree)
        want = single(tree, "json")
        # every shard count for the first rows, then two per row to keep the suite fast
        counts = range(1, 9) if k < 2 else sorted({1 + k % 8, 8 - k % 4})
        for n in counts:
            got = merged(summaries(tree, n, tag), "json", seed * 100 + n)
            assert_identical(want, got, "%s, %d shards" % (tag, n))
        shutil.rmtree(tree)


def case_bench():
    nd = os.path.join(TMP, "bench.ndjson")
    flgen(["--bench", "--bytes", "24M"], nd)
    tree = os.path.join(TMP, "bench")
    nfiles = sink_tree(nd, tree, slot_seconds=10)
    check(nfiles >= 40, "bench sink tree has only %d files" % nfiles)
    add_damage(tree)
    want = {fmt: single(tree, fmt) for fmt in ("json", "text", "md", "html")}
    for n in range(1, 9):
        paths = summaries(tree, n, "bench")
        assert_identical(want["json"], merged(paths, "json", n), "bench, %d shards" % n)
        if n in (3, 8):
            for fmt in ("text", "md", "html"):
                assert_identical(want[fmt], merged(paths, fmt, n + 1), "bench %s, %d" % (fmt, n))


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def files_read(args, env_extra=None):
    """The files a run read: each file of the env tree holds one malformed line, so the
    report's warnings name exactly the files read."""
    rc, out, err = run(["analyze", "-q", "--format", "json"] + args, env_extra=env_extra)
    check(rc in (0, 3), "rc %d: %s" % (rc, err))
    doc = json.loads(out)
    return sorted(w["file"] for w in doc["input"]["warnings"])


def case_env():
    tree = os.path.join(TMP, "envtree")
    names = []
    for i in range(40):
        rel = "run.googleapis.com/stderr/2026/11/%02d/%02d:00:00_%02d:59:59_S%d.json" % (
            1 + i % 5, i % 24, i % 24, i)
        path = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write('{"timestamp":"2026-11-01T00:00:00Z","severity":"ERROR","textPayload":"e"}\n')
            f.write("{broken\n")
        names.append(rel)
    everything = sorted(os.path.join(tree, r) for r in names)
    check(files_read([tree]) == everything, "unsharded run does not read every file")

    for n in (2, 3, 7):
        seen = []
        for i in range(n):
            want = sorted(os.path.join(tree, r) for r in names if fnv1a64(r) % n == i)
            got = files_read(["--shard", "%d/%d" % (i, n), tree])
            check(got == want, "--shard %d/%d read %s, expected %s" % (i, n, got, want))
            by_cloud_run = files_read([tree], {"CLOUD_RUN_TASK_INDEX": str(i),
                                               "CLOUD_RUN_TASK_COUNT": str(n)})
            check(by_cloud_run == want, "CLOUD_RUN_TASK_INDEX=%d/%d picked other files" % (i, n))
            by_k8s = files_read(["--shard-count", str(n), tree], {"JOB_COMPLETION_INDEX": str(i)})
            check(by_k8s == want, "JOB_COMPLETION_INDEX=%d (--shard-count %d) picked other "
                  "files" % (i, n))
            check(not set(got) & set(seen), "shards of %d share a file" % n)
            seen += got
        check(sorted(seen) == everything, "%d shards do not cover every file" % n)

    # the split is relative to the input argument: another spelling of the path, same split
    alias = tree + "/"
    for i in range(3):
        a = [p[len(tree):] for p in files_read(["--shard", "%d/3" % i, tree])]
        b = [p[len(alias) - 1:] for p in files_read(["--shard", "%d/3" % i, alias])]
        check(a == b, "the split depends on how the input path is written")
    # --shard wins over the environment; a bad value is a usage error naming the variable
    got = files_read(["--shard", "0/1", tree], {"CLOUD_RUN_TASK_INDEX": "1",
                                                "CLOUD_RUN_TASK_COUNT": "2"})
    check(got == everything, "--shard 0/1 did not override CLOUD_RUN_TASK_*")
    rc, _, err = run(["analyze", tree], {"CLOUD_RUN_TASK_INDEX": "4", "CLOUD_RUN_TASK_COUNT": "4"})
    check(rc == 1 and "CLOUD_RUN_TASK_INDEX" in err, "index >= count accepted: %s" % err)
    rc, _, err = run(["analyze", "--shard-count", "3", tree])
    check(rc == 1 and "JOB_COMPLETION_INDEX" in err, "--shard-count without index: %s" % err)
    for bad in ("3", "1/0", "2/2", "-1/2", "a/b", "1/2/3"):
        rc, _, err = run(["analyze", "--shard", bad, tree])
        check(rc == 1 and "--shard" in err, "--shard %s accepted: %s" % (bad, err))


def case_refuse():
    tree = os.path.join(TMP, "small")
    nd = os.path.join(TMP, "small.ndjson")
    flgen(["--scenario", "oom_after_deploy", "--seed", "3"], nd)
    sink_tree(nd, tree)
    paths = summaries(tree, 2, "small")
    data = open(paths[0], "rb").read()

    def refused(blob, words):
        p = os.path.join(TMP, "broken.flsum")
        open(p, "wb").write(blob)
        rc, out, err = run(["merge", paths[1], p])
        check(rc != 0 and out == "", "a broken summary was merged (%s)" % words)
        check(p in err and words in err, "message should name the file and say '%s': %s"
              % (words, err))

    refused(data[:8] + b"\x63\x00\x00\x00" + data[12:], "format version 99")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    refused(bytes(flipped), "checksum")
    refused(data[: len(data) - 100], "truncated")
    refused(data[:10], "truncated")
    refused(b'{"version": 1}\n', "not a faultline summary")

    rc, out, err = run(["merge", paths[0], paths[0]])
    check(rc == 1 and "count twice" in err, "the same shard merged twice: %s" % err)
    whole = os.path.join(TMP, "whole.flsum")
    run(["analyze", "-q", "--summary-out", whole, tree])
    shutil.copy(whole, whole + ".copy.flsum")
    rc, out, err = run(["merge", whole, whole + ".copy.flsum"])
    check(rc == 1 and "same summary" in err, "one summary merged twice: %s" % err)
    rc, out, err = run(["merge", paths[1]])
    check(rc == 0 and "shard 0/2" in err, "a missing shard is not named: %s" % err)
    rc, out, err = run(["merge", os.path.join(TMP, "nope.flsum")])
    check(rc == 2 and "nope.flsum" in err, "a missing file: rc %d %s" % (rc, err))

    # --summary-out DIR names the file after the shard; merge DIR takes its *.flsum files
    outdir = os.path.join(TMP, "job-output", "run-1")
    for i in range(3):
        rc, _, err = run(["analyze", "-q", "--summary-out", outdir + "/", tree],
                         {"CLOUD_RUN_TASK_INDEX": str(i), "CLOUD_RUN_TASK_COUNT": "3"})
        check(rc == 0, "summary into a directory: %s" % err)
    check(sorted(os.listdir(outdir)) == ["summary-%d-of-3.flsum" % i for i in range(3)],
          "directory summaries: %s" % os.listdir(outdir))
    rc, out, err = run(["merge", "-q", "--format", "json", outdir])
    check(rc == 0 and out == single(tree, "json"), "merge DIR differs from the single pass")

    # the summary's size follows the aggregate, not the entries: twice the traffic of the
    # same hour (every file twice, under another name) gives the same size
    one = os.path.join(TMP, "one.flsum")
    two = os.path.join(TMP, "two.flsum")
    run(["analyze", "-q", "--summary-out", one, tree])
    shutil.copytree(tree, tree + "/again")
    run(["analyze", "-q", "--summary-out", two, tree])
    s1, s2 = os.path.getsize(one), os.path.getsize(two)
    check(abs(s2 - s1) < 200, "summary grew with the entries: %d -> %d bytes" % (s1, s2))


def case_sample():
    """The shipped sample incident (a deploy with commit SHAs: the report names its commit
    range), as shards, in every format."""
    src = os.path.join(SRC, "tests", "data", "incidents", "checkout-bad-deploy.json")
    nd = os.path.join(TMP, "sample.ndjson")
    with open(src) as f, open(nd, "w") as out:
        for e in json.load(f):
            out.write(json.dumps(e) + "\n")
    tree = os.path.join(TMP, "sample")
    sink_tree(nd, tree, slot_seconds=60)
    want = {fmt: single(tree, fmt) for fmt in ("json", "text", "md", "html")}
    check('"commit_range"' in want["json"], "the sample report has no commit range")
    for n in (2, 5):
        paths = summaries(tree, n, "sample")
        for fmt in want:
            assert_identical(want[fmt], merged(paths, fmt, n), "sample %s, %d shards" % (fmt, n))


CASES = {"scenarios": case_scenarios, "sample": case_sample, "bench": case_bench, "env": case_env,
         "refuse": case_refuse}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        print("usage: shard_e2e.py FAULTLINE SOURCE_ROOT {%s}" % "|".join(CASES))
        return 2
    try:
        CASES[sys.argv[3]]()
    except Fail as e:
        print("FAIL %s: %s" % (sys.argv[3], e))
        return 1
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("ok %s" % sys.argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
