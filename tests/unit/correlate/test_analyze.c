/* fl_analyze on small hand-built incidents: bad deploy vs dependency vs load, evidence numbers
 * equal to what went in, the rollback command, the score breakdown adding up. */
#include "incidents.h"
#include "evidence.h"
#include "fl_test.h"

#include <inttypes.h>
#include <math.h>

static incident in;

static fl_result *run(void (*make)(incident *))
{
    make(&in);
    fl_agg *a = aggregate(&in);
    fl_result *r = NULL;
    CHECK_INT(fl_analyze(a, NULL, &r), 0);
    fl_agg_free(a);
    return r;
}

static void check_breakdown(const fl_cause *c)
{
    double sum = 0;
    for (size_t i = 0; i < c->n_parts; i++) {
        sum += c->parts[i].contribution;
        CHECK(c->parts[i].value >= 0 && c->parts[i].value <= 1);
        CHECK(c->parts[i].detail && c->parts[i].detail[0]);
    }
    CHECK(fabs(sum - c->score) < 0.01);
    CHECK(c->score >= 0 && c->score <= 1);
    CHECK(c->summary && c->summary[0]);
    CHECK(c->n_evidence >= 2);
    CHECK(c->n_actions >= 1);
}

static void test_bad_deploy(void)
{
    fl_result *r = run(bad_deploy);
    CHECK(r && r->n_causes >= 1);
    if (!r || !r->n_causes)
        return;
    const fl_cause *c = &r->causes[0];
    CHECK_INT(c->kind, FL_CAUSE_DEPLOY);
    CHECK_STR(c->service, "checkout");
    CHECK_STR(c->revision, "checkout-00042-bbb");
    CHECK_STR(c->previous_revision, "checkout-00041-aaa");
    CHECK_STR(c->error_class, "schema_validation");
    CHECK(r->confident);
    check_breakdown(c);

    char want[256], p[16], clk[16];
    snprintf(want, sizeof(want), "revision checkout-00042-bbb: %" PRIu64 "/%" PRIu64
             " requests 5xx (%s) since %s",
             in.new_5xx, in.new_requests, fl_fmt_pct(in.new_5xx, in.new_requests, p, 16),
             fl_time_clock(in.new_first_seen, clk, 16));
    CHECK_STR(c->evidence[0], want);
    snprintf(want, sizeof(want), "previous revision checkout-00041-aaa: %" PRIu64 "/%" PRIu64
             " requests 5xx (%s)",
             in.old_5xx, in.old_requests, fl_fmt_pct(in.old_5xx, in.old_requests, p, 16));
    CHECK_STR(c->evidence[1], want);
    CHECK(strstr(c->evidence[2], "first `schema_validation` error 10:30:05, 5 s after the "
                                 "rollout; never seen before") != NULL);
    CHECK_STR(c->actions[0], "gcloud run services update-traffic checkout --region=europe-west1 "
                             "--to-revisions=checkout-00041-aaa=100");
    CHECK(strstr(c->summary, "checkout-00042-bbb") && strstr(c->summary, "checkout-00041-aaa"));

    /* The audit deploy was paired with the revision that appeared 5 s later. */
    bool paired = false;
    for (size_t i = 0; i < r->n_changes; i++)
        paired |= strcmp(r->changes[i].revision, "checkout-00042-bbb") == 0 &&
                  r->changes[i].kind == FL_CHANGE_DEPLOY;
    CHECK(paired);
    CHECK_INT(r->bucket_seconds, 60);
    CHECK_INT(r->n_buckets, (r->window_end / 60000000) - (r->window_start / 60000000) + 1);
    fl_result_free(r);
}

static void test_dependency(void)
{
    fl_result *r = run(dependency_outage);
    CHECK(r && r->n_causes >= 1);
    if (!r || !r->n_causes)
        return;
    CHECK_INT(r->causes[0].kind, FL_CAUSE_DEPENDENCY);
    CHECK_STR(r->causes[0].service, "orders");
    CHECK_STR(r->causes[0].error_class, "mongo_server_selection");
    CHECK(r->confident);
    check_breakdown(&r->causes[0]);
    bool atlas = false;
    for (size_t i = 0; i < r->causes[0].n_actions; i++)
        atlas |= strstr(r->causes[0].actions[i], "Atlas") != NULL;
    CHECK(atlas);
    /* The deploy 35 minutes earlier is not blamed above the dependency. */
    for (size_t i = 1; i < r->n_causes; i++)
        if (r->causes[i].kind == FL_CAUSE_DEPLOY)
            CHECK(r->causes[i].score < r->causes[0].score);
    fl_result_free(r);
}

