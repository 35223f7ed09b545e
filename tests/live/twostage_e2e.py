#!/usr/bin/env python3
"""The two-stage Kafka pipeline (docs/scale.md) on librdkafka's mock cluster (3 brokers) over
TCP, every process separate:

  stage one  two `tail --kafka --topic logs --group g1 --summaries-to sums` members; one is
             SIGKILLed mid-stream (counts it had not produced yet die with it) and a new member
             joins;
  stage two  `tail --kafka --summaries-from sums --state S`, itself SIGKILLed and restarted, then
             a second ranker in another group over the same state (every delta delivered again).

The final snapshot counts every produced entry exactly once and names the same top cause as a
single `faultline analyze` over the same entries.
Usage: twostage_e2e.py FAULTLINE MOCK_KAFKA
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import MockKafka, Tail, check, fail, gen  # noqa: E402

KPROPS = ["--kafka-property", "session.timeout.ms=3000",
          "--kafka-property", "heartbeat.interval.ms=200",
          "--kafka-property", "reconnect.backoff.max.ms=500",
          "--kafka-property", "topic.metadata.refresh.interval.ms=1000"]
SUMS = "sums"


def member(faultline, kafka, debug=False):
    """A stage-one member: a delta every second, a snapshot every 200 ms (so a kill usually
    finds counts not yet produced); with debug its deltas are traced on stderr."""
    return Tail(faultline, ["--kafka", kafka.bootstraps, "--topic", kafka.topic, "--group", "g1",
                            "--summaries-to", SUMS, "--checkpoint-interval", "1s",
                            "--interval", "200ms", "--window", "2h"] + KPROPS,
                env={"FL_KAFKA_DEBUG": "1"} if debug else None)


def produced(t):
    """Entries in the deltas a member produced (one entry per raw offset here)."""
    with t.lock:
        ranges = [re.search(r"\[(\d+), (\d+)\)", l) for l in t.stderr if l.startswith("delta ")]
    return sum(int(m.group(2)) - int(m.group(1)) for m in ranges if m)


def ranker(faultline, kafka, state, group="rank"):
    return Tail(faultline, ["--kafka", kafka.bootstraps, "--summaries-from", SUMS,
                            "--group", group, "--state", state, "--interval", "200ms",
                            "--window", "2h"] + KPROPS)


def lines(path):
    with open(path) as f:
        return sum(1 for line in f if line.strip())


def top(doc):
    c = (doc.get("causes") or [{}])[0]
    return (c.get("kind"), c.get("service"), c.get("revision"))


def main():
    faultline, mock = sys.argv[1:3]
    kafka = MockKafka(mock, extra_topic=(SUMS, 3))
    procs = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(faultline, kafka, tmp, procs)
    finally:
        for p in procs:
            if p.p.poll() is None:
                p.p.kill()
        kafka.close()
    print("PASS twostage")


def run(faultline, kafka, tmp, procs):
    state = os.path.join(tmp, "rank-state")
    t0 = time.time() - 3600
    parts = [os.path.join(tmp, "part%d.ndjson" % i) for i in range(4)]
    gen(parts[0], "baseline", 0, 3000, t0)
    gen(parts[0], "deploy", t0=t0, append=True)
    gen(parts[1], "burst", 10000, 20000, t0)
    gen(parts[2], "plain", 40000, 5000, t0 + 600)
    gen(parts[3], "plain", 50000, 200, t0 + 3300)
    counts = [lines(p) for p in parts]
    total = sum(counts[:3])

    # Stage two first (it may start before any delta exists), then two stage-one members.
    r = ranker(faultline, kafka, state)
    a = member(faultline, kafka, debug=True)
    b = member(faultline, kafka)
    procs += [r, a, b]
    a.wait(lambda t: t.err_count("resume where their last delta") >= 1, 60, "a's assignment")
    b.wait(lambda t: t.err_count("resume where their last delta") >= 1, 60, "b's assignment")
    check(kafka.produce(parts[0]) == counts[0], "part one produced (%d entries)" % counts[0])
    r.wait_entries(counts[0], 60)
    check(r.entries() == counts[0], "stage two counts part one once (%d)" % r.entries())
    a.wait(lambda t: t.entries() > 0, 30, "member a's share")
    b.wait(lambda t: t.entries() > 0, 30, "member b's share")
    check(a.entries() + b.entries() >= counts[0],
          "both members counted a share (%d + %d)" % (a.entries(), b.entries()))

    # Part two; kill member a while it is counting it: what it counted since its last delta
    # is lost with it, and the next owner re-reads it from where a's last delta ended. From
    # now on no offset commit lands (a member killed between producing and committing): the
    # committed offsets lag the deltas, and resuming from them would count entries twice.
    kafka.cmd("fail-commits")
    before = a.entries()
    kafka.produce(parts[1])
    a.wait(lambda t: t.entries() > before, 60, "member a counting part two")
    a.kill()
    print("killed member a: it had counted %d entries, %d of them in deltas it produced" %
          (a.entries(), produced(a)), flush=True)
    c = member(faultline, kafka)
    procs.append(c)
    c.wait(lambda t: t.err_count("resume where their last delta") >= 1, 60, "c's assignment")
    r.wait_entries(counts[0] + counts[1], 90)
    kafka.cmd("ok-commits")

    # Part three; kill stage two mid-stream and restart it on its state.
    kafka.produce(parts[2])
    r.wait(lambda t: t.entries() > counts[0] + counts[1], 60, "stage two counting part three")
    r.kill()
    r = ranker(faultline, kafka, state)
    procs.append(r)
    r.wait_entries(total, 90)
    # Every member has produced its last delta once each one's position is at the end.
    time.sleep(1.5)  # a delta applied twice would have arrived by now
    final = r.stop()
    check(r.err_count("resumed") == 1, "the restarted ranker resumed from its state")
    check(final["input"]["entries"] == total,
          "after a member's and the ranker's SIGKILL: %d entries, expected exactly %d" %
          (final["input"]["entries"], total))
    check(r.err_count("refused") == 0 or r.err_count(" 0 refused") == 1,
          "no delta refused as overlapping")

    # Another ranker group over the same state: every delta is delivered again and skipped.
    # Then part four: its deltas, behind the old ones in every summaries partition, are new.
    r2 = ranker(faultline, kafka, state, "rank-again")
    procs.append(r2)
    r2.wait(lambda t: t.err_count("assigned") >= 1, 60, "the second ranker's assignment")
    kafka.produce(parts[3])
    r2.wait_entries(total + counts[3], 90)
    time.sleep(1.5)  # a delta applied twice would have arrived by now
    final2 = r2.stop()
    total += counts[3]
    check(final2["input"]["entries"] == total, "still exactly once: %d entries, expected %d" %
          (final2["input"]["entries"], total))
    skipped = [l for l in r2.stderr if "already applied and skipped" in l]
    check(len(skipped) == 1 and " 0 already applied" not in skipped[0],
          "the deltas delivered again were skipped: %s" % (skipped or ["(no line)"])[0])
    final = final2

    # The same entries in one pass.
    allf = os.path.join(tmp, "all.ndjson")
    with open(allf, "w") as out:
        for p in parts:
            with open(p) as f:
                out.write(f.read())
    one = subprocess.run([faultline, "analyze", "--format", "json", allf], capture_output=True,
                         text=True)
    if one.returncode != 0:
        fail("analyze failed: %s" % one.stderr)
    single = json.loads(one.stdout)
    check(single["input"]["entries"] == total, "analyze counts %d too" % total)
    check(top(final) == top(single) and top(final)[0] is not None,
          "stage two names the top cause one pass names: %s" % (top(final),))
    for m in (b, c):
        m.stop()


if __name__ == "__main__":
    main()
