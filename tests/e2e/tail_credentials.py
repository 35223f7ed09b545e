#!/usr/bin/env python3
"""tail without credentials (issue 13 item 10): `faultline tail --cloud-logging` or `--pubsub`
with no credentials anywhere (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud ADC file, the
metadata server unreachable) ends at once with exit 1 and the whole reason, hint included,
instead of running with empty snapshots and a message cut at "GOOGLE_APPLICATION_C".

Usage: tail_credentials.py FAULTLINE SOURCE_ROOT CASE   (CASE: cloudlogging, pubsub, all)
The "metadata server" is a closed port on 127.0.0.1: nothing leaves the machine.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time

import clitest
from clitest import Fail, check, run_cli

HINT = ("no credentials found: set GOOGLE_APPLICATION_CREDENTIALS or run gcloud auth "
        "application-default login")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_tail(faultline, source_args):
    with tempfile.TemporaryDirectory(prefix="fl-nocreds-") as home:
        env = {"HOME": home, "CLOUDSDK_CONFIG": os.path.join(home, "gcloud"),
               "GCE_METADATA_HOST": f"127.0.0.1:{closed_port()}"}
        unset = ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_AUTH_ACCESS_TOKEN",
                 "GOOGLE_OAUTH_ACCESS_TOKEN", "PUBSUB_EMULATOR_HOST",
                 "FAULTLINE_LOGGING_ENDPOINT", "FAULTLINE_OAUTH_TOKEN_URI")
        t0 = time.monotonic()
        try:
            rc, out, err = run_cli(faultline, ["tail", "--format", "json", "--interval", "200ms"]
                                   + source_args, stdin=subprocess.DEVNULL, env_extra=env,
                                   unset=unset, timeout=20)
        except subprocess.TimeoutExpired:
            raise Fail(f"tail {source_args} without credentials still running after 20 s")
        return rc, out, err, time.monotonic() - t0


def expect_failure(faultline, source_args, what):
    rc, out, err, took = run_tail(faultline, source_args)
    check(rc == 1, f"{what}: exit {rc}, expected 1 (configuration error); stderr:\n{err}")
    check(out.strip() == "", f"{what}: snapshots written without credentials: {out[:200]}")
    check(f"{what}: credentials:" in err and HINT in err,
          f"{what}: the reason or its hint is missing or cut:\n{err}")
    check(took < 15, f"{what}: took {took:.1f} s to give up")


def case_cloudlogging(faultline):
    expect_failure(faultline, ["--cloud-logging", 'resource.type="cloud_run_revision"',
                               "--project", "acme-shop"], "cloud-logging")


def case_pubsub(faultline):
    expect_failure(faultline, ["--pubsub", "projects/acme-shop/subscriptions/faultline-tail"],
                   "pubsub")


CASES = {"cloudlogging": case_cloudlogging, "pubsub": case_pubsub}


def main():
    faultline, _root, which = sys.argv[1], sys.argv[2], sys.argv[3]
    cases = {name: (lambda fn=fn: fn(faultline)) for name, fn in CASES.items()}
    return clitest.run_cases(cases, which)


if __name__ == "__main__":
    sys.exit(main())
