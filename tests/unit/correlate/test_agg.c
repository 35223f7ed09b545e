/* fl_agg properties: order independence, merge == single pass, expiry, caps. Results are
 * compared as rendered JSON, byte for byte. */
#include "agg_internal.h"
#include "incidents.h"
#include "fl_test.h"

static incident in;

static char *analyze_json(const fl_agg *a)
{
    fl_result *r = NULL;
    if (fl_analyze(a, NULL, &r) != 0)
        return NULL;
    char *s = render_json(r);
    fl_result_free(r);
    return s;
}

static void check_same(const fl_agg *x, const fl_agg *y, const char *what)
{
    char *a = analyze_json(x), *b = analyze_json(y);
    CHECK(a && b);
    if (a && b && strcmp(a, b) != 0) {
        fprintf(stderr, "%s: results differ\n", what);

        CHECK(0);
    }
    CHECK(fl_agg_entries(x) == fl_agg_entries(y));
    free(a);
    free(b);
}

static void test_order_and_merge(void (*make)(incident *), const char *name)
{
    make(&in);
    fl_agg *one = aggregate(&in);

    fl_agg *rev = fl_agg_new(NULL);
    feed(rev, &in, 0, in.n, true);
    for (size_t i = in.n_changes; i-- > 0;)
        fl_agg_add_change(rev, &in.changes[i]);
    check_same(one, rev, name);

    /* Three uneven shards, merged into an empty aggregate and into the first shard. */
    size_t cut1 = in.n / 7, cut2 = in.n / 2 + 13;
    fl_agg *s1 = fl_agg_new(NULL), *s2 = fl_agg_new(NULL), *s3 = fl_agg_new(NULL);
    feed(s1, &in, 0, cut1, false);
    feed(s2, &in, cut1, cut2, true);
    feed(s3, &in, cut2, in.n, false);
    for (size_t i = 0; i < in.n_changes; i++)
        fl_agg_add_change(s2, &in.changes[i]);
    fl_agg *m = fl_agg_new(NULL);
    CHECK_INT(fl_agg_merge(m, s3), 0);
    CHECK_INT(fl_agg_merge(m, s1), 0);
    CHECK_INT(fl_agg_merge(m, s2), 0);
    check_same(one, m, name);
    CHECK_INT(fl_agg_merge(s1, s2), 0);
    CHECK_INT(fl_agg_merge(s1, s3), 0);
    check_same(one, s1, name);
    fl_agg_free(one);
    fl_agg_free(rev);
    fl_agg_free(s1);
    fl_agg_free(s2);
    fl_agg_free(s3);
    fl_agg_free(m);
}

/* bad_deploy stretched over `days` days: checkout-00041 serves one request every 6 minutes
 * (a rare 5xx), the deploy lands at 13:37:20 on the last day but two, and checkout-00042 then
 * fails every third request with schema_validation. */
static void long_bad_deploy_days(incident *out, int days)
{
    memset(out, 0, sizeof(*out));
    fl_time t0 = T("2026-03-02T00:00:00Z");
    fl_time dep = t0 + (fl_time)(days - 3) * 1440 * MIN_US + (13 * 60 + 37) * MIN_US +
                  20 * FL_USEC_PER_SEC;
    add_deploy(out, dep, "checkout");
    for (int m = 0; m < days * 1440; m += 6) {
        fl_time ts = t0 + (fl_time)m * MIN_US + 17 * FL_USEC_PER_SEC;
        bool on_new = ts >= dep + 5 * FL_USEC_PER_SEC;
        const char *rev = on_new ? "checkout-00042-bbb" : "checkout-00041-aaa";
        bool fail = on_new ? (m / 6) % 3 == 0 : m % 997 == 0;
        push(out, ts, FL_LOG_REQUESTS, fail ? FL_SEV_ERROR : FL_SEV_INFO, fail ? 500 : 200,
             "checkout", rev, NULL, NULL);
        if (fail && on_new)
            push(out, ts + 1000, FL_LOG_STDERR, FL_SEV_ERROR, 0, "checkout", rev,
                 "ZodError: KV_REDIS_PASSWORD: String must contain at least 1 character(s)",
                 "schema_validation");
    }
}

static void ten_days(incident *out)
{
    long_bad_deploy_days(out, 10);
}

/* 10 days is past AGG_SPAN_BUCKETS minutes: the report's series are 4-minute buckets (the
 * aggregate's own cells may stay finer while no series holds more than AGG_SPAN_BUCKETS), and
 * the deploy still explains the errors, with the onset found at bucket resolution. */
static void test_long_span(void)
{
    ten_days(&in);
    fl_agg *a = aggregate(&in);
    CHECK(a->width <= 4);
    fl_result *r = NULL;
    CHECK_INT(fl_analyze(a, NULL, &r), 0);
    CHECK(r && r->bucket_seconds % (4 * 60) == 0);
    CHECK(r && r->n_buckets <= 1500);
    CHECK(r && r->n_causes > 0);
    if (r && r->n_causes > 0) {
        CHECK_INT(r->causes[0].kind, FL_CAUSE_DEPLOY);
        CHECK_STR(r->causes[0].error_class, "schema_validation");
        /* the first error is kept exactly: buckets coarsen counts, not first timestamps */
        fl_time first = 0;
        for (size_t i = 0; i < in.n && !first; i++)
            if (in.cls[i])
                first = in.e[i].ts;
        CHECK(first > in.changes[0].ts);
        if (r->causes[0].onset != first)
            fprintf(stderr, "onset %lld, first error %lld\n", (long long)r->causes[0].onset,
                    (long long)first);
        CHECK(r->causes[0].onset == first);
    }
    fl_result_free(r);
    fl_agg_free(a);
}

