/* The incident scenarios: each sets up services, changes and faults on a fresh world and says
 * what a correct root-cause analysis must conclude (the ground truth). Every choice (which
 * service, when, how often, which wording) comes from the world's seeded stream. */
#include <stdio.h>
#include <string.h>

#include "gen.h"
#include "gen_int.h"

static const char *const env_vars[] = {
    "KV_REDIS_PASSWORD", "DATABASE_URL",     "STRIPE_SECRET_KEY",
    "JWT_SIGNING_KEY",   "SENDGRID_API_KEY", "SESSION_SECRET",
};

/* A time at fraction [a, b) of the window, on a random microsecond. */
static int64_t at_frac(gen_world *w, double a, double b)
{
    double f = a + (b - a) * gen_unit(&w->rng);
    return w->t0 + (int64_t)((double)(w->t1 - w->t0) * f) +
           (int64_t)gen_below(&w->rng, 1000000) * 1000;
}

static int64_t clamp_t(const gen_world *w, int64_t t, double max_frac)
{
    int64_t max = w->t0 + (int64_t)((double)(w->t1 - w->t0) * max_frac);
    return t > max ? max : t;
}

static int64_t minutes(gen_world *w, int lo, int hi)
{
    return (int64_t)gen_range(&w->rng, lo * 60, hi * 60) * GEN_NS_PER_SEC +
           (int64_t)gen_below(&w->rng, 1000000) * 1000;
}

static int serving_rev(const gen_world *w, int svc)
{
    const gen_svc *s = &w->svcs[svc];
    return s->n_traffic ? s->traffic[s->n_traffic - 1].rev[0] : 0;
}

static void innocent(gen_world *w, int svc, int rev, int64_t t)
{
    if (w->n_innocent < (int)FL_ARRAY_LEN(w->innocent))
        w->innocent[w->n_innocent++] = (gen_change){svc, rev, t};
}

static void add_services(gen_world *w, int n, double rate)
{
    for (int i = 0; i < n; i++)
        gen_add_service(w, NULL, -1, rate);
}

/* Now and then someone's ReplaceService is rejected: not a change, but an ERROR audit line. */
static void maybe_failed_deploy(gen_world *w, double p)
{
    if (gen_chance(&w->rng, p))
        gen_failed_deploy(w, (int)gen_below(&w->rng, (uint32_t)w->n_svcs), at_frac(w, 0.05, 0.95));
}

static gen_fault fault(gen_world *w, int svc, int rev, int64_t t0, double p, int cls)
{
    gen_fault f;
    memset(&f, 0, sizeof(f));
    f.svc = svc;
    f.rev = rev;
    f.t0 = t0;
    f.t1 = w->t1;
    f.p = p;
    f.cls = cls;
    f.status = gen_chance(&w->rng, 0.75) ? 500 : 503;
    f.counts = true;
    f.variant = (int)gen_below(&w->rng, (uint32_t)gen_error_variants(w->svcs[svc].lang, cls));
    return f;
}

static void truth_deploy(gen_truth *t, int svc, int rev, int prev, int cls)
{
    t->kind = "deploy";
    t->svc = svc;
    t->rev = rev;
    t->prev_rev = prev;
    t->cls = cls;
}

/* ---- scenarios ------------------------------------------------------------------------------ */

static void bad_config_deploy(gen_world *w, gen_truth *t, double rate)
{
    int target = gen_add_service(w, NULL, -1, rate);
    add_services(w, 1 + (int)gen_below(&w->rng, 2), rate);
    if (gen_chance(&w->rng, 0.5)) {
        int other = 1 + (int)gen_below(&w->rng, (uint32_t)(w->n_svcs - 1));
        int64_t ti = at_frac(w, 0.05, 0.2);
        innocent(w, other, gen_deploy(w, other, ti, false, 100), ti);
    }
    maybe_failed_deploy(w, 0.3);
    int64_t td = at_frac(w, 0.3, 0.6);
    const char *var = GEN_PICK(&w->rng, env_vars);
    bool config_only = gen_chance(&w->rng, 0.5);
    int prev = serving_rev(w, target);
    if (config_only && gen_chance(&w->rng, 0.5)) {
        char secret[48];
        snprintf(secret, sizeof(secret), "%s", var);
        for (char *p = secret; *p; p++)
            *p = *p == '_' ? '-' : (char)(*p | 0x20);
        gen_add_secret_version(w, secret, td - minutes(w, 1, 6));
    }
    int rev = config_only ? gen_deploy_drop_env(w, target, td, 100, var)
                          : gen_deploy(w, target, td, false, 100);
    gen_fault f = fault(w, target, rev, td, 0.25 + 0.15 * gen_unit(&w->rng), GEN_CLS_SCHEMA);
    snprintf(f.detail, sizeof(f.detail), "%s", var);
    gen_add_fault(w, &f);
    int crashes = (int)gen_below(&w->rng, 3);
    for (int i = 0; i < crashes; i++)
        gen_startup_crash(w, target, rev, td + (int64_t)gen_range(&w->rng, 8, 90) * GEN_NS_PER_SEC,
                          &f);
    truth_deploy(t, target, rev, prev, GEN_CLS_SCHEMA);
}

