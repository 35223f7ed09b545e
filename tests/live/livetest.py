"""Helpers for the faultline tail end-to-end tests: run `faultline tail` as a child process,
collect its JSON snapshots and stderr lines, and drive the mock Kafka cluster."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen_incident.py")
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import clitest  # noqa: E402  (the report JSON Schema check every test's reports go through)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def gen(path, kind, first=0, n=100, t0=None, append=False, envelope=False):
    args = [sys.executable, GEN, kind, "--first", str(first), "--n", str(n)]
    if envelope:
        args.append("--envelope")
    if t0 is not None:
        args += ["--t0", str(t0)]
    with open(path, "a" if append else "w") as f:
        subprocess.run(args, stdout=f, check=True)


class Tail:
    """A running `faultline tail` with snapshots (parsed JSON lines) and stderr collected."""

    def __init__(self, faultline, args, env=None, stdin=subprocess.DEVNULL, echo=True):
        self.echo = echo  # copy tail's stderr to ours (off for long, chatty runs)
        self.snapshots = []
        self.stderr = []
        self.lock = threading.Lock()
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.p = subprocess.Popen([faultline, "tail", "--format", "json"] + args,
                                  stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=full_env, text=True)
        self.t_out = threading.Thread(target=self._read_out, daemon=True)
        self.t_err = threading.Thread(target=self._read_err, daemon=True)
        self.t_out.start()
        self.t_err.start()

    def _read_out(self):
        for line in self.p.stdout:
            try:
                doc = json.loads(line)
            except ValueError:
                doc = {"unparsed": line}
            with self.lock:
                self.snapshots.append((time.monotonic(), doc))

    def _read_err(self):
        for line in self.p.stderr:
            if self.echo:
                sys.stderr.write("  [tail] " + line)
            with self.lock:
                self.stderr.append(line.rstrip("\n"))

    def last(self):
        with self.lock:
            return self.snapshots[-1][1] if self.snapshots else None

    def entries(self):
        doc = self.last()
        return doc["input"]["entries"] if doc and "input" in doc else 0

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred(self):
                return True
            if self.p.poll() is not None:
                fail("tail exited (%s) while waiting for %s" % (self.p.returncode, what))
            time.sleep(0.05)
        fail("timed out after %ss waiting for %s (entries %d)" % (timeout, what, self.entries()))

    def wait_entries(self, n, timeout=20):
        return self.wait(lambda t: t.entries() >= n, timeout, "%d entries" % n)

    def err_count(self, needle):
        with self.lock:
            return sum(1 for l in self.stderr if needle in l)

    def stop(self, timeout=30):
        """Ctrl-C: returns the final report (the last JSON line)."""
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail("tail did not exit after SIGINT")
        self.t_out.join(5)
        self.t_err.join(5)
        check(self.p.returncode == 0, "tail exits 0 after Ctrl-C")
        check(self.err_count("handles left open") == 0, "every libuv handle closed at exit")
        self.validate()
        return self.last()

    def validate(self):
        """Every snapshot and the final report match docs/report.schema.json."""
        with self.lock:
            docs = [d for _, d in self.snapshots if d.get("generated_by") == "faultline"]
        try:
            for i, d in enumerate(docs):
                clitest.validate_report(d, "tail snapshot %d" % i)
        except clitest.Fail as e:
            fail(str(e))

    def kill(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        self.t_out.join(5)
        self.t_err.join(5)


class MockKafka:
    def __init__(self, binary, topic="logs", partitions=4, extra_topic=None):
        self.topic = topic
        extra = [extra_topic[0], str(extra_topic[1])] if extra_topic else []
        self.p = subprocess.Popen([binary, topic, str(partitions)] + extra, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.bootstraps = self.p.stdout.readline().strip()
        if not self.bootstraps:
            fail("mock kafka did not start")

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        reply = self.p.stdout.readline().strip()
        if not reply.startswith("ok"):
            fail("mock kafka: %s -> %s" % (line, reply))
        return reply

    def produce(self, path):
        return int(self.cmd("produce " + path).split()[1])

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
            self.p.wait(10)
        except Exception:
            self.p.kill()
