#!/usr/bin/env python3
"""Writes Cloud Run LogEntries (NDJSON) for the live tests: a healthy revision, a deploy of a
new revision, then an error burst on it. Timestamps are relative to --t0 (epoch seconds, default
ten minutes ago) so the entries sit inside tail's window; insertIds are "e-<n>" so tests can
count them.

  gen_incident.py baseline --first 0 --n 200     request logs, revision 00001, all 200
  gen_incident.py deploy                         audit ReplaceService + system_event Ready
  gen_incident.py burst --first 1000 --n 300     500s and stderr errors on revision 00002
  gen_incident.py plain --first 0 --n 100        plain INFO stdout lines (counting tests)
"""
import argparse
import base64
import json
import sys
import time
from datetime import datetime, timezone

PROJECT = "acme-shop"
SERVICE = "checkout"
REV1 = "checkout-00001-abc"
REV2 = "checkout-00002-xyz"


def ts(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def resource(rev):
    return {"type": "cloud_run_revision",
            "labels": {"project_id": PROJECT, "service_name": SERVICE, "revision_name": rev,
                       "configuration_name": SERVICE, "location": "europe-west1"}}


def request(i, t, rev, status):
    return {"insertId": "e-%d" % i, "timestamp": ts(t), "receiveTimestamp": ts(t + 0.2),
            "severity": "ERROR" if status >= 500 else "INFO",
            "logName": "projects/%s/logs/run.googleapis.com%%2Frequests" % PROJECT,
            "resource": resource(rev), "labels": {"instanceId": "00a1b2c3"},
            "httpRequest": {"requestMethod": "POST", "requestUrl": "https://checkout/api/pay",
                            "status": status, "latency": "0.120s", "protocol": "HTTP/1.1"}}


def stderr_error(i, t, rev):
    return {"insertId": "e-%d" % i, "timestamp": ts(t), "severity": "ERROR",
            "logName": "projects/%s/logs/run.googleapis.com%%2Fstderr" % PROJECT,
            "resource": resource(rev), "labels": {"instanceId": "00d4e5f6"},
            "textPayload": "KeyError: 'PAYMENT_API_URL' environment variable is not set"}


def deploy(t):
    audit = {"insertId": "deploy-audit", "timestamp": ts(t), "severity": "NOTICE",
             "logName": "projects/%s/logs/cloudaudit.googleapis.com%%2Factivity" % PROJECT,
             "resource": resource(""),
             "protoPayload": {
                 "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                 "authenticationInfo": {"principalEmail": "dev@acme-shop.example"},
                 "methodName": "google.cloud.run.v1.Services.ReplaceService",
                 "serviceName": "run.googleapis.com",
                 "resourceName": "namespaces/%s/services/%s" % (PROJECT, SERVICE)}}
    audit["resource"]["labels"]["configuration_name"] = ""
    ready = {"insertId": "deploy-ready", "timestamp": ts(t + 6), "severity": "INFO",
             "logName": "projects/%s/logs/cloudaudit.googleapis.com%%2Fsystem_event" % PROJECT,
             "resource": resource(REV2),
             "protoPayload": {
                 "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                 "status": {"message": "Ready condition status changed to True for Revision "
                                       "%s with message: Deploying revision succeeded in "
                                       "5.73s." % REV2},
                 "serviceName": "run.googleapis.com",
                 "resourceName": "namespaces/%s/revisions/%s" % (PROJECT, REV2)}}
    return [audit, ready]


def plain(i, t):
    return {"insertId": "e-%d" % i, "timestamp": ts(t), "severity": "INFO",
            "logName": "projects/%s/logs/run.googleapis.com%%2Fstdout" % PROJECT,
            "resource": resource(REV1), "textPayload": "handled order %d" % i}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["baseline", "deploy", "burst", "plain"])
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--t0", type=float, default=time.time() - 600)
    ap.add_argument("--envelope", action="store_true",
                    help="wrap every entry in a Pub/Sub push envelope (base64 message.data)")
    a = ap.parse_args()
    out = []
    if a.kind == "baseline":
        for k in range(a.n):
            out.append(request(a.first + k, a.t0 + k * 240.0 / a.n, REV1, 200))
    elif a.kind == "deploy":
        out = deploy(a.t0 + 250)
    elif a.kind == "burst":
        for k in range(a.n):
            t = a.t0 + 270 + k * 200.0 / a.n
            if k % 2:
                out.append(stderr_error(a.first + k, t, REV2))
            else:
                out.append(request(a.first + k, t, REV2, 500 if k % 4 == 0 else 200))
    else:
        for k in range(a.n):
            out.append(plain(a.first + k, a.t0 + k * 0.5))
    for i, e in enumerate(out):
        if a.envelope:
            data = base64.b64encode(json.dumps(e).encode()).decode()
            e = {"message": {"data": data, "messageId": str(i), "publishTime": e["timestamp"],
                             "attributes": {"logging.googleapis.com/timestamp": e["timestamp"]}},
                 "subscription": "projects/%s/subscriptions/run-logs" % PROJECT}
        sys.stdout.write(json.dumps(e, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