static void oom_after_deploy(gen_world *w, gen_truth *t, double rate)
{
    int target = gen_add_service(w, NULL, -1, rate);
    add_services(w, 1 + (int)gen_below(&w->rng, 2), rate);
    maybe_failed_deploy(w, 0.25);
    int64_t td = at_frac(w, 0.12, 0.4);
    int prev = serving_rev(w, target);
    int rev = gen_deploy(w, target, td, false, 100);
    int64_t first = clamp_t(w, td + minutes(w, 5, 15), 0.85);
    gen_oom_series(w, target, rev, first, minutes(w, 2, 6));
    truth_deploy(t, target, rev, prev, GEN_CLS_OOM);
}

static void dependency_outage(gen_world *w, gen_truth *t, double rate)
{
    int deployed = gen_add_service(w, NULL, -1, rate);
    int other = gen_add_service(w, NULL, -1, rate);
    if (gen_chance(&w->rng, 0.5))
        add_services(w, 1, rate);
    maybe_failed_deploy(w, 0.25);
    int64_t td = at_frac(w, 0.04, 0.18);
    bool split = gen_chance(&w->rng, 0.5);
    int rev = gen_deploy(w, deployed, td, false, split ? 50 : 100);
    innocent(w, deployed, rev, td);
    int64_t outage = clamp_t(w, td + minutes(w, 30, 40), 0.82);
    int64_t end = gen_chance(&w->rng, 0.5) ? w->t1 : outage + minutes(w, 8, 14);
    gen_fault f = fault(w, deployed, -1, outage, 0.3 + 0.4 * gen_unit(&w->rng), GEN_CLS_MONGO);
    f.ramp_ns = 20 * GEN_NS_PER_SEC;
    f.t1 = end;
    gen_add_fault(w, &f);
    if (!split || gen_chance(&w->rng, 0.7)) {
        gen_fault g =
            fault(w, other, -1, outage + (int64_t)gen_range(&w->rng, 0, 20) * GEN_NS_PER_SEC,
                  0.3 + 0.4 * gen_unit(&w->rng), GEN_CLS_MONGO);
        g.ramp_ns = 20 * GEN_NS_PER_SEC;
        g.t1 = end;
        gen_add_fault(w, &g);
    }
    t->kind = "dependency";
    t->svc = deployed;
    t->cls = GEN_CLS_MONGO;
}

static void traffic_surge(gen_world *w, gen_truth *t, double rate)
{
    static const int langs[] = {GEN_NODE, GEN_PYTHON, GEN_JAVA};
    int target = gen_add_service(w, NULL, GEN_PICK(&w->rng, langs), rate);
    add_services(w, 1 + (int)gen_below(&w->rng, 2), rate);
    gen_svc *s = &w->svcs[target];
    s->surge_t = at_frac(w, 0.3, 0.6);
    s->surge_mult = 4.0 + gen_unit(&w->rng);
    gen_scale_out(w, target, s->surge_t + 20 * GEN_NS_PER_SEC, 2 + (int)gen_below(&w->rng, 2));
    gen_fault f =
        fault(w, target, -1, s->surge_t + (int64_t)gen_range(&w->rng, 30, 90) * GEN_NS_PER_SEC,
              0.15 + 0.2 * gen_unit(&w->rng), GEN_CLS_POOL);
    f.ramp_ns = 60 * GEN_NS_PER_SEC;
    gen_add_fault(w, &f);
    t->kind = "load";
    t->svc = target;
    t->cls = GEN_CLS_POOL;
}

static void two_deploys_second_bad(gen_world *w, gen_truth *t, double rate)
{
    int target = gen_add_service(w, NULL, -1, rate);
    add_services(w, 1 + (int)gen_below(&w->rng, 2), rate);
    maybe_failed_deploy(w, 0.25);
    int64_t td1 = at_frac(w, 0.08, 0.3);
    int rev1 = gen_deploy(w, target, td1, false, 100);
    innocent(w, target, rev1, td1);
    int64_t td2 = clamp_t(w, td1 + minutes(w, 12, 25), 0.75);
    int rev2 = gen_deploy(w, target, td2, false, 100);
    static const int known[] = {GEN_CLS_SCHEMA, GEN_CLS_REDIS};
    int cls = gen_chance(&w->rng, 0.5) ? GEN_CLS_UNMATCHED : GEN_PICK(&w->rng, known);
    gen_fault f = fault(w, target, rev2, td2, 0.2 + 0.25 * gen_unit(&w->rng), cls);
    snprintf(f.detail, sizeof(f.detail), "%s", GEN_PICK(&w->rng, env_vars));
    gen_add_fault(w, &f);
    truth_deploy(t, target, rev2, rev1, cls);
}

