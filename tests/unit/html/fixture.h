/* A small but complete fl_result for report tests: checkout-00041 healthy, checkout-00042
 * deployed at 10:14:30 starts failing schema_validation at 10:15, rolled back at 10:25. A
 * sample carries hostile text (<script>, Markdown link, table pipes) and a planted secret. */
#ifndef FL_TEST_RESULT_FIXTURE_H
#define FL_TEST_RESULT_FIXTURE_H

#include <string.h>

#include "fixture_str.h"
#include "fl_result.h"

#define FIX_T0 INT64_C(1763633400000000) /* 2025-11-20T10:10:00Z */
#define FIX_MIN (60 * FL_USEC_PER_SEC)

static fl_result *fix_result(void)
{
    fl_result *r = fl_result_new();
    r->input.entries = 4321;
    r->input.files = 1;
    r->input.bytes = 1234567;
    r->input.malformed = 1;
    r->input.n_warnings = 1;
    r->input.warnings = fl_calloc(1, sizeof(fl_warning));
    r->input.warnings[0].kind = FL_WARN_MALFORMED;
    r->input.warnings[0].file = fix_str("incident.json");
    r->input.warnings[0].line = 17;
    r->input.warnings[0].message = fix_str("not a JSON object <b>");
    r->window_start = FIX_T0;
    r->window_end = FIX_T0 + 20 * FIX_MIN - 1;
    r->bucket_seconds = 60;
    r->n_buckets = 20;
    r->bucket_origin = FIX_T0;
    r->confident = true;
    r->confidence_threshold = 0.5;

    r->n_changes = 3;
    r->changes = fl_calloc(3, sizeof(fl_change_out));
    const struct {
        int64_t off;
        fl_change_kind k;
        const char *rev, *actor, *desc, *src;
    } ch[] = {
        {4 * FIX_MIN + 30 * FL_USEC_PER_SEC, FL_CHANGE_DEPLOY, "checkout-00042-xyz",
         "jane.doe@example.com", "ReplaceService checkout (new image)", "audit"},
        {5 * FIX_MIN, FL_CHANGE_REVISION_READY, "checkout-00042-xyz", "",
         "Ready condition status changed to True for Revision checkout-00042-xyz", "system_event"},
        {15 * FIX_MIN, FL_CHANGE_TRAFFIC, "checkout-00041-abc", "oncall@example.com",
         "traffic 100% to checkout-00041-abc", "audit"},
    };
    for (size_t i = 0; i < 3; i++) {
        fl_change_out *c = &r->changes[i];
        c->ts = FIX_T0 + ch[i].off;
        c->kind = ch[i].k;
        c->service = fix_str("checkout");
        c->revision = fix_str(ch[i].rev);
        c->actor = fix_str(ch[i].actor);
        c->description = fix_str(ch[i].desc);
        c->source = fix_str(ch[i].src);
        c->commit_sha = fix_str("");
    }

    r->n_revisions = 2;
    r->revisions = fl_calloc(2, sizeof(fl_revision));
    for (size_t k = 0; k < 2; k++) {
        fl_revision *v = &r->revisions[k];
        v->service = fix_str("checkout");
        v->revision = fix_str(k ? "checkout-00042-xyz" : "checkout-00041-abc");
        v->commit_sha = fix_str(k ? "9f1c2e7" : "");
        v->requests_series = fl_calloc(20, sizeof(uint32_t));
        v->r5xx_series = fl_calloc(20, sizeof(uint32_t));
        v->errors_series = fl_calloc(20, sizeof(uint32_t));
        for (size_t i = 0; i < 20; i++) {
            bool bad_live = i >= 5 && i < 15;
            uint32_t req = k ? (bad_live ? 100 + (uint32_t)i : 0) : (bad_live ? 0 : 120);
            uint32_t e5 = k && bad_live ? 40 + (uint32_t)i : 0;
            v->requests_series[i] = req;
            v->r5xx_series[i] = e5;
            v->errors_series[i] = e5;
            v->requests += req;
            v->requests_5xx += e5;
            v->errors += e5;
        }
        v->first_seen = FIX_T0 + (k ? 5 : 0) * FIX_MIN;
        v->last_seen = FIX_T0 + (k ? 15 : 20) * FIX_MIN - 1;
    }

    r->n_groups = 2;
    r->groups = fl_calloc(2, sizeof(fl_group));
    fl_group *g = &r->groups[0];
    g->key = fix_str("schema_validation");
    g->class_id = fix_str("schema_validation");
    g->rule_id = fix_str("schema_validation.zod");
    g->title = fix_str("Config/env validation failed at startup");
    g->fingerprint = fix_str("0123456789abcdef");
    g->template_text = fix_str("ZodError: PAYMENTS_URL Required | col | [x](http://evil.test)");
    g->implies = fix_str("config");
    g->severity = 500;
    g->first_seen = FIX_T0 + 5 * FIX_MIN + 2 * FL_USEC_PER_SEC;
    g->last_seen = FIX_T0 + 15 * FIX_MIN - 3 * FL_USEC_PER_SEC;
    g->n_by_revision = 1;
    g->by_revision = fl_calloc(1, sizeof(fl_rev_count));
    g->by_revision[0].service = fix_str("checkout");
    g->by_revision[0].revision = fix_str("checkout-00042-xyz");
    g->n_samples = 2;
    g->samples = fl_calloc(2, sizeof(fl_sample));
    const char *msgs[] = {
        "ZodError: PAYMENTS_URL Required <script>alert(1)</script>",
        "boot failed for DB_PASSWORD=hunter2x9 [click](http://evil.test) | a | b |"};
    for (size_t k = 0; k < 2; k++) {
        fl_sample *s = &g->samples[k];
        s->ts = g->first_seen + (int64_t)k * FL_USEC_PER_SEC;
        s->service = fix_str("checkout");
        s->revision = fix_str("checkout-00042-xyz");
        s->instance_id = fix_str("00ab12");
        s->insert_id = fix_str("ins1");
        s->message = fix_str(msgs[k]);
    }
    g->n_fields = 1;
    g->fields = fl_calloc(1, sizeof(fl_field_value));
    g->fields[0].name = fix_str("env_var");
    g->fields[0].value = fix_str("PAYMENTS_URL");
    g->fields[0].count = 5;
    g->series = fl_calloc(20, sizeof(uint32_t));
    for (size_t i = 5; i < 15; i++) {
        g->series[i] = 40 + (uint32_t)i;
        g->count += g->series[i];
    }
    g->by_revision[0].count = g->count;

    fl_group *u = &r->groups[1];
    u->key = fix_str("fp:fedcba9876543210");
    u->class_id = NULL;
    u->rule_id = NULL;
    u->title = fix_str("upstream connect error <*>");
    u->fingerprint = fix_str("fedcba9876543210");
    u->template_text = fix_str("upstream connect error <*>");
    u->implies = fix_str("unknown");
    u->first_seen = FIX_T0 + 2 * FIX_MIN;
    u->last_seen = FIX_T0 + 2 * FIX_MIN;
    u->count = 3;
    u->n_by_revision = 1;
    u->by_revision = fl_calloc(1, sizeof(fl_rev_count));
    u->by_revision[0].service = fix_str("checkout");
    u->by_revision[0].revision = fix_str("checkout-00041-abc");
    u->by_revision[0].count = 3;
    u->series = fl_calloc(20, sizeof(uint32_t));
    u->series[2] = 3;

    r->n_causes = 1;
    r->causes = fl_calloc(1, sizeof(fl_cause));
    fl_cause *c = &r->causes[0];
    c->rank = 1;
    c->score = 0.91;
    c->kind = FL_CAUSE_DEPLOY;
    c->service = fix_str("checkout");
    c->revision = fix_str("checkout-00042-xyz");
    c->previous_revision = fix_str("checkout-00041-abc");
    c->error_class = fix_str("schema_validation");
    c->summary = fix_str("Revision checkout-00042-xyz fails config validation (PAYMENTS_URL "
                         "missing) since its deploy at 10:14:30");
    c->onset = g->first_seen;
    c->change_ts = r->changes[0].ts;
    c->n_parts = 2;
    c->parts = fl_calloc(2, sizeof(fl_score_part));
    c->parts[0].signal = fix_str("onset_after_change");
    c->parts[0].weight = 0.4;
    c->parts[0].value = 1.0;
    c->parts[0].contribution = 0.4;
    c->parts[0].detail = fix_str("first error 32 s after the deploy");
    c->parts[1].signal = fix_str("confined_to_revision");
    c->parts[1].weight = 0.6;
    c->parts[1].value = 0.85;
    c->parts[1].contribution = 0.51;
    c->parts[1].detail = fix_str("100% of errors on checkout-00042-xyz");
    const char *ev[] = {"5xx rate 0.0% before, 31.5% after the deploy",
                        "sample 10:15:02 ZodError: PAYMENTS_URL Required"};
    c->n_evidence = 2;
    c->evidence = fix_strv(2, ev);
    const char *act[] = {"gcloud run services update-traffic checkout --region=us-central1 "
                         "--to-revisions=checkout-00041-abc=100",
                         "Check the env var PAYMENTS_URL in the revision's configuration"};
    c->n_actions = 2;
    c->actions = fix_strv(2, act);
    return r;
}

#endif
