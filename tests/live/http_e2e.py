#!/usr/bin/env python3
"""faultline tail --pubsub / --cloud-logging against mock_google.py on 127.0.0.1.
Usage: http_e2e.py FAULTLINE SCENARIO
  pubsub_redeliver  crash before the ack lands: redelivered after restart, counted once
  pubsub_slow       a slow checkpoint: modifyAckDeadline extends the held messages
  pubsub_retry      429/503 on pull: retried with growing backoff, nothing lost
  logging           entries.list: filter + moving timestamp bound, page tokens, 429 backoff,
                    de-duplication of the overlap
  logging_future    an entry stamped 6 h ahead does not move the bound past the clock: later
                    entries are still fetched, and the checkpointed bound is not in the future
  auth_jwt          service-account key: RS256 JWT assertion verified by the token endpoint
  auth_adc          gcloud application-default credentials (authorized_user refresh token)
  auth_metadata     metadata server with Metadata-Flavor: Google
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Tail, check, fail  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SUB = "projects/acme-shop/subscriptions/run-logs"


class Google:
    def __init__(self, pubkey=None):
        args = [sys.executable, os.path.join(HERE, "mock_google.py")]
        if pubkey:
            args += ["--pubkey", pubkey]
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.port = int(self.p.stdout.readline())
        self.host = "127.0.0.1:%d" % self.port
        self.url = "http://" + self.host

    def control(self, **doc):
        req = urllib.request.Request(self.url + "/control", json.dumps(doc).encode(),
                                     {"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()

    def stats(self):
        return json.loads(urllib.request.urlopen(self.url + "/stats").read())

    def close(self):
        self.p.kill()
        self.p.wait()


def entries(first, n, t0):
    out = []
    for i in range(first, first + n):
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + i)) + ".000000Z"
        out.append({"insertId": "e-%d" % i, "timestamp": ts, "severity": "ERROR",
                    "logName": "projects/acme-shop/logs/run.googleapis.com%2Fstderr",
                    "resource": {"type": "cloud_run_revision",
                                 "labels": {"service_name": "checkout",
                                            "revision_name": "checkout-00002-xyz"}},
                    "textPayload": "KeyError: 'PAYMENT_API_URL'"})
    return out


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def pubsub_args(extra=()):
    return ["--pubsub", SUB, "--interval", "200ms", "--window", "1d"] + list(extra)


def scenario_pubsub_redeliver(g, tmp):
    env = {"PUBSUB_EMULATOR_HOST": g.host}
    state = os.path.join(tmp, "state")
    g.control(publish=entries(0, 100, time.time() - 3600), fail_acks=True, ack_deadline=2)
    tail = Tail(FAULTLINE, pubsub_args(["--state", state]), env)
    tail.wait_entries(100)
    # The checkpoint ran (acks are only sent after it) but no ack landed: crash now.
    wait_for(lambda: g.stats()["ack_failures"] >= 1, 10, "an acknowledge attempt")
    tail.kill()
    check(g.stats()["outstanding"] == 100, "crash before ack: all 100 still unacknowledged")
    g.control(fail_acks=False)
    tail = Tail(FAULTLINE, pubsub_args(["--state", state]), env)
    wait_for(lambda: g.stats()["outstanding"] == 0, 20, "every message acknowledged")
    final = tail.stop()
    check(g.stats()["deliveries"] >= 200, "the messages were delivered again after the restart")
    check(final["input"]["entries"] == 100,
          "redelivered messages counted once (%d entries)" % final["input"]["entries"])
    check(tail.err_count("redelivered record(s)") == 1, "duplicates were recognised")


def scenario_pubsub_slow(g, tmp):
    env = {"PUBSUB_EMULATOR_HOST": g.host}
    g.control(publish=entries(0, 50, time.time() - 3600), ack_deadline=10)
    # Checkpoints every 6.5 s: messages are held longer than half their 10 s deadline.
    tail = Tail(FAULTLINE, pubsub_args(["--checkpoint-interval", "6500ms"]), env)
    tail.wait_entries(50)
    wait_for(lambda: g.stats()["modify_ids"] >= 50, 10, "modifyAckDeadline for the 50 messages")
    st = g.stats()
    check(st["acked_ids"] == 0, "not acknowledged before the checkpoint")
    check(all(d == 60 for d in st["modify_deadlines"]), "deadline extended to 60 s")
    wait_for(lambda: g.stats()["outstanding"] == 0, 10, "acknowledged at the checkpoint")
    final = tail.stop()
    check(g.stats()["deliveries"] == 50, "no redelivery: the extension kept the messages")
    check(final["input"]["entries"] == 50, "50 entries")


def scenario_pubsub_retry(g, tmp):
    env = {"PUBSUB_EMULATOR_HOST": g.host}
    g.control(publish=entries(0, 20, time.time() - 3600), fail_pulls=[429, 503, 503, 500])
    tail = Tail(FAULTLINE, pubsub_args(), env)
    tail.wait_entries(20, 20)
    pulls = g.stats()["pulls"]
    gaps = [b - a for a, b in zip(pulls, pulls[1:5])]
    check(len(gaps) == 4, "four failed pulls were retried")
    # Backoff ceilings 250, 500, 1000, 2000 ms with jitter never below a tenth of them.
    floors = [0.025, 0.05, 0.1, 0.2]
    check(all(gap >= f * 0.9 for gap, f in zip(gaps, floors)),
          "retries back off: gaps %s" % ["%.3f" % x for x in gaps])
    check(sum(gaps) < 8, "and do not wait too long (%.2f s)" % sum(gaps))
    check(tail.err_count("retrying") >= 1, "the retry is reported")
    final = tail.stop()
    check(final["input"]["entries"] == 20, "nothing lost")


def logging_args(extra=()):
    return ["--cloud-logging", 'resource.type="cloud_run_revision"', "--project", "acme-shop",
            "--poll-interval", "300ms", "--interval", "200ms", "--window", "1d"] + list(extra)


def scenario_logging(g, tmp):
    env = {"FAULTLINE_LOGGING_ENDPOINT": g.url, "CLOUDSDK_AUTH_ACCESS_TOKEN": "test-token"}
    now = time.time()
    g.control(entries=entries(0, 40, now - 600), page_size=7, fail_list=[429, 429])
    tail = Tail(FAULTLINE, logging_args(), env)
    tail.wait_entries(40, 20)
    g.control(entries=entries(1000, 25, now - 100))
    tail.wait_entries(65, 20)
    time.sleep(1.0)  # several more polls over the overlap
    final = tail.stop()
    st = g.stats()
    lists = st["lists"]
    check(st["list_429"] == 2, "two 429 answers were retried")
    check(all(l["resourceNames"] == ["projects/acme-shop"] for l in lists), "resourceNames")
    check(all(l["orderBy"] == "timestamp asc" for l in lists), "orderBy timestamp asc")
    check(all(l["filter"].startswith('(resource.type="cloud_run_revision") AND timestamp>="')
              for l in lists), "user filter AND timestamp bound")
    check(any("pageToken" in l for l in lists), "page tokens followed")
    bounds = [l["filter"].split('timestamp>="')[1] for l in lists]
    check(bounds[-1] > bounds[0], "the timestamp bound moved forward")
    check(final["input"]["entries"] == 65,
          "overlapping polls counted once (%d entries)" % final["input"]["entries"])
    check(st["bad_auth"] == 0, "every request carried the token")


def scenario_logging_future(g, tmp):
    """Issue 10 item 5: Cloud Logging accepts timestamps up to a day ahead; one such entry used
    to move the bound 6 h ahead, so everything written afterwards was never fetched, and the bad
    bound was checkpointed."""
    env = {"FAULTLINE_LOGGING_ENDPOINT": g.url, "CLOUDSDK_AUTH_ACCESS_TOKEN": "test-token"}
    state = os.path.join(tmp, "state")
    now = time.time()
    future = entries(500, 1, now + 6 * 3600)
    g.control(entries=entries(0, 20, now - 600) + future)
    tail = Tail(FAULTLINE, logging_args(["--state", state]), env)
    tail.wait_entries(21, 20)
    time.sleep(0.8)  # a few polls after the future entry
    g.control(entries=entries(1000, 15, time.time() - 1002))  # written just now
    tail.wait_entries(36, 20)
    time.sleep(0.8)
    final = tail.stop()
    check(final["input"]["entries"] == 36,
          "entries written after the future one are fetched, each counted once (%d)"
          % final["input"]["entries"])
    check(tail.err_count("ahead of this clock") >= 1, "the future entry is warned about")
    bounds = [l["filter"].split('timestamp>="')[1][:19] for l in g.stats()["lists"]]
    limit = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 1))
    check(max(bounds) <= limit, "no poll asked from beyond the clock (max %s)" % max(bounds))
    ckpts = [f for f in os.listdir(state) if f.startswith("cloudlogging-")]
    check(len(ckpts) == 1, "a checkpoint was written")
    with open(os.path.join(state, ckpts[0])) as f:
        bound_us = json.load(f)["bound_us"]
    check(bound_us <= time.time() * 1e6, "the checkpointed bound is not in the future")


def run_auth(g, env, kind):
    env = dict(env)
    env["FAULTLINE_LOGGING_ENDPOINT"] = g.url
    for k in ("CLOUDSDK_AUTH_ACCESS_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN",
              "GOOGLE_APPLICATION_CREDENTIALS"):
        env.setdefault(k, "")
    g.control(entries=entries(0, 10, time.time() - 600))
    tail = Tail(FAULTLINE, logging_args(), env)
    tail.wait_entries(10, 20)
    final = tail.stop()
    st = g.stats()
    check(kind in st["tokens"], "token obtained via %s" % kind)
    check(st["bad_auth"] == 0, "the API accepted the token")
    check(final["input"]["entries"] == 10, "entries read with it")
    leaked = [l for l in tail.stderr if "token-1" in l]
    check(not leaked, "the token is never printed")


def scenario_auth_adc(g, tmp):
    cfg = os.path.join(tmp, "gcloud")
    os.makedirs(cfg)
    with open(os.path.join(cfg, "application_default_credentials.json"), "w") as f:
        json.dump({"type": "authorized_user", "client_id": "client-1",
                   "client_secret": "secret-1", "refresh_token": "refresh-1"}, f)
    run_auth(g, {"CLOUDSDK_CONFIG": cfg, "FAULTLINE_OAUTH_TOKEN_URI": g.url + "/token"},
             "refresh")


def scenario_auth_metadata(g, tmp):
    run_auth(g, {"HOME": tmp, "CLOUDSDK_CONFIG": os.path.join(tmp, "none"),
                 "GCE_METADATA_HOST": g.host}, "metadata")


def main():
    global FAULTLINE
    FAULTLINE, scenario = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        pub = None
        if scenario == "auth_jwt":
            # A fresh RSA key; the server gets the public half to verify JWT signatures.
            key = os.path.join(tmp, "key.pem")
            pub = os.path.join(tmp, "pub.pem")
            subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                            "rsa_keygen_bits:2048", "-out", key], check=True,
                           capture_output=True)
            subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub],
                           check=True, capture_output=True)
        g = Google(pub)
        try:
            if scenario == "auth_jwt":
                scenario_auth_jwt(g, tmp, key)
            else:
                globals()["scenario_" + scenario](g, tmp)
        finally:
            g.close()
    print("PASS", scenario)


def scenario_auth_jwt(g, tmp, key):
    with open(key) as f:
        pem = f.read()
    sa = os.path.join(tmp, "sa.json")
    with open(sa, "w") as f:
        json.dump({"type": "service_account", "project_id": "acme-shop",
                   "private_key_id": "k1", "private_key": pem,
                   "client_email": "faultline@acme-shop.iam.gserviceaccount.com",
                   "token_uri": g.url + "/token"}, f)
    run_auth(g, {"GOOGLE_APPLICATION_CREDENTIALS": sa}, "jwt")


if __name__ == "__main__":
    main()