static void steady_preexisting(gen_world *w, gen_truth *t, double rate)
{
    int target = gen_add_service(w, NULL, -1, rate);
    add_services(w, 1 + (int)gen_below(&w->rng, 2), rate);
    maybe_failed_deploy(w, 0.25);
    gen_fault f = fault(w, target, -1, w->t0 - GEN_NS_PER_MIN, 0.01 + 0.02 * gen_unit(&w->rng),
                        GEN_CLS_REDIS);
    f.counts = false;
    gen_add_fault(w, &f);
    int64_t td = at_frac(w, 0.4, 0.6);
    innocent(w, target, gen_deploy(w, target, td, gen_chance(&w->rng, 0.3), 100), td);
    t->kind = "none";
}

static void canary_bad(gen_world *w, gen_truth *t, double rate)
{
    int target = gen_add_service(w, NULL, -1, rate * 2);
    add_services(w, 1 + (int)gen_below(&w->rng, 2), rate);
    maybe_failed_deploy(w, 0.25);
    int stable = serving_rev(w, target);
    int64_t tc = at_frac(w, 0.2, 0.45);
    int canary = gen_deploy(w, target, tc, false, 0);
    int pct = 5 + (int)gen_below(&w->rng, 6);
    int64_t tt = tc + minutes(w, 1, 5);
    gen_traffic_update(w, target, tt, stable, 100 - pct, canary);
    static const int known[] = {GEN_CLS_SCHEMA, GEN_CLS_POOL, GEN_CLS_REDIS};
    int cls = gen_chance(&w->rng, 0.5) ? GEN_CLS_UNMATCHED : GEN_PICK(&w->rng, known);
    gen_fault f = fault(w, target, canary, tt, 0.4 + 0.2 * gen_unit(&w->rng), cls);
    snprintf(f.detail, sizeof(f.detail), "%s", GEN_PICK(&w->rng, env_vars));
    gen_add_fault(w, &f);
    truth_deploy(t, target, canary, stable, cls);
}

static void healthy(gen_world *w, gen_truth *t, double rate)
{
    add_services(w, 2 + (int)gen_below(&w->rng, 3), rate);
    maybe_failed_deploy(w, 0.3);
    if (gen_chance(&w->rng, 0.5)) {
        int svc = (int)gen_below(&w->rng, (uint32_t)w->n_svcs);
        int64_t td = at_frac(w, 0.2, 0.8);
        innocent(w, svc, gen_deploy(w, svc, td, gen_chance(&w->rng, 0.3), 100), td);
    }
    if (gen_chance(&w->rng, 0.3)) {
        /* someone launches a new service: a CreateService with nothing wrong after it */
        int64_t tc = at_frac(w, 0.1, 0.7);
        int svc = gen_create_service(w, NULL, -1, rate * 0.5, tc);
        if (svc >= 0)
            innocent(w, svc, 0, tc);
    }
    t->kind = "none";
}

/* Commits of the sample repository shipped next to the sample incident
 * (tests/data/incidents/checkout-bad-deploy.repo.fi, imported by .ci/bootstrap into
 * build/sample-repo): the healthy revision runs "cart: round totals to cents", the bad one the
 * merge that brought in "deploy: read the redis credentials from the kv-redis-url secret". */
#define SAMPLE_PREV_COMMIT "e9ca8b0a7fbf0a7ee5977f52767352d6461aa475"
#define SAMPLE_BAD_COMMIT "38666b68da11a85b36f4883e08e89e5b8854a27c"

/* Sets a revision's commit (and image tag) without drawing from the seeded stream, so that
 * every other byte of the scenario stays as it was (the next revision's: w->next_commit). */
static void pin_commit(gen_world *w, int svc, int rev, const char *sha)
{
    gen_rev *v = &w->svcs[svc].revs[rev];
    snprintf(v->commit, sizeof(v->commit), "%s", sha);
    gen_fmt_into(v->image, sizeof(v->image), "%s:%s", w->svcs[svc].repo, v->commit);
}

/* The README demo: checkout-api loses KV_REDIS_PASSWORD in a deploy (a manifest change read
 * the redis credentials from a new secret) and zod rejects the environment; orders-api
 * deployed harmlessly earlier and stays healthy. */
