/* Posting with libcurl: one request builder per target kind, one retry loop for all.
 *
 * Retries follow the usual contract of webhook senders: transport failures (timeouts,
 * refused or reset connections), 429 and 5xx are retried with exponential backoff and full
 * jitter, capped; any other 4xx is final, since sending the same request again cannot help.
 * A Retry-After (seconds) on 429/503 raises the delay, still under the cap. */
#include <curl/curl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attach.h"
#include "fl_config.h"

#define MAX_RESPONSE (64 * 1024)

typedef struct response {
    fl_buf body;
    long retry_after_s;
} response;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    response *r = ud;
    size_t len = size * n;
    /* Past the cap the rest is dropped, not an error: we only keep it for messages. */
    if (r->body.len + len < MAX_RESPONSE)
        fl_buf_add(&r->body, p, len);
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    response *r = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0)
        r->retry_after_s = strtol(p + 12, NULL, 10);
    return len;
}

static void once_global_init(void)
{
    static bool done;
    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = true;
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static long backoff_ms(const fl_attach_opts *o, int attempt, long retry_after_s)
{
    long base = o->base_delay_ms > 0 ? o->base_delay_ms : 500;
    long cap = o->max_delay_ms > 0 ? o->max_delay_ms : 8000;
    long d = base;
    for (int i = 1; i < attempt && d < cap; i++)
        d *= 2;
    d = FL_MIN(d, cap);
    unsigned int rnd = 0;
    RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
    /* Half fixed, half random: spreads retries from many senders, never waits zero. */
    long jittered = d / 2 + (long)(rnd % (unsigned)(d / 2 + 1));
    if (retry_after_s > 0)
        jittered = FL_MAX(jittered, FL_MIN(retry_after_s * 1000, cap));
    return jittered;
}

static bool retryable_status(long s)
{
    return s == 429 || s >= 500;
}

static bool retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static struct curl_slist *add(struct curl_slist *l, const char *h, bool *oom)
{
    struct curl_slist *n = curl_slist_append(l, h);
    if (!n) {
        *oom = true;
        return l;
    }
    return n;
}

/* What messages may say about the target: GitHub API URLs in full (no secret in them), for
 * Slack and generic webhooks only the origin, since their paths and queries are often the
 * credential itself (hooks.slack.com/services/..., /webhooks/ID/TOKEN, ?token=). */
static void describe_target(char *dst, size_t size, const char *url, fl_attach_kind kind)
{
    if (kind == FL_ATTACH_GITHUB) {
        char *red = fl_redact(url);
        snprintf(dst, size, "%s", red ? red : "(url)");
        fl_free(red);
        return;
    }
    const char *host = strstr(url, "://");
    size_t origin = host ? (size_t)(host + 3 - url) + strcspn(host + 3, "/?#") : strlen(url);
    snprintf(dst, size, "%.*s/[REDACTED:%s_path]", (int)origin, url,
             kind == FL_ATTACH_SLACK ? "slack_webhook" : "webhook");
}

int fl_attach_post(const char *url, const fl_result *r, const char *markdown, const char *title,
                   const fl_attach_opts *opts, fl_attach_report *rep)
{
    static const fl_attach_opts none = {0};
    if (!opts)
        opts = &none;
    memset(rep, 0, sizeof(*rep));
    once_global_init();

    char *target = NULL;
    fl_attach_kind kind;
    int rc = fl_attach_resolve(url, opts, &kind, &target, rep->message, sizeof(rep->message));
    if (rc < 0)
        return rc;
    rep->kind = kind;
    describe_target(rep->target, sizeof(rep->target), target, kind);

    const char *token = opts->github_token ? opts->github_token : getenv("GITHUB_TOKEN");
    const char *secret =
        opts->webhook_secret ? opts->webhook_secret : getenv("FAULTLINE_WEBHOOK_SECRET");
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

    /* Headers are fixed for the whole retry loop: the same webhook-id every time. */
    bool oom = false;
    char line[1024];
    struct curl_slist *hdr = NULL;
    hdr = add(hdr, "Content-Type: application/json", &oom);
    hdr = add(hdr, "User-Agent: faultline/" FL_VERSION, &oom);
    hdr = add(hdr, "Expect:", &oom);
    if (kind == FL_ATTACH_GITHUB) {
        hdr = add(hdr, "Accept: application/vnd.github+json", &oom);
        hdr = add(hdr, "X-GitHub-Api-Version: 2022-11-28", &oom);
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        hdr = add(hdr, line, &oom);
        memset(line, 0, sizeof(line));
    } else if (kind == FL_ATTACH_WEBHOOK) {
        if ((rc = fl_webhook_new_id(rep->webhook_id, sizeof(rep->webhook_id))) < 0)
            goto out;
        snprintf(line, sizeof(line), "webhook-id: %s", rep->webhook_id);
        hdr = add(hdr, line, &oom);
        snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)now);
        hdr = add(hdr, line, &oom);
        if (secret && *secret) {
            char sig[128];
            rc =
                fl_webhook_sign(secret, rep->webhook_id, now, body, strlen(body), sig, sizeof(sig));
            if (rc < 0) {
                snprintf(rep->message, sizeof(rep->message),
                         "FAULTLINE_WEBHOOK_SECRET is not usable (a whsec_ secret must be "
                         "base64 after the prefix)");
                goto out;
            }
            snprintf(line, sizeof(line), "webhook-signature: %s", sig);
            hdr = add(hdr, line, &oom);
            rep->signed_body = true;
        }
    }
    if (oom) {
        rc = FL_ENOMEM;
        goto out;
    }

    long timeout = opts->timeout_ms;
    if (timeout <= 0) {
        const char *e = getenv("FAULTLINE_ATTACH_TIMEOUT_MS");
        timeout = e && atol(e) > 0 ? atol(e) : 15000;
    }
    int max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 5;
    rc = FL_EAGAIN;
    for (int attempt = 1; attempt <= max_attempts; attempt++) {
        CURL *c = curl_easy_init();
        if (!c) {
            rc = FL_ENOMEM;
            break;
        }
        response resp = {0};
        fl_buf_init(&resp.body, MAX_RESPONSE);
        char curl_err[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_URL, target);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect could leave https */
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, FL_MIN(timeout, 10000L));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
        CURLcode cc = curl_easy_perform(c);
        rep->attempts = attempt;
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        rep->http_status = cc == CURLE_OK ? status : 0;
        bool retry;
        if (cc != CURLE_OK) {
            snprintf(rep->message, sizeof(rep->message), "%s: %s", rep->target,
                     curl_err[0] ? curl_err : curl_easy_strerror(cc));
            retry = retryable_curl(cc);
            rc = retry ? FL_EAGAIN : FL_EIO;
        } else if (status >= 200 && status < 300) {
            rep->message[0] = 0;
            rc = 0;
            retry = false;
        } else {
            /* Keep a short, redacted piece of the answer: it usually says what is wrong. */
            char snippet[160] = "";
            if (resp.body.data) {
                char *red = fl_redact(resp.body.data);
                snprintf(snippet, sizeof(snippet), "%s", red ? red : "");
                fl_free(red);
                for (char *q = snippet; *q; q++)
                    if (*q == '\n' || *q == '\r')
                        *q = ' ';
            }
            snprintf(rep->message, sizeof(rep->message), "%s answered HTTP %ld %s", rep->target,
                     status, snippet);
            retry = retryable_status(status);
            rc = retry ? FL_EAGAIN : (status == 401 || status == 403) ? FL_EAUTH : FL_EINVAL;
        }
        long ra = resp.retry_after_s;
        fl_buf_free(&resp.body);
        if (!retry || attempt == max_attempts)
            break;
        sleep_ms(backoff_ms(opts, attempt, ra));
    }

out:
    curl_slist_free_all(hdr);
    OPENSSL_cleanse(line, sizeof(line));
    fl_free(body);
    fl_free(target);
    return rc;
}
