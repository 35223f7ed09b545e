#!/usr/bin/env python3
"""A local stand-in for the Google APIs faultline tail talks to, on 127.0.0.1 (random port):

  POST /v1/projects/P/subscriptions/S:pull | :acknowledge | :modifyAckDeadline   (Pub/Sub REST)
  POST /v2/entries:list                                                        (Cloud Logging)
  POST /token          OAuth token endpoint: jwt-bearer assertions (structure, claims and the
                       RS256 signature checked with `openssl dgst` against --pubkey) and
                       refresh_token grants
  GET  /computeMetadata/v1/instance/service-accounts/default/token   (needs Metadata-Flavor)
  POST /hook           a webhook receiver (bodies kept in /stats "hooks")

Test control (JSON): POST /control {"publish": [entry...], "publish_raw": [text...],
"entries": [entry...],
"fail_pulls": [429, 503], "fail_list": [429], "fail_acks": true, "ack_deadline": 2,
"page_size": 7}; GET /stats. Prints the port on the first line of stdout.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
S = {
    "messages": {},      # message id -> {"data", "acked", "deadline", "ack_id", "deliveries"}
    "order": [],
    "next_msg": 0,
    "next_ack": 0,
    "ack_deadline": 10.0,
    "fail_pulls": [],
    "fail_list": [],
    "fail_acks": False,
    "page_size": 1000,
    "entries": [],
    "stats": {"pulls": [], "acks": 0, "ack_failures": 0, "acked_ids": 0, "modify_calls": 0,
              "modify_ids": 0, "modify_deadlines": [], "deliveries": 0, "lists": [],
              "list_429": 0, "tokens": [], "bad_auth": 0, "hooks": []},
}
ARGS = None
ACCEPTED_TOKENS = {"test-token", "sa-token-1", "user-token-1", "md-token-1"}


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_jwt(assertion):
    parts = assertion.split(".")
    if len(parts) != 3:
        return "not three parts"
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    if header.get("alg") != "RS256" or header.get("typ") != "JWT":
        return "bad header %r" % header
    now = time.time()
    for k in ("iss", "scope", "aud", "iat", "exp"):
        if k not in claims:
            return "claim %s missing" % k
    if not claims["aud"].endswith("/token"):
        return "aud is not the token uri"
    if not (claims["iat"] - 60 <= now <= claims["exp"]) or claims["exp"] - claims["iat"] > 3600:
        return "bad iat/exp"
    if ARGS.pubkey:
        with tempfile.NamedTemporaryFile() as sig, tempfile.NamedTemporaryFile() as data:
            sig.write(b64url_decode(parts[2]))
            sig.flush()
            data.write((parts[0] + "." + parts[1]).encode())
            data.flush()
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", ARGS.pubkey,
                                "-signature", sig.name, data.name], capture_output=True)
            if r.returncode != 0:
                return "signature does not verify"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was killed on purpose

    def body(self):
        n = int(self.headers.get("Content-Length", 0))
        return self.rfile.read(n) if n else b""

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        ok = auth.startswith("Bearer ") and auth[7:] in ACCEPTED_TOKENS
        if not ok:
            with LOCK:
                S["stats"]["bad_auth"] += 1
        return ok

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                st = dict(S["stats"])
                st["outstanding"] = sum(1 for m in S["messages"].values() if not m["acked"])
            return self.reply(200, st)
        if self.path.startswith("/computeMetadata/v1/instance/service-accounts/default/token"):
            if self.headers.get("Metadata-Flavor") != "Google":
                return self.reply(403, {"error": "Metadata-Flavor header missing"})
            with LOCK:
                S["stats"]["tokens"].append("metadata")
            return self.reply(200, {"access_token": "md-token-1", "expires_in": 3599,
                                    "token_type": "Bearer"})
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        raw = self.body()
        path = self.path
        if path == "/control":
            return self.control(json.loads(raw))
        if path == "/token":
            return self.token(raw.decode())
        if path == "/hook":
            with LOCK:
                S["stats"]["hooks"].append(json.loads(raw))
            return self.reply(200, {})
        if path.startswith("/v1/projects/") and ":" in path:
            # The emulator path needs no credentials, as with the real Pub/Sub emulator.
            verb = path.rsplit(":", 1)[1]
            doc = json.loads(raw or b"{}")
            return getattr(self, "ps_" + verb)(doc)
        if path == "/v2/entries:list":
            if not self.authorized():
                return self.reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
            return self.entries_list(json.loads(raw))
        self.reply(404, {"error": "not found"})

    def control(self, doc):
        with LOCK:
            # "publish_raw": message bodies as given (byte for byte), "publish": as JSON.
            raw = [e.encode() for e in doc.get("publish_raw", [])]
            for body in [json.dumps(e).encode() for e in doc.get("publish", [])] + raw:
                mid = str(S["next_msg"])
                S["next_msg"] += 1
                data = base64.b64encode(body).decode()
                S["messages"][mid] = {"data": data, "acked": False, "deadline": 0,
                                      "ack_id": None, "deliveries": 0}
                S["order"].append(mid)
            S["entries"].extend(doc.get("entries", []))
            for k in ("fail_pulls", "fail_list", "fail_acks", "page_size", "ack_deadline"):
                if k in doc:
                    S[k] = doc[k]
        self.reply(200, {})

    def token(self, form):
        from urllib.parse import parse_qs
        q = {k: v[0] for k, v in parse_qs(form).items()}
        grant = q.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            err = verify_jwt(q.get("assertion", ""))
            if err:
                return self.reply(400, {"error": "invalid_grant", "error_description": err})
            with LOCK:
                S["stats"]["tokens"].append("jwt")
            return self.reply(200, {"access_token": "sa-token-1", "expires_in": 3600})
        if grant == "refresh_token":
            if q.get("refresh_token") != "refresh-1" or q.get("client_id") != "client-1":
                return self.reply(400, {"error": "invalid_grant"})
            with LOCK:
                S["stats"]["tokens"].append("refresh")
            return self.reply(200, {"access_token": "user-token-1", "expires_in": 3600})
        self.reply(400, {"error": "unsupported_grant_type"})

    def ps_pull(self, doc):
        with LOCK:
            S["stats"]["pulls"].append(time.time())
            if S["fail_pulls"]:
                code = S["fail_pulls"].pop(0)
                return self.reply(code, {"error": {"code": code}})
            now = time.time()
            out = []
            for mid in S["order"]:
                m = S["messages"][mid]
                if m["acked"] or m["deadline"] > now:
                    continue
                S["next_ack"] += 1
                m["ack_id"] = "ack-%s-%d" % (mid, S["next_ack"])
                m["deadline"] = now + S["ack_deadline"]
                m["deliveries"] += 1
                S["stats"]["deliveries"] += 1
                out.append({"ackId": m["ack_id"], "deliveryAttempt": m["deliveries"],
                            "message": {"data": m["data"], "messageId": mid,
                                        "publishTime": "2026-01-01T00:00:00Z"}})
                if len(out) >= doc.get("maxMessages", 100):
                    break
        if not out:
            time.sleep(0.2)  # a short long-poll, like the real service
        self.reply(200, {"receivedMessages": out} if out else {})

    def find(self, ack_id):
        mid = ack_id.split("-")[1]
        m = S["messages"].get(mid)
        return m if m and m["ack_id"] == ack_id else None

    def ps_acknowledge(self, doc):
        with LOCK:
            S["stats"]["acks"] += 1
            if S["fail_acks"]:
                S["stats"]["ack_failures"] += 1
                return self.reply(503, {"error": {"code": 503}})
            for a in doc.get("ackIds", []):
                m = self.find(a)
                if m:
                    m["acked"] = True
                    S["stats"]["acked_ids"] += 1
        self.reply(200, {})

    def ps_modifyAckDeadline(self, doc):
        with LOCK:
            S["stats"]["modify_calls"] += 1
            S["stats"]["modify_ids"] += len(doc.get("ackIds", []))
            S["stats"]["modify_deadlines"].append(doc.get("ackDeadlineSeconds"))
            for a in doc.get("ackIds", []):
                m = self.find(a)
                if m:
                    m["deadline"] = time.time() + doc.get("ackDeadlineSeconds", 10)
        self.reply(200, {})

    def entries_list(self, doc):
        with LOCK:
            S["stats"]["lists"].append(doc)
            if S["fail_list"]:
                code = S["fail_list"].pop(0)
                S["stats"]["list_429"] += code == 429
                return self.reply(code, {"error": {"code": code}})
            flt = doc.get("filter", "")
            bound = ""
            if 'timestamp>="' in flt:
                bound = flt.split('timestamp>="', 1)[1].split('"', 1)[0]
            # RFC 3339 UTC strings with the same precision compare as text.
            match = sorted((e for e in S["entries"] if e["timestamp"] >= bound[:26]),
                           key=lambda e: e["timestamp"])
            start = int(doc.get("pageToken") or 0)
            size = min(doc.get("pageSize", 50), S["page_size"])
            page = match[start:start + size]
            out = {"entries": page}
            if start + size < len(match):
                out["nextPageToken"] = str(start + size)
        self.reply(200, out)


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client killed mid-request (the tests SIGKILL tail) is expected, not a server fault.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--pubkey", help="PEM public key to check JWT signatures with")
    ARGS = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