/* Up to two days keep minute cells (results as before the span cap); past the cap the cells
 * of a series stay within AGG_SPAN_BUCKETS however long the input, and the width is the
 * smallest power of two that fits. */
static void test_span_cap_bounds_cells(void)
{
    long_bad_deploy_days(&in, 2);
    fl_agg *a = aggregate(&in);
    CHECK_INT(a->width, 1);
    fl_agg_free(a);

    static const int days[] = {3, 20, 90};
    static const int64_t want_width[] = {2, 8, 32};
    for (size_t d = 0; d < 3; d++) {
        a = fl_agg_new(NULL);
        fl_entry e;
        fl_entry_init(&e);
        fl_time t0 = T("2026-01-01T00:00:00Z");
        size_t minutes = (size_t)days[d] * 1440;
        /* one request and one error per minute on each of two revisions: 2 traffic series and
         * 2 group series */
        for (size_t m = 0; m < minutes; m++)
            for (int rv = 0; rv < 2; rv++) {
                const char *rev = rv ? "api-00002-bbb" : "api-00001-aaa";
                test_entry req = {t0 + (fl_time)m * MIN_US, FL_LOG_REQUESTS, FL_SEV_INFO, 200,
                                  "api", rev, NULL, "r", NULL, NULL, 0};
                test_entry err = {t0 + (fl_time)m * MIN_US + 1, FL_LOG_STDERR, FL_SEV_ERROR, 0,
                                  "api", rev, "disk quota reached on volume", "x", NULL, NULL, 0};
                fill(&e, &req);
                CHECK_INT(fl_agg_add(a, &e, NULL), 0);
                fill(&e, &err);
                CHECK_INT(fl_agg_add(a, &e, NULL), 0);
            }
        fl_entry_free(&e);
        CHECK_INT(a->width, want_width[d]);
        CHECK(a->n_cells <= 4 * (size_t)AGG_SPAN_BUCKETS);
        uint64_t req = 0;
        for (size_t i = 0; i < a->n_cells; i++)
            req += a->cells[i].requests;
        CHECK_INT(req, 2 * minutes); /* folding keeps every count */
        fl_agg_free(a);
    }
}

/* An allocation that fails anywhere on the way across the span cap (the folds included) ends
 * in FL_ENOMEM with a consistent aggregate that frees cleanly (the sanitizer build checks),
 * or the run completes. */
static void test_span_cap_alloc_failures(void)
{
    ten_days(&in);
    int failed_runs = 0;
    long k;
    for (k = 0; k < 20000; k++) {
        fl_alloc_fail_after(k);
        fl_agg *a = fl_agg_new(NULL);
        fl_result *r = NULL;
        int rc = a ? feed(a, &in, 0, in.n, false) : -1;
        if (!rc)
            rc = fl_analyze(a, NULL, &r);
        fl_alloc_fail_after(-1);
        CHECK(rc == 0 || rc == -1 || rc == FL_ENOMEM);
        if (a && rc != 0) /* what was kept is still usable */
            CHECK(a->n_cells <= 4 * (size_t)AGG_SPAN_BUCKETS && a->width >= 1);
        fl_result_free(r);
        fl_agg_free(a);
        if (rc == 0)
            break;
        failed_runs++;
    }
    CHECK(failed_runs > 0 && k < 20000);
}

/* More distinct captured values than a group keeps (AGG_MAX_FIELD_VALUES): which values survive,
 * and their counts, must not depend on arrival order, shards or merge order. */
static void feed_fields(fl_agg *a, size_t from, size_t to, bool reverse)
{
    static const fl_rule_info rule = {.id = "mongo_server_selection.python",
                                      .class_id = "mongo_server_selection",
                                      .title = "MongoDB server selection timed out",
                                      .severity = FL_SEV_ERROR,
                                      .implies = FL_IMPLIES_DEPENDENCY};
    fl_entry e;
    fl_entry_init(&e);
    for (size_t k = from; k < to; k++) {
        size_t i = reverse ? to - 1 - (k - from) : k;
        fl_entry_clear(&e);
        e.ts = T("2026-03-02T10:00:00Z") + (fl_time)i * FL_USEC_PER_SEC;
        e.severity = FL_SEV_ERROR;
        e.log_kind = FL_LOG_STDERR;
        fl_entry_set(&e, &e.service, "orders", 6);
        fl_entry_set(&e, &e.revision, "orders-00007-abc", 16);
        fl_entry_set(&e, &e.message, "ServerSelectionTimeoutError", 27);
        fl_match m = {.rule = &rule, .n_fields = 1};
        strcpy(m.fields[0].name, "host_port");
        /* 200 distinct hosts; host h is seen (h % 4) + 1 times, interleaved. */
        size_t h = (i * 37) % 200;
        snprintf(m.fields[0].value, sizeof m.fields[0].value, "10.0.%zu.%zu:27017", h / 16, h);
        for (size_t rep = 0; rep <= h % 4; rep++)
            CHECK_INT(fl_agg_add(a, &e, &m), 0);
    }
    fl_entry_free(&e);
}

