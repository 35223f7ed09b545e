/* faultline postmortem INPUT... [-o FILE] [--attach URL]: the runbook's postmortem template,
 * prefilled from the same analysis as `analyze`, optionally posted to a GitHub issue, a Slack
 * channel or a signed webhook. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "attach/attach.h"
#include "cli_analysis.h"
#include "fl_cli.h"
#include "postmortem/postmortem.h"

struct postmortem_args {
    fl_analysis_args a;
    const char *output;
    fl_strv attach;
};

static const fl_opt postmortem_opts[] = {
    {"output", 'o', FL_OPT_STRING, "FILE", "write the draft to FILE instead of standard output",
     offsetof(struct postmortem_args, output), 0, 0, NULL},
    {"attach", 0, FL_OPT_STRINGS, "URL",
     "also post it: GitHub issue URL, Slack incoming webhook, or any https webhook",
     offsetof(struct postmortem_args, attach), 0, 0, NULL},
    FL_FILTER_OPTS(struct postmortem_args, a.filter),
    FL_ANALYSIS_OPTS(struct postmortem_args, a),
    FL_FAIL_ON_CAUSE_OPT(struct postmortem_args, a),
    FL_OPT_END,
};

static const char postmortem_epilog[] =
    "Writes a Markdown draft following the runbooks' template (Summary, Impact, Timeline (UTC),\n"
    "Root Cause, Resolution, Action Items, Lessons Learned). Facts come from the logs; what only\n"
    "a person can know is left as \"_TODO (human): ..._\". Secrets are redacted unless\n"
    "--no-redact.\n"
    "\n"
    "--attach URL posts the draft:\n"
    "  https://github.com/OWNER/REPO/issues/N   as an issue comment (token: GITHUB_TOKEN)\n"
    "  https://hooks.slack.com/services/...      as a Block Kit message (summary, top causes)\n"
    "  any other https URL                       as JSON {type, timestamp, data}, signed per\n"
    "                                            Standard Webhooks with FAULTLINE_WEBHOOK_SECRET\n"
    "Only https (plain http only to localhost). 5xx, 429 and network errors are retried with\n"
    "backoff (5 attempts); other 4xx are not. FAULTLINE_GITHUB_API_URL replaces the API\n"
    "base (GitHub Enterprise). A failed attachment makes the exit status 1; the draft is\n"
    "written first either way.\n"
    "\n"
    "Examples:\n"
    "  faultline postmortem incident.json -o postmortem.md\n"
    "  faultline postmortem --service checkout-api --since 2026-07-25T02:30:00Z logs/\n"
    "  faultline postmortem --redact-actors --allow-list keep.txt incident.json -o external.md\n"
    "  GITHUB_TOKEN=... faultline postmortem logs/ --attach "
    "https://github.com/acme/shop/issues/42\n"
    "\n";

static const fl_cmd_spec postmortem_spec = {
    "postmortem",
    "[INPUT...]",
    "Draft a postmortem from Cloud Logging exports, and optionally attach it to an issue,\n"
    "a Slack channel or a webhook.",
    postmortem_opts,
    postmortem_epilog,
};

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The environment is read here, in the CLI, and handed down as options. */
static void attach_opts_from_env(fl_attach_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->github_token = env_nonempty("GITHUB_TOKEN");
    o->webhook_secret = env_nonempty("FAULTLINE_WEBHOOK_SECRET");
    o->github_api_base = env_nonempty("FAULTLINE_GITHUB_API_URL");
    o->slack_base = env_nonempty("FAULTLINE_SLACK_HOOKS_URL");
    const char *t = env_nonempty("FAULTLINE_ATTACH_TIMEOUT_MS");
    o->timeout_ms = t && atol(t) > 0 ? atol(t) : 0;
}

