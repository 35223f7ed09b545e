#!/usr/bin/env python3
"""A local stand-in for the Cloud Storage JSON API on 127.0.0.1 (random port), serving the
files under ROOT as the objects of every bucket name:

  GET /storage/v1/b/BUCKET/o?prefix=P[&pageToken=T][&maxResults=N]     objects.list
  GET /storage/v1/b/BUCKET/o/NAME?alt=media[&generation=G]             objects.get (media)
  GET /stats                                                          what was asked (JSON)

As the real service does (https://cloud.google.com/storage/docs/json_api/v1/objects/list,
.../objects/get, .../transcoding): items sorted by name with nextPageToken while more remain;
media with x-goog-generation and Content-Length; Range: bytes=N- answered 206 with
Content-Range; an object whose bytes are gzip but whose name does not end in .gz is one stored
with Content-Encoding: gzip, sent as stored (Content-Encoding: gzip) when the request accepts
gzip and decompressed otherwise (decompressive transcoding, which ignores Range).

Faults, from the command line:
  --page-size N        items per list page (default 1000)
  --fail-page K        the first request for list page K (1-based) gets 503
  --cut NAME           the first download of NAME sends half its bytes and drops the connection
  --cut-always NAME    every download of NAME does so
  --fail-get NAME      the first download of NAME gets 429 (rate limit)
  --no-range           ignore Range headers (answer 200 with the whole object)
  --overstate NAME     the first download of NAME announces 10 bytes more than it sends, then
                       drops the connection: the resume asks for bytes past the end (416)
Prints the port on the first line of stdout.
"""
import argparse
import gzip
import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"lists": [], "gets": [], "ranges": [], "served_503": 0, "served_429": 0, "cuts": 0,
         "auth": []}
ONCE = set()
ARGS = None


def objects():
    out = []
    for d, _, files in os.walk(ARGS.root):
        for f in files:
            p = os.path.join(d, f)
            out.append(os.path.relpath(p, ARGS.root).replace(os.sep, "/"))
    return sorted(out)


def first_time(key):
    with LOCK:
        if key in ONCE:
            return False
        ONCE.add(key)
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        with LOCK:
            STATS["auth"].append(self.headers.get("Authorization", ""))
        if u.path == "/stats":
            with LOCK:
                return self.send_json(200, STATS)
        parts = u.path.split("/")
        # ['', 'storage', 'v1', 'b', BUCKET, 'o'] or [..., 'o', NAME]
        if len(parts) < 6 or parts[1:4] != ["storage", "v1", "b"] or parts[5] != "o":
            return self.send_json(404, {"error": {"code": 404, "message": "Not Found"}})
        if len(parts) == 6:
            return self.list(q)
        name = urllib.parse.unquote("/".join(parts[6:]))
        if q.get("alt") != ["media"]:
            return self.send_json(400, {"error": {"code": 400, "message": "alt=media only"}})
        return self.media(name, q)

    def list(self, q):
        prefix = q.get("prefix", [""])[0]
        size = min(int(q.get("maxResults", [ARGS.page_size])[0]), ARGS.page_size)
        start = int(q.get("pageToken", ["0"])[0] or 0)
        page = start // size + 1
        with LOCK:
            STATS["lists"].append({"prefix": prefix, "page": page})
        if ARGS.fail_page == page and first_time(("page", page)):
            with LOCK:
                STATS["served_503"] += 1
            return self.send_json(503, {"error": {"code": 503, "message": "Backend Error"}})
        names = [n for n in objects() if n.startswith(prefix)]
        doc = {"kind": "storage#objects",
               "items": [{"kind": "storage#object", "name": n,
                          "size": str(os.path.getsize(os.path.join(ARGS.root, n)))}
                         for n in names[start:start + size]]}
        if start + size < len(names):
            doc["nextPageToken"] = str(start + size)
        return self.send_json(200, doc)

    def media(self, name, q):
        path = os.path.join(ARGS.root, name)
        if not os.path.isfile(path):
            return self.send_json(404, {"error": {"code": 404, "message": "No such object: " + name}})
        with LOCK:
            STATS["gets"].append(name)
        if name in ARGS.fail_get and first_time(("get", name)):
            with LOCK:
                STATS["served_429"] += 1
            return self.send_json(429, {"error": {"code": 429, "message": "The rate of change "
                                                  "requests to the object is too high"}})
        data = open(path, "rb").read()
        generation = str(int(os.path.getmtime(path) * 1000000))
        if "generation" in q and q["generation"] != [generation]:
            return self.send_json(404, {"error": {"code": 404, "message": "No such generation"}})
        encoded = data[:2] == b"\x1f\x8b" and not name.endswith(".gz")
        transcoded = encoded and "gzip" not in self.headers.get("Accept-Encoding", "")
        headers = [("x-goog-generation", generation), ("Content-Type", "application/json")]
        if transcoded:
            data = gzip.decompress(data)  # decompressive transcoding: whole object, no Range
        elif encoded:
            headers.append(("Content-Encoding", "gzip"))
        code, start = 200, 0
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and not ARGS.no_range and not transcoded:
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                with LOCK:
                    STATS["ranges"].append({"name": name, "from": start, "status": 416})
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with LOCK:
                STATS["ranges"].append({"name": name, "from": start})
            code = 206
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data))))
        body = data[start:]
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        over = name in ARGS.overstate and first_time(("over", name))
        self.send_header("Content-Length", str(len(body) + (10 if over else 0)))
        self.end_headers()
        if over:
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        cut = name in ARGS.cut_always or (name in ARGS.cut and first_time(("cut", name)))
        if cut:
            with LOCK:
                STATS["cuts"] += 1
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--fail-page", type=int, default=0)
    ap.add_argument("--cut", action="append", default=[])
    ap.add_argument("--cut-always", action="append", default=[])
    ap.add_argument("--fail-get", action="append", default=[])
    ap.add_argument("--no-range", action="store_true")
    ap.add_argument("--overstate", action="append", default=[])
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
