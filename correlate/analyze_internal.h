/* Internals of fl_analyze, shared by its files:
 *   analyze_index.c    the aggregate indexed by revision and group, with range sums
 *   analyze_changes.c  change events: pairing, inferred deploys, one candidate per rollout
 *   analyze.c          candidates and their scores, ranking, fl_analyze itself
 *   cause_text.c       a ranked candidate as an fl_cause: summary, evidence, actions
 *   result_out.c       changes, groups and revisions of the result, with their series
 * Nothing outside correlate/ includes this. */
#ifndef FL_ANALYZE_INTERNAL_H
#define FL_ANALYZE_INTERNAL_H

#include "agg_internal.h"
#include "score.h"

#define MAX_BUCKETS 1500
#define REPORT_POINTS (1u << 18) /* series points a report holds at most (but see below) */
#define MIN_REPORT_BUCKETS 16    /* ... each series keeps at least this many buckets */
#define PAIR_WINDOW (15 * 60 * FL_USEC_PER_SEC) /* audit deploy -> first sight of revision */
#define READY_PAIR_WINDOW (120 * FL_USEC_PER_SEC) /* rollout -> its revision's Ready event */
#define OPERATION_WINDOW (5 * 60 * FL_USEC_PER_SEC) /* first and last audit entry of one op */
#define MIN_COMPARE_REQUESTS 20
#define MIN_CONCURRENT_REQUESTS 100 /* other revisions' traffic worth a side-by-side comparison */
#define UNKNOWN_CAUSE_CAP 0.45 /* an unexplained group is never a confident cause */
#define MIN_REPORTED_SCORE 0.10 /* below this a candidate is noise, not a cause to list */

typedef struct cellv {
    int64_t minute;
    uint64_t requests, r5xx, errors;
    fl_time first_ts;
} cellv;

/* The cells of one group on one revision, sorted by minute. */
typedef struct an_grev {
    size_t r;
    const cellv *cells;
    size_t n;
} an_grev;

typedef struct rev_view {
    const agg_rev *r;
    cellv *cells; /* sorted by minute */
    size_t n;
    uint64_t requests, r5xx, errors;
} rev_view;

/* One change candidate after pairing and merging events of the same revision. */
typedef struct cand_change {
    fl_change c;         /* the representative event, revision filled when paired */
    fl_time first_ts;    /* earliest event */
    fl_time last_ts;     /* latest event (e.g. traffic shifted to a canary) */
    long rev;            /* agg revision index, -1 when none */
} cand_change;

typedef struct cand {
    fl_cause_kind kind;
    char service[128];
    char revision[128];
    char prev[128];
    char region[64];
    long group;
    const char *gkey; /* the group's key: ties are broken by name, never by index */
    long change;      /* index into changes, -1 */
    double values[FL_SIG_COUNT];
    char details[FL_SIG_COUNT][200];
    double impact;
    char impact_detail[200];
    double score;
    fl_time onset;
    fl_time change_ts;
    double surge_ratio;
    fl_time surge_ts;
    long symptom;     /* the unclassified group this cause was first found through, -1 */
    const char *gsym; /* its key */
    char caller[128];          /* deploy of a callee blamed for errors in this caller, or "" */
    char follow_svc[2][128];   /* callers whose errors follow this cause (evidence) */
    long follow_group[2];
    uint64_t follow_n[2];
    bool failed_rollout;       /* a revision that never became Ready (analyze_rollout.c) */
    double fr_values[3];       /* its evidence, weighted by an_rollout_weights */
    char fr_details[3][200];
} cand;

typedef struct ctx {
    const fl_agg *a;
    const fl_analyze_opts *opts;
    fl_time w0, w1;
    int64_t m0, m1; /* window minutes [m0, m1], whole buckets of w minutes */
    int64_t w;      /* the aggregate's bucket width in minutes (1 unless the span is long) */
    rev_view *revs;
    size_t n_revs;
    /* Group cells per (group, revision) pair that has any, sorted by (group, revision): group
     * g's are grev[gofs[g], gofs[g + 1]). Sparse, so 10,000 groups x 4,096 revisions cost
     * their cells, not their product. */
    an_grev *grev;
    size_t *gofs;
    cellv *gcellv; /* the cells grev points into */
    cand_change *ch;
    size_t n_ch;
    /* per service request surge */
    cand *cands;
    size_t n_cands, cap_cands;
    bool oom; /* an allocation failed somewhere the callers cannot return a code */
    /* the call graph (analyze_graph.c): services by name, the (caller, callee) pairs seen,
     * sorted; sparse, as 4,096 services would make a dense table 16.8 M pairs */
    const char **svc_names;
    uint64_t *svc_hash;
    size_t n_svcs;
    struct an_edge *edges;
    size_t n_edges, cap_edges;
    bool *chronic; /* per group: steady for the whole window (fl_analyze) */
} ctx;

