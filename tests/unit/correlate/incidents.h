/* Small hand-built incidents for the aggregate and analysis tests. Each fills a list of test
 * entries (with the class each one is classified as) and counts what it put in, so tests can
 * check evidence numbers against the input. */
#ifndef CORR_INCIDENTS_H
#define CORR_INCIDENTS_H

#include "corr_helpers.h"

#define MAX_TEST_ENTRIES 40000

typedef struct incident {
    test_entry e[MAX_TEST_ENTRIES];
    const char *cls[MAX_TEST_ENTRIES];
    size_t n;
    fl_change changes[4];
    size_t n_changes;
    /* what went in */
    uint64_t new_requests, new_5xx, old_requests, old_5xx;
    fl_time new_first_seen;
} incident;

static char msgbuf[MAX_TEST_ENTRIES][48];

static inline void push(incident *in, fl_time ts, fl_log_kind kind, int sev, int status,
                 const char *svc, const char *rev, const char *msg, const char *cls)
{
    test_entry *t = &in->e[in->n];
    snprintf(msgbuf[in->n], sizeof(msgbuf[0]), "id-%06zu", in->n);
    *t = (test_entry){ts, kind, sev, status, svc, rev, msg, msgbuf[in->n], NULL, NULL, 0};
    in->cls[in->n] = cls;
    in->n++;
}

static inline void add_deploy(incident *in, fl_time ts, const char *svc)
{
    fl_change *c = &in->changes[in->n_changes++];
    memset(c, 0, sizeof(*c));
    c->ts = ts;
    c->kind = FL_CHANGE_DEPLOY;
    snprintf(c->service, sizeof(c->service), "%s", svc);
    snprintf(c->source, sizeof(c->source), "audit");
    snprintf(c->actor, sizeof(c->actor), "dev@example.com");
    snprintf(c->description, sizeof(c->description), "ReplaceService of %s", svc);
}

#define MIN_US (60 * FL_USEC_PER_SEC)

/* checkout-00041 serves 10:00-10:30 with rare 5xx; deploy at 10:30:00; checkout-00042 from
 * 10:30:05 fails every third request with schema_validation. */
static inline void bad_deploy(incident *in)
{
    memset(in, 0, sizeof(*in));
    fl_time t0 = T("2026-03-02T10:00:00Z"), dep = T("2026-03-02T10:30:00Z");
    add_deploy(in, dep, "checkout");
    for (int m = 0; m < 60; m++) {
        for (int i = 0; i < 40; i++) {
            fl_time ts = t0 + m * MIN_US + i * 1500000 + 5 * FL_USEC_PER_SEC;
            bool on_new = ts >= dep + 5 * FL_USEC_PER_SEC;
            const char *rev = on_new ? "checkout-00042-bbb" : "checkout-00041-aaa";
            bool fail = on_new ? (i % 3 == 0) : (m == 7 && i == 3);
            if (on_new) {
                in->new_requests++;
                in->new_5xx += fail;
                if (!in->new_first_seen)
                    in->new_first_seen = ts;
            } else {
                in->old_requests++;
                in->old_5xx += fail;
            }
            push(in, ts, FL_LOG_REQUESTS, fail ? FL_SEV_ERROR : FL_SEV_INFO, fail ? 500 : 200,
                 "checkout", rev, NULL, NULL);
            if (fail && on_new)
                push(in, ts + 1000, FL_LOG_STDERR, FL_SEV_ERROR, 0, "checkout", rev,
                     "ZodError: KV_REDIS_PASSWORD: String must contain at least 1 character(s)",
                     "schema_validation");
        }
    }
}

/* orders: deploy at 10:05 (orders-00008 -> orders-00009 at 50%), MongoDB fails at 10:40 on
 * both revisions alike. */
static inline void dependency_outage(incident *in)
{
    memset(in, 0, sizeof(*in));
    fl_time t0 = T("2026-03-02T10:00:00Z"), dep = T("2026-03-02T10:05:00Z");
    fl_time outage = T("2026-03-02T10:40:00Z");
    add_deploy(in, dep, "orders");
    for (int m = 0; m < 60; m++) {
        for (int i = 0; i < 40; i++) {
            fl_time ts = t0 + m * MIN_US + i * 1500000;
            bool split = ts >= dep + 3 * FL_USEC_PER_SEC;
            const char *rev = split && (i % 2) ? "orders-00009-new" : "orders-00008-old";
            bool fail = ts >= outage && i % 4 == 1;
            bool fail2 = ts >= outage && i % 4 == 2;
            push(in, ts, FL_LOG_REQUESTS, fail || fail2 ? FL_SEV_ERROR : FL_SEV_INFO,
                 fail || fail2 ? 500 : 200, "orders", rev, NULL, NULL);
            if (fail || fail2)
                push(in, ts + 1000, FL_LOG_STDOUT, FL_SEV_ERROR, 0, "orders", rev,
                     "MongoServerSelectionError: Server selection timed out after 30000 ms",
                     "mongo_server_selection");
        }
    }
}

/* api: 30 requests/min, x5 from 10:30 on; the connection pool gives out at 10:31. */
static inline void traffic_surge(incident *in)
{
    memset(in, 0, sizeof(*in));
    fl_time t0 = T("2026-03-02T10:00:00Z");
    for (int m = 0; m < 60; m++) {
        int n = m < 30 ? 30 : 150;
        for (int i = 0; i < n; i++) {
            fl_time ts = t0 + m * MIN_US + (fl_time)i * (MIN_US / n);
            bool fail = m >= 31 && i % 5 == 0;
            push(in, ts, FL_LOG_REQUESTS, fail ? FL_SEV_ERROR : FL_SEV_INFO, fail ? 503 : 200,
                 "api", "api-00003-abc", NULL, NULL);
            if (fail)
                push(in, ts + 1000, FL_LOG_STDERR, FL_SEV_ERROR, 0, "api", "api-00003-abc",
                     "Error: timeout exceeded when trying to connect (pool exhausted)",
                     "pool_exhausted");
        }
    }
}

/* Aggregates entries [from, to) of an incident, in order or reversed. */
static inline int feed(fl_agg *a, const incident *in, size_t from, size_t to, bool reverse)
{
    fl_entry e;
    fl_entry_init(&e);
    for (size_t k = from; k < to; k++) {
        size_t i = reverse ? to - 1 - (k - from) : k;
        fill(&e, &in->e[i]);
        fl_match m = match_for(in->cls[i]);
        if (fl_agg_add(a, &e, &m) != 0) {
            fl_entry_free(&e);
            return -1;
        }
    }
    fl_entry_free(&e);
    return 0;
}

static inline fl_agg *aggregate(const incident *in)
{
    fl_agg *a = fl_agg_new(NULL);
    feed(a, in, 0, in->n, false);
    for (size_t i = 0; i < in->n_changes; i++)
        fl_agg_add_change(a, &in->changes[i]);
    return a;
}

#endif
