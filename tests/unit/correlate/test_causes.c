/* fl_analyze on incidents that the first scorer got wrong (issue 11): a cause named by the
 * classified group that explains it, a failed rollout as a cause of its own, load only with a
 * measured surge, the call graph from trace ids (a callee's change or failure first, its
 * callers' errors as evidence), and the same report for any input order. */
#include "incidents.h"
#include "fl_test.h"

#include <math.h>

static incident in;
static char traces[MAX_TEST_ENTRIES / 2][40];
static int n_traces;

/* A cause is named by a group with errors in its own service, or, for a change of a callee,
 * in a caller of it: never by another service's errors. */
static void check_named_in_service(const fl_result *r)
{
    for (size_t i = 0; r && i < r->n_causes; i++) {
        const fl_cause *c = &r->causes[i];
        bool own = false, caller = false;
        for (size_t g = 0; g < r->n_groups; g++) {
            if (strcmp(r->groups[g].key, c->error_class) != 0)
                continue;
            for (size_t k = 0; k < r->groups[g].n_by_revision; k++) {
                const char *svc = r->groups[g].by_revision[k].service;
                own |= strcmp(svc, c->service) == 0;
                for (size_t e = 0; e < r->n_edges; e++)
                    caller |= strcmp(r->edges[e].caller, svc) == 0 &&
                              strcmp(r->edges[e].callee, c->service) == 0;
            }
        }
        CHECK(own || caller);
    }
}

static fl_result *analyze(const incident *x)
{
    fl_agg *a = aggregate(x);
    fl_result *r = NULL;
    CHECK_INT(fl_analyze(a, NULL, &r), 0);
    fl_agg_free(a);
    check_named_in_service(r);
    return r;
}

static bool has_line(char **v, size_t n, const char *needle)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(v[i], needle))
            return true;
    return false;
}

static void add_event(incident *x, fl_time ts, fl_change_kind kind, const char *svc,
                      const char *rev, const char *source)
{
    fl_change *c = &x->changes[x->n_changes++];
    memset(c, 0, sizeof(*c));
    c->ts = ts;
    c->kind = kind;
    snprintf(c->service, sizeof(c->service), "%s", svc);
    snprintf(c->revision, sizeof(c->revision), "%s", rev);
    snprintf(c->source, sizeof(c->source), "%s", source);
    snprintf(c->description, sizeof(c->description), "%s of %s", fl_change_kind_name(kind), svc);
}

static void push_req(incident *x, fl_time ts, int status, const char *svc, const char *rev,
                     const char *trace, double latency)
{
    push(x, ts, FL_LOG_REQUESTS, status >= 500 ? FL_SEV_ERROR : FL_SEV_INFO, status, svc, rev,
         NULL, NULL);
    x->e[x->n - 1].trace = trace;
    x->e[x->n - 1].latency = latency;
}

static const char *new_trace(void)
{
    snprintf(traces[n_traces], sizeof(traces[0]), "projects/p/traces/%08x", n_traces * 7919);
    return traces[n_traces++];
}

#define T0 T("2026-03-02T10:00:00Z")
#define AT(min, sec) (T0 + (fl_time)(min)*MIN_US + (fl_time)(sec)*FL_USEC_PER_SEC)

/* checkout-00041 serves all hour. checkout-00042 is deployed at 10:30, crashes at start with
 * "Cannot find module" and never becomes ready (a Ready=False system event when `events`). */
static void failed_rollout(incident *x, bool events)
{
    memset(x, 0, sizeof(*x));
    if (events) {
        add_deploy(x, AT(30, 0), "checkout");
        add_event(x, AT(32, 0), FL_CHANGE_FAILED, "checkout", "checkout-00042-bbb",
                  "system_event");
    }
    for (int m = 0; m < 60; m++)
        for (int i = 0; i < 40; i++)
            push_req(x, AT(m, i * 1.5), 200, "checkout", "checkout-00041-aaa", NULL, 0.05);
    for (int k = 0; k < 8; k++)
        push(x, AT(30, 10 + 20 * k), FL_LOG_STDERR, FL_SEV_ERROR, 0, "checkout",
             "checkout-00042-bbb", "Error: Cannot find module 'express'", "module_not_found");
}