/* How many captured values feed_fields gives entries [from, to). */
static uint64_t fields_fed(size_t from, size_t to)
{
    uint64_t n = 0;
    for (size_t i = from; i < to; i++)
        n += (i * 37) % 200 % 4 + 1;
    return n;
}

/* Past the cap nothing is lost silently: every captured value is either one of the kept values'
 * counts or among the values left out (capped), whose cells add up to their count. */
static void check_capped(const fl_agg *a, uint64_t fed, const char *what)
{
    CHECK_INT(a->n_groups, 1);
    const agg_group *g = &a->groups[0];
    uint64_t kept = 0, in_cells = 0;
    for (size_t i = 0; i < g->n_fields; i++)
        kept += g->fields[i].count;
    for (uint32_t k = 0; k < g->capped.n_cells; k++)
        in_cells += g->capped.cells[k].n;
    if (kept + g->capped.count != fed)
        fprintf(stderr, "%s: %llu kept + %llu left out, %llu captured\n", what,
                (unsigned long long)kept, (unsigned long long)g->capped.count,
                (unsigned long long)fed);
    CHECK_INT(g->n_fields, AGG_MAX_FIELD_VALUES);
    CHECK_INT(kept + g->capped.count, fed);
    CHECK_INT(in_cells, g->capped.count);
}

/* The cap's warning (one, whatever the order), or NULL. */
static char *cap_warning(const fl_agg *a)
{
    fl_diag d;
    fl_diag_init(&d);
    fl_agg_warn_caps(a, &d);
    char *w = NULL;
    int n = 0;
    for (size_t i = 0; i < d.n_warnings; i++)
        if (strstr(d.warnings[i].message, "distinct captured field values")) {
            n++;
            w = strdup(d.warnings[i].message);
        }
    CHECK(n <= 1);
    fl_diag_free(&d);
    return w;
}

static void test_field_cap_order(void)
{
    enum { N = 600 };
    fl_agg *fwd = fl_agg_new(NULL), *bwd = fl_agg_new(NULL);
    fl_agg *s1 = fl_agg_new(NULL), *s2 = fl_agg_new(NULL), *m = fl_agg_new(NULL);
    feed_fields(fwd, 0, N, false);
    feed_fields(bwd, 0, N, true);
    feed_fields(s1, 0, N / 3, true);
    feed_fields(s2, N / 3, N, false);
    CHECK_INT(fl_agg_merge(m, s2), 0);
    CHECK_INT(fl_agg_merge(m, s1), 0);
    check_same(fwd, bwd, "field cap, reversed");
    check_same(fwd, m, "field cap, sharded");

    /* The cap says what it did: the same warning and counts for every order and split. */
    fl_agg *all[] = {fwd, bwd, m};
    char *w0 = cap_warning(fwd);
    CHECK(w0 && strstr(w0, "more than 64 distinct captured field values in 1 error group:"));
    CHECK(w0 && strstr(w0, "mongo_server_selection"));
    for (size_t i = 0; i < FL_ARRAY_LEN(all); i++) {
        check_capped(all[i], fields_fed(0, N), "whole input");
        char *w = cap_warning(all[i]);
        CHECK(w && w0 && strcmp(w, w0) == 0);
        free(w);
    }
    free(w0);
    /* tail's window: the values left out expire with the rest (entries are a second apart:
     * minute 5 on keeps entries 300 and later). */
    for (size_t i = 0; i < FL_ARRAY_LEN(all); i++) {
        fl_agg_expire(all[i], T("2026-03-02T10:05:00Z"));
        check_capped(all[i], fields_fed(300, N), "after the slide");
        CHECK_INT(all[i]->groups[0].capped.count, fwd->groups[0].capped.count);
    }
    /* Below the cap, no warning. */
    fl_agg *few = fl_agg_new(NULL);
    feed_fields(few, 0, 20, false);
    CHECK(cap_warning(few) == NULL);
    fl_agg_free(few);
    fl_agg_free(fwd);
    fl_agg_free(bwd);
    fl_agg_free(s1);
    fl_agg_free(s2);
    fl_agg_free(m);
}

static void test_expire(void)
{
    bad_deploy(&in);
    fl_agg *a = aggregate(&in);
    fl_time cut = T("2026-03-02T10:45:00Z");
    uint64_t want = 0, want_req = 0;
    for (size_t i = 0; i < in.n; i++) {
        if (in.e[i].ts < cut)
            continue;
        want += in.cls[i] != NULL;
        want_req += in.e[i].kind == FL_LOG_REQUESTS;
    }
    fl_agg_expire(a, cut);
    fl_result *r = NULL;
    CHECK_INT(fl_analyze(a, NULL, &r), 0);
    if (!r)
        return;
    bool found = false;
    for (size_t g = 0; g < r->n_groups; g++) {
        if (strcmp(r->groups[g].key, "schema_validation") != 0)
            continue;
        found = true;
        CHECK_INT(r->groups[g].count, want);
        CHECK(r->groups[g].first_seen >= cut);
        for (size_t s = 0; s < r->groups[g].n_samples; s++)
            CHECK(r->groups[g].samples[s].ts >= cut);
    }
    CHECK(found);
    /* The old revision stopped serving before the cut; the deploy is older than the window. */
    CHECK_INT(r->n_revisions, 1);
    CHECK_STR(r->revisions[0].revision, "checkout-00042-bbb");
    CHECK_INT(r->revisions[0].requests, want_req);
    CHECK_INT(r->n_changes, 0);
    fl_result_free(r);
    fl_agg_free(a);
}

