/* The Pub/Sub live source: REST pull / acknowledge / modifyAckDeadline over libcurl's multi
 * interface on the shared libuv loop.
 *
 * A message is acknowledged only after the consumer has counted it and made the count durable
 * (ops->commit). Until then its ackId is "pending"; pending messages older than half the default
 * 10 s ack deadline get their deadline extended (modifyAckDeadline, 60 s) so a slow checkpoint
 * does not make the server redeliver them. Failed calls (429, 5xx, network) are retried with
 * exponential backoff and jitter. With PUBSUB_EMULATOR_HOST set, requests go to
 * http://HOST/v1/ without credentials, as Google's client libraries do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fl_http.h"
#include "live_common.h"

#define PS_MAX_MESSAGES 500
#define PS_MAX_OUTSTANDING 20000 /* pending + unacknowledged: stop pulling beyond this */
#define PS_TICK_MS 500
#define PS_EXTEND_AFTER_MS 5000 /* half of Pub/Sub's default 10 s ack deadline */
#define PS_EXTEND_SECONDS 60
#define PS_ACK_BATCH 1000

typedef struct ps_msg {
    char *ack_id;
    uint64_t received_ms;
    uint64_t next_extend_ms;
} ps_msg;

typedef struct ps_vec {
    ps_msg *v;
    size_t n, cap;
} ps_vec;

typedef struct pubsub_source {
    fl_live_common common; /* first */
    fl_http *http;
    fl_auth *auth; /* NULL with the emulator */
    char *url_pull, *url_ack, *url_modify;
    uv_timer_t timer;
    ps_vec pending; /* delivered, not yet committed */
    ps_vec to_ack;  /* committed, acknowledge not yet confirmed */
    size_t acking;  /* first `acking` of to_ack are in the request in flight */
    bool pull_in_flight, modify_in_flight;
    unsigned pull_attempt, ack_attempt;
    uint64_t next_pull_ms, next_ack_ms;
    bool closing;
    bool draining; /* closing: sending the last acknowledgements first */
    bool connected;
    uint64_t modify_sent; /* for health and tests */
} pubsub_source;

static int vec_push(ps_vec *v, ps_msg m)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        ps_msg *nv = fl_realloc(v->v, cap * sizeof(*nv));
        if (!nv)
            return FL_ENOMEM;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = m;
    return 0;
}

/* Drops the first n messages of v. */
static void vec_shift(ps_vec *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fl_free(v->v[i].ack_id);
    if (n < v->n) /* v->v is NULL while nothing was ever pushed */
        memmove(v->v, v->v + n, (v->n - n) * sizeof(*v->v));
    v->n -= n;
}

static void vec_free(ps_vec *v)
{
    vec_shift(v, v->n);
    fl_free(v->v);
    v->v = NULL;
    v->cap = 0;
}

static bool retryable(long status)
{
    return status == 0 || status == 429 || status == 408 || status >= 500;
}

static int ps_token(pubsub_source *p, char *tok, size_t size)
{
    tok[0] = '\0';
    if (!p->auth)
        return 0;
    char err[512];
    int rc = fl_auth_token(p->auth, tok, size, err, sizeof(err));
    if (rc)
        fl_live_common_event(&p->common, FL_LIVE_WARN, "pubsub: credentials: %s", err);
    return rc;
}

static void ps_schedule(pubsub_source *p);
static void ps_finish_close(pubsub_source *p);
static void ps_ack(pubsub_source *p);