static void make_failed_rollout(incident *x)
{
    failed_rollout(x, true);
}

static void test_failed_rollout(void)
{
    for (int events = 1; events >= 0; events--) {
        failed_rollout(&in, events);
        fl_result *r = analyze(&in);
        CHECK(r && r->n_causes >= 1);
        if (!r || !r->n_causes)
            continue;
        const fl_cause *c = &r->causes[0];
        CHECK_INT(c->kind, FL_CAUSE_DEPLOY);
        CHECK_STR(c->revision, "checkout-00042-bbb");
        CHECK_STR(c->previous_revision, "checkout-00041-aaa");
        CHECK_STR(c->error_class, "module_not_found");
        CHECK(strstr(c->summary, "never became ready") != NULL);
        CHECK(strstr(c->summary, "traffic is still on checkout-00041-aaa") != NULL);
        CHECK(r->confident);
        /* Nothing to roll back: no traffic command. */
        CHECK(!has_line(c->actions, c->n_actions, "update-traffic"));
        CHECK(has_line(c->evidence, c->n_evidence, "Cannot find module"));
        double sum = 0;
        for (size_t i = 0; i < c->n_parts; i++)
            sum += c->parts[i].contribution;
        CHECK(fabs(sum - c->score) < 0.01);
        if (events)
            CHECK(c->score > 0.9);
        fl_result_free(r);
    }
}

/* checkout-00042, deployed at 10:30, fails a third of its requests with a 500; the app logs
 * a Redis timeout for half of them. The 500 group is bigger; redis_timeout names the cause. */
static void redis_deploy(incident *x)
{
    memset(x, 0, sizeof(*x));
    add_deploy(x, AT(30, 0), "checkout");
    for (int m = 0; m < 60; m++)
        for (int i = 0; i < 40; i++) {
            bool on_new = m >= 30 && (m > 30 || i > 3);
            const char *rev = on_new ? "checkout-00042-bbb" : "checkout-00041-aaa";
            bool fail = on_new && i % 3 == 0;
            push_req(x, AT(m, i * 1.5), fail ? 500 : 200, "checkout", rev, NULL, 0.05);
            if (fail && i % 2 == 0)
                push(x, AT(m, i * 1.5) + 1000, FL_LOG_STDERR, FL_SEV_ERROR, 0, "checkout", rev,
                     "Error: Command timed out", "redis_timeout");
        }
}

/* search-00042, deployed at 10:20, runs out of memory from 10:35: Cloud Run answers 503 to
 * the requests on the dying instances and the revision's system log says why (a few lines). */
static void oom_deploy(incident *x)
{
    memset(x, 0, sizeof(*x));
    add_deploy(x, AT(20, 0), "search");
    for (int m = 0; m < 60; m++)
        for (int i = 0; i < 40; i++) {
            bool on_new = m >= 20 && (m > 20 || i > 3);
            const char *rev = on_new ? "search-00042-bbb" : "search-00041-aaa";
            bool fail = m >= 35 && m % 4 == 0 && i < 12;
            push_req(x, AT(m, i * 1.5), fail ? 503 : 200, "search", rev, NULL, 0.05);
            if (fail && i == 0)
                push(x, AT(m, 0) - 2000000, FL_LOG_VARLOG_SYSTEM, FL_SEV_ERROR, 0, "search", rev,
                     "Memory limit of 512 MiB exceeded with 530 MiB used.", "oom");
        }
}

static void test_named_by_class(void)
{
    fl_result *r = analyze((redis_deploy(&in), &in));
    CHECK(r && r->n_causes >= 1);
    if (r && r->n_causes) {
        CHECK_STR(r->causes[0].revision, "checkout-00042-bbb");
        CHECK_STR(r->causes[0].error_class, "redis_timeout");
        CHECK(strstr(r->causes[0].summary, "fp:") == NULL);
    }
    fl_result_free(r);
    r = analyze((oom_deploy(&in), &in));
    CHECK(r && r->n_causes >= 1);
    if (r && r->n_causes) {
        CHECK_STR(r->causes[0].revision, "search-00042-bbb");
        CHECK_STR(r->causes[0].error_class, "oom");
        CHECK(has_line(r->causes[0].evidence, r->causes[0].n_evidence, "HTTP 503"));
    }
    fl_result_free(r);
}

