"""What the end-to-end scripts (tests/e2e/e2e.py, tests/postmortem/pm_e2e.py) share: the
failure type, check(), and running the faultline binary in a controlled environment."""

import json
import os
import subprocess
import tempfile

# Every JSON report a test makes faultline write is checked against docs/report.schema.json
# (python3-jsonschema, installed by .ci/bootstrap).
SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                           "report.schema.json")
_validator = None
reports_validated = 0


def validate_report(doc, where):
    """Raises Fail if doc (a parsed JSON report) does not match the report schema."""
    global _validator, reports_validated
    if _validator is None:
        import jsonschema
        with open(SCHEMA_PATH) as f:
            schema = json.load(f)
        _validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(_validator.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        raise Fail(f"{where}: report does not match docs/report.schema.json at "
                   f"/{'/'.join(str(p) for p in e.path)}: {e.message[:300]}")
    reports_validated += 1


def _reports_in(text):
    """The faultline JSON reports in text: one document, or one per line (tail snapshots)."""
    text = text.strip()
    if not text.startswith("{"):
        return []
    candidates = [text] if "\n{" not in text else text.splitlines()
    docs = []
    for c in candidates:
        try:
            d = json.loads(c)
        except ValueError:
            continue
        if isinstance(d, dict) and d.get("generated_by") == "faultline":
            docs.append(d)
    return docs


def _validate_output(args, stdout):
    for d in _reports_in(stdout):
        validate_report(d, f"faultline {' '.join(args[:3])}")
    # A JSON report written with -o FILE.
    for flag in ("-o", "--output"):
        if flag in args and args.index(flag) + 1 < len(args):
            path = args[args.index(flag) + 1]
            if path not in ("-", "/dev/null") and os.path.isfile(path):
                with open(path, errors="replace") as f:
                    for d in _reports_in(f.read()):
                        validate_report(d, f"faultline {' '.join(args[:3])} -o {path}")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run_cases(cases, which, tmp_prefix=None, on_tmp=None):
    """Runs `which` ("all" or one name) of `cases` (name -> callable taking no argument), each in a
    fresh temporary directory handed to `on_tmp` when `tmp_prefix` is given. Prints one ok/FAIL line
    per case and returns the exit status: 1 if any failed, else 0."""
    names = list(cases) if which == "all" else [which]
    failed = 0
    for name in names:
        try:
            if tmp_prefix is None:
                cases[name]()
            else:
                with tempfile.TemporaryDirectory(prefix=f"{tmp_prefix}{name}-") as d:
                    on_tmp(d)
                    cases[name]()
            print(f"ok   {name}")
        except Fail as e:
            failed += 1
            print(f"FAIL {name}: {e}")
    return 1 if failed else 0


def run_cli(faultline, args, stdin=None, input_bytes=None, env_extra=None, unset=(),
            timeout=120):
    """Runs faultline with args; returns (exit status, stdout, stderr) as text. The user's
    FAULTLINE_PATTERNS_DIR and the variables in unset are removed, colour is off, env_extra is
    added. stdin None inherits the caller's."""
    env = dict(os.environ)
    for k in ("FAULTLINE_PATTERNS_DIR",) + tuple(unset):
        env.pop(k, None)
    env["NO_COLOR"] = "1"
    if env_extra:
        env.update(env_extra)
    p = subprocess.run([faultline] + args, stdin=stdin, input=input_bytes,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    _validate_output(args, out)
    return p.returncode, out, p.stderr.decode("utf-8", "replace")
