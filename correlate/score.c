/* Pure scoring functions; see score.h and docs/CORRELATION.md. */
#include "score.h"

#include <math.h>
#include <string.h>

static const char *const signal_names[FL_SIG_COUNT] = {
    [FL_SIG_ONSET_AFTER_CHANGE] = "onset_after_change",
    [FL_SIG_CONFINED] = "confined_to_revision",
    [FL_SIG_NOVELTY] = "novelty",
    [FL_SIG_IMPLIED] = "implied_cause",
    [FL_SIG_TRAFFIC] = "traffic_change",
    [FL_SIG_NO_CHANGE_NEARBY] = "no_change_nearby",
    [FL_SIG_SPREAD] = "spread_over_revisions",
};

const char *fl_signal_name(fl_signal s)
{
    return (unsigned)s < FL_SIG_COUNT ? signal_names[s] : "unknown";
}

/* One row per cause kind; each row sums to 1. */
static const double weights[][FL_SIG_COUNT] = {
    /*                 onset conf  novel impl  traff nochg spread */
    [FL_CAUSE_DEPLOY] = {0.25, 0.25, 0.20, 0.15, 0.15, 0.00, 0.00},
    [FL_CAUSE_DEPENDENCY] = {0.00, 0.00, 0.15, 0.20, 0.15, 0.30, 0.20},
    [FL_CAUSE_LOAD] = {0.00, 0.00, 0.15, 0.20, 0.35, 0.15, 0.15},
    [FL_CAUSE_RESOURCE] = {0.00, 0.00, 0.15, 0.20, 0.15, 0.30, 0.20},
    [FL_CAUSE_PLATFORM] = {0.00, 0.00, 0.15, 0.20, 0.15, 0.30, 0.20},
    [FL_CAUSE_UNKNOWN] = {0.00, 0.00, 0.30, 0.10, 0.10, 0.25, 0.25},
};

