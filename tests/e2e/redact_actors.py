#!/usr/bin/env python3
"""End-to-end tests of who-deployed and the allow-list (issue 13 item 4), through the real CLI.

People who made a change are shown by default (an internal postmortem needs them) and hidden
with --redact-actors; service accounts are always shown; secrets and addresses inside log
messages stay redacted either way. --allow-list FILE releases listed values, never a
credential recognised by its shape, and says so with file:line.

Usage: redact_actors.py FAULTLINE SOURCE_ROOT CASE   (CASE "all" runs every case)

Input: the shipped sample incident (Cloud Audit Log entries with principalEmail, as in
/work/shared/samples: a person's ReplaceService and AddSecretVersion, Cloud Build's service
account), plus planted entries built here: a log message naming a person and an on-call alias
and carrying a token, an audit entry whose caller is a service agent, one by a workforce
identity (principalSubject only, no principalEmail: Google's AuthenticationInfo reference,
"For third party identity callers, the principal_subject field is populated instead"), and a
--changes line from CI.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import clitest
from clitest import Fail, check, run_cli

FAULTLINE = ROOT = TMP = ""
SAMPLE_REL = "tests/data/incidents/checkout-bad-deploy.json"

PERSON = "sam.okafor@acme-shop-prod-9833.example.com"         # ReplaceService of checkout-api
PERSON2 = "maria.gonzalez@acme-shop-prod-9833.example.com"    # AddSecretVersion
CLOUD_BUILD = "675795479@cloudbuild.gserviceaccount.com"      # ReplaceService of orders-api
AGENT = "service-628324858917@gcp-sa-run.iam.gserviceaccount.com"
WORKFORCE = ("principal://iam.googleapis.com/locations/global/workforcePools/acme-staff/"
             "subject/lee.chen")
CI_PERSON = "dev.kim@acme-shop.example.com"
CUSTOMER = "jane.roe@gmail.com"          # in a log message: never shown
ONCALL = "sre-oncall@acme-shop.example.com"  # in a log message: shown only when allow-listed
TOKEN = "ghp_" + "Q7vB2rK9lM4xZ8tY1nW6pC3hD5gF0jS7uA2e"  # fake; the shape of a GitHub token
PEOPLE = (PERSON, PERSON2, "lee.chen", CI_PERSON)


def run(args, env_extra=None, input_bytes=None):
    stdin = subprocess.DEVNULL if input_bytes is None else None
    return run_cli(FAULTLINE, args, stdin=stdin, input_bytes=input_bytes, env_extra=env_extra)


def tmp(name):
    return os.path.join(TMP, name)


def audit(insert_id, ts, principal, service, revision, subject=None):
    auth = {"principalEmail": principal} if principal else {}
    if subject:
        auth["principalSubject"] = subject
    return {
        "insertId": insert_id, "timestamp": ts, "severity": "NOTICE",
        "logName": "projects/acme-shop-prod-9833/logs/cloudaudit.googleapis.com%2Factivity",
        "resource": {"type": "cloud_run_revision",
                     "labels": {"service_name": service, "revision_name": revision,
                                "location": "us-central1", "project_id": "acme-shop-prod-9833"}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": auth,
            "methodName": "google.cloud.run.v1.Services.ReplaceService",
            "serviceName": "run.googleapis.com",
            "resourceName": f"namespaces/acme-shop-prod-9833/services/{service}"}}


def build_input():
    """The sample plus the planted entries, as NDJSON; and the --changes file."""
    with open(os.path.join(ROOT, SAMPLE_REL)) as f:
        entries = json.load(f)
    t0 = min(e["timestamp"] for e in entries if "timestamp" in e)
    day = t0[:10]
    msg = (f"refund failed for customer {CUSTOMER}; paging {ONCALL} "
           f"with token {TOKEN}")
    for i in range(3):
        entries.append({
            "insertId": f"planted-{i}", "timestamp": f"{day}T03:06:0{i}.000000Z",
            "severity": "ERROR",
            "logName": "projects/acme-shop-prod-9833/logs/run.googleapis.com%2Fstderr",
            "resource": {"type": "cloud_run_revision",
                         "labels": {"service_name": "refunds-api",
                                    "revision_name": "refunds-api-00007-abc"}},
            "textPayload": msg})
    entries.append(audit("planted-agent", f"{day}T02:40:00.000000Z", AGENT, "refunds-api",
                         "refunds-api-00006-xyz"))
    entries.append(audit("planted-workforce", f"{day}T02:45:00.000000Z", None, "refunds-api",
                         "refunds-api-00007-abc", subject=WORKFORCE))
    path = tmp("incident.ndjson")
    with open(path, "w") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    changes = tmp("changes.ndjson")
    with open(changes, "w") as f:
        f.write(json.dumps({"time": f"{day}T02:50:00Z", "service": "refunds-api",
                            "revision": "refunds-api-00007-abc", "kind": "deploy",
                            "actor": CI_PERSON,
                            "description": f"pipeline 88 by {CI_PERSON} password=hunter2x9"})
                + "\n")
    return path, changes


def outputs(extra):
    """Every batch output for the planted input: five report formats and the postmortem."""
    path, changes = build_input()
    outs = {}
    for fmt in ("text", "md", "json", "html", "slack"):
        # Wide enough that the text report does not cut the addresses in its change list.
        rc, out, err = run(["analyze", "--format", fmt, "--changes", changes] + extra + [path],
                           env_extra={"COLUMNS": "200"})
        check(rc == 0, f"analyze --format {fmt} {extra}: exit {rc}; {err[:400]}")
        outs[fmt] = out
    rc, out, err = run(["postmortem", "--changes", changes] + extra + [path])
    check(rc == 0, f"postmortem {extra}: exit {rc}; {err[:400]}")
    outs["postmortem"] = out
    return outs


def check_secrets_stay(name, out):
    check(TOKEN not in out, f"{name}: the GitHub token was written")
    check("hunter2x9" not in out, f"{name}: the password in a CI description was written")
    check(CUSTOMER not in out, f"{name}: the customer's address in a log message was written")


def case_actors_shown():
    """Default: who deployed is shown (people, service accounts, service agents, workforce
    identities, CI actors); log-message secrets and addresses are not."""
    outs = outputs([])
    for name, out in outs.items():
        check(PERSON in out, f"{name}: the person who deployed checkout-api is not shown")
        if name != "slack":  # the Slack message lists no changes, only the causes
            check(CLOUD_BUILD in out, f"{name}: Cloud Build's service account is not shown")
        check_secrets_stay(name, out)
    doc = json.loads(outs["json"])
    actors = {c["actor"] for c in doc["changes"]}
    for who in (PERSON, PERSON2, CLOUD_BUILD, AGENT, WORKFORCE, CI_PERSON):
        check(who in actors, f"json: actor {who} missing from changes: {sorted(actors)}")
    ci = [c for c in doc["changes"] if c["actor"] == CI_PERSON]
    check(ci and "password=[REDACTED:secret]" in ci[0]["description"]
          and CI_PERSON in ci[0]["description"],
          f"json: the CI change's description: {ci and ci[0]['description']}")
    # The person's address in the evidence of the cause, too.
    ev = " ".join(x for c in doc["causes"] for x in c.get("evidence", []))
    check(PERSON in ev, f"json: the cause's evidence hides the deployer: {ev[:300]}")
    samples = [s["message"] for g in doc["groups"] for s in g.get("samples", [])
               if "refund failed" in s.get("message", "")]
    check(samples and "[REDACTED:email]" in samples[0]
          and "[REDACTED:github_token]" in samples[0],
          f"json: the planted log message is not redacted as expected: {samples[:1]}")


def case_actors_hidden():
    """--redact-actors: no person anywhere, service accounts still there."""
    outs = outputs(["--redact-actors"])
    for name, out in outs.items():
        for who in PEOPLE:
            check(who not in out, f"{name} --redact-actors: {who} is shown")
        if name != "slack":
            check(CLOUD_BUILD in out,
                  f"{name} --redact-actors: Cloud Build's service account is gone")
        check("REDACTED:actor" in out, f"{name} --redact-actors: no [REDACTED:actor] marker")
        check_secrets_stay(name, out)
    doc = json.loads(outs["json"])
    actors = {c["actor"] for c in doc["changes"]}
    check(AGENT in actors, f"json --redact-actors: the service agent is hidden: {actors}")
    rc, _, err = run(["analyze", "--redact-actors", "--no-redact", build_input()[0]])
    check(rc == 1 and "--no-redact" in err, f"--redact-actors with --no-redact: exit {rc}; {err}")


def case_allow_list():
    """The allow-list releases the on-call alias (a literal) and addresses of a domain (a glob),
    not the customer, never the token, and warns with file:line about a token-shaped line, a
    too-broad glob and an over-long line."""
    path, changes = build_input()
    allow = tmp("allow.txt")
    with open(allow, "w") as f:
        f.write("# values faultline must never redact\n"   # 1
                "\n"                                        # 2
                f"  {ONCALL}  \n"                           # 3
                "refunds-api-0000?-*\n"                     # 4
                f"{TOKEN}\n"                                # 5: refused
                "*@*\n"                                     # 6: broad, kept with a warning
                + "x" * 300 + "\n")                         # 7: too long
    rc, out, err = run(["analyze", "--format", "json", "--allow-list", allow, path])
    check(rc == 0, f"analyze --allow-list: exit {rc}; {err[:400]}")
    check(f"{allow}:5: warning:" in err and "github_token" in err,
          f"no file:line warning for the token-shaped line:\n{err}")
    check(f"{allow}:6: warning:" in err and "any email address" in err,
          f"no warning for the broad glob:\n{err}")
    check(f"{allow}:7: skipped" in err, f"no warning for the over-long line:\n{err}")
    check(f"{allow}:3:" not in err and f"{allow}:4:" not in err,
          f"warnings for good lines:\n{err}")
    check(TOKEN not in out, "the allow-listed token was written")
    # "*@*" releases every address: the customer's too. That is what the warning says.
    check(ONCALL in out and CUSTOMER in out, "the broad glob did not release addresses")

    with open(allow, "w") as f:
        f.write(f"{ONCALL}\n{TOKEN}\n")
    for fmt in ("text", "md", "json", "html", "slack"):
        rc, out, err = run(["analyze", "--format", fmt, "--allow-list", allow, path])
        check(rc == 0, f"{fmt}: exit {rc}; {err[:300]}")
        if fmt in ("json", "html"):  # the others show the group's template, not samples
            check(ONCALL in out, f"{fmt}: the allow-listed on-call alias is still redacted")
        check(CUSTOMER not in out and TOKEN not in out, f"{fmt}: released more than listed")
    rc, out, err = run(["postmortem", "--allow-list", allow, path])
    check(rc == 0 and CUSTOMER not in out and TOKEN not in out,
          f"postmortem --allow-list: exit {rc}; released more than listed")
    rc, _, err = run(["analyze", "--allow-list", tmp("missing.txt"), path])
    check(rc == 1 and "missing.txt" in err, f"a missing allow-list: exit {rc}; {err}")
    # Without the option the alias is redacted: the case fails if --allow-list is ignored.
    rc, out, _ = run(["analyze", "--format", "json", path])
    check(ONCALL not in out, "the on-call alias is shown without an allow-list")


class Recorder(BaseHTTPRequestHandler):
    bodies = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        Recorder.bodies.append(self.rfile.read(n).decode("utf-8", "replace"))
        self.send_response(204)
        self.end_headers()


def serve():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def case_attach():
    """postmortem --attach: the webhook body says the same as the file."""
    path, _ = build_input()
    srv = serve()
    url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    env = {"FAULTLINE_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    try:
        for extra, shown in (([], True), (["--redact-actors"], False)):
            Recorder.bodies.clear()
            rc, _, err = run(["postmortem", path, "-o", tmp("pm.md"), "--attach", url] + extra,
                             env_extra=env)
            check(rc == 0 and len(Recorder.bodies) == 1,
                  f"postmortem --attach {extra}: exit {rc}, {len(Recorder.bodies)} posts; {err}")
            body = Recorder.bodies[0]
            check((PERSON in body) == shown, f"attach {extra}: person shown={PERSON in body}")
            check(CLOUD_BUILD in body, f"attach {extra}: the service account is missing")
            check(TOKEN not in body and CUSTOMER not in body, f"attach {extra}: secret posted")
    finally:
        srv.shutdown()


def case_tail():
    """tail: snapshots, the final report, the --on-new-cause environment and the webhook."""
    path, _ = build_input()
    with open(path, "rb") as f:
        data = f.read()
    srv = serve()
    url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    try:
        for extra, shown in (([], True), (["--redact-actors"], False)):
            Recorder.bodies.clear()
            hook = tmp("hook.env")
            if os.path.exists(hook):
                os.unlink(hook)
            rc, out, err = run(["tail", "--format", "json", "--interval", "100ms", "--window", "2h",
                                "--on-new-cause", f"env | grep '^FAULTLINE_' >> {hook}",
                                "--webhook", url] + extra + ["-"], input_bytes=data)
            check(rc == 0, f"tail {extra}: exit {rc}; {err[-400:]}")
            check(out.strip(), f"tail {extra}: no snapshot")
            check((PERSON in out) == shown, f"tail {extra}: person shown={PERSON in out}")
            check(CLOUD_BUILD in out, f"tail {extra}: the service account is missing")
            check(TOKEN not in out and CUSTOMER not in out, f"tail {extra}: secret in output")
            with open(hook) as f:
                env = f.read()
            check("FAULTLINE_CAUSE_SUMMARY=" in env, f"tail {extra}: the hook did not run")
            check(len(Recorder.bodies) == 1, f"tail {extra}: {len(Recorder.bodies)} webhooks")
            for what, text in (("hook environment", env), ("webhook", "".join(Recorder.bodies)),
                               ("stderr", err)):
                check(TOKEN not in text and CUSTOMER not in text, f"tail {extra}: {what} leaks")
                if not shown:
                    check(all(p not in text for p in PEOPLE), f"tail {extra}: {what} names a person")
    finally:
        srv.shutdown()


def case_help():
    """--help of every command that writes a report lists both options with an example."""
    for cmd in ("analyze", "postmortem", "tail", "merge"):
        rc, out, _ = run([cmd, "--help"])
        check(rc == 0, f"{cmd} --help: exit {rc}")
        check("--redact-actors" in out and "[REDACTED:actor]" in out,
              f"{cmd} --help: --redact-actors missing")
        check("--allow-list FILE" in out and "sre-oncall@example.com" in out,
              f"{cmd} --help: --allow-list missing")
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    check("faultline postmortem --redact-actors" in readme, "README: no --redact-actors example")
    check("--allow-list keep.txt" in readme, "README: no --allow-list example")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    global FAULTLINE, ROOT, TMP
    FAULTLINE, ROOT, which = sys.argv[1], sys.argv[2], sys.argv[3]
    with tempfile.TemporaryDirectory(prefix="fl-redact-actors-") as d:
        TMP = d  # one directory for all cases: they share the generated inputs
        return clitest.run_cases(CASES, which)


if __name__ == "__main__":
    sys.exit(main())