static void on_pull(void *arg, const fl_http_response *r)
{
    pubsub_source *p = arg;
    p->pull_in_flight = false;
    if (p->draining)
        return; /* closing: these are redelivered to whoever pulls next */
    uint64_t now = uv_now(p->common.loop);
    if (r->status != 200) {
        uint64_t delay =
            retryable(r->status) ? fl_backoff_ms(p->pull_attempt++, 250, 30000) : 30000;
        p->connected = false;
        if (r->status)
            fl_live_common_event(&p->common, FL_LIVE_WARN,
                                 "pubsub: pull: HTTP %ld; retrying in %.1f s", r->status,
                                 (double)delay / 1000.0);
        else
            fl_live_common_event(&p->common, FL_LIVE_WARN, "pubsub: pull: %s; retrying in %.1f s",
                                 r->error, (double)delay / 1000.0);
        p->next_pull_ms = now + delay;
        ps_schedule(p);
        return;
    }
    if (!p->connected && p->pull_attempt)
        fl_live_common_event(&p->common, FL_LIVE_INFO, "pubsub: pulling again");
    p->connected = true;
    p->pull_attempt = 0;
    p->common.last_error[0] = '\0';
    json_error_t jerr;
    json_t *doc = json_loadb(r->body, r->len, 0, &jerr);
    json_t *msgs = json_object_get(doc, "receivedMessages");
    size_t n = json_array_size(msgs);
    for (size_t i = 0; i < n && !p->closing; i++) {
        json_t *rm = json_array_get(msgs, i);
        const char *ack_id = json_string_value(json_object_get(rm, "ackId"));
        json_t *msg = json_object_get(rm, "message");
        if (!ack_id || !json_is_object(msg))
            continue;
        /* Hand over the push-envelope shape: fl_entry_parse unwraps message.data. */
        json_t *env = json_pack("{s:O}", "message", msg);
        char *rec = env ? json_dumps(env, JSON_COMPACT) : NULL;
        json_decref(env);
        fl_live_common_deliver(&p->common, rec, rec ? strlen(rec) : 0);
        free(rec);
        char *id = fl_strdup(ack_id);
        if (!id || vec_push(&p->pending, (ps_msg){id, now, now + PS_EXTEND_AFTER_MS}) != 0)
            fl_free(id);
    }
    json_decref(doc);
    /* An empty answer: the server had nothing; do not spin. */
    p->next_pull_ms = now + (n ? 0 : 250);
    ps_schedule(p);
}

static void ps_pull(pubsub_source *p)
{
    char tok[4096];
    if (ps_token(p, tok, sizeof(tok)) != 0) {
        p->next_pull_ms = uv_now(p->common.loop) + fl_backoff_ms(p->pull_attempt++, 1000, 60000);
        return;
    }
    char body[64];
    snprintf(body, sizeof(body), "{\"maxMessages\":%d}", PS_MAX_MESSAGES);
    if (fl_http_post_json(p->http, p->url_pull, tok, body, 90, on_pull, p) == 0)
        p->pull_in_flight = true;
    memset(tok, 0, sizeof(tok));
}

/* {"ackIds":[...]} for messages [0, n) of v, plus an optional extra member. */
static char *ack_body(const ps_vec *v, size_t n, int deadline)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ids, json_string(v->v[i].ack_id));
    json_t *doc = json_pack("{s:o}", "ackIds", ids);
    if (deadline >= 0)
        json_object_set_new(doc, "ackDeadlineSeconds", json_integer(deadline));
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

static void on_ack(void *arg, const fl_http_response *r)
{
    pubsub_source *p = arg;
    size_t n = p->acking;
    p->acking = 0;
    if (r->status == 200) {
        vec_shift(&p->to_ack, n);
        p->ack_attempt = 0;
    } else {
        /* Kept for a retry; if the deadline passes meanwhile the server redelivers and the
         * consumer's de-duplication counts the message once. */
        uint64_t delay = fl_backoff_ms(p->ack_attempt++, 250, 30000);
        p->next_ack_ms = uv_now(p->common.loop) + delay;
        fl_live_common_event(&p->common, FL_LIVE_WARN,
                             "pubsub: acknowledge: %s; retrying in %.1f s",
                             r->status ? "server error" : r->error, (double)delay / 1000.0);
        if (r->status && !retryable(r->status))
            fl_live_common_event(&p->common, FL_LIVE_WARN, "pubsub: acknowledge: HTTP %ld",
                                 r->status);
        if (p->draining) {
            ps_finish_close(p); /* unacknowledged messages are redelivered later */
            return;
        }
    }
    if (p->draining) {
        if (p->to_ack.n)
            ps_ack(p);
        if (!p->acking)
            ps_finish_close(p);
        return;
    }
    ps_schedule(p);
}

static void ps_ack(pubsub_source *p)
{
    size_t n = FL_MIN(p->to_ack.n, (size_t)PS_ACK_BATCH);
    char tok[4096];
    if (!n || ps_token(p, tok, sizeof(tok)) != 0)
        return;
    char *body = ack_body(&p->to_ack, n, -1);
    if (body && fl_http_post_json(p->http, p->url_ack, tok, body, 30, on_ack, p) == 0)
        p->acking = n;
    free(body);
    memset(tok, 0, sizeof(tok));
}

