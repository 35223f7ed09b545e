/* The Cloud Logging API live source: entries.list polling.
 *
 * Every poll asks for  (FILTER) AND timestamp>="BOUND"  ordered by timestamp ascending and
 * follows nextPageToken to the end; BOUND then moves to the newest timestamp seen minus a small
 * overlap, because entries can arrive in the API a little after their timestamp. The overlap
 * re-reads a few entries, which the consumer's insertId de-duplication counts once. The bound
 * never passes this machine's clock: Cloud Logging accepts entries stamped up to a day ahead,
 * and one such entry must not make the source skip everything written before its timestamp
 * (an entry ahead of the clock is fetched again by each poll until the clock reaches it, and
 * counted once). A checkpointed bound ahead of the clock is pulled back the same way. 429 and 5xx
 * answers are retried with exponential backoff and jitter. With a state dir the bound is
 * checkpointed, so a restart continues where the last one stopped.
 *
 * FAULTLINE_LOGGING_ENDPOINT overrides https://logging.googleapis.com (tests; plain http is
 * accepted for loopback only). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fl_http.h"
#include "live_common.h"

#define CL_DEFAULT_POLL_MS 5000
#define CL_PAGE_SIZE 1000
#define CL_OVERLAP_US (10 * FL_USEC_PER_SEC)
#define CL_SKEW_US (60 * FL_USEC_PER_SEC) /* clocks differ; only warn past this */
#define CL_START_BACK_US (30 * 60 * FL_USEC_PER_SEC) /* first poll: the last 30 minutes */

typedef struct cl_source {
    fl_live_common common; /* first */
    fl_http *http;
    fl_auth *auth;
    uv_timer_t timer;
    char *url;
    char *filter;
    char *resource; /* "projects/P" */
    char *ckpt_path;
    fl_time bound;     /* timestamp>= of the current poll */
    fl_time newest;    /* newest timestamp seen during the current poll */
    fl_time committed; /* bound written to the checkpoint */
    char *page_token;
    int poll_ms;
    unsigned attempt;
    bool in_flight, closing, connected;
    int64_t lag_s;
} cl_source;

static fl_time cl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (fl_time)ts.tv_sec * FL_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void cl_request(cl_source *c);

static void on_timer(uv_timer_t *t)
{
    cl_source *c = t->data;
    if (!c->common.paused && !c->in_flight)
        cl_request(c);
}

static void cl_later(cl_source *c, uint64_t ms)
{
    if (!c->closing)
        uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void on_list(void *arg, const fl_http_response *r)
{
    cl_source *c = arg;
    c->in_flight = false;
    if (r->status != 200) {
        bool retry = r->status == 0 || r->status == 429 || r->status >= 500;
        uint64_t delay = retry ? fl_backoff_ms(c->attempt++, 500, 60000) : 60000;
        c->connected = false;
        if (r->status)
            fl_live_common_event(&c->common, FL_LIVE_WARN,
                                 "cloud-logging: entries.list: HTTP %ld%s; retrying in "
                                 "%.1f s",
                                 r->status, r->status == 429 ? " (quota)" : "",
                                 (double)delay / 1000.0);
        else
            fl_live_common_event(&c->common, FL_LIVE_WARN,
                                 "cloud-logging: entries.list: %s; retrying in %.1f s", r->error,
                                 (double)delay / 1000.0);
        cl_later(c, delay);
        return;
    }
    if (!c->connected && c->attempt)
        fl_live_common_event(&c->common, FL_LIVE_INFO, "cloud-logging: polling again");
    c->connected = true;
    c->attempt = 0;
    c->common.last_error[0] = '\0';
    json_error_t jerr;
    json_t *doc = json_loadb(r->body, r->len, 0, &jerr);
    json_t *entries = json_object_get(doc, "entries");
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *e = json_array_get(entries, i);
        char *rec = json_dumps(e, JSON_COMPACT);
        if (!rec)
            continue;
        const char *ts = json_string_value(json_object_get(e, "timestamp"));
        fl_time t;
        if (ts && fl_time_parse(ts, strlen(ts), &t) == 0) {
            fl_time now = cl_now();
            if (t > now + CL_SKEW_US) {
                fl_live_common_event(&c->common, FL_LIVE_WARN,
                                     "cloud-logging: an entry stamped %s is %.1f h ahead of this "
                                     "clock; the read position stays at the clock",
                                     ts, (double)(t - now) / 3600e6);
                t = now;
            }
            if (t > c->newest)
                c->newest = t;
        }
        fl_live_common_deliver(&c->common, rec, strlen(rec));
        free(rec);
    }
    const char *next = json_string_value(json_object_get(doc, "nextPageToken"));
    fl_free(c->page_token);
    c->page_token = next && *next ? fl_strdup(next) : NULL;
    json_decref(doc);
    if (c->page_token) {
        cl_later(c, 0);
        return;
    }
    /* Poll finished: move the bound, keeping an overlap for late arrivals. */
    fl_time limit = cl_now() - CL_OVERLAP_US; /* never past the clock (see the top) */
    fl_time moved = c->newest - CL_OVERLAP_US;
    if (moved > limit)
        moved = limit;
    if (moved > c->bound)
        c->bound = moved;
    if (c->newest)
        c->lag_s = (cl_now() - c->newest) / FL_USEC_PER_SEC;
    cl_later(c, (uint64_t)c->poll_ms);
}

