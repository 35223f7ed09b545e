#!/usr/bin/env python3
"""Fails when a file includes a header from a layer above it (issue 9).

The layers, bottom to top (docs/ARCHITECTURE.md draws them):

    src/core  ->  src/net, patterns  ->  ingest  ->  correlate  ->  reports  ->  src/engine  ->  src/cli

A file may include headers of its own layer and of the layers it sits on (LAYERS below);
nothing else. Each `#include "..."` is resolved the way the compiler does: next to the file
first, then in each layer's folder (so "attach/attach.h" is reports/attach/attach.h).
Two more rules of the layering are checked the same way: only src/net includes <curl/curl.h>
(one way out to the network), and only src/cli reads the environment (getenv, secure_getenv);
library code gets settings as options.

Usage: check_layers.py SOURCE_ROOT            check the tree, exit 1 on a violation
       check_layers.py --self-test SOURCE_ROOT  plant a violation in a copy; it must be found
"""
import os
import re
import shutil
import sys
import tempfile

# layer: (folder, the layers it may include besides itself)
LAYERS = {
    "core": ("src/core", []),
    "net": ("src/net", ["core"]),
    "patterns": ("patterns", ["core"]),
    "ingest": ("ingest", ["core", "net"]),
    "correlate": ("correlate", ["core", "patterns", "ingest"]),
    "reports": ("reports", ["core", "net", "patterns", "ingest", "correlate"]),
    "engine": ("src/engine", ["core", "net", "patterns", "ingest", "correlate", "reports"]),
    "cli": ("src/cli", ["core", "net", "patterns", "ingest", "correlate", "reports", "engine"]),
}
# Folders searched for "x.h" besides the including file's own (meson's include dirs).
SEARCH = ["src/core", "src/net", "ingest", "ingest/live", "patterns", "correlate", "reports",
          "src/engine", "src/cli"]
# written by meson into the build dir; any layer may use them (fl_build_*: src/cli's --version)
GENERATED = {"fl_config.h", "fl_build_git.h", "fl_build_libs.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
CURL = re.compile(r'^\s*#\s*include\s+<curl/', re.M)
GETENV = re.compile(r'\b(?:secure_)?getenv\s*\(')


def layer_of(rel):
    best = None
    for name, (folder, _) in LAYERS.items():
        if rel == folder or rel.startswith(folder + "/"):
            if best is None or len(folder) > len(LAYERS[best][0]):
                best = name
    return best


def resolve(root, rel_file, inc):
    here = os.path.dirname(rel_file)
    for d in [here] + SEARCH:
        cand = os.path.normpath(os.path.join(d, inc))
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def check(root):
    problems = []
    n_files = 0
    for name, (folder, _) in LAYERS.items():
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for f in files:
                if not f.endswith((".c", ".h")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                own = layer_of(rel)
                if own != name:
                    continue  # a deeper folder of another layer (none today)
                n_files += 1
                with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for m in CURL.finditer(text):
                    if own != "net":
                        line = text.count("\n", 0, m.start()) + 1
                        problems.append(f"{rel}:{line}: curl/curl.h outside src/net")
                for m in GETENV.finditer(text):
                    if own != "cli":
                        line = text.count("\n", 0, m.start()) + 1
                        problems.append(f"{rel}:{line}: reads the environment outside src/cli "
                                        "(pass it down as an option)")
                for m in INCLUDE.finditer(text):
                    inc = m.group(1)
                    line = text.count("\n", 0, m.start()) + 1
                    if inc in GENERATED:
                        continue
                    target = resolve(root, rel, inc)
                    if target is None:
                        problems.append(f"{rel}:{line}: \"{inc}\" not found in any layer")
                        continue
                    tl = layer_of(target)
                    if tl is None:
                        problems.append(f"{rel}:{line}: \"{inc}\" ({target}) is outside the "
                                        "layers")
                    elif tl != own and tl not in LAYERS[own][1]:
                        problems.append(f"{rel}:{line}: {own} includes \"{inc}\" from {tl}, "
                                        f"a layer above or beside it ({own} may use: "
                                        f"{', '.join(LAYERS[own][1]) or 'nothing'})")
    return n_files, problems


def self_test(root):
    with tempfile.TemporaryDirectory() as tmp:
        for name, (folder, _) in LAYERS.items():
            shutil.copytree(os.path.join(root, folder), os.path.join(tmp, folder),
                            dirs_exist_ok=True)
        planted = os.path.join(tmp, "src/core/fl_diag.c")
        with open(planted, "a") as f:
            f.write('\n#include "fl_reports.h"\n')
        _, problems = check(tmp)
        if not any("src/core/fl_diag.c" in p and "fl_reports.h" in p for p in problems):
            print("FAIL: a planted core -> reports include was not found")
            return 1
        print("ok: a planted core -> reports include is found")
        with open(os.path.join(tmp, "ingest/batch.c"), "a") as f:
            f.write('\n#include <curl/curl.h>\nstatic const char *x(void) { return getenv("X"); }\n')
        _, problems = check(tmp)
        for what in ("curl/curl.h outside", "reads the environment"):
            if not any("ingest/batch.c" in p and what in p for p in problems):
                print(f"FAIL: planted '{what}' in ingest/batch.c was not found")
                return 1
        print("ok: a planted curl include and getenv outside their layers are found")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--self-test":
        return self_test(sys.argv[2])
    n, problems = check(sys.argv[1])
    for p in problems:
        print(p)
    if problems:
        print(f"FAIL: {len(problems)} include(s) against the layering in {n} files")
        return 1
    print(f"ok: {n} files: includes follow the layers, curl only in src/net, getenv only "
          "in src/cli")
    return 0


if __name__ == "__main__":
    sys.exit(main())