static void test_caps_and_samples(void)
{
    fl_agg_opts o = {.max_groups = 3};
    fl_agg *a = fl_agg_new(&o);
    fl_entry e;
    fl_entry_init(&e);
    static const char *const msgs[] = {"disk quota reached on volume", "segfault in module",
                                       "certificate verify failed", "unexpected EOF on socket",
                                       "panic: nil map", "queue is full"};
    fl_time t0 = T("2026-03-02T10:00:00Z");
    for (int i = 0; i < 60; i++) {
        test_entry t = {t0 + (fl_time)(59 - i) * FL_USEC_PER_SEC, FL_LOG_STDERR, FL_SEV_ERROR, 0,
                        "svc", "svc-00001-aaa", msgs[i % 6], "x", NULL, NULL, 0};
        fill(&e, &t);
        CHECK_INT(fl_agg_add(a, &e, NULL), 0);
    }
    fl_entry_free(&e);
    fl_result *r = NULL;
    CHECK_INT(fl_analyze(a, NULL, &r), 0);
    CHECK(r && r->n_groups <= 4);
    uint64_t total = 0;
    for (size_t g = 0; r && g < r->n_groups; g++) {
        total += r->groups[g].count;
        /* Samples are the earliest, in time order, however the input was ordered. */
        CHECK(r->groups[g].n_samples <= FL_GROUP_MAX_SAMPLES);
        for (size_t s = 1; s < r->groups[g].n_samples; s++)
            CHECK(r->groups[g].samples[s - 1].ts <= r->groups[g].samples[s].ts);
    }
    CHECK_INT(total, 60);
    fl_result_free(r);
    fl_agg_free(a);
}

/* Newest-first input (gcloud's order) makes every entry of a group the earliest so far: each
 * one replaces the last kept sample. The replaced sample's copies of the texts that are the
 * same (service, revision, instance, message) are kept, so a replacement allocates only for
 * what differs (the insertId): 60 entries into a full group take 180 allocations in all
 * (the entry's own ones included), where copying all five texts each time took 420. */
static void test_newest_first_samples_reuse(void)
{
    fl_agg *a = fl_agg_new(NULL);
    fl_entry e;
    fl_entry_init(&e);
    fl_time t0 = T("2026-03-02T10:00:00Z");
    char id[32];
    for (int i = 0; i < 100; i++) {
        if (i == 40)
            fl_alloc_fail_after(240);
        snprintf(id, sizeof id, "id-%04d", i);
        test_entry t = {t0 - (fl_time)i * 1000, FL_LOG_STDERR, FL_SEV_ERROR, 0, "svc",
                        "svc-00001-aaa", "connection refused by upstream", id, NULL, NULL, 0};
        fill(&e, &t);
        CHECK_INT(fl_agg_add(a, &e, NULL), 0);
    }
    fl_alloc_fail_after(-1);
    fl_entry_free(&e);
    fl_result *r = NULL;
    CHECK_INT(fl_analyze(a, NULL, &r), 0);
    CHECK(r && r->n_groups == 1);
    if (r && r->n_groups == 1) {
        /* the earliest, in time order: the last ones fed */
        CHECK_INT(r->groups[0].n_samples, FL_GROUP_MAX_SAMPLES);
        CHECK_STR(r->groups[0].samples[0].insert_id, "id-0099");
        for (size_t k = 1; k < r->groups[0].n_samples; k++)
            CHECK(r->groups[0].samples[k - 1].ts < r->groups[0].samples[k].ts);
    }
    fl_result_free(r);
    fl_agg_free(a);
}

/* bad_deploy plus three entries stamped far away (issue 10): kept out of the window, and the
 * result still does not depend on order, shards or merge order. */
static void bad_deploy_with_outliers(incident *out)
{
    bad_deploy(out);
    push(out, T("9999-12-31T23:59:59Z"), FL_LOG_STDERR, FL_SEV_ERROR, 0, "checkout",
         "checkout-00042-bbb", "clock skew", NULL);
    push(out, T("9999-12-31T23:59:58Z"), FL_LOG_STDERR, FL_SEV_ERROR, 0, "", "", "no labels",
         NULL);
    push(out, T("1971-01-01T00:00:00Z"), FL_LOG_REQUESTS, FL_SEV_INFO, 200, "checkout",
         "checkout-00041-aaa", NULL, NULL);
}

static void test_outliers_window(void)
{
    bad_deploy(&in);
    fl_agg *plain = aggregate(&in);
    bad_deploy_with_outliers(&in);
    fl_agg *odd = aggregate(&in);
    fl_result *r1 = NULL, *r2 = NULL;
    CHECK_INT(fl_analyze(plain, NULL, &r1), 0);
    CHECK_INT(fl_analyze(odd, NULL, &r2), 0);
    CHECK(r1 && r2);
    if (r1 && r2) {
        CHECK(r1->window_start == r2->window_start && r1->window_end == r2->window_end);
        CHECK_INT(r1->bucket_seconds, r2->bucket_seconds);
        CHECK_INT(r1->n_buckets, r2->n_buckets);
    }
    CHECK_INT(odd->width, 1); /* one far cell per series coarsens nothing */
    fl_diag d;
    fl_diag_init(&d);
    fl_agg_warn_caps(odd, &d);
    size_t named = 0;
    for (size_t i = 0; i < d.n_warnings; i++)
        named += strstr(d.warnings[i].message, "far from the rest") != NULL;
    CHECK_INT(named, 3);
    fl_diag_free(&d);
    fl_result_free(r1);
    fl_result_free(r2);
    fl_agg_free(plain);
    fl_agg_free(odd);
}