/* Posts to every --attach URL; returns 0 if all succeeded. */
static int attach_all(const struct postmortem_args *args, const fl_result *view,
                      const char *markdown)
{
    int failed = 0;
    fl_attach_opts opts;
    attach_opts_from_env(&opts);
    for (size_t i = 0; i < args->attach.n; i++) {
        fl_attach_report rep;
        int rc = fl_attach_post(args->attach.v[i], view, markdown, args->a.title, &opts, &rep);
        if (rc == 0) {
            if (!args->a.quiet)
                fprintf(stderr, "faultline postmortem: attached to %s (%s, HTTP %ld%s%s)\n",
                        rep.target, fl_attach_kind_name(rep.kind), rep.http_status,
                        rep.attempts > 1 ? ", after retries" : "",
                        rep.kind == FL_ATTACH_WEBHOOK && !rep.signed_body
                            ? ", UNSIGNED: FAULTLINE_WEBHOOK_SECRET is not set"
                            : "");
            continue;
        }
        failed++;
        fprintf(stderr, "faultline postmortem: --attach #%zu failed after %d attempt%s: %s%s\n",
                i + 1, rep.attempts, rep.attempts == 1 ? "" : "s",
                rep.message[0] ? rep.message : fl_strerror(rc),
                rc == FL_EAGAIN ? " (the target kept failing; retrying later may help)" : "");
    }
    return failed ? -1 : 0;
}

int fl_cmd_postmortem(int argc, char **argv)
{
    struct postmortem_args args;
    fl_strv inputs = {NULL, 0};
    char err[512];
    int status;

    memset(&args, 0, sizeof args);
    int rc = fl_opts_parse(&postmortem_spec, argc, argv, &args, &inputs, err, sizeof err);
    if (rc == FL_OPTS_HELP) {
        fl_opts_help(&postmortem_spec, stdout);
        fputs(fl_cli_exit_codes_help, stdout);
        status = FL_EXIT_OK;
        goto out;
    }
    if (rc) {
        fprintf(stderr, "faultline postmortem: %s\n", err);
        status = FL_EXIT_USAGE;
        goto out;
    }
    /* Check the attach URLs before the (possibly long) analysis. */
    fl_attach_opts attach_opts;
    attach_opts_from_env(&attach_opts);
    for (size_t i = 0; i < args.attach.n; i++) {
        fl_attach_kind kind;
        char *resolved = NULL;
        rc = fl_attach_resolve(args.attach.v[i], &attach_opts, &kind, &resolved, err, sizeof err);
        fl_free(resolved);
        if (rc) {
            fprintf(stderr, "faultline postmortem: --attach #%zu: %s\n", i + 1, err);
            status = FL_EXIT_USAGE;
            goto out;
        }
    }

    if (fl_cli_check_output("postmortem", args.output, &inputs) ||
        fl_cli_load_allow_lists("postmortem", &args.a)) {
        status = FL_EXIT_USAGE;
        goto out;
    }
    fl_result *res = NULL;
    status = fl_cli_run_analysis("postmortem", &inputs, &args.a, &res);
    if (res && status == FL_EXIT_UNREADABLE) {
        fl_result_free(res); /* nothing valid was read: no empty draft */
        res = NULL;
    }
    if (!res)
        goto out;

    /* One redacted view feeds the file and every attachment, so they say the same thing. */
    fl_result *view = args.a.no_redact ? res : fl_result_redacted_with(res, &args.a.redact);
    fl_postmortem_opts po = {.title = args.a.title, .no_redact = true};
    char *md = view ? fl_postmortem_string(view, &po) : NULL;
    if (!md) {
        fprintf(stderr, "faultline postmortem: out of memory\n");
        status = FL_EXIT_USAGE;
    } else {
        FILE *f = fl_cli_open_output("postmortem", args.output);
        if (!f) {
            status = FL_EXIT_USAGE;
        } else {
            fputs(md, f);
            if (fl_cli_close_output("postmortem", f, args.output))
                status = FL_EXIT_USAGE;
        }
        if (status != FL_EXIT_USAGE && attach_all(&args, view, md) < 0)
            status = FL_EXIT_USAGE;
    }
    fl_free(md);
    status = fl_cli_final_status(&args.a, res, status);
    if (view != res)
        fl_result_free(view);
    fl_result_free(res);
out:
    fl_allow_list_free(&args.a.allow);
    fl_opts_free(&postmortem_spec, &args);
    fl_strv_free(&inputs);
    return status;
}