/* A steady 40 requests/min; from 10:30 one request in five hits a quota wall. */
static void quota_wall(incident *x)
{
    memset(x, 0, sizeof(*x));
    for (int m = 0; m < 60; m++)
        for (int i = 0; i < 40; i++) {
            bool fail = m >= 30 && i % 5 == 0;
            push_req(x, AT(m, i * 1.5), fail ? 500 : 200, "ingest", "ingest-00003-abc", NULL,
                     0.05);
            if (fail)
                push(x, AT(m, i * 1.5) + 1000, FL_LOG_STDERR, FL_SEV_ERROR, 0, "ingest",
                     "ingest-00003-abc", "Error: 8 RESOURCE_EXHAUSTED: Quota exceeded.",
                     "quota_exhausted");
        }
}

static void test_load_needs_surge(void)
{
    fl_result *r = analyze((quota_wall(&in), &in));
    CHECK(r && r->n_causes >= 1);
    for (size_t i = 0; r && i < r->n_causes; i++)
        CHECK(r->causes[i].kind != FL_CAUSE_LOAD);
    if (r && r->n_causes) {
        const fl_cause *c = &r->causes[0];
        CHECK_INT(c->kind, FL_CAUSE_DEPENDENCY);
        CHECK_STR(c->error_class, "quota_exhausted");
        CHECK(has_line(c->actions, c->n_actions, "quota"));
        CHECK(!has_line(c->actions, c->n_actions, "--max-instances"));
    }
    fl_result_free(r);
    /* A dry pool under a real x5 surge is load, and memory is not what it needs. */
    r = analyze((traffic_surge(&in), &in));
    CHECK(r && r->n_causes >= 1);
    if (r && r->n_causes) {
        CHECK_INT(r->causes[0].kind, FL_CAUSE_LOAD);
        for (size_t i = 0; i < r->n_causes; i++)
            CHECK(!has_line(r->causes[i].actions, r->causes[i].n_actions, "--memory"));
    }
    fl_result_free(r);
}

/* web-bff calls orders on every request (one trace each). When `deploy`, orders-00008 rolls
 * out at 10:30 and answers slowly; else orders' connection pool runs dry at 10:30. Either
 * way web-bff logs upstream timeouts from 10:30:20 on. */
static void call_chain(incident *x, bool deploy)
{
    memset(x, 0, sizeof(*x));
    n_traces = 0;
    if (deploy)
        add_deploy(x, AT(30, 0), "orders");
    /* 4800 traces, a quarter of them web-bff only: more than the graph's sample holds, so
     * the sample must be the same for any order. */
    for (int m = 0; m < 60; m++)
        for (int i = 0; i < 80; i++) {
            fl_time ts = AT(m, i * 0.75);
            if (i % 4 == 3) {
                push_req(x, ts, 200, "web-bff", "web-bff-00012-xyz", new_trace(), 0.01);
                continue;
            }
            bool bad = ts >= AT(30, 20) && i % 3 == 0;
            bool on_new = deploy && ts >= AT(30, 5);
            const char *trace = new_trace();
            const char *orev = on_new ? "orders-00008-new" : "orders-00007-old";
            bool pool = !deploy && bad;
            push_req(x, ts, bad ? 504 : 200, "web-bff", "web-bff-00012-xyz", trace,
                     bad ? 3.0 : 0.2);
            push_req(x, ts + 20000, pool ? 500 : 200, "orders", orev, trace,
                     bad ? 5.0 : 0.1);
            if (bad)
                push(x, ts + 3000000, FL_LOG_STDERR, FL_SEV_ERROR, 0, "web-bff",
                     "web-bff-00012-xyz",
                     "Error: timeout of 3000ms exceeded (https://orders-7hx2-uc.a.run.app)",
                     "upstream_timeout");
            if (pool)
                push(x, ts + 30000, FL_LOG_STDERR, FL_SEV_ERROR, 0, "orders", orev,
                     "Error: timeout exceeded when trying to connect", "pool_exhausted");
        }
}

