#!/usr/bin/env python3
"""faultline tail --webhook and --on-new-cause: what leaves the process, and when a cause counts
as announced. Usage: webhook_e2e.py FAULTLINE CASE

  retry    the receiver answers 500, then 200: tail retries with the same webhook-id and a valid
           Standard Webhooks signature, and the cause is announced once (issue 10 item 8).
  refire   the receiver answers 500 to a whole delivery (every retry): the cause is not recorded
           as fired, so a later snapshot delivers it; --on-new-cause still ran once.
  redact   the error lines carry a token, a password and an email (in the revision label they
           come with, so they reach the cause's summary): neither the webhook body nor the
           --on-new-cause environment holds any of them (issue 9).
  url      a plain-http --webhook to a non-loopback host is refused up front, and the message
           shows neither userinfo nor query.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import check, gen  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks spec's example key
PLANTED = ["hunter2secret", "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
           "alice.smith@example.com"]
REV2 = "checkout-00002-xyz"


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers the first `fail` requests with 500."""

    def __init__(self, fail):
        self.requests = []
        self.lock = threading.Lock()
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    rec.requests.append({"headers": {k.lower(): v for k, v in
                                                     self.headers.items()},
                                         "body": body, "t": time.time()})
                    n = len(rec.requests)
                status = 500 if n <= fail else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if status == 500 else b"ok")

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/hook" % self.srv.server_address[1]

    def count(self):
        with self.lock:
            return len(self.requests)

    def close(self):
        self.srv.shutdown()


def verify(req):
    h = req["headers"]
    mid, ts, sig = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    check(bool(mid and ts and sig), "Standard Webhooks headers present")
    key = base64.b64decode(SECRET[len("whsec_"):])
    mac = hmac.new(key, ("%s.%s." % (mid, ts)).encode() + req["body"], hashlib.sha256).digest()
    check("v1," + base64.b64encode(mac).decode() in sig.split(" "), "signature verifies")
    return mid


def incident(tmp, revision=REV2):
    path = os.path.join(tmp, "incident.ndjson")
    t0 = time.time() - 600
    gen(path, "baseline", 0, 200, t0)
    gen(path, "deploy", t0=t0, append=True)
    gen(path, "burst", 1000, 300, t0, append=True)
    if revision != REV2:
        with open(path) as f:
            text = f.read().replace(REV2, revision)
        with open(path, "w") as f:
            f.write(text)
    return path


def tail_until(faultline, args, inp, stop, timeout, env_extra=None):
    """Runs tail on a FIFO fed with inp and kept open, until stop() or the timeout; returns
    stderr."""
    env = dict(os.environ)
    env.update(env_extra or {})
    fifo = inp + ".fifo"
    os.mkfifo(fifo)
    p = subprocess.Popen([faultline, "tail", "--format", "json", "--interval", "200ms"] + args +
                         ["-"], stdin=os.open(fifo, os.O_RDONLY | os.O_NONBLOCK),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    w = open(fifo, "w")
    with open(inp) as f:
        w.write(f.read())
    w.flush()
    end = time.monotonic() + timeout
    while time.monotonic() < end and not stop():
        time.sleep(0.1)
    time.sleep(1.0)  # a few more snapshots with the same top cause
    w.close()
    _, err = p.communicate(timeout=60)
    check(p.returncode == 0, "tail exits 0 (%s)" % err.strip()[-300:])
    return err


def case_retry(faultline, tmp):
    rec = Receiver(fail=1)
    marker = os.path.join(tmp, "fired.txt")
    try:
        tail_until(faultline, ["--webhook", rec.url, "--on-new-cause", "echo x >> " + marker],
                   incident(tmp), lambda: rec.count() >= 2, 30,
                   {"FAULTLINE_WEBHOOK_SECRET": SECRET})
    finally:
        rec.close()
    reqs = rec.requests
    check(len(reqs) == 2, "one 500, then one retry that got 200 (%d requests)" % len(reqs))
    check(len({verify(r) for r in reqs}) == 1, "the same webhook-id on the retry")
    check(reqs[0]["body"] == reqs[1]["body"], "the same body on the retry")
    check(json.loads(reqs[1]["body"])["cause"]["revision"] == REV2, "the body names the cause")
    with open(marker) as f:
        check(f.read().splitlines() == ["x"], "--on-new-cause ran once")


def case_refire(faultline, tmp):
    rec = Receiver(fail=5)  # a whole delivery: 5 attempts, all 500
    marker = os.path.join(tmp, "fired.txt")
    state = os.path.join(tmp, "state")
    try:
        err = tail_until(faultline, ["--webhook", rec.url, "--state", state,
                                     "--on-new-cause", "echo x >> " + marker],
                         incident(tmp), lambda: rec.count() >= 6, 60)
    finally:
        rec.close()
    check(rec.count() == 6, "the failed delivery is tried again later, and stops once it "
                            "got 200 (%d requests)" % rec.count())
    check("will try again" in err, "the failure is reported")
    with open(marker) as f:
        check(f.read().splitlines() == ["x"], "--on-new-cause ran once all the same")
    with open(os.path.join(state, "fired.tsv")) as f:
        check(REV2 in f.read(), "recorded as fired once delivered")


def case_redact(faultline, tmp):
    rec = Receiver(fail=0)
    envfile = os.path.join(tmp, "env.txt")
    revision = REV2 + " password=%s %s %s" % tuple(PLANTED)
    try:
        err = tail_until(faultline, ["--webhook", rec.url, "--on-new-cause",
                                     "env | grep ^FAULTLINE_CAUSE_ >> " + envfile],
                         incident(tmp, revision), lambda: rec.count() >= 1, 30)
    finally:
        rec.close()
    check(rec.count() == 1, "the webhook was called")
    body = rec.requests[0]["body"].decode()
    with open(envfile) as f:
        env = f.read()
    check("FAULTLINE_CAUSE_SUMMARY=" in env, "the command ran with the cause in its environment")
    check("[REDACTED:" in body, "the body carries the redacted summary")
    for s in PLANTED:
        check(s not in body, "%s is not in the webhook body" % s[:8])
        check(s not in env, "%s is not in the --on-new-cause environment" % s[:8])
        check(s not in err, "%s is not on stderr" % s[:8])


def case_url(faultline, tmp):
    for url in ("http://user:PASSWORD1@example.com/hook?token=QUERYSECRET",
                "ftp://user:PASSWORD1@127.0.0.1/hook?token=QUERYSECRET"):
        r = subprocess.run([faultline, "tail", "--webhook", url, "-"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 1, "refused: exit 1 (%d)" % r.returncode)
        check("--webhook" in r.stderr, "the message names --webhook: " + r.stderr.strip())
        check("PASSWORD1" not in r.stderr and "QUERYSECRET" not in r.stderr,
              "no userinfo or query in the message")


def main():
    faultline, case = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        globals()["case_" + case](faultline, tmp)
    print("PASS webhook " + case)


if __name__ == "__main__":
    main()
