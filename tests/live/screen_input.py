#!/usr/bin/env python3
"""Writes the live-screen test input as NDJSON: the shipped incident (tests/data/incidents/
checkout-bad-deploy.json: 4 revisions, 10 error groups, a deploy whose new revision returns 32%
5xx) plus N error lines from orders-api whose text carries terminal escape sequences, as a
hostile or broken logger could write them: cursor home and clear screen (ESC [H ESC [J),
full reset (ESC c), a clipboard write (OSC 52), a C1 CSI (U+009B) and a colour. Written raw,
they wipe the frame drawn above them. Prints the newest timestamp.
Usage: screen_input.py SAMPLE OUT [N]"""
import json
import sys

HOSTILE = ("hostile \x1b[H\x1b[J\x1bc \x1b]52;c;cHduZWQtY2xpcGJvYXJk\x07 \u009bJ c1-csi"
           " \x1b[31m end")


def main():
    sample, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 40
    with open(sample) as f:
        entries = json.load(f)
    model = next(e for e in entries
                 if e.get("resource", {}).get("labels", {}).get("revision_name")
                 == "orders-api-00119-kxf")
    for i in range(n):
        entries.append({"insertId": "hostile-%d" % i,
                        "logName": model["logName"],
                        "resource": model["resource"],
                        "severity": "ERROR",
                        "timestamp": "2026-07-25T03:20:%02d.000000Z" % (i % 60),
                        "textPayload": HOSTILE})
    with open(out, "w") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    print(max(e["timestamp"] for e in entries))


if __name__ == "__main__":
    main()
