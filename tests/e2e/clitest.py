"""What the end-to-end scripts (tests/e2e/e2e.py, tests/postmortem/pm_e2e.py) share: the
failure type, check(), and running the faultline binary in a controlled environment."""

import os
import subprocess


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


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
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
