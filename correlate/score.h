/* The scoring behind fl_analyze, as pure functions of numbers (no aggregate, no strings), so
 * each can be checked with a table. docs/CORRELATION.md explains every signal and weight. */
#ifndef FL_SCORE_H
#define FL_SCORE_H

#include "fl_common.h"
#include "fl_patterns.h"
#include "fl_result.h"

/* Signals, in the order they appear in a cause's breakdown. */
typedef enum {
    FL_SIG_ONSET_AFTER_CHANGE = 0, /* errors start shortly after the change */
    FL_SIG_CONFINED,               /* errors confined to the changed revision */
    FL_SIG_NOVELTY,                /* the group was not seen before the change/onset */
    FL_SIG_IMPLIED,                /* the class's implied cause fits the cause kind */
    FL_SIG_TRAFFIC,                /* request-rate change (or its absence) fits */
    FL_SIG_NO_CHANGE_NEARBY,       /* no change shortly before the onset */
    FL_SIG_SPREAD,                 /* errors spread over every revision serving */
    FL_SIG_COUNT
} fl_signal;

const char *fl_signal_name(fl_signal s);
/* Weight of a signal for a kind of cause; 0 when the signal does not apply. The weights of a
 * kind sum to 1. */
double fl_signal_weight(fl_cause_kind kind, fl_signal s);

/* Wilson score interval of k successes in n trials at z (1.96: 95%). n == 0: [0, 1]. */
void fl_wilson(uint64_t k, uint64_t n, double z, double *lo, double *hi);

/* Time from a change to the first error it could explain, in seconds. 1 up to a minute, then
 * decays hyperbolically with a half-life that depends on what the class implies (memory leaks
 * take minutes to surface, config errors seconds). Negative dt (errors before the change): 0. */
double fl_score_time(double dt_s, fl_implies implies);

/* How much worse the changed revision is than its comparison, from one-sided 95% Wilson
 * bounds:
 * 0 when the intervals overlap or it is better, towards 1 as its lower bound leaves the
 * other's upper bound behind (1 - hi_other / lo_changed). */
double fl_score_lift(uint64_t k_changed, uint64_t n_changed, uint64_t k_other, uint64_t n_other);

/* Novelty of a group at time T: 1 if never seen before, else 1 - rate_before / rate_after
 * (per minute), clamped to [0,1]: a steady pre-existing pattern scores 0. */
double fl_score_novelty(uint64_t before, double before_min, uint64_t after, double after_min);

/* How well a class's implied cause fits a kind of cause. */
double fl_score_implied(fl_cause_kind kind, fl_implies implies);

/* Strength of a request-rate surge from the ratio after/before: 0 up to x1.5, 1 from x3. */
double fl_score_surge(double ratio);

/* The non-deploy explanations a group of class_id (NULL: unmatched) with implied cause
 * `implies` can have, into out[0..2); returns how many. Load is one only with a measured
 * surge: a quota wall, a slow upstream or a dry pool at a steady request rate is not traffic,
 * and scaling out would make a quota wall worse. docs/CORRELATION.md has the table. */
size_t fl_group_cause_kinds(const char *class_id, fl_implies implies, bool surge,
                            fl_cause_kind out[2]);

/* fl_score_implied for a group of class_id: 1 when the class table above names this kind for
 * the class (a dry pool at a steady rate is a dependency problem whatever "resource" its rule
 * implies), else the generic fit of its implied cause. */
double fl_score_class_fit(fl_cause_kind kind, const char *class_id, fl_implies implies);

/* Impact gate in [0,1] that every weight is scaled by: how significant (twice the
 * log-likelihood ratio of a rate increase) and how large (excess errors) the problem is.
 * Background noise of a few errors stays near 0. */
double fl_score_impact(double llr2, double excess);

/* How many failed requests one error entry of a severity stands for, for the impact gate:
 * CRITICAL and above (an OOM kill, a crash loop) take an instance down with every request in
 * flight, so one such entry counts as 4; ERROR and below as 1. */
double fl_severity_weight(int severity);

/* Poisson change point: the split k (0 < k < n) that best separates a lower rate before from a
 * higher rate after. Returns twice the log-likelihood ratio (0 when no increase) and sets *k. */
double fl_changepoint(const uint32_t *x, size_t n, size_t *k);

/* Twice the log-likelihood ratio that k_a/n_a is higher than k_b/n_b (binomial); 0 if not. */
double fl_llr2_rates(uint64_t k_a, double n_a, uint64_t k_b, double n_b);

#endif
