/* Posting a postmortem: the body and headers per target kind; the request itself, the URL
 * policy, the retries and the Standard Webhooks signature are src/net's (fl_net_post). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attach.h"
#include "fl_net.h"

/* What messages may say about the target: GitHub API URLs in full (no secret in them), for
 * Slack and generic webhooks only the origin, since their paths and queries are often the
 * credential itself (hooks.slack.com/services/..., /webhooks/ID/TOKEN, ?token=). Userinfo
 * never appears (fl_net_url_display drops it). */
static void describe_target(char *dst, size_t size, const char *url, fl_attach_kind kind)
{
    char shown[400];
    fl_net_url_display(url, kind == FL_ATTACH_GITHUB, shown, sizeof(shown));
    if (kind == FL_ATTACH_GITHUB)
        snprintf(dst, size, "%s", shown);
    else
        snprintf(dst, size, "%s/[REDACTED:%s_path]", shown,
                 kind == FL_ATTACH_SLACK ? "slack_webhook" : "webhook");
}

int fl_attach_post(const char *url, const fl_result *r, const char *markdown, const char *title,
                   const fl_attach_opts *opts, fl_attach_report *rep)
{
    static const fl_attach_opts none = {0};
    if (!opts)
        opts = &none;
    memset(rep, 0, sizeof(*rep));

    char *target = NULL;
    fl_attach_kind kind;
    int rc = fl_attach_resolve(url, opts, &kind, &target, rep->message, sizeof(rep->message));
    if (rc < 0)
        return rc;
    rep->kind = kind;
    describe_target(rep->target, sizeof(rep->target), target, kind);

    const char *token = opts->github_token;
    if (kind == FL_ATTACH_GITHUB && (!token || !*token)) {
        snprintf(rep->message, sizeof(rep->message),
                 "GITHUB_TOKEN is not set: a token with permission to comment on issues is "
                 "needed");
        fl_free(target);
        return FL_EAUTH;
    }
    if (kind == FL_ATTACH_GITHUB && strpbrk(token, "\r\n\t ")) {
        /* A pasted token with a newline would otherwise end the header early. */
        snprintf(rep->message, sizeof(rep->message),
                 "GITHUB_TOKEN contains whitespace or a line break; set it to the token alone");
        fl_free(target);
        return FL_EINVAL;
    }

    int64_t now = (int64_t)time(NULL);
    char *body = kind == FL_ATTACH_GITHUB  ? fl_attach_github_body(markdown)
                 : kind == FL_ATTACH_SLACK ? fl_attach_slack_body(r, title)
                                           : fl_attach_webhook_body(r, markdown, now);
    if (!body) {
        fl_free(target);
        return FL_ENOMEM;
    }

    char auth[1024] = "";
    const char *github_headers[] = {"Accept: application/vnd.github+json",
                                    "X-GitHub-Api-Version: 2022-11-28", auth, NULL};
    if (kind == FL_ATTACH_GITHUB)
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    fl_net_post_opts no = {
        .headers = kind == FL_ATTACH_GITHUB ? github_headers : NULL,
        .webhook = kind == FL_ATTACH_WEBHOOK,
        .webhook_secret = opts->webhook_secret,
        .unix_ts = now,
        .max_attempts = opts->max_attempts,
        .base_delay_ms = opts->base_delay_ms,
        .max_delay_ms = opts->max_delay_ms,
        .timeout_ms = opts->timeout_ms,
    };
    fl_net_post_result nr;
    rc = fl_net_post(target, body, &no, &nr);
    memset(auth, 0, sizeof(auth));
    rep->attempts = nr.attempts;
    rep->http_status = nr.http_status;
    rep->signed_body = nr.signed_body;
    snprintf(rep->webhook_id, sizeof(rep->webhook_id), "%s", nr.webhook_id);
    if (rc < 0 && nr.attempts > 0) {
        /* Say where with our own redacted target; keep a short, redacted piece of the answer:
         * it usually says what is wrong. */
        const char *what = nr.message;
        size_t tl = strlen(nr.target);
        if (!strncmp(what, nr.target, tl))
            what += tl;
        char *answer = nr.answer[0] ? fl_redact(nr.answer) : NULL;
        snprintf(rep->message, sizeof(rep->message), "%.500s%.300s%s%.160s", rep->target, what,
                 answer ? " " : "", answer ? answer : "");
        fl_free(answer);
    } else if (rc < 0) {
        snprintf(rep->message, sizeof(rep->message), "%s", nr.message);
    }
    fl_free(body);
    fl_free(target);
    return rc;
}