/* Past max_revisions the rest is counted in one overflow pair: never an error, nothing lost,
 * also when shards over the cap are merged (issue 10: "cap reached" was FL_ENOMEM). */
static void test_revision_cap(void)
{
    fl_agg_opts o = {.max_revisions = 4};
    fl_agg *a = fl_agg_new(&o), *b = fl_agg_new(&o);
    fl_entry e;
    fl_entry_init(&e);
    fl_time t0 = T("2026-03-02T10:00:00Z");
    char svc[32], rev[48];
    for (int i = 0; i < 20; i++) {
        snprintf(svc, sizeof svc, "svc-%d", i);
        snprintf(rev, sizeof rev, "svc-%d-00001-aaa", i);
        test_entry t = {t0 + (fl_time)i * FL_USEC_PER_SEC, FL_LOG_REQUESTS, FL_SEV_INFO,
                        i % 2 ? 500 : 200, svc, rev, NULL, NULL, NULL, NULL, 0};
        fill(&e, &t);
        CHECK_INT(fl_agg_add(i < 12 ? a : b, &e, NULL), 0);
    }
    fl_entry_free(&e);
    CHECK_INT(fl_agg_merge(a, b), 0);
    CHECK(a->n_revs <= 5);
    uint64_t req = 0, r5 = 0;
    for (size_t i = 0; i < a->n_cells; i++)
        if (a->cells[i].k.grp < 0) {
            req += a->cells[i].requests;
            r5 += a->cells[i].r5xx;
        }
    CHECK_INT(req, 20);
    CHECK_INT(r5, 10);
    fl_diag d;
    fl_diag_init(&d);
    fl_agg_warn_caps(a, &d);
    CHECK_INT(d.n_warnings, 1);
    CHECK(d.n_warnings && strstr(d.warnings[0].message, "(other services)"));
    fl_diag_free(&d);
    fl_agg_free(a);
    fl_agg_free(b);
}

/* curl's torture habit: fail the Nth allocation for every N over a small incident; the
 * aggregate and the analysis must report FL_ENOMEM (or succeed), never crash or leak (the
 * sanitizer build checks the leaks). */
static void test_alloc_failures(void)
{
    bad_deploy(&in);
    size_t n = 400; /* the first minutes: both revisions, the deploy, the first errors */
    int failed_runs = 0, ok_runs = 0;
    for (long k = 0; k < 4000; k += 3) {
        fl_alloc_fail_after(k);
        fl_agg *a = fl_agg_new(NULL);
        fl_result *r = NULL;
        int rc = a ? 0 : FL_ENOMEM;
        fl_entry e;
        fl_entry_init(&e);
        for (size_t i = 0; !rc && i < n; i++) {
            fill(&e, &in.e[i]);
            fl_match m = match_for(in.cls[i]);
            rc = fl_agg_add(a, &e, &m);
        }
        for (size_t i = 0; !rc && i < in.n_changes; i++)
            rc = fl_agg_add_change(a, &in.changes[i]);
        if (!rc)
            rc = fl_analyze(a, NULL, &r);
        fl_alloc_fail_after(-1);
        CHECK(rc == 0 || rc == FL_ENOMEM);
        CHECK(rc != 0 || r != NULL);
        failed_runs += rc != 0;
        ok_runs += rc == 0;
        fl_result_free(r);
        fl_agg_free(a);
        fl_entry_free(&e);
    }
    CHECK(failed_runs > 0 && ok_runs > 0);
}

static void trace_check(const agg_trace *t, void *arg)
{
    const char *const *traces = arg;
    bool known = false;
    for (size_t i = 0; traces[i] && !known; i++) {
        uint64_t h = fl_hash64(traces[i], strlen(traces[i]), 0x7ace);
        known = t->h == (h ? h : 1);
    }
    CHECK(known);
    for (size_t k = 0; k < t->n; k++)
        CHECK(t->s[k].svc == agg_graph_service_hash("a") ||
              t->s[k].svc == agg_graph_service_hash("bb") ||
              t->s[k].svc == agg_graph_service_hash("a-0001"));
}

/* The lookup hints (rev_get, cell_get, the time bins, the trace and service hash memos) only
 * save work: trace hashes stay fl_hash64's (summaries store them), and revisions whose names
 * share hint slots, or a hint left stale by an expiry, still count where they belong. */