static void sample_incident(gen_world *w, gen_truth *t, double rate)
{
    /* a few thousand entries: small enough to commit, big enough to show the shape */
    int checkout = gen_add_service(w, "checkout-api", GEN_NODE, rate * 0.4);
    int orders = gen_add_service(w, "orders-api", GEN_PYTHON, rate * 0.2);
    w->svcs[checkout].style = GEN_STYLE_JSON;
    w->svcs[checkout].cloud_build = true;
    int64_t ti = at_frac(w, 0.12, 0.22);
    innocent(w, orders, gen_deploy(w, orders, ti, false, 100), ti);
    int prev = serving_rev(w, checkout);
    int64_t td = at_frac(w, 0.5, 0.6);
    gen_add_secret_version(w, "kv-redis-url", td - minutes(w, 2, 4));
    pin_commit(w, checkout, prev, SAMPLE_PREV_COMMIT);
    snprintf(w->next_commit, sizeof(w->next_commit), "%s", SAMPLE_BAD_COMMIT);
    int rev = gen_deploy_drop_env(w, checkout, td, 100, "KV_REDIS_PASSWORD");
    gen_fault f = fault(w, checkout, rev, td, 0.33, GEN_CLS_SCHEMA);
    f.variant = 0;
    f.status = 500;
    snprintf(f.detail, sizeof(f.detail), "KV_REDIS_PASSWORD");
    gen_add_fault(w, &f);
    gen_startup_crash(w, checkout, rev, td + 12 * GEN_NS_PER_SEC, &f);
    truth_deploy(t, checkout, rev, prev, GEN_CLS_SCHEMA);
}

static const gen_scenario scenarios[] = {
    {"bad_config_deploy", "a deploy whose new revision fails env/config schema validation",
     bad_config_deploy, 60},
    {"oom_after_deploy", "a deploy whose revision runs out of memory 5-15 minutes later",
     oom_after_deploy, 60},
    {"dependency_outage",
     "MongoDB unreachable from old and new revisions; an earlier deploy is innocent",
     dependency_outage, 60},
    {"traffic_surge", "request rate x4-5, connection pools exhausted, no deploy", traffic_surge,
     60},
    {"two_deploys_second_bad", "two deploys, only the second introduces errors",
     two_deploys_second_bad, 60},
    {"steady_preexisting", "a low steady error rate all hour; a deploy changes nothing",
     steady_preexisting, 60},
    {"canary_bad", "a 5-10% canary revision fails, the overall error rate barely moves", canary_bad,
     60},
    {"healthy", "a normal hour with background noise", healthy, 60},
    {"sample_incident", "the README demo: checkout-api bad config deploy (KV_REDIS_PASSWORD)",
     sample_incident, 60},
};

const gen_scenario *gen_scenario_find(const char *name)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(scenarios); i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

const gen_scenario *gen_scenario_list(size_t *n)
{
    *n = FL_ARRAY_LEN(scenarios);
    return scenarios;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *gen_truth_json(const gen_world *w, const gen_truth *t, const char *scenario)
{
    char ts[40];
    const char *svc = t->svc >= 0 ? w->svcs[t->svc].name : NULL;
    const char *rev = t->svc >= 0 && t->rev >= 0 ? gen_rev_name(w, t->svc, t->rev) : NULL;
    const char *prev =
        t->svc >= 0 && t->prev_rev >= 0 ? gen_rev_name(w, t->svc, t->prev_rev) : NULL;
    json_t *exp = json_object();
    json_object_set_new(exp, "kind", json_string(t->kind));
    json_object_set_new(exp, "service", str_or_null(svc));
    json_object_set_new(exp, "revision", str_or_null(rev));
    json_object_set_new(exp, "previous_revision", str_or_null(prev));
    json_object_set_new(exp, "error_class", str_or_null(gen_class_id(t->cls)));
    json_object_set_new(exp, "region", json_string(w->region));
    json_t *inn = json_array();
    for (int i = 0; i < w->n_innocent; i++) {
        const gen_change *c = &w->innocent[i];
        json_array_append_new(inn, json_pack("{s:s, s:s, s:s}", "service", w->svcs[c->svc].name,
                                             "revision", gen_rev_name(w, c->svc, c->rev), "time",
                                             gen_ts(c->t, 6, ts)));
    }
    json_t *root = json_object();
    json_object_set_new(root, "scenario", json_string(scenario));
    json_object_set_new(root, "seed", json_integer((json_int_t)w->seed));
    json_object_set_new(root, "project", json_string(w->project));
    json_object_set_new(root, "expected", exp);
    json_object_set_new(root, "innocent_changes", inn);
    bool has_onset = w->onset != 0 && strcmp(t->kind, "none") != 0;
    json_object_set_new(root, "onset",
                        has_onset ? json_string(gen_ts(w->onset, 6, ts)) : json_null());
    char te[40];
    json_object_set_new(
        root, "window",
        json_pack("{s:s, s:s}", "start", gen_ts(w->t0, 6, ts), "end", gen_ts(w->t1, 6, te)));
    return root;
}
