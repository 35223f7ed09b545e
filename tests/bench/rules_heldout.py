#!/usr/bin/env python3
"""Recall, precision and healthy-line flag rate of the built-in rules on held-out real lines.

  rules_heldout.py FAULTLINE [FILE...]   (default: tests/data/rules_heldout/*.txt)

Each line is "<class or -> | <source> | <message>"; "\\n" and "\\t" in the message are
escapes. Every message goes through `faultline classify` as an ERROR entry. Recall: error lines
given their class; precision: of the error lines given some class, the share given the right
one; flagged: healthy lines given any class. Prints the misses. Exit 0 always (a report).
"""
import glob
import json
import os
import subprocess
import sys


def load(paths):
    rows = []
    for p in paths:
        for n, line in enumerate(open(p, encoding="utf-8"), 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            want, src, text = (x.strip() for x in line.split(" | ", 2))
            rows.append((want, "%s:%d" % (os.path.basename(p), n),
                         text.replace("\\n", "\n").replace("\\t", "\t")))
    return rows


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    paths = sys.argv[2:] or sorted(glob.glob(os.path.join(here, "..", "data", "rules_heldout",
                                                          "*.txt")))
    rows = load(paths)
    inp = "".join(json.dumps({"insertId": "L%d" % i, "severity": "ERROR", "textPayload": t}) + "\n"
                  for i, (_, _, t) in enumerate(rows))
    p = subprocess.run([sys.argv[1], "classify", "--all", "--no-multiline", "--no-redact"],
                       input=inp, capture_output=True, text=True)
    got = {}
    for line in p.stdout.splitlines():
        o = json.loads(line)
        got[int(o["insertId"][1:])] = o["class"] or "-"
    tp = wrong = missed = healthy = flagged = 0
    for i, (want, where, text) in enumerate(rows):
        g = got.get(i, "-")
        if want == "-":
            healthy += 1
            if g != "-":
                flagged += 1
                print("flagged  %-22s %s: %s" % (g, where, text[:110]))
        elif g == want:
            tp += 1
        else:
            wrong += g != "-"
            missed += g == "-"
            print("miss     %-22s %s: got %s: %s" % (want, where, g, text[:100]))
    n = tp + wrong + missed
    print("error lines %d: recall %.3f, precision %.3f (%d wrong class, %d unclassified); "
          "healthy lines %d: %d flagged (%.1f%%)" % (n, tp / max(n, 1), tp / max(tp + wrong, 1),
                                                     wrong, missed, healthy, flagged,
                                                     100.0 * flagged / max(healthy, 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