static void test_call_graph(void)
{
    for (int deploy = 1; deploy >= 0; deploy--) {
        call_chain(&in, deploy);
        fl_result *r = analyze(&in);
        CHECK(r && r->n_edges == 1);
        if (r && r->n_edges == 1) {
            CHECK_STR(r->edges[0].caller, "web-bff");
            CHECK_STR(r->edges[0].callee, "orders");
            CHECK(r->edges[0].traces > 100);
        }
        CHECK(r && r->n_causes >= 1);
        if (r && r->n_causes) {
            const fl_cause *c = &r->causes[0];
            CHECK_STR(c->service, "orders");
            CHECK_INT(c->kind, deploy ? FL_CAUSE_DEPLOY : FL_CAUSE_DEPENDENCY);
            if (deploy)
                CHECK_STR(c->revision, "orders-00008-new");
            CHECK(has_line(c->evidence, c->n_evidence, "web-bff (calls orders)"));
            CHECK(r->confident);
        }
        /* web-bff's timeouts are evidence, not a cause of their own. */
        for (size_t i = 0; r && i < r->n_causes; i++)
            CHECK(strcmp(r->causes[i].service, "web-bff") != 0);
        fl_result_free(r);
    }
}

/* feed logs a steady 2% of Redis timeouts all hour; feed-00042 is deployed at 10:30 and
 * changes nothing. The group is chronic: flagged, never the deploy's, no confident cause. */
static void chronic_errors(incident *x)
{
    memset(x, 0, sizeof(*x));
    add_deploy(x, AT(30, 0), "feed");
    for (int m = 0; m < 60; m++)
        for (int i = 0; i < 50; i++) {
            bool on_new = m >= 30 && (m > 30 || i > 3);
            const char *rev = on_new ? "feed-00042-bbb" : "feed-00041-aaa";
            bool fail = (m * 50 + i) % 50 == 7;
            push_req(x, AT(m, i * 1.2), fail ? 500 : 200, "feed", rev, NULL, 0.05);
            if (fail)
                push(x, AT(m, i * 1.2) + 1000, FL_LOG_STDERR, FL_SEV_ERROR, 0, "feed", rev,
                     "Error: Command timed out", "redis_timeout");
        }
}

static void test_chronic(void)
{
    fl_result *r = analyze((chronic_errors(&in), &in));
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(!r->confident);
    bool flagged = false;
    for (size_t i = 0; i < r->n_groups; i++)
        if (r->groups[i].class_id && strcmp(r->groups[i].class_id, "redis_timeout") == 0)
            flagged = r->groups[i].chronic;
    CHECK(flagged);
    for (size_t i = 0; i < r->n_causes; i++) {
        CHECK(strcmp(r->causes[i].error_class, "redis_timeout") != 0);
        CHECK(r->causes[i].kind != FL_CAUSE_LOAD);
    }
    fl_result_free(r);
}

/* Changes: a v2 UpdateService logs its operation's first and last step (one change); a v1
 * ReplaceService carries the revision that turned Ready 20 s later even when that revision
 * logged nothing yet; a secret read by two services is one cause. */
