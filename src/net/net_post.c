/* The blocking HTTP client: one request, the retry loop, Standard Webhooks headers.
 *
 * Retries follow the usual contract of webhook senders: transport failures (timeouts,
 * refused or reset connections), 429 and 5xx are retried with backoff; any other 4xx is final.
 * A Retry-After (seconds) on 429/503 raises the delay, still under the cap. Redirects are not
 * followed (one could leave https); TLS verification is libcurl's default and cannot be
 * turned off. */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fl_config.h"
#include "fl_net.h"

#define NET_ANSWER_MAX (64 * 1024) /* response bytes kept; the rest is read and dropped */

typedef struct response {
    fl_buf body;
    long retry_after_s;
} response;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    response *r = ud;
    size_t len = size * n;
    /* Past the cap the rest is dropped, not an error: the answer is only kept for messages. */
    if (r->body.len + len < NET_ANSWER_MAX && fl_buf_add(&r->body, p, len) != 0)
        fl_buf_reset(&r->body);
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

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void fl_net_init(void)
{
    pthread_once(&global_once, global_init);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
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

/* Headers are fixed for the whole retry loop: the same webhook-id every time. */
static int build_headers(const char *body, const fl_net_post_opts *o, fl_net_post_result *res,
                         struct curl_slist **out)
{
    bool oom = false;
    char line[1024];
    struct curl_slist *hdr = NULL;
    hdr = add(hdr, "Content-Type: application/json", &oom);
    hdr = add(hdr, "User-Agent: faultline/" FL_VERSION, &oom);
    hdr = add(hdr, "Expect:", &oom);
    for (const char *const *h = o->headers; h && *h; h++)
        hdr = add(hdr, *h, &oom);
    int rc = 0;
    if (o->webhook) {
        int64_t now = o->unix_ts ? o->unix_ts : (int64_t)time(NULL);
        if ((rc = fl_webhook_new_id(res->webhook_id, sizeof(res->webhook_id))) < 0)
            goto out;
        snprintf(line, sizeof(line), "webhook-id: %s", res->webhook_id);
        hdr = add(hdr, line, &oom);
        snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)now);
        hdr = add(hdr, line, &oom);
        if (o->webhook_secret && *o->webhook_secret) {
            char sig[128];
            rc = fl_webhook_sign(o->webhook_secret, res->webhook_id, now, body, strlen(body), sig,
                                 sizeof(sig));
            if (rc < 0) {
                snprintf(res->message, sizeof(res->message),
                         "the webhook secret is not usable (a whsec_ secret must be base64 after "
                         "the prefix)");
                goto out;
            }
            snprintf(line, sizeof(line), "webhook-signature: %s", sig);
            hdr = add(hdr, line, &oom);
            res->signed_body = true;
        }
    }
    if (oom)
        rc = FL_ENOMEM;
out:
    OPENSSL_cleanse(line, sizeof(line));
    if (rc < 0) {
        curl_slist_free_all(hdr);
        hdr = NULL;
    }
    *out = hdr;
    return rc;
}

/* One request. Returns 0 (2xx) or an error code; *retry says whether another try may help. */
static int attempt_once(const char *url, const char *body, struct curl_slist *hdr, long timeout,
                        fl_net_post_result *res, bool *retry, long *retry_after_s)
{
    CURL *c = curl_easy_init();
    if (!c) {
        *retry = false;
        return FL_ENOMEM;
    }
    response resp = {0};
    fl_buf_init(&resp.body, NET_ANSWER_MAX);
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
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
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    res->http_status = cc == CURLE_OK ? status : 0;
    res->answer[0] = '\0';
    int rc;
    if (cc != CURLE_OK) {
        /* curl's error buffer names the host at most, never userinfo or query. */
        snprintf(res->message, sizeof(res->message), "%s: %s", res->target,
                 curl_err[0] ? curl_err : curl_easy_strerror(cc));
        *retry = retryable_curl(cc);
        rc = *retry ? FL_EAGAIN : FL_EIO;
    } else if (status >= 200 && status < 300) {
        res->message[0] = '\0';
        *retry = false;
        rc = 0;
    } else {
        if (resp.body.data) {
            snprintf(res->answer, sizeof(res->answer), "%s", resp.body.data);
            for (char *q = res->answer; *q; q++)
                if (*q == '\n' || *q == '\r')
                    *q = ' ';
        }
        snprintf(res->message, sizeof(res->message), "%s answered HTTP %ld", res->target,
                 status);
        *retry = retryable_status(status);
        rc = *retry ? FL_EAGAIN : (status == 401 || status == 403) ? FL_EAUTH : FL_EINVAL;
    }
    *retry_after_s = resp.retry_after_s;
    fl_buf_free(&resp.body);
    return rc;
}

int fl_net_post(const char *url, const char *body, const fl_net_post_opts *opts,
                fl_net_post_result *res)
{
    static const fl_net_post_opts none = {0};
    if (!opts)
        opts = &none;
    memset(res, 0, sizeof(*res));
    fl_net_init();
    fl_net_url_display(url, opts->display_path, res->target, sizeof(res->target));
    char why[400];
    int rc = fl_net_url_check(url, why, sizeof(why));
    if (rc < 0) {
        snprintf(res->message, sizeof(res->message), "%s", why);
        return rc;
    }
    struct curl_slist *hdr = NULL;
    if ((rc = build_headers(body, opts, res, &hdr)) < 0)
        return rc;
    long timeout = opts->timeout_ms > 0 ? opts->timeout_ms : 15000;
    int max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 5;
    uint64_t base = opts->base_delay_ms > 0 ? (uint64_t)opts->base_delay_ms : 500;
    uint64_t cap = opts->max_delay_ms > 0 ? (uint64_t)opts->max_delay_ms : 8000;
    rc = FL_EAGAIN;
    for (int attempt = 1; attempt <= max_attempts; attempt++) {
        bool retry = false;
        long retry_after_s = 0;
        rc = attempt_once(url, body, hdr, timeout, res, &retry, &retry_after_s);
        res->attempts = attempt;
        if (!retry || attempt == max_attempts)
            break;
        uint64_t delay = fl_backoff_ms((unsigned)attempt - 1, base, cap);
        if (retry_after_s > 0)
            delay = FL_MAX(delay, FL_MIN((uint64_t)retry_after_s * 1000, cap));
        sleep_ms((long)delay);
    }
    curl_slist_free_all(hdr);
    return rc;
}