static void cl_request(cl_source *c)
{
    char tok[4096], err[512];
    int rc = fl_auth_token(c->auth, tok, sizeof(tok), err, sizeof(err));
    if (rc) {
        fl_live_common_event(&c->common, FL_LIVE_WARN, "cloud-logging: credentials: %s", err);
        cl_later(c, fl_backoff_ms(c->attempt++, 1000, 60000));
        return;
    }
    char bound[40];
    fl_time_format(c->bound, true, bound, sizeof(bound));
    size_t n = strlen(c->filter) + 64;
    char *filter = fl_malloc(n);
    if (!filter)
        return;
    if (c->filter[0])
        snprintf(filter, n, "(%s) AND timestamp>=\"%s\"", c->filter, bound);
    else
        snprintf(filter, n, "timestamp>=\"%s\"", bound);
    json_t *body = json_pack("{s:[s], s:s, s:s, s:i}", "resourceNames", c->resource, "filter",
                             filter, "orderBy", "timestamp asc", "pageSize", CL_PAGE_SIZE);
    if (c->page_token)
        json_object_set_new(body, "pageToken", json_string(c->page_token));
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    fl_free(filter);
    if (s && fl_http_post_json(c->http, c->url, tok, s, 60, on_list, c) == 0)
        c->in_flight = true;
    else
        cl_later(c, (uint64_t)c->poll_ms);
    free(s);
    memset(tok, 0, sizeof(tok));
}

static int cl_commit(fl_live_source *s)
{
    cl_source *c = (cl_source *)s;
    if (!c->ckpt_path || c->bound == c->committed)
        return 0;
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "{\"bound_us\":%" PRId64 "}\n", c->bound);
    if (fl_write_atomic(c->ckpt_path, buf, (size_t)n) != 0)
        return FL_EIO;
    c->committed = c->bound;
    return 0;
}

static void cl_free(void *source)
{
    cl_source *c = source;
    fl_auth_free(c->auth);
    fl_free(c->url);
    fl_free(c->filter);
    fl_free(c->resource);
    fl_free(c->ckpt_path);
    fl_free(c->page_token);
    fl_free(c);
}

