/* The pure scoring functions, as tables. */
#include "score.h"
#include "fl_test.h"

#include <math.h>

static int near(double a, double b)
{
    return fabs(a - b) < 1e-3;
}

static void test_weights_sum_to_one(void)
{
    for (int k = FL_CAUSE_UNKNOWN; k <= FL_CAUSE_PLATFORM; k++) {
        double s = 0;
        for (int i = 0; i < FL_SIG_COUNT; i++)
            s += fl_signal_weight((fl_cause_kind)k, (fl_signal)i);
        CHECK(near(s, 1.0));
    }
}

static void test_time(void)
{
    static const struct {
        double dt;
        fl_implies imp;
        double want;
    } t[] = {
        {-3600, FL_IMPLIES_CONFIG, 0},    /* errors long before the change */
        {2, FL_IMPLIES_CONFIG, 1},        /* 2 s after the rollout */
        {60, FL_IMPLIES_CONFIG, 1},
        {360, FL_IMPLIES_CONFIG, 0.5},    /* half-life 5 min after the first minute */
        {2160, FL_IMPLIES_DEPENDENCY, 1.0 / 8}, /* 35 min later: weak */
        {1260, FL_IMPLIES_RESOURCE, 0.5}, /* memory: half-life 20 min */
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(t); i++)
        CHECK(near(fl_score_time(t[i].dt, t[i].imp), t[i].want));
}

static void test_wilson(void)
{
    double lo, hi;
    fl_wilson(0, 0, 1.96, &lo, &hi);
    CHECK(lo == 0 && hi == 1);
    fl_wilson(412, 1180, 1.96, &lo, &hi); /* 34.9% */
    CHECK(lo > 0.32 && lo < 0.33 && hi > 0.37 && hi < 0.38);
    fl_wilson(0, 100, 1.96, &lo, &hi);
    CHECK(lo == 0 && hi > 0.03 && hi < 0.04);
}

static void test_lift(void)
{
    static const struct {
        uint64_t k1, n1, k0, n0;
        double lo, hi;
    } t[] = {
        {412, 1180, 3, 5210, 0.99, 1.0},  /* the example: damning */
        {10, 1000, 10, 1000, 0, 0},       /* same rate: not the revision */
        {5, 1000, 50, 1000, 0, 0},        /* better than the others */
        {3, 50, 1, 50, 0, 0},             /* too few to tell */
        {60, 100, 0, 0, 0, 0.45},         /* nothing to compare with: wide interval */
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(t); i++) {
        double v = fl_score_lift(t[i].k1, t[i].n1, t[i].k0, t[i].n0);
        CHECK(v >= t[i].lo && v <= t[i].hi);
    }
}

static void test_novelty(void)
{
    CHECK(near(fl_score_novelty(0, 30, 100, 30), 1));    /* never seen before */
    CHECK(near(fl_score_novelty(30, 30, 30, 30), 0));    /* steady before and after */
    CHECK(near(fl_score_novelty(30, 30, 300, 30), 0.9)); /* ten times worse */
    CHECK(near(fl_score_novelty(60, 30, 30, 30), 0));    /* fewer after */
}

static void test_implied(void)
{
    CHECK(near(fl_score_implied(FL_CAUSE_DEPLOY, FL_IMPLIES_CONFIG), 1));
    CHECK(fl_score_implied(FL_CAUSE_DEPLOY, FL_IMPLIES_DEPENDENCY) <
          fl_score_implied(FL_CAUSE_DEPENDENCY, FL_IMPLIES_DEPENDENCY));
    CHECK(near(fl_score_implied(FL_CAUSE_LOAD, FL_IMPLIES_LOAD), 1));
    CHECK(near(fl_score_implied(FL_CAUSE_RESOURCE, FL_IMPLIES_RESOURCE), 1));
    CHECK(fl_score_implied(FL_CAUSE_LOAD, FL_IMPLIES_CONFIG) == 0);
}

static void test_surge_and_impact(void)
{
    CHECK(fl_score_surge(1.0) == 0);
    CHECK(fl_score_surge(1.4) == 0);
    CHECK(near(fl_score_surge(2.25), 0.5));
    CHECK(fl_score_surge(3.2) == 1);
    CHECK(fl_score_surge(4.5) == 1);
    CHECK(fl_score_impact(5, 1000) == 0);    /* not significant */
    CHECK(fl_score_impact(10, 1000) == 0);
    CHECK(fl_score_impact(100, 1) == 0);     /* a single error */
    CHECK(near(fl_score_impact(100, 100), 1));
    CHECK(fl_score_impact(25, 10) > 0.4 && fl_score_impact(25, 10) < 0.6);
}

static void test_severity_weight(void)
{
    CHECK(fl_severity_weight(FL_SEV_WARNING) == 1);
    CHECK(fl_severity_weight(FL_SEV_ERROR) == 1);
    CHECK(fl_severity_weight(FL_SEV_CRITICAL) == 4);
    CHECK(fl_severity_weight(FL_SEV_EMERGENCY) == 4);
}