static void test_load(void)
{
    fl_result *r = run(traffic_surge);
    CHECK(r && r->n_causes >= 1);
    if (!r || !r->n_causes)
        return;
    CHECK_INT(r->causes[0].kind, FL_CAUSE_LOAD);
    CHECK_STR(r->causes[0].service, "api");
    CHECK_STR(r->causes[0].error_class, "pool_exhausted");
    check_breakdown(&r->causes[0]);
    CHECK(strstr(r->causes[0].actions[1], "--max-instances=") != NULL);
    bool rate = false;
    for (size_t i = 0; i < r->causes[0].n_evidence; i++)
        rate |= strstr(r->causes[0].evidence[i], "rose from 30 to 150 (x5.0)") != NULL;
    CHECK(rate);
    fl_result_free(r);
}

static void test_empty(void)
{
    fl_agg *a = fl_agg_new(NULL);
    fl_result *r = NULL;
    CHECK_INT(fl_analyze(a, NULL, &r), 0);
    CHECK(r && r->n_causes == 0 && !r->confident);
    CHECK(r && r->confidence_threshold == FL_DEFAULT_THRESHOLD);
    fl_result_free(r);
    fl_agg_free(a);
}

static void test_formatting(void)
{
    char b[32];
    CHECK_STR(fl_fmt_pct(412, 1180, b, sizeof(b)), "35%");
    CHECK_STR(fl_fmt_pct(3, 5210, b, sizeof(b)), "0.06%");
    CHECK_STR(fl_fmt_pct(0, 10, b, sizeof(b)), "0%");
    CHECK_STR(fl_fmt_pct(1, 0, b, sizeof(b)), "n/a");
    CHECK_STR(fl_fmt_duration(2, b, sizeof(b)), "2 s");
    CHECK_STR(fl_fmt_duration(300, b, sizeof(b)), "5 min");
    CHECK_STR(fl_fmt_duration(3900, b, sizeof(b)), "1 h 5 min");
}

/* Rule steps get the known service, region and revisions in place of their placeholders;
 * whole words only, and unknown values stay for the reader to fill. */
static void test_action_placeholders(void)
{
    static const char *const steps[] = {
        "gcloud run revisions describe REV --region=REGION",
        "gcloud run services update SVC --region=REGION --memory=LIMIT",
        "Compare REV with PREV; REVISIONS and SVC_NAME stay",
        "gcloud run services update-traffic SVC --to-revisions=PREV=100",
    };
    fl_rule_info rule = {.id = "oom.node", .class_id = "oom", .title = "heap",
                         .remediation = steps, .n_remediation = 4};
    fl_action_ctx ctx = {.kind = FL_CAUSE_RESOURCE, .service = "orders", .region = "",
                         .revision = "orders-00009-xyz", .previous_revision = "",
                         .class_id = "oom", .rule = &rule};
    char **v = NULL;
    size_t n = 0;
    CHECK_INT(fl_actions_build(&ctx, &v, &n), 0);
    bool saw_describe = false, saw_update = false, saw_compare = false;
    for (size_t i = 0; i < n; i++) {
        saw_describe |= strcmp(v[i], "gcloud run revisions describe orders-00009-xyz "
                                     "--region=REGION") == 0;
        saw_update |= strcmp(v[i], "gcloud run services update orders --region=REGION "
                                   "--memory=LIMIT") == 0;
        saw_compare |= strcmp(v[i], "Compare orders-00009-xyz with PREV; REVISIONS and "
                                    "SVC_NAME stay") == 0;
        CHECK(strstr(v[i], "update-traffic orders --to-revisions") == NULL);
    }
    CHECK(saw_describe);
    CHECK(saw_update);
    CHECK(saw_compare);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* A service-level "Ready" next to the revision-level one is listed once; alone, it is kept. */
static void test_ready_echo(void)
{
    fl_change rev = {.ts = T("2026-03-02T10:00:10Z"), .kind = FL_CHANGE_REVISION_READY};
    snprintf(rev.service, sizeof rev.service, "orders");
    snprintf(rev.revision, sizeof rev.revision, "orders-00002-abc");
    snprintf(rev.source, sizeof rev.source, "system_event");
    fl_change svc = rev;
    svc.revision[0] = '\0';
    svc.ts += 2 * FL_USEC_PER_SEC;
    for (int with_rev = 0; with_rev < 2; with_rev++) {
        fl_agg *a = fl_agg_new(NULL);
        if (with_rev)
            fl_agg_add_change(a, &rev);
        fl_agg_add_change(a, &svc);
        fl_result *r = NULL;
        CHECK_INT(fl_analyze(a, NULL, &r), 0);
        if (r) {
            CHECK_INT(r->n_changes, 1);
            if (r->n_changes == 1)
                CHECK_STR(r->changes[0].revision, with_rev ? "orders-00002-abc" : "");
        }
        fl_result_free(r);
        fl_agg_free(a);
    }
}

int main(void)
{
    test_ready_echo();
    test_action_placeholders();
    test_formatting();
    test_bad_deploy();
    test_dependency();
    test_load();
    test_empty();
    return fl_test_done();
}
