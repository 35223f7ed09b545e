/* correlate/: what the entries mean together.
 *
 * fl_agg accumulates per service x revision x minute counts (requests, 5xx, errors by group),
 * error groups with samples, and change events. Memory depends on the number of services,
 * revisions, groups and minutes, never on the number of entries. Aggregates from several
 * threads merge with fl_agg_merge. fl_analyze turns an aggregate into a ranked fl_result;
 * the scoring behind it is a set of pure functions (correlate/score.h).
 */
#ifndef FL_CORRELATE_H
#define FL_CORRELATE_H

#include "fl_diag.h"
#include "fl_entry.h"
#include "fl_patterns.h"
#include "fl_result.h"

typedef struct fl_change {
    fl_time ts;
    fl_change_kind kind;
    char service[128];
    char revision[128];
    char actor[128];
    char description[256];
    char source[16];
    char commit_sha[48];
} fl_change;

/* Recognises a change event in an entry: Cloud Run audit Create/Replace/UpdateService (a
 * failed one, ERROR status, becomes FL_CHANGE_FAILED), system_event "Ready condition status
 * changed to True for Revision X", Secret Manager AddSecretVersion, traffic updates. Returns 1
 * and fills out if the entry is a change, else 0. Pure. */
int fl_change_from_entry(const fl_entry *e, fl_change *out);
/* Parses one line of a --changes file: {"time","service","revision"?,"kind","actor"?,
 * "description"?}. Returns 0 or FL_EPARSE with a message in errbuf. */
int fl_change_parse_json(const char *line, size_t len, fl_change *out, char *errbuf,
                         size_t errlen);

typedef struct fl_agg fl_agg;

typedef struct fl_agg_opts {
    size_t max_groups;    /* 0: 2000; further unmatched templates fold into one group */
    size_t max_revisions; /* 0: 4096 */
    size_t max_buckets;   /* 0: 100000 minute buckets per series */
} fl_agg_opts;

fl_agg *fl_agg_new(const fl_agg_opts *opts);
void fl_agg_free(fl_agg *a);
/* Counts one entry: traffic if it is a request log, an error in its group if it is an error
 * (match->rule set, or severity >= ERROR, or HTTP 5xx), a change if fl_change_from_entry says
 * so, and the revision's first appearance. match may be NULL (not classified). */
int fl_agg_add(fl_agg *a, const fl_entry *e, const fl_match *match);
int fl_agg_add_change(fl_agg *a, const fl_change *c);
/* Adds src's counts into dst (threads, shards). src is left unchanged. */
int fl_agg_merge(fl_agg *dst, const fl_agg *src);
/* Drops minute buckets older than t (live tail's sliding window). Groups and changes whose
 * last activity is older than t are dropped too. */
void fl_agg_expire(fl_agg *a, fl_time t);
uint64_t fl_agg_entries(const fl_agg *a);
/* Warns once in d for each cap the aggregate reached (service x revision pairs, error groups,
 * time cells), with what was folded and how much of it: a cap never stops the count. Also
 * names (file:line) the entries whose timestamps lie far from the rest of the input, which
 * fl_analyze leaves out of the window. */
void fl_agg_warn_caps(const fl_agg *a, fl_diag *d);

typedef struct fl_analyze_opts {
    const fl_rules *rules;  /* for titles and remediation; may be NULL */
    double threshold;       /* 0: FL_DEFAULT_THRESHOLD */
    size_t max_causes;      /* 0: 5 */
    fl_time window_start;   /* 0: from the data */
    fl_time window_end;     /* 0: from the data */
} fl_analyze_opts;

#define FL_DEFAULT_THRESHOLD 0.5

/* Builds the ranked result. Deterministic: the same aggregate gives the same result, byte for
 * byte once rendered. */
int fl_analyze(const fl_agg *a, const fl_analyze_opts *opts, fl_result **out);

#endif