static void test_changepoint(void)
{
    uint32_t flat[60], step[60], late[10] = {0, 0, 0, 0, 0, 0, 0, 9, 8, 10};
    for (int i = 0; i < 60; i++) {
        flat[i] = 3;
        step[i] = i < 42 ? 1 : 20;
    }
    size_t k;
    CHECK(fl_changepoint(flat, 60, &k) < 1e-6);
    CHECK(fl_changepoint(step, 60, &k) > 100);
    CHECK_INT(k, 42);
    CHECK(fl_changepoint(late, 10, &k) > 10);
    CHECK_INT(k, 7);
    CHECK(fl_llr2_rates(100, 1000, 1, 1000) > 50);
    CHECK(fl_llr2_rates(1, 1000, 100, 1000) == 0);
}

/* Load only with a measured surge; each class's explanation fits its runbook action. */
static void test_group_cause_kinds(void)
{
    static const struct {
        const char *cls;
        fl_implies implies;
        bool surge;
        size_t n;
        fl_cause_kind k0, k1;
    } rows[] = {
        /* a quota wall is never load: back off or request quota */
        {"quota_exhausted", FL_IMPLIES_LOAD, false, 1, FL_CAUSE_DEPENDENCY, 0},
        {"quota_exhausted", FL_IMPLIES_LOAD, true, 1, FL_CAUSE_DEPENDENCY, 0},
        /* a dry pool: slow database at a steady rate, load under a surge, never memory */
        {"pool_exhausted", FL_IMPLIES_RESOURCE, false, 1, FL_CAUSE_DEPENDENCY, 0},
        {"pool_exhausted", FL_IMPLIES_RESOURCE, true, 1, FL_CAUSE_LOAD, 0},
        /* timeouts: something slow, unless traffic rose */
        {"request_timeout", FL_IMPLIES_LOAD, false, 1, FL_CAUSE_DEPENDENCY, 0},
        {"request_timeout", FL_IMPLIES_LOAD, true, 1, FL_CAUSE_LOAD, 0},
        {"no_instance", FL_IMPLIES_LOAD, false, 1, FL_CAUSE_RESOURCE, 0},
        /* classes the table does not name follow their rule's implied cause */
        {"oom", FL_IMPLIES_RESOURCE, false, 1, FL_CAUSE_RESOURCE, 0},
        {"oom", FL_IMPLIES_RESOURCE, true, 2, FL_CAUSE_RESOURCE, FL_CAUSE_LOAD},
        {"redis_timeout", FL_IMPLIES_DEPENDENCY, false, 1, FL_CAUSE_DEPENDENCY, 0},
        {"some_load_class", FL_IMPLIES_LOAD, false, 1, FL_CAUSE_DEPENDENCY, 0},
        {"some_load_class", FL_IMPLIES_LOAD, true, 1, FL_CAUSE_LOAD, 0},
        {NULL, FL_IMPLIES_UNKNOWN, false, 1, FL_CAUSE_UNKNOWN, 0},
        {NULL, FL_IMPLIES_UNKNOWN, true, 2, FL_CAUSE_UNKNOWN, FL_CAUSE_LOAD},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(rows); i++) {
        fl_cause_kind k[2] = {0, 0};
        size_t n = fl_group_cause_kinds(rows[i].cls, rows[i].implies, rows[i].surge, k);
        CHECK_INT(n, rows[i].n);
        CHECK_INT(k[0], rows[i].k0);
        if (n == 2)
            CHECK_INT(k[1], rows[i].k1);
    }
    /* the kind the table chose fits fully; others keep the generic fit */
    CHECK(fl_score_class_fit(FL_CAUSE_DEPENDENCY, "pool_exhausted", FL_IMPLIES_RESOURCE) == 1);
    CHECK(fl_score_class_fit(FL_CAUSE_LOAD, "pool_exhausted", FL_IMPLIES_RESOURCE) == 1);
    CHECK(fl_score_class_fit(FL_CAUSE_LOAD, "quota_exhausted", FL_IMPLIES_LOAD) ==
          fl_score_implied(FL_CAUSE_LOAD, FL_IMPLIES_LOAD));
    CHECK(fl_score_class_fit(FL_CAUSE_DEPENDENCY, NULL, FL_IMPLIES_UNKNOWN) ==
          fl_score_implied(FL_CAUSE_DEPENDENCY, FL_IMPLIES_UNKNOWN));
}

int main(void)
{
    test_group_cause_kinds();
    test_weights_sum_to_one();
    test_time();
    test_wilson();
    test_lift();
    test_novelty();
    test_implied();
    test_surge_and_impact();
    test_severity_weight();
    test_changepoint();
    return fl_test_done();
}
