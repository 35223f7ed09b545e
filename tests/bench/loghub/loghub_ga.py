#!/usr/bin/env python3
"""Grouping Accuracy of faultline's templates on the Loghub 2k benchmark.

Feeds the `Content` column of every dataset's structured CSV to `faultline classify` (one
NDJSON entry per line, severity ERROR so every line is grouped, no multi-line joining), and
scores the groups against the true `EventId`s with the Grouping Accuracy of Zhu et al.
("Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019): a line counts as correct
when the set of lines in its predicted group equals the set of lines sharing its EventId.
Prints per dataset GA on the original and the corrected (Loghub-2.0) labels, the number of
groups faultline made and the number of true templates, next to Drain's published GA.

  loghub_ga.py FAULTLINE [--data DIR (default ../shared/loghub-2k or $FL_LOGHUB_DIR)] [--key family|group] [--min-avg X] [--min-each Y]
               [--only NAME,...]

--key family (default) scores the families reports group by; --key group the per-line
template key. --min-avg / --min-each make the exit status 1 when the average over the original
labels, or any dataset, is below the bar. Exit 77 (skipped) when the data is not there.
"""
import argparse
import collections
import csv
import json
import os
import subprocess
import sys

# Drain's GA per dataset on the original Loghub 2k labels (Zhu et al. 2019, Table; the
# logpai/logparser benchmark README). Average 0.865.
DRAIN = {
    "HDFS": 0.998, "Hadoop": 0.948, "Spark": 0.920, "Zookeeper": 0.967, "BGL": 0.963,
    "HPC": 0.887, "Thunderbird": 0.955, "Windows": 0.997, "Linux": 0.690, "Mac": 0.787,
    "Android": 0.911, "HealthApp": 0.780, "Apache": 1.000, "OpenSSH": 0.788,
    "OpenStack": 0.733, "Proxifier": 0.527,
}


def read_csv(path):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.DictReader(f))
    return [r["Content"] for r in rows], [r["EventId"] for r in rows]


def classify(faultline, contents, key):
    lines = []
    for i, c in enumerate(contents):
        lines.append(json.dumps({"insertId": "L%d" % i, "severity": "ERROR",
                                 "textPayload": c}))
    p = subprocess.run([faultline, "classify", "--all", "--no-multiline", "--no-redact"],
                       input="\n".join(lines) + "\n", capture_output=True, text=True)
    if p.returncode not in (0, 3):
        sys.exit("faultline classify failed (%d): %s" % (p.returncode, p.stderr[:500]))
    pred = [None] * len(contents)
    for line in p.stdout.splitlines():
        o = json.loads(line)
        pred[int(o["insertId"][1:])] = o[key]
    missing = sum(1 for x in pred if x is None)
    if missing:
        sys.exit("faultline classify printed no entry for %d lines" % missing)
    return pred


def grouping_accuracy(pred, truth):
    true_size = collections.Counter(truth)
    groups = collections.defaultdict(list)
    for i, k in enumerate(pred):
        groups[k].append(i)
    correct = 0
    for members in groups.values():
        ids = {truth[i] for i in members}
        if len(ids) == 1 and true_size[truth[members[0]]] == len(members):
            correct += len(members)
    return correct / len(truth)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("faultline")
    # Default: the shared checkout next to the source tree (../shared/loghub-2k).
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.normpath(os.path.join(here, "..", "..", "..", "..", "shared", "loghub-2k"))
    ap.add_argument("--data", default=os.environ.get("FL_LOGHUB_DIR", default))
    ap.add_argument("--key", choices=["family", "group"], default="family")
    ap.add_argument("--min-avg", type=float, default=None)
    ap.add_argument("--min-each", type=float, default=None)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    orig = os.path.join(a.data, "loghub_2k")
    corr = os.path.join(a.data, "loghub_2k_corrected")
    if not os.path.isdir(orig):
        print("loghub: %s not found, skipped" % orig)
        return 77
    names = sorted(DRAIN)
    if a.only:
        names = [n for n in names if n in a.only.split(",")]
    print("%-12s %8s %8s %8s %7s %7s %7s" % ("dataset", "GA", "GA-corr", "Drain", "groups",
                                              "true", "lines"))
    gas, gas_c, failed = [], [], []
    for name in names:
        contents, truth = read_csv(os.path.join(orig, name + "_2k.log_structured.csv"))
        pred = classify(a.faultline, contents, a.key)
        ga = grouping_accuracy(pred, truth)
        cpath = os.path.join(corr, name + "_2k.log_structured_corrected.csv")
        ga_c = "-"
        if os.path.exists(cpath):
            ccontents, ctruth = read_csv(cpath)
            cpred = pred if ccontents == contents else classify(a.faultline, ccontents, a.key)
            gas_c.append(grouping_accuracy(cpred, ctruth))
            ga_c = "%.3f" % gas_c[-1]
        gas.append(ga)
        if a.min_each is not None and ga < a.min_each:
            failed.append(name)
        print("%-12s %8.3f %8s %8.3f %7d %7d %7d" % (name, ga, ga_c, DRAIN[name], len(set(pred)),
                                                    len(set(truth)), len(truth)))
    avg = sum(gas) / len(gas)
    drain = sum(DRAIN[n] for n in names) / len(names)
    avg_c = "%.3f" % (sum(gas_c) / len(gas_c)) if gas_c else "-"
    print("%-12s %8.3f %8s %8.3f" % ("average", avg, avg_c, drain))
    if a.min_avg is not None and avg < a.min_avg:
        failed.append("average %.3f < %.2f" % (avg, a.min_avg))
    if failed:
        print("below the bar: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