static int cl_open(uv_loop_t *loop, const fl_live_config *cfg, const fl_live_sink *sink,
                   fl_live_source **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (!cfg->project || !*cfg->project) {
        snprintf(errbuf, errlen, "cloud-logging: --project PROJECT is required");
        return FL_EINVAL;
    }
    const char *endpoint = cfg->endpoint;
    if (!endpoint || !*endpoint)
        endpoint = "https://logging.googleapis.com";
    if (!fl_http_url_allowed(endpoint)) {
        snprintf(errbuf, errlen,
                 "cloud-logging: endpoint %s must be https (http only for "
                 "loopback)",
                 endpoint);
        return FL_EINVAL;
    }
    cl_source *c = fl_calloc(1, sizeof(*c));
    if (!c)
        return FL_ENOMEM;
    fl_live_common_init(&c->common, &fl_ingest_cloudlogging, sink, loop, cl_free);
    snprintf(c->common.base.label, sizeof(c->common.base.label), "cloud-logging:%.60s",
             cfg->project);
    c->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : CL_DEFAULT_POLL_MS;
    c->common.warn_limit.period_ms = 10000;
    c->connected = true;
    c->lag_s = -1;
    size_t n = strlen(endpoint) + 32;
    c->url = fl_malloc(n);
    if (c->url)
        snprintf(c->url, n, "%s/v2/entries:list", endpoint);
    c->filter = fl_strdup(cfg->target ? cfg->target : "");
    n = strlen(cfg->project) + 16;
    c->resource = fl_malloc(n);
    if (c->resource)
        snprintf(c->resource, n, "projects/%s", cfg->project);
    if (!c->url || !c->filter || !c->resource) {
        cl_free(c);
        return FL_ENOMEM;
    }
    int rc = fl_auth_new(&c->auth, cfg->auth, "https://www.googleapis.com/auth/logging.read",
                         errbuf, errlen);
    if (!rc) {
        /* Without credentials the source would poll for nothing while tail wrote empty
         * snapshots: the first token is fetched now, and a failure ends tail with the reason. */
        char tok[4096], why[400];
        rc = fl_auth_token(c->auth, tok, sizeof(tok), why, sizeof(why));
        memset(tok, 0, sizeof(tok));
        if (rc)
            snprintf(errbuf, errlen, "cloud-logging: credentials: %s", why);
    }
    if (rc) {
        cl_free(c);
        return rc;
    }
    c->bound = cl_now() - CL_START_BACK_US;
    if (cfg->state_dir) {
        char path[600];
        uint64_t h = fl_hash64(c->filter, strlen(c->filter),
                               fl_hash64(c->resource, strlen(c->resource), FL_HASH_SEED));
        snprintf(path, sizeof(path), "%s/cloudlogging-%016" PRIx64 ".json", cfg->state_dir, h);
        c->ckpt_path = fl_strdup(path);
        char *data = NULL;
        size_t len;
        if (c->ckpt_path && fl_read_small_file(c->ckpt_path, 4096, &data, &len) == 0) {
            const char *p = strstr(data, "\"bound_us\":");
            if (p)
                c->bound = c->committed = strtoll(p + 11, NULL, 10);
            if (c->bound > cl_now() - CL_OVERLAP_US) {
                /* Saved by a version that followed an entry from the future. */
                fl_live_common_event(&c->common, FL_LIVE_WARN,
                                     "cloud-logging: the saved read position is ahead of the "
                                     "clock; reading from the last %d minutes instead",
                                     (int)(CL_START_BACK_US / 60 / FL_USEC_PER_SEC));
                c->bound = cl_now() - CL_START_BACK_US;
            }
            fl_free(data);
        }
    }
    if (fl_http_new(&c->http, loop) != 0) {
        cl_free(c);
        return FL_ENOMEM;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    cl_later(c, 0);
    *out = &c->common.base;
    return 0;
}

static void cl_pause(fl_live_source *s)
{
    ((cl_source *)s)->common.paused = true;
}

static void cl_resume(fl_live_source *s)
{
    cl_source *c = (cl_source *)s;
    c->common.paused = false;
    if (!c->in_flight)
        cl_later(c, 0);
}

static void cl_health(fl_live_source *s, fl_live_health *h)
{
    cl_source *c = (cl_source *)s;
    fl_live_common_health(&c->common, h);
    h->lag = c->lag_s; /* seconds behind now */
    h->connected = c->connected;
}

static void cl_timer_closed(uv_handle_t *h)
{
    cl_source *c = h->data;
    fl_http_close(c->http, fl_live_common_release, c);
}

static void cl_close(fl_live_source *s, void (*done)(void *), void *arg)
{
    cl_source *c = (cl_source *)s;
    fl_live_common_closing(&c->common, done, arg, 1); /* the HTTP client, closed last */
    c->closing = true;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, cl_timer_closed);
}

static const fl_live_option cl_options[] = {
    {"cloud-logging", 0, FL_LIVE_OPT_STRING, "FILTER", "poll the Cloud Logging API with FILTER",
     offsetof(fl_live_config, target), FL_LIVE_OPT_OPENS},
    {"project", 0, FL_LIVE_OPT_STRING, "PROJECT", "project for --cloud-logging",
     offsetof(fl_live_config, project), FL_LIVE_OPT_OPENS},
    {NULL, 0, FL_LIVE_OPT_STRING, NULL, NULL, 0, 0},
};

const fl_live_ops fl_ingest_cloudlogging = {
    .name = "cloudlogging",
    .options = cl_options,
    .endpoint_env = "FAULTLINE_LOGGING_ENDPOINT",
    .open = cl_open,
    .pause = cl_pause,
    .resume = cl_resume,
    .commit = cl_commit,
    .health = cl_health,
    .close = cl_close,
};
