#!/usr/bin/env python3
"""Issue 13 "Done when": README and --help show each new option with one real example, and
no help names an internal flag or a test-only environment variable.

Usage: help_examples.py FAULTLINE SOURCE_ROOT CASE   (help, readme, internal, version, all)

An example is a line of the command's "Example(s):" section (help) or a command line in a
```sh block of README.md that starts with `faultline` or pipes into it.
"""

import os
import re
import subprocess
import sys

import clitest
from clitest import check, run_cli

# The options issue 13 added, per command, as they must appear in an example line.
NEW = {
    "analyze": ["--since", "--until", "--service", "--revision", "--min-severity",
                "--fail-on-cause", "--format slack", "--redact-actors", "--allow-list"],
    "postmortem": ["--since", "--service", "--redact-actors", "--allow-list"],
    "classify": ["--since", "--service"],
    "tail": ["tail -f", "--redact-actors", "--allow-list"],
}
README_NEW = ["--since", "--until", "--service", "--revision", "--min-severity",
              "--keep-duplicates", "--fail-on-cause", "--format slack", "--redact-actors",
              "--allow-list", "tail -f", "--version"]
# Flags and variables for tests and differential runs: never in user help.
INTERNAL = ["--slow-json", "FAULTLINE_SLACK_HOOKS_URL", "FL_NO_PREFILTER", "FL_KAFKA_DEBUG",
            "FAULTLINE_OAUTH_TOKEN_URI", "FAULTLINE_LOGGING_ENDPOINT", "FL_TEST"]


def help_of(faultline, cmd):
    rc, out, err = run_cli(faultline, ([cmd] if cmd else []) + ["--help"])
    check(rc == 0, f"{cmd} --help: exit {rc}; {err}")
    return out


def examples(text):
    """The lines of the help's Example(s) section."""
    m = re.search(r"^Examples?:\n((?:  .*\n|\n)+?)(?:\n\S|\Z)", text + "\n\n", re.M)
    return m.group(1) if m else ""


def case_help(faultline, root):
    for cmd, opts in NEW.items():
        ex = examples(help_of(faultline, cmd))
        check(ex, f"{cmd} --help has no Examples section")
        for o in opts:
            check(o in ex, f"{cmd} --help: no example uses {o}:\n{ex}")


def case_readme(faultline, root):
    with open(os.path.join(root, "README.md")) as f:
        text = f.read()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    lines = [ln for b in blocks for ln in b.splitlines()
             if ln.startswith("faultline") or "| faultline" in ln
             or re.match(r"^\w+=\S* faultline", ln)]
    for o in README_NEW:
        check(any(o in ln for ln in lines), f"README: no command line uses {o}")


def case_internal(faultline, root):
    for cmd in ("", "analyze", "classify", "postmortem", "tail", "merge", "patterns"):
        out = help_of(faultline, cmd)
        for bad in INTERNAL:
            check(bad not in out, f"'{cmd} --help' names the internal {bad}")


def case_version(faultline, root):
    """--version names the source it was built from (git describe), not a bare 0.1.0."""
    rc, out, err = run_cli(faultline, ["--version"])
    check(rc == 0, f"--version: exit {rc}; {err}")
    first = out.splitlines()[0] if out else ""
    m = re.match(r"^faultline (\d+\.\d+\.\d+) \(([^)]+)\)$", first)
    check(m, f"--version's first line is not 'faultline X.Y.Z (DESCRIBE)': {first!r}")
    try:
        desc = subprocess.run(["git", "-C", root, "describe", "--always", "--tags"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        desc = ""
    if desc:  # a source tree without git builds with the project version instead
        check(m.group(2).removesuffix("-dirty") == desc,
              f"--version says {m.group(2)!r}, git describe says {desc!r}")


CASES = {"help": case_help, "readme": case_readme, "internal": case_internal,
         "version": case_version}


def main():
    faultline, root, which = sys.argv[1], sys.argv[2], sys.argv[3]
    cases = {name: (lambda fn=fn: fn(faultline, root)) for name, fn in CASES.items()}
    return clitest.run_cases(cases, which)


if __name__ == "__main__":
    sys.exit(main())