static void on_modify(void *arg, const fl_http_response *r)
{
    pubsub_source *p = arg;
    p->modify_in_flight = false;
    if (r->status != 200)
        fl_live_common_event(&p->common, FL_LIVE_WARN, "pubsub: modifyAckDeadline: %s",
                             r->status ? "server error" : r->error);
}

/* Extends the deadline of every message held longer than PS_EXTEND_AFTER_MS. */
static void ps_extend(pubsub_source *p)
{
    uint64_t now = uv_now(p->common.loop);
    ps_vec due = {0};
    ps_vec *sets[] = {&p->pending, &p->to_ack};
    for (size_t s = 0; s < 2; s++) {
        for (size_t i = 0; i < sets[s]->n && due.n < PS_ACK_BATCH; i++) {
            ps_msg *m = &sets[s]->v[i];
            if (now < m->next_extend_ms)
                continue;
            m->next_extend_ms = now + PS_EXTEND_SECONDS * 1000 / 2;
            vec_push(&due, (ps_msg){m->ack_id, 0, 0});
        }
    }
    if (due.n) {
        char tok[4096];
        if (ps_token(p, tok, sizeof(tok)) == 0) {
            char *body = ack_body(&due, due.n, PS_EXTEND_SECONDS);
            if (body &&
                fl_http_post_json(p->http, p->url_modify, tok, body, 30, on_modify, p) == 0) {
                p->modify_in_flight = true;
                p->modify_sent += due.n;
            }
            free(body);
            memset(tok, 0, sizeof(tok));
        }
    }
    fl_free(due.v); /* the ack ids belong to the pending lists */
}

/* One step of the source's work; called from the timer and after every response. */
static void ps_run(pubsub_source *p)
{
    if (p->closing || p->draining)
        return;
    uint64_t now = uv_now(p->common.loop);
    if (!p->modify_in_flight)
        ps_extend(p);
    if (!p->acking && p->to_ack.n && now >= p->next_ack_ms)
        ps_ack(p);
    if (!p->pull_in_flight && !p->common.paused && now >= p->next_pull_ms &&
        p->pending.n + p->to_ack.n < PS_MAX_OUTSTANDING)
        ps_pull(p);
}

static void on_timer(uv_timer_t *t)
{
    ps_run(t->data);
}

static void ps_schedule(pubsub_source *p)
{
    if (p->closing || p->draining)
        return;
    /* Run again at the next due time (pull or ack retry), but at least every tick for the
     * deadline extension. */
    uint64_t now = uv_now(p->common.loop);
    uint64_t due = now + PS_TICK_MS;
    if (!p->pull_in_flight && p->next_pull_ms < due)
        due = p->next_pull_ms > now ? p->next_pull_ms : now;
    if (p->to_ack.n && !p->acking && p->next_ack_ms < due)
        due = p->next_ack_ms > now ? p->next_ack_ms : now;
    uv_timer_start(&p->timer, on_timer, due - now, PS_TICK_MS);
}

static int ps_commit(fl_live_source *s)
{
    pubsub_source *p = (pubsub_source *)s;
    for (size_t i = 0; i < p->pending.n; i++)
        if (vec_push(&p->to_ack, p->pending.v[i]) != 0)
            return FL_ENOMEM; /* what was moved stays owned by to_ack; the rest stay pending */
    p->pending.n = 0;
    ps_schedule(p);
    return 0;
}

static char *make_url(const char *base, const char *sub, const char *verb)
{
    size_t n = strlen(base) + strlen(sub) + strlen(verb) + 2;
    char *u = fl_malloc(n);
    if (u)
        snprintf(u, n, "%s%s%s", base, sub, verb);
    return u;
}

static void ps_free(void *source)
{
    pubsub_source *p = source;
    vec_free(&p->pending);
    vec_free(&p->to_ack);
    fl_auth_free(p->auth);
    fl_free(p->url_pull);
    fl_free(p->url_ack);
    fl_free(p->url_modify);
    fl_free(p);
}