double fl_signal_weight(fl_cause_kind kind, fl_signal s)
{
    if ((size_t)kind >= FL_ARRAY_LEN(weights) || (unsigned)s >= FL_SIG_COUNT)
        return 0;
    return weights[kind][s];
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

void fl_wilson(uint64_t k, uint64_t n, double z, double *lo, double *hi)
{
    if (n == 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    double p = (double)k / (double)n, nn = (double)n, z2 = z * z;
    double den = 1 + z2 / nn;
    double mid = (p + z2 / (2 * nn)) / den;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / den;
    *lo = clamp01(mid - half);
    *hi = clamp01(mid + half);
}

double fl_score_time(double dt_s, fl_implies implies)
{
    if (dt_s < -60)
        return 0;
    if (dt_s <= 60)
        return 1;
    /* Seconds after which the value halves: a resource problem (memory growth) surfaces over
     * minutes, config and code errors at the first request. */
    double half = implies == FL_IMPLIES_RESOURCE ? 1200 : 300;
    return 1 / (1 + (dt_s - 60) / half);
}

double fl_score_lift(uint64_t k_changed, uint64_t n_changed, uint64_t k_other, uint64_t n_other)
{
    /* One-sided question ("is the changed revision worse?"): 90% two-sided bounds, so each
     * bound alone is a 95% one-sided bound. */
    double lo_c, hi_c, lo_o, hi_o;
    fl_wilson(k_changed, n_changed, 1.645, &lo_c, &hi_c);
    fl_wilson(k_other, n_other, 1.645, &lo_o, &hi_o);
    if (lo_c <= hi_o || lo_c <= 0)
        return 0;
    return clamp01(1 - hi_o / lo_c);
}

double fl_score_novelty(uint64_t before, double before_min, uint64_t after, double after_min)
{
    if (before == 0)
        return 1;
    if (after == 0 || before_min <= 0 || after_min <= 0)
        return 0;
    double rb = (double)before / before_min, ra = (double)after / after_min;
    return clamp01(1 - rb / ra);
}

double fl_score_implied(fl_cause_kind kind, fl_implies implies)
{
    /* rows: cause kind; columns: unknown, dependency, resource, config, load, platform */
    static const double fit[][6] = {
        [FL_CAUSE_DEPLOY] = {0.8, 0.1, 0.8, 1.0, 0.2, 0.3},
        [FL_CAUSE_DEPENDENCY] = {0.2, 1.0, 0.2, 0.1, 0.4, 0.3},
        [FL_CAUSE_LOAD] = {0.2, 0.6, 0.6, 0.0, 1.0, 0.3},
        [FL_CAUSE_RESOURCE] = {0.1, 0.1, 1.0, 0.1, 0.3, 0.3},
        [FL_CAUSE_PLATFORM] = {0.1, 0.2, 0.3, 0.0, 0.2, 1.0},
        [FL_CAUSE_UNKNOWN] = {0.5, 0.2, 0.2, 0.2, 0.2, 0.2},
    };
    if ((size_t)kind >= FL_ARRAY_LEN(fit) || implies < 0 || implies > FL_IMPLIES_PLATFORM)
        return 0;
    return fit[kind][implies];
}

double fl_score_surge(double ratio)
{
    return clamp01((ratio - 1.5) / 1.5);
}

/* Classes whose explanation the rule's generic "implies" gets wrong (checked against the
 * runbooks): without a surge, what each is; with one, whether load joins or replaces it. */
static const struct {
    const char *class_id;
    fl_cause_kind calm;  /* no surge */
    fl_cause_kind surge; /* with a surge; FL_CAUSE_UNKNOWN: the calm kind alone */
    bool surge_only;     /* with a surge, load replaces the calm kind */
} class_kinds[] = {
    /* A quota wall stays a quota wall: request quota or back off, never scale out. */
    {"quota_exhausted", FL_CAUSE_DEPENDENCY, FL_CAUSE_UNKNOWN, false},
    /* A dry pool at a steady rate is a slow database or a leak; under a surge it is load
     * (pool size x instances), never a memory limit. */
    {"pool_exhausted", FL_CAUSE_DEPENDENCY, FL_CAUSE_LOAD, true},
    /* Requests running into the timeout wait on something slow unless traffic rose. */
    {"request_timeout", FL_CAUSE_DEPENDENCY, FL_CAUSE_LOAD, true},
    /* "No available instance" without a surge: instances that cannot start or max-instances
     * too low for normal traffic. */
    {"no_instance", FL_CAUSE_RESOURCE, FL_CAUSE_LOAD, true},
};

size_t fl_group_cause_kinds(const char *class_id, fl_implies implies, bool surge,
                            fl_cause_kind out[2])
{
    for (size_t i = 0; class_id && i < FL_ARRAY_LEN(class_kinds); i++) {
        if (strcmp(class_id, class_kinds[i].class_id) != 0)
            continue;
        if (!surge || class_kinds[i].surge == FL_CAUSE_UNKNOWN) {
            out[0] = class_kinds[i].calm;
            return 1;
        }
        if (class_kinds[i].surge_only) {
            out[0] = class_kinds[i].surge;
            return 1;
        }
        out[0] = class_kinds[i].calm;
        out[1] = class_kinds[i].surge;
        return 2;
    }
    size_t n = 0;
    switch (implies) {
    case FL_IMPLIES_DEPENDENCY: out[n++] = FL_CAUSE_DEPENDENCY; break;
    case FL_IMPLIES_RESOURCE: out[n++] = FL_CAUSE_RESOURCE; break;
    case FL_IMPLIES_PLATFORM: out[n++] = FL_CAUSE_PLATFORM; break;
    /* "load" with no surge measured: something is slow or saturated, not the traffic. */
    case FL_IMPLIES_LOAD: out[n++] = surge ? FL_CAUSE_LOAD : FL_CAUSE_DEPENDENCY; return n;
    default: out[n++] = FL_CAUSE_UNKNOWN; break;
    }
    if (surge)
        out[n++] = FL_CAUSE_LOAD;
    return n;
}

double fl_score_class_fit(fl_cause_kind kind, const char *class_id, fl_implies implies)
{
    for (size_t i = 0; class_id && i < FL_ARRAY_LEN(class_kinds); i++)
        if (strcmp(class_id, class_kinds[i].class_id) == 0 &&
            (class_kinds[i].calm == kind || class_kinds[i].surge == kind))
            return 1;
    return fl_score_implied(kind, implies);
}

double fl_score_impact(double llr2, double excess)
{
    double sig = clamp01((llr2 - 10) / 30);
    double size = excess <= 1 ? 0 : clamp01(log10(excess) / 2);
    return sqrt(sig * size);
}

double fl_severity_weight(int severity)
{
    return severity >= FL_SEV_CRITICAL ? 4 : 1;
}

static double xlogx_rate(double c, double len)
{
    return c > 0 && len > 0 ? c * log(c / len) : 0;
}

double fl_changepoint(const uint32_t *x, size_t n, size_t *k)
{
    *k = 0;
    if (n < 2)
        return 0;
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += x[i];
    double base = xlogx_rate(total, (double)n), best = 0, before = 0;
    for (size_t i = 1; i < n; i++) {
        before += x[i - 1];
        double after = total - before;
        if (after / (double)(n - i) <= before / (double)i)
            continue;
        double llr = xlogx_rate(before, (double)i) + xlogx_rate(after, (double)(n - i)) - base;
        if (2 * llr > best + 1e-9) {
            best = 2 * llr;
            *k = i;
        }
    }
    return best;
}

double fl_llr2_rates(uint64_t k_a, double n_a, uint64_t k_b, double n_b)
{
    if (n_a <= 0 || n_b <= 0 || (double)k_a / n_a <= (double)k_b / n_b)
        return 0;
    double k = (double)(k_a + k_b), n = n_a + n_b;
    /* Poisson approximation: fine for the small rates errors have. */
    double llr = xlogx_rate((double)k_a, n_a) + xlogx_rate((double)k_b, n_b) - xlogx_rate(k, n);
    return 2 * llr;
}