static void test_change_pairing(void)
{
    bad_deploy(&in);
    in.changes[1] = in.changes[0];
    in.changes[1].ts += 40 * FL_USEC_PER_SEC; /* operation.last */
    in.n_changes = 2;
    fl_result *r = analyze(&in);
    size_t deploys = 0;
    for (size_t i = 0; r && i < r->n_changes; i++)
        deploys += r->changes[i].kind == FL_CHANGE_DEPLOY;
    CHECK_INT(deploys, 1);
    CHECK(r && r->n_changes >= 1 && strcmp(r->changes[0].revision, "checkout-00042-bbb") == 0);
    fl_result_free(r);

    memset(&in, 0, sizeof(in));
    add_deploy(&in, AT(30, 0), "pay");
    add_event(&in, AT(30, 20), FL_CHANGE_REVISION_READY, "pay", "pay-00007-new", "system_event");
    for (int m = 0; m < 60; m++)
        push_req(&in, AT(m, 1), 200, "pay", "pay-00006-old", NULL, 0.05);
    r = analyze(&in);
    bool carried = false;
    for (size_t i = 0; r && i < r->n_changes; i++)
        if (r->changes[i].kind == FL_CHANGE_DEPLOY)
            carried = strcmp(r->changes[i].revision, "pay-00007-new") == 0;
    CHECK(carried);
    fl_result_free(r);

    memset(&in, 0, sizeof(in));
    add_event(&in, AT(25, 0), FL_CHANGE_SECRET, "redis-auth", "", "audit");
    for (int m = 0; m < 60; m++)
        for (int i = 0; i < 30; i++) {
            const char *svcs[2] = {"auth-api", "sessions"};
            for (int k = 0; k < 2; k++) {
                bool fail = m >= 25 && m * 60 + i * 2 >= 25 * 60 + 10 && i % 3 == k;
                const char *rv = k ? "sessions-00003-aaa" : "auth-api-00009-aaa";
                push_req(&in, AT(m, i * 2 + k), fail ? 500 : 200, svcs[k], rv, NULL, 0.05);
                /* sessions says it in words no rule knows */
                if (fail)
                    push(&in, AT(m, i * 2 + k) + 1000, FL_LOG_STDERR, FL_SEV_ERROR, 0, svcs[k],
                         rv,
                         k ? "session load failed: WRONGPASS"
                           : "ReplyError: WRONGPASS invalid username-password pair",
                         k ? NULL : "redis_timeout");
            }
        }
    r = analyze(&in);
    size_t secret_causes = 0;
    for (size_t i = 0; r && i < r->n_causes; i++)
        if (r->causes[i].kind == FL_CAUSE_DEPLOY && r->causes[i].change_ts == AT(25, 0)) {
            secret_causes++;
            CHECK(has_line(r->causes[i].evidence, r->causes[i].n_evidence,
                           "(also reads secret redis-auth)"));
        }
    CHECK_INT(secret_causes, 1);
    fl_result_free(r);
}

/* The call graph keeps a sample of traces: the report must not depend on which traces arrive
 * first, nor on how the input was split between aggregates. */
static void test_order_independent(void)
{
    void (*makers[])(incident *) = {make_failed_rollout, redis_deploy, quota_wall,
                                     chronic_errors};
    for (size_t k = 0; k < 6; k++) {
        if (k < 4)
            makers[k](&in);
        else
            call_chain(&in, k == 4);
        fl_agg *a = aggregate(&in), *b = fl_agg_new(NULL), *p = fl_agg_new(NULL);
        feed(b, &in, 0, in.n, true);
        feed(p, &in, in.n / 3, in.n, true);
        fl_agg *q = fl_agg_new(NULL);
        feed(q, &in, 0, in.n / 3, false);
        fl_agg_merge(p, q);
        for (size_t i = in.n_changes; i-- > 0;) {
            fl_agg_add_change(b, &in.changes[i]);
            fl_agg_add_change(p, &in.changes[i]);
        }
        fl_result *ra = NULL, *rb = NULL, *rp = NULL;
        fl_analyze(a, NULL, &ra);
        fl_analyze(b, NULL, &rb);
        fl_analyze(p, NULL, &rp);
        char *ja = render_json(ra), *jb = render_json(rb), *jp = render_json(rp);
        CHECK(ja && jb && jp && strcmp(ja, jb) == 0 && strcmp(ja, jp) == 0);
        /* FL_TEST_DUMP=DIR writes each case's report, e.g. for the docs' worked examples. */
        if (getenv("FL_TEST_DUMP") && ja) {
            char path[512];
            snprintf(path, sizeof(path), "%s/causes-%zu.json", getenv("FL_TEST_DUMP"), k);
            FILE *f = fopen(path, "w");
            if (f) {
                fputs(ja, f);
                fclose(f);
            }
        }
        free(ja);
        free(jb);
        free(jp);
        fl_result_free(ra);
        fl_result_free(rb);
        fl_result_free(rp);
        fl_agg_free(a);
        fl_agg_free(b);
        fl_agg_free(p);
        fl_agg_free(q);
    }
}

int main(void)
{
    test_failed_rollout();
    test_named_by_class();
    test_load_needs_surge();
    test_call_graph();
    test_chronic();
    test_change_pairing();
    test_order_independent();
    return fl_test_done();
}