static void test_lookup_hints(void)
{
    static const char *const traces[] = {"projects/p/traces/0af7651916cd43dd8448eb211c80319c",
                                         "projects/p/traces/0af7651916cd43dd8448eb211c80319d",
                                         "projects/other/traces/abc",
                                         "projects/p/traces/x",
                                         "projects/p/traces/",
                                         "bare-trace-id",
                                         "projects/p/traces/0af7651916cd43dd8448eb211c80319c",
                                         NULL};
    static const char *const svcs[] = {"a", "bb", "a-0001"};
    fl_agg *a = fl_agg_new(NULL);
    fl_entry e;
    fl_entry_init(&e);
    fl_time t0 = T("2026-03-02T10:00:00Z");
    /* 40 revisions of 3 services, interleaved, with equal tails and equal lengths */
    char rev[64];
    uint64_t want[3][40] = {{0}};
    for (int i = 0; i < 2400; i++) {
        int s = i % 3, r = (i * 7) % 40;
        snprintf(rev, sizeof rev, "%s-%05d-aaa", svcs[s], r);
        test_entry t = {t0 + (fl_time)(i % 300) * 10 * FL_USEC_PER_SEC, FL_LOG_REQUESTS,
                        FL_SEV_INFO, 200, svcs[s], rev, NULL, NULL, NULL,
                        traces[i % (FL_ARRAY_LEN(traces) - 1)], 0.25};
        fill(&e, &t);
        CHECK_INT(fl_agg_add(a, &e, NULL), 0);
        want[s][r]++;
        if (i == 1200)
            fl_agg_expire(a, t0); /* keeps everything but rebuilds the indices */
    }
    fl_entry_free(&e);
    CHECK_INT(a->n_revs, 3 * 40);
    for (size_t i = 0; i < a->n_revs; i++) {
        uint64_t req = 0;
        for (size_t c = 0; c < a->n_cells; c++)
            if (a->cells[c].k.grp < 0 && a->cells[c].k.rev == (int32_t)i)
                req += a->cells[c].requests;
        int s = strcmp(a->revs[i].service, "a") == 0 ? 0 : strcmp(a->revs[i].service, "bb") == 0;
        if (strcmp(a->revs[i].service, "a-0001") == 0)
            s = 2;
        int r = atoi(a->revs[i].revision + strlen(svcs[s]) + 1);
        CHECK(r >= 0 && r < 40);
        CHECK_INT(req, r >= 0 && r < 40 ? want[s][r] : 0);
    }
    CHECK(a->graph != NULL);
    agg_graph_each(a->graph, trace_check, (void *)traces);
    fl_agg_free(a);
}

static int u64_order(const void *p, const void *q)
{
    uint64_t a = *(const uint64_t *)p, b = *(const uint64_t *)q;
    return a < b ? -1 : a > b;
}

typedef struct kept_hashes {
    uint64_t *h;
    size_t n;
} kept_hashes;

static void collect_hash(const agg_trace *t, void *arg)
{
    kept_hashes *k = arg;
    k->h[k->n++] = t->h;
}

/* The call graph's sample is exactly the GRAPH_KEEP smallest trace hashes after settling, over
 * many prunes (the cutoff comes from a selection, not a sort), for traces in any order. */
static void test_graph_bottom_k(void)
{
    enum { N = 9 * GRAPH_KEEP + 123 };
    uint64_t *all = calloc(N, sizeof(uint64_t));
    kept_hashes kept = {calloc(4 * GRAPH_KEEP, sizeof(uint64_t)), 0};
    CHECK(all && kept.h);
    fl_agg *a = fl_agg_new(NULL);
    fl_entry e;
    fl_entry_init(&e);
    fl_time t0 = T("2026-03-02T10:00:00Z");
    char trace[80];
    srand(11);
    for (int i = 0; all && kept.h && i < N; i++) {
        /* a permutation of 0..N-1, so each trace comes once in a scrambled order */
        int id = (int)(((long long)i * 7919) % N);
        snprintf(trace, sizeof trace, "projects/p/traces/%08x%08x", id, rand());
        uint64_t h = fl_hash64(trace, strlen(trace), 0x7ace);
        all[i] = h ? h : 1;
        test_entry t = {t0 + (fl_time)(i % 600) * FL_USEC_PER_SEC, FL_LOG_REQUESTS, FL_SEV_INFO,
                        200, i % 2 ? "a" : "bb", i % 2 ? "a-0001" : "bb-0001", NULL, NULL, NULL,
                        trace, 0.1};
        fill(&e, &t);
        CHECK_INT(fl_agg_add(a, &e, NULL), 0);
    }
    fl_entry_free(&e);
    CHECK_INT(agg_graph_settle(a->graph), 0);
    if (all && kept.h) {
        agg_graph_each(a->graph, collect_hash, &kept);
        CHECK_INT(kept.n, GRAPH_KEEP);
        qsort(all, N, sizeof(uint64_t), u64_order);
        qsort(kept.h, kept.n, sizeof(uint64_t), u64_order);
        size_t same = 0;
        for (size_t i = 0; i < kept.n && i < GRAPH_KEEP; i++)
            same += kept.h[i] == all[i];
        CHECK_INT(same, GRAPH_KEEP);
    }
    free(all);
    free(kept.h);
    fl_agg_free(a);
}

/* Unmatched messages get the template fl_template gives them, whatever the memo of recent
 * templates holds: messages that share their first line but not their last exception line,
 * or their exception line but not their first line, or only the traceback lines between,
 * or exception lines of the same length, interleaved so memo slots are reused and collide. */