typedef struct group_stats {
    const char *service;
    uint32_t *series;   /* per bucket (w minutes) over the window */
    size_t n;
    double llr2;        /* change point strength */
    fl_time onset;      /* first error at/after the change point (or first_seen) */
    uint64_t before, after;
    double before_min, after_min;
    bool started;       /* a significant increase inside the window */
} group_stats;

/* analyze_index.c */
int64_t an_minute_of(fl_time t);
int an_build_index(ctx *c);
void an_free_index(ctx *c);
/* Range sums take minutes; with buckets wider than a minute both ends round down to their
 * bucket's start, so [a, b) and [b, c) still split the counts without overlap. */
/* Requests (and 5xx) of revision r in minutes [ma, mb). */
void an_rev_sum(const ctx *c, size_t r, int64_t ma, int64_t mb, uint64_t *req, uint64_t *r5xx);
/* The cells of group g on revision r (NULL, *n = 0 when none). */
const cellv *an_gcells(const ctx *c, size_t g, size_t r, size_t *n);
/* Errors of group g on revision r in minutes [ma, mb); *first gets the earliest. */
uint64_t an_grp_sum(const ctx *c, size_t g, size_t r, int64_t ma, int64_t mb, fl_time *first);
/* The same over every revision of a service (NULL: all services). */
uint64_t an_grp_sum_service(const ctx *c, size_t g, const char *service, int64_t ma, int64_t mb,
                            fl_time *first);
uint64_t an_service_requests(const ctx *c, const char *service, int64_t ma, int64_t mb);
/* The service where group g has the most errors (ties: name). */
const char *an_group_service(const ctx *c, size_t g);
long an_find_rev(const ctx *c, const char *service, const char *revision);

/* analyze_changes.c: every change event, sorted, into *out (owned); candidates into c->ch. */
int an_collect_changes(ctx *c, fl_change **out, size_t *n_out);

/* cause_text.c */
const agg_field *an_top_field(const agg_group *g, const char *name);
int an_build_cause(const ctx *c, const cand *x, int rank, fl_cause *o);

/* analyze.c */
cand *an_cand_new(ctx *c);

/* analyze_rollout.c: revisions that never became Ready, as causes. */
void an_score_failed_rollouts(ctx *c);
extern const char *const an_rollout_signals[3];
extern const double an_rollout_weights[3];

/* analyze_graph.c: the service call graph from trace ids and error text. */
int an_build_graph(ctx *c);
void an_free_graph(ctx *c);
long an_service_index(const ctx *c, const char *service);
/* caller sends requests to callee (a shared trace, or its errors name callee twice) */
bool an_calls(const ctx *c, const char *caller, const char *callee);
int an_out_graph(const ctx *c, fl_result *res);
/* How well a caller's group fits a failing call to callee: 1 when its text names the callee
 * or its class is a call failure (timeouts, refused, unavailable), 0.6 for an unclassified
 * group (the caller's 5xx), 0 for anything else (a database error is not the callee's). */
double an_callee_fit(const ctx *c, const agg_group *g, const char *callee);

/* naming.c: a group's name for people (class, else template text; app-level 504s). */
const char *an_group_name(const agg_group *g, char *buf, size_t cap);
double an_group_max_latency(const agg_group *g); /* -1 when no latency was captured */
bool an_group_app_timeout(const agg_group *g);

/* result_out.c */
int an_out_changes(fl_result *res, const fl_change *v, size_t n);
int an_out_groups(const ctx *c, fl_result *res);
/* group_family.c: sets family and family_template of every group (issue 12). */
int an_out_families(fl_result *res);
int an_out_revisions(const ctx *c, fl_result *res);

#endif
