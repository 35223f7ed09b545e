/* Wording shared by the analysis: numbers rendered for people (rates, durations) and the
 * concrete actions an on-call engineer takes for each kind of cause, following the runbooks. */
#ifndef FL_EVIDENCE_H
#define FL_EVIDENCE_H

#include "fl_common.h"
#include "fl_patterns.h"
#include "fl_result.h"

/* "35%", "4.2%", "0.06%"; "0%" for k == 0; "n/a" when n == 0. */
char *fl_fmt_pct(uint64_t k, uint64_t n, char *buf, size_t size);
/* "2 s", "4 min", "1 h 5 min". */
char *fl_fmt_duration(double seconds, char *buf, size_t size);

typedef struct fl_action_ctx {
    fl_cause_kind kind;
    const char *service;
    const char *region;            /* "" when unknown */
    const char *revision;          /* changed revision, "" when none */
    const char *previous_revision; /* "" when unknown */
    const char *class_id;          /* NULL for unmatched groups */
    fl_implies implies;
    const char *memory_limit;      /* observed limit from the errors ("512 MiB"), or NULL */
    double surge_ratio;            /* request-rate ratio for load causes */
    const fl_rule_info *rule;      /* remediation steps, or NULL */
} fl_action_ctx;

/* Appends the actions, in order, to a growing string vector. Returns 0 or FL_ENOMEM. */
int fl_actions_build(const fl_action_ctx *ctx, char ***v, size_t *n);

/* Adds a rule's remediation step with SVC, REGION, REV and PREV filled in from ctx. */
int fl_action_add_filled(const fl_action_ctx *ctx, const char *step, char ***v, size_t *n);

/* Adds one formatted line to a string vector. */
int fl_strv_addf(char ***v, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