static void test_template_memo(void)
{
    static const char *const heads[] = {"request failed for order 17", "request failed",
                                        "request failed for order 17 ", "worker crashed"};
    static const char *const middles[] = {"", "\n  File \"/app/a.py\", line 3, in run",
                                          "\n  File \"/app/b.py\", line 91, in go\n    x()"};
    static const char *const tails[] = {"", "\nValueError: bad input 42",
                                        "\nKeyError: 'customer_id'", "\nValueError: bad input",
                                        "\nValueError: odd input"};
    enum { H = 4, M = 3, X = 5, ROUNDS = 3 };
    char msgs[H * M * X][256];
    size_t n = 0;
    for (int h = 0; h < H; h++)
        for (int m = 0; m < M; m++)
            for (int x = 0; x < X; x++)
                snprintf(msgs[n++], sizeof msgs[0], "%s%s%s", heads[h], middles[m], tails[x]);
    fl_agg *a = fl_agg_new(NULL);
    fl_entry e;
    fl_entry_init(&e);
    fl_time t0 = T("2026-03-02T10:00:00Z");
    for (int r = 0; r < ROUNDS; r++)
        for (size_t i = 0; i < n; i++) {
            size_t k = (i * 7 + (size_t)r * 11) % n; /* 7 is prime to n: every message */
            test_entry t = {t0 + (fl_time)(r * 100 + (int)i) * FL_USEC_PER_SEC, FL_LOG_STDERR,
                            FL_SEV_ERROR, 0, "svc", "svc-0001", msgs[k], NULL, NULL, NULL, 0};
            fill(&e, &t);
            CHECK_INT(fl_agg_add(a, &e, NULL), 0);
        }
    fl_entry_free(&e);
    /* each message's own template names a group, counting every message with that template */
    for (size_t i = 0; i < n; i++) {
        char text[600], fp[17], key[32];
        fl_template(msgs[i], strlen(msgs[i]), text, sizeof text);
        fl_fingerprint(text, strlen(text), fp);
        snprintf(key, sizeof key, "fp:%s", fp);
        uint64_t want = 0;
        for (size_t j = 0; j < n; j++) {
            char other[600];
            fl_template(msgs[j], strlen(msgs[j]), other, sizeof other);
            want += strcmp(text, other) == 0 ? ROUNDS : 0;
        }
        long g = fl_strmap_get(&a->group_index, key);
        CHECK(g >= 0);
        if (g >= 0) {
            CHECK_INT(a->groups[g].count, want);
            CHECK(strcmp(a->groups[g].template_text, text) == 0);
        }
    }
    fl_agg_free(a);
}

/* Group fingerprints come from a memo of recent texts (class ids, unmatched 5xx texts): with
 * more texts than slots, interleaved so slots are reused and collide, and texts of the same
 * length, every group still has its own text's fingerprint, key and count. */
static void test_fingerprint_memo(void)
{
    enum { ROUTES = 40, ROUNDS = 3 };
    static const int statuses[] = {500, 502, 503};
    fl_agg *a = fl_agg_new(NULL);
    fl_entry e;
    fl_entry_init(&e);
    fl_time t0 = T("2026-03-02T10:00:00Z");
    int n = 0;
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < ROUTES; i++) {
            int k = (i * 7 + r * 3) % ROUTES;
            char url[96];
            snprintf(url, sizeof url, "https://x.run.app/api/v1/r%02d/items", k);
            test_entry t = {t0 + (fl_time)(n++) * FL_USEC_PER_SEC, FL_LOG_REQUESTS, FL_SEV_ERROR,
                            statuses[k % 3], "svc", "svc-0001", NULL, NULL, NULL, NULL, 0};
            fill(&e, &t);
            fl_entry_set(&e, &e.http_url, url, strlen(url));
            CHECK_INT(fl_agg_add(a, &e, NULL), 0);
            /* and a matched entry of one of the fake rules */
            fl_match m = {.rule = &fake_rules[k % FL_ARRAY_LEN(fake_rules)], .n_fields = 0};
            test_entry u = {t.ts, FL_LOG_STDERR, FL_SEV_ERROR, 0, "svc", "svc-0001", "boom",
                            NULL, NULL, NULL, 0};
            fill(&e, &u);
            CHECK_INT(fl_agg_add(a, &e, &m), 0);
        }
    fl_entry_free(&e);
    int bad = 0;
    uint64_t total = 0;
    for (size_t g = 0; g < a->n_groups; g++) {
        const agg_group *grp = &a->groups[g];
        char fp[17], key[32];
        const char *named = grp->class_id ? grp->class_id : grp->template_text;
        fl_fingerprint(named, strlen(named), fp);
        snprintf(key, sizeof key, "fp:%s", fp);
        bad += strcmp(grp->fingerprint, fp) != 0;
        bad += strcmp(grp->key, grp->class_id ? grp->class_id : key) != 0;
        if (!grp->class_id)
            bad += grp->count != ROUNDS; /* one route, one status */
        total += grp->count;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(total, 2 * ROUTES * ROUNDS);
    CHECK(a->n_groups >= ROUTES);
    fl_agg_free(a);
}

typedef struct stamp {
    fl_time ts;
    const char *file;
    uint64_t line;
} stamp;

/* Latest first: descending (ts, file, line), the order of agg_time's latest list. */
static int stamp_desc(const void *p, const void *q)
{
    const stamp *a = p, *b = q;
    if (a->ts != b->ts)
        return a->ts > b->ts ? -1 : 1;
    int c = strcmp(a->file, b->file);
    if (c)
        return -c;
    return a->line > b->line ? -1 : a->line < b->line;
}

