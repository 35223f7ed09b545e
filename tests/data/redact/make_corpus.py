#!/usr/bin/env python3
"""Regenerates the redaction corpora (deterministic; seed fixed).

secrets.txt  realistic log lines, each carrying one planted secret (all synthetic).
planted.txt  the planted values, one per line: none may survive redaction.
clean.txt    realistic log lines with ids, hashes, UUIDs, trace ids, revisions and URLs but no
             secrets: redaction may change at most 1% of their whitespace-separated tokens.

Run from this directory: python3 make_corpus.py
"""
import hashlib
import random
import uuid

rng = random.Random(20261122)


def rstr(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


UP = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LO = "abcdefghijklmnopqrstuvwxyz"
DG = "0123456789"
AN = UP + LO + DG
B64U = AN + "-_"


def luhn_complete(prefix, length):
    while True:
        body = prefix + rstr(DG, length - len(prefix) - 1)
        for check in DG:
            n = body + check
            total = 0
            for i, c in enumerate(reversed(n)):
                v = int(c)
                if i % 2:
                    v *= 2
                    if v > 9:
                        v -= 9
                total += v
            if total % 10 == 0:
                return n


def group(n, sizes, sep):
    out, i = [], 0
    for s in sizes:
        out.append(n[i:i + s])
        i += s
    return sep.join(out)


def jwt():
    return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJ" + rstr(B64U, 40) + "." + rstr(B64U, 43)


secrets = []  # (line, planted value)


def plant(fmt, value):
    secrets.append((fmt.format(v=value), value))


for _ in range(3):
    plant("GET /v1/cart 401 upstream rejected Authorization: Bearer {v}", "FAKE" + rstr(AN, 28) + "9")
    plant('outgoing request headers={{"Authorization": "Basic {v}"}}', rstr(AN, 20) + "==")
    plant("auth middleware: token {v} failed verification", jwt())
    plant("s3 upload failed: InvalidAccessKeyId key={v}", "AKIA" + rstr(UP + DG, 16))
    plant("assume-role creds {v} expired at 10:42", "ASIA" + rstr(UP + DG, 16))
    plant("maps geocode call https://maps.googleapis.com/maps/api/geocode/json?address=x&key={v} 403",
          "AIza" + rstr(B64U, 35))
    plant("calling firestore with access token ya29.{v}", "a0" + rstr(B64U, 60))
    plant("loaded service account: {{\"type\": \"service_account\", \"private_key_id\": \"0f0f\", "
          "\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{v}\\n-----END PRIVATE KEY-----\\n\"}}",
          "MIIEv" + rstr(AN + "+/", 60))
    plant("tls config dump -----BEGIN RSA PRIVATE KEY-----\n{v}\n-----END RSA PRIVATE KEY----- end",
          "MIIEp" + rstr(AN + "+/", 64))
    plant("connecting to postgres://orders_app:{v}@10.20.0.7:5432/orders?sslmode=require",
          "Pw" + rstr(AN, 14) + "7")
    plant("amqp dial amqps://worker:{v}@rabbit.internal:5671/ timeout", rstr(LO, 8) + rstr(DG, 4))
    plant("config loaded: DB_PASSWORD={v} POOL_SIZE=20", "hun" + rstr(AN, 9) + "2")
    plant("payment provider settings client_secret: '{v}'", "cs_" + rstr(AN, 24))
    plant('vendor response {{"api_key":"{v}","quota":1000}}', "k_" + rstr(AN, 26))
    plant("retrying with X-Api-Key: {v}", rstr("0123456789abcdef", 32))
    plant("env dump: SECRET_KEY={v}", rstr(AN + "!#%", 30))
    plant("redis AUTH failed, password: \"{v}\"", "r3d" + rstr(AN, 12))
    plant("alert delivery failed to https://hooks.slack.com/services/{v} status=404",
          "T" + rstr(UP + DG, 8) + "/B" + rstr(UP + DG, 8) + "/" + rstr(AN, 24))
    plant("signup confirmation bounced for {v}",
          rstr(LO, 6) + "." + rstr(LO, 5) + "@" + rstr(LO, 7) + ".example.com")
    plant("order 8812 placed by {v} total=12.50", rstr(LO, 5) + "+shop@" + rstr(LO, 6) + ".test")
    plant("card declined number={v} reason=insufficient_funds", luhn_complete("4", 16))
    plant("charging card {v} amount=4200", group(luhn_complete("5" + rng.choice("12345"), 16), [4, 4, 4, 4], " "))
    plant("discover card {v} authorized", luhn_complete("6011", 16))
    plant("amex payment {v} refused", group(luhn_complete("37", 15), [4, 6, 5], "-"))
    plant("git clone https://x-access-token:{v}@github.com/acme/checkout.git failed",
          "ghs_" + rstr(AN, 36))
    plant("publishing release with GITHUB_TOKEN {v}", "ghp_" + rstr(AN, 36))
    plant("stripe call failed with key {v}: rate limited", "sk_live_" + rstr(AN, 24))
    plant("slack api: posting as {v}", "xoxb-" + rstr(DG, 12) + "-" + rstr(DG, 12) + "-" + rstr(AN, 24))

clean = []
services = ["checkout", "cart-api", "payments", "inventory", "frontend"]
regions = ["us-central1", "europe-west1"]
for i in range(400):
    svc = rng.choice(services)
    rev = "%s-%05d-%s" % (svc, rng.randint(1, 200), rstr(LO + DG, 3))
    trace = rstr("0123456789abcdef", 32)
    span = rstr("0123456789abcdef", 16)
    uid = str(uuid.UUID(int=rng.getrandbits(128)))
    sha = hashlib.sha1(str(i).encode()).hexdigest()
    kind = i % 12
    if kind == 0:
        line = "GET https://%s-%s.a.run.app/v1/items/%d 200 %dms trace=projects/acme-prod/traces/%s span=%s" % (
            svc, rstr(LO + DG, 10), rng.randint(1, 99999), rng.randint(1, 900), trace, span)
    elif kind == 1:
        line = "request_id=%s user_id=%d cart_id=%s status=ok latency_ms=%d" % (
            uid, rng.randint(10000, 99999999), rstr(LO + DG, 12), rng.randint(1, 3000))
    elif kind == 2:
        line = "Deploying revision %s of service %s in %s from image us-docker.pkg.dev/acme-prod/apps/%s@sha256:%s" % (
            rev, svc, rng.choice(regions), svc, hashlib.sha256(sha.encode()).hexdigest())
    elif kind == 3:
        line = "build %s commit %s by ci pipeline #%d succeeded in %.1fs" % (
            uid[:8], sha, rng.randint(100, 9999), rng.random() * 300)
    elif kind == 4:
        line = "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: %d" % rng.randint(100, 120)
    elif kind == 5:
        line = "ERROR processing order %d: context deadline exceeded after %dms (attempt %d/5) instance=%s" % (
            rng.randint(100000, 999999), rng.randint(1000, 30000), rng.randint(1, 5), rstr("0123456789abcdef", 40))
    elif kind == 6:
        line = "token expired for session %s; refreshing via https://oauth2.googleapis.com/token" % uid
    elif kind == 7:
        line = "Memory limit of 512 MiB exceeded with %d MiB used. Consider increasing the memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits" % rng.randint(513, 900)
    elif kind == 8:
        line = "pubsub message %d ack deadline extended, subscription projects/acme-prod/subscriptions/%s-orders, ordering_key=%s" % (
            rng.randint(10**15, 10**16), svc, rstr(LO + DG, 8))
    elif kind == 9:
        line = "2026-11-20T10:%02d:%02d.%06dZ INFO cache hit ratio=%.3f keys=%d evicted=%d shard=%s" % (
            rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999999), rng.random(), rng.randint(0, 10**6),
            rng.randint(0, 500), rstr(LO, 4))
    elif kind == 10:
        line = "secret_name=projects/acme-prod/secrets/%s-db-password/versions/%d accessed by revision %s" % (
            svc, rng.randint(1, 9), rev)
    else:
        line = "HTTP/1.1 503 Service Unavailable from %s:%d in %.3fs; retrying (invalid token: signature mismatch? no, status %d)" % (
            "10.%d.%d.%d" % (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)), rng.randint(1024, 65535),
            rng.random() * 5, rng.choice([500, 502, 503, 504]))
    clean.append(line)

with open("secrets.txt", "w") as f:
    for line, _ in secrets:
        f.write(line.replace("\n", "\\n") + "\n")
with open("planted.txt", "w") as f:
    for _, v in secrets:
        f.write(v + "\n")
with open("clean.txt", "w") as f:
    for line in clean:
        f.write(line + "\n")