static int ps_open(uv_loop_t *loop, const fl_live_config *cfg, const fl_live_sink *sink,
                   fl_live_source **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    const char *sub = cfg->target;
    if (!sub || strncmp(sub, "projects/", 9) != 0 || !strstr(sub, "/subscriptions/")) {
        snprintf(errbuf, errlen,
                 "pubsub: the subscription must look like "
                 "projects/PROJECT/subscriptions/NAME");
        return FL_EINVAL;
    }
    pubsub_source *p = fl_calloc(1, sizeof(*p));
    if (!p)
        return FL_ENOMEM;
    fl_live_common_init(&p->common, &fl_ingest_pubsub, sink, loop, ps_free);
    snprintf(p->common.base.label, sizeof(p->common.base.label), "pubsub:%.80s",
             strrchr(sub, '/') + 1);
    p->common.warn_limit.period_ms = 10000;
    p->connected = true;
    const char *emu = cfg->endpoint;
    char base[512];
    if (emu && *emu) {
        snprintf(base, sizeof(base), "http://%s/v1/", emu);
    } else {
        snprintf(base, sizeof(base), "https://pubsub.googleapis.com/v1/");
        int rc = fl_auth_new(&p->auth, cfg->auth, "https://www.googleapis.com/auth/pubsub",
                             errbuf, errlen);
        if (!rc) {
            /* As cloud-logging: no credentials ends tail now rather than pulling nothing. */
            char tok[4096], why[400];
            rc = fl_auth_token(p->auth, tok, sizeof(tok), why, sizeof(why));
            memset(tok, 0, sizeof(tok));
            if (rc)
                snprintf(errbuf, errlen, "pubsub: credentials: %s", why);
        }
        if (rc) {
            ps_free(p);
            return rc;
        }
    }
    p->url_pull = make_url(base, sub, ":pull");
    p->url_ack = make_url(base, sub, ":acknowledge");
    p->url_modify = make_url(base, sub, ":modifyAckDeadline");
    fl_http_new(&p->http, loop);
    if (!p->url_pull || !p->url_ack || !p->url_modify || !p->http) {
        if (p->http)
            fl_http_close(p->http, NULL, NULL);
        ps_free(p);
        return FL_ENOMEM;
    }
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    ps_schedule(p);
    *out = &p->common.base;
    return 0;
}

static void ps_pause(fl_live_source *s)
{
    ((pubsub_source *)s)->common.paused = true;
}

static void ps_resume(fl_live_source *s)
{
    pubsub_source *p = (pubsub_source *)s;
    p->common.paused = false;
    ps_schedule(p);
}

static void ps_health(fl_live_source *s, fl_live_health *h)
{
    pubsub_source *p = (pubsub_source *)s;
    fl_live_common_health(&p->common, h);
    h->lag = (int64_t)(p->pending.n + p->to_ack.n); /* messages held, not yet acknowledged */
    h->connected = p->connected;
}

static void ps_timer_closed(uv_handle_t *h)
{
    pubsub_source *p = h->data;
    fl_http_close(p->http, fl_live_common_release, p);
}

static void ps_finish_close(pubsub_source *p)
{
    if (p->closing)
        return;
    p->closing = true;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, ps_timer_closed);
}

static void ps_drain_timeout(uv_timer_t *t)
{
    ps_finish_close(t->data);
}

/* Sends the acknowledgements already committed (waiting at most 3 s), then closes. */
static void ps_close(fl_live_source *s, void (*done)(void *), void *arg)
{
    pubsub_source *p = (pubsub_source *)s;
    fl_live_common_closing(&p->common, done, arg, 1); /* the HTTP client, closed last */
    p->draining = true;
    if (p->to_ack.n && !p->acking)
        ps_ack(p);
    if (!p->acking) {
        ps_finish_close(p);
        return;
    }
    uv_timer_start(&p->timer, ps_drain_timeout, 3000, 0);
}

static const fl_live_option pubsub_options[] = {
    {"pubsub", 0, FL_LIVE_OPT_STRING, "SUBSCRIPTION",
     "pull from projects/P/subscriptions/S (PUBSUB_EMULATOR_HOST honoured)",
     offsetof(fl_live_config, target), FL_LIVE_OPT_OPENS},
    {NULL, 0, FL_LIVE_OPT_STRING, NULL, NULL, 0, 0},
};

const fl_live_ops fl_ingest_pubsub = {
    .name = "pubsub",
    .options = pubsub_options,
    .endpoint_env = "PUBSUB_EMULATOR_HOST",
    .open = ps_open,
    .pause = ps_pause,
    .resume = ps_resume,
    .commit = ps_commit,
    .health = ps_health,
    .close = ps_close,
};