/* Entries of the latest list of t that differ from the latest of v[0, n) as sorting says. */
static int latest_differ(const agg_time *t, const stamp *v, size_t n)
{
    stamp *s = malloc((n + 1) * sizeof(*s));
    memcpy(s, v, n * sizeof(*s));
    qsort(s, n, sizeof(*s), stamp_desc);
    size_t want = 0;
    int bad = 0;
    for (size_t k = 0; k < n && want < AGG_TIME_EXTREMES; k++) {
        if (k && stamp_desc(&s[k], &s[k - 1]) == 0)
            continue; /* the same entry twice is kept once */
        bad += t->n_hi <= want || t->hi[want].ts != s[k].ts ||
               strcmp(t->hi[want].file, s[k].file) != 0 || t->hi[want].line != s[k].line;
        want++;
    }
    free(s);
    bool in_buf = t->hi >= t->hi_buf && t->hi <= t->hi_buf + AGG_TIME_EXTREMES;
    return bad + (t->n_hi != want) + !in_buf;
}

static bool same_extremes(const agg_extreme *a, size_t na, const agg_extreme *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].ts != b[i].ts || strcmp(a[i].file, b[i].file) != 0 || a[i].line != b[i].line)
            return false;
    return true;
}

static bool same_time(const agg_time *a, const agg_time *b)
{
    if (a->n != b->n || a->n_bins != b->n_bins || a->width != b->width)
        return false;
    for (size_t i = 0; i < a->n_bins; i++)
        if (a->bins[i].k.minute != b->bins[i].k.minute || a->bins[i].n != b->bins[i].n)
            return false;
    return same_extremes(a->lo, a->n_lo, b->lo, b->n_lo) &&
           same_extremes(a->hi, a->n_hi, b->hi, b->n_hi);
}

/* The list of the latest entries moves down a buffer as time-ordered entries come, and is
 * copied back to its top once in a while: after any number of entries, of one file or of
 * several, in order or now and then late or repeated, it holds the latest ones, in order, as
 * sorting all of them says; also after a merge with another list and after expiry. */
static void test_latest_list(void)
{
    static const char *const files[] = {"a.ndjson", "b.ndjson", "logs/c.json"};
    static stamp all[400], mine[400];
    srand(13);
    int bad = 0;
    for (int round = 0; round < 60; round++) {
        agg_time t, u, ref;
        agg_time_init(&t);
        agg_time_init(&u);
        agg_time_init(&ref);
        size_t n = (size_t)(rand() % 400), n_all = 0, n_mine = 0;
        fl_time ts = 1700000000 * FL_USEC_PER_SEC;
        for (size_t i = 0; i < n; i++) {
            fl_time step = round % 3 ? 1000 : (fl_time)(rand() % 3) * 1000; /* ties */
            ts += round % 5 == 1 ? -step : step; /* newest first in every fifth */
            stamp x = {ts, files[round % 4 == 0 ? (size_t)rand() % 3 : 0], i + 1};
            if (rand() % 10 == 0)
                x.ts -= (fl_time)(rand() % 50) * 1000; /* late */
            if (rand() % 20 == 0 && n_all)
                x = all[(size_t)rand() % n_all]; /* the same entry again (two shards) */
            bool to_t = i % 5 != 4;
            /* t takes fl_agg_add's way in (its common case inline), and also keeps the same as
             * agg_time_add (ref) in every part */
            if (to_t) {
                CHECK_INT(agg_time_add_entry(&t, x.ts, x.ts / AGG_MINUTE, x.file, x.line), 0);
                CHECK_INT(agg_time_add(&ref, x.ts, 1, x.file, x.line), 0);
                bad += !same_time(&t, &ref);
            } else {
                CHECK_INT(agg_time_add(&u, x.ts, 1, x.file, x.line), 0);
            }
            all[n_all++] = x;
            if (to_t)
                mine[n_mine++] = x;
            if (to_t && rand() % 8 == 0)
                bad += latest_differ(&t, mine, n_mine);
        }
        bad += latest_differ(&t, mine, n_mine);
        CHECK_INT(agg_time_merge(&t, &u), 0);
        bad += latest_differ(&t, all, n_all);
        /* expiry keeps the list's order and its place in the buffer valid */
        if (t.n_hi) {
            fl_time cut = t.hi[t.n_hi / 2].ts;
            agg_time_expire(&t, cut);
            for (size_t k = 0; k < t.n_hi; k++)
                bad += t.hi[k].ts < cut || (k && stamp_desc(&t.hi[k - 1], &t.hi[k]) >= 0);
            fl_time latest = t.hi[0].ts + 1000;
            CHECK_INT(agg_time_add(&t, latest, 1, "z", 1), 0);
            bad += t.n_hi == 0 || t.hi[0].ts != latest;
        }
        agg_time_free(&t);
        agg_time_free(&u);
        agg_time_free(&ref);
    }
    CHECK_INT(bad, 0);
}

int main(void)
{
    test_field_cap_order();
    test_order_and_merge(bad_deploy, "bad_deploy");
    test_order_and_merge(dependency_outage, "dependency_outage");
    test_order_and_merge(traffic_surge, "traffic_surge");
    test_order_and_merge(ten_days, "ten_days (bucket width past the span cap)");
    test_long_span();
    test_span_cap_bounds_cells();
    test_span_cap_alloc_failures();
    test_expire();
    test_caps_and_samples();
    test_newest_first_samples_reuse();
    test_order_and_merge(bad_deploy_with_outliers, "bad_deploy with far-away timestamps");
    test_outliers_window();
    test_revision_cap();
    test_lookup_hints();
    test_graph_bottom_k();
    test_template_memo();
    test_latest_list();
    test_fingerprint_memo();
    test_alloc_failures();
    return fl_test_done();
}
