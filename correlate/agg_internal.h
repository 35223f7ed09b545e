/* The aggregate's insides, shared by agg.c (filling, merging, expiring) and analyze.c
 * (reading). Nothing outside correlate/ sees these. */
#ifndef FL_AGG_INTERNAL_H
#define FL_AGG_INTERNAL_H

#include "fl_correlate.h"
#include "graph.h"
#include "map.h"

#define AGG_MAX_FIELD_VALUES 64 /* distinct (capture, value) pairs kept per group */
/* Time cells of field values, all groups together (16 bytes each: 32 MiB). Past it a value's
 * count still grows, but without a cell: a sliding window (tail) drops that part at its next
 * step, as it drops group counts past the cell cap; fl_agg_warn_caps says how much. */
#define AGG_MAX_FIELD_CELLS (UINT64_C(1) << 21)
#define AGG_MINUTE (60 * FL_USEC_PER_SEC)
/* Distinct time cells one series (a revision's traffic, or a group on a revision) may hold
 * before the aggregate doubles its bucket width: 4096 one-minute cells is 68 h, so incident
 * windows of up to two days keep minute resolution, and a longer input costs no more than this
 * many cells per series. The cap counts cells, not the span, so one entry stamped far away adds
 * one cell and coarsens nothing. */
#define AGG_SPAN_BUCKETS 4096
/* The widest buckets cell_get doubles to (and agg_time_add's bins): a summary claiming wider
 * ones is refused, since expiry computes minute + width. */
#define AGG_MAX_WIDTH (INT64_C(1) << 40)
#define AGG_TIME_MAX_WIDTH (INT64_C(1) << 50)

/* Buckets an analysis window may have at most (its bucket width doubles past that), so the
 * cost of a report is bounded whatever the timestamps: 65536 minutes is 45 days. */
#define AGG_WINDOW_BUCKETS 65536

/* Change events kept (the latest; about 15 MB): a month of deploys of a large fleet fits. */
#define AGG_MAX_CHANGES 20000

/* The time histogram behind outlier detection (agg_time.c): entry counts per bin of
 * tw minutes, at most AGG_TIME_BINS non-empty bins (then tw doubles), plus the
 * AGG_TIME_EXTREMES earliest and latest entries with where they came from. */
#define AGG_TIME_BINS 4096

/* Series whose last cell cell_get remembers (direct-mapped by group and revision). */
#define AGG_CELL_HINTS 64
#define AGG_TIME_EXTREMES 8

typedef struct agg_tbin {
    fl_cell_key k; /* grp = rev = 0, minute = first minute of the bin */
    uint64_t n;
} agg_tbin;

typedef struct agg_extreme {
    fl_time ts;
    char *file;
    uint64_t line;
} agg_extreme;

typedef struct agg_time {
    agg_tbin *bins;
    size_t n_bins, cap_bins;
    size_t last; /* the bin the last entry went to (checked before use: a hint only) */
    fl_cellmap index;
    int64_t width; /* minutes per bin, a power of two */
    uint64_t n;    /* entries with a timestamp */
    agg_extreme lo[AGG_TIME_EXTREMES]; /* ascending */
    agg_extreme *hi;                   /* descending; AGG_TIME_EXTREMES places in hi_buf */
    size_t n_lo, n_hi;
    /* With time-ordered input every entry goes to the front of hi: hi moves down this buffer
     * one place per entry instead of moving its entries (agg_time.c, agg_time_push_latest). */
    agg_extreme hi_buf[2 * AGG_TIME_EXTREMES];
} agg_time;

/* Which timestamps are the bulk of the input: entries whose bin lies outside [lo_min, hi_min]
 * (minutes) are outliers. first/last are the earliest and latest timestamps inside. */
typedef struct agg_fence {
    bool cut_lo, cut_hi;
    int64_t lo_min, hi_min;
    fl_time first, last;
    uint64_t out_lo, out_hi; /* outliers on each side */
} agg_fence;

void agg_time_init(agg_time *t);
void agg_time_free(agg_time *t);
int agg_time_add(agg_time *t, fl_time ts, uint64_t n, const char *file, uint64_t line);
/* The same for one entry whose minute (floor of ts / AGG_MINUTE) the caller has. */
int agg_time_add_minute(agg_time *t, fl_time ts, int64_t minute, const char *file, uint64_t line);
/* Puts a new latest entry at the front of a full latest list (agg_time_add_entry). */
int agg_time_push_latest(agg_time *t, fl_time ts, const char *file, uint64_t line);
int agg_time_merge(agg_time *dst, const agg_time *src);
/* Forgets entries before ts (live tail's window). */
void agg_time_expire(agg_time *t, fl_time ts);
/* The fence: robust (quartiles of the histogram), and a function of the histogram alone, so the
 * same for any input order, thread count or shard split. */
void agg_time_fence(const agg_time *t, agg_fence *f);
bool agg_time_outside(const agg_time *t, const agg_fence *f, fl_time ts);

typedef struct agg_rev {
    char *service;
    char *revision;
    char *location;   /* resource label location, for the gcloud --region flag */
    char *commit_sha;
    fl_time first_seen;
    fl_time last_seen;
    fl_time sha_ts;   /* timestamp the commit_sha came from (earliest wins) */
    bool overflow;    /* the pair every service x revision past the cap is counted in */
    /* strlen of service, revision and location (derived, not state): the pair an entry names
     * is checked by length and bytes, without a call (agg_rev_set_lengths). */
    uint32_t service_n, revision_n, location_n;
    uint64_t graph_svc; /* agg_graph_service_hash of service; 0: not known (key cut, or read
                         * from a summary), the graph looks the name up */
} agg_rev;

/* Past max_revisions, further service x revision pairs are counted together under this pair
 * (the parentheses cannot occur in a Cloud Run service or revision name). */
/* Sets service_n, revision_n and location_n from the strings (a NULL one counts 0). */
void agg_rev_set_lengths(agg_rev *r);

#define AGG_OTHER_SERVICE "(other services)"
#define AGG_OTHER_REVISION "(other revisions)"
#define AGG_OVERFLOW_GROUP "fp:overflow"

typedef struct agg_sample {
    fl_time ts;
    char *service;
    char *revision;
    char *instance_id;
    char *insert_id;
    char *message;
} agg_sample;

/* One value's count in one time bucket (the aggregate's width, starting at minute), so that
 * the value's count expires with the window exactly as its group's cells do. */
typedef struct agg_fcell {
    int64_t minute;
    uint64_t n;
} agg_fcell;

typedef struct agg_field {
    char *name;
    char *value;
    uint64_t count;
    uint64_t hash; /* of name and value: which values the cap keeps (see field_get) */
    agg_fcell *cells; /* ascending by minute; count is their sum plus what the cap left out */
    uint32_t n_cells, cap_cells;
} agg_field;

typedef struct agg_group {
    char *key;
    char *class_id;     /* NULL when unmatched */
    char *rule_id;
    char *title;
    char *fingerprint;
    char *template_text;
    int implies;        /* fl_implies */
    int severity;
    fl_time rep_ts;     /* when the entry that gave rule/title/template was seen */
    uint64_t count;
    fl_time first_seen;
    fl_time last_seen;
    agg_sample samples[FL_GROUP_MAX_SAMPLES];
    size_t n_samples;
    agg_field *fields;
    size_t n_fields;
    /* The group's entries without service and revision, per time bucket (name and value NULL,
     * cells as a field value's, under the same AGG_MAX_FIELD_CELLS): they have no revision
     * cells, from which a sliding window (tail) recounts a group. */
    agg_field norev;
    /* Captured values past AGG_MAX_FIELD_VALUES (name and value NULL): how many, and per time
     * bucket so that a window expires them. count is every value not among the kept ones, so
     * it does not depend on the order values came in (fl_agg_warn_caps says it). */
    agg_field capped;
} agg_group;

/* What summaries and evidence call a group: its class, else its template; never the fp: key
 * (which stays the machine identifier in error_class and the JSON). */
static inline const char *agg_group_name(const agg_group *g)
{
    return g->class_id ? g->class_id : g->title && g->title[0] ? g->title : g->key;
}

/* One time bucket (agg.width minutes, starting at k.minute) of one revision (grp == -1: requests, 5xx, error entries) or of one group on one
 * revision (count in errors, first_ts the earliest error in that minute). */
typedef struct agg_cell {
    fl_cell_key k;
    uint64_t requests;
    uint64_t r5xx;
    uint64_t errors;
    fl_time first_ts;
} agg_cell;

/* How many cells one series holds (k.minute is 0). */
typedef struct agg_series {
    fl_cell_key k;
    uint32_t n;
} agg_series;

struct fl_agg {
    fl_agg_opts opts;
    uint64_t entries;
    uint64_t cells_dropped;
    uint64_t fcells_dropped; /* field-value and norev counts past AGG_MAX_FIELD_CELLS */
    size_t n_fcells;         /* field-value and norev cells of all groups */
    fl_time min_ts;
    fl_time max_ts;
    agg_rev *revs;
    size_t n_revs, cap_revs;
    fl_strmap rev_index;
    uint32_t rev_hint[64]; /* rev_get's hints: the pair a slot saw last (checked by name) */
    agg_group *groups;
    size_t n_groups, cap_groups;
    fl_strmap group_index;
    agg_cell *cells;
    size_t n_cells, cap_cells;
    fl_cellmap cell_index;
    uint32_t cell_hint[AGG_CELL_HINTS]; /* by series: the cell it used last (a hint, checked) */
    fl_change *changes;
    size_t n_changes, cap_changes;
    uint64_t *change_set; /* hashes of the kept changes (0 free, UINT64_MAX removed) */
    size_t cap_change_set, change_set_used;
    uint64_t changes_dropped;
    /* Minutes per cell: a power of two, the smallest that keeps every series within
     * AGG_SPAN_BUCKETS cells. Cells of aligned buckets nest, so that width depends only on the
     * set of (series, minute) pairs seen, whatever the input order or shard merge order. */
    int64_t width;
    agg_graph *graph; /* trace ids of request logs, for the call graph; NULL until one */
    struct agg_template_memo *tmemo; /* templates of recent unmatched messages (agg.c) */
    struct agg_fp_memo *fpmemo;      /* fingerprints of recent short group texts (agg.c) */
    agg_series *series; /* cells per series, to know when to widen */
    size_t n_series, cap_series;
    fl_cellmap series_index;
    agg_time time;
};

/* The start of the width-minute bucket holding minute m (floor, also for negative m). */
static inline int64_t agg_bucket_start(int64_t m, int64_t width)
{
    return (int64_t)((uint64_t)m & ~(uint64_t)(width - 1));
}

/* agg_time_add_minute, with its common case inline (issue 15): with time-ordered input an
 * entry goes to the bin of the one before, is not among the earliest, and is the latest so far
 * (or, newest first, not among the latest). The rest, and the first entries, take the call. */
static inline int agg_time_add_entry(agg_time *t, fl_time ts, int64_t minute, const char *file,
                                     uint64_t line)
{
    if (t->last < t->n_bins && t->bins[t->last].k.minute == agg_bucket_start(minute, t->width) &&
        t->n_lo == AGG_TIME_EXTREMES && ts > t->lo[AGG_TIME_EXTREMES - 1].ts &&
        t->n_hi == AGG_TIME_EXTREMES &&
        (ts > t->hi[0].ts || ts < t->hi[AGG_TIME_EXTREMES - 1].ts)) {
        t->bins[t->last].n++;
        t->n++;
        return ts > t->hi[0].ts ? agg_time_push_latest(t, ts, file, line) : 0;
    }
    return agg_time_add_minute(t, ts, minute, file, line);
}

/* The bucket width for an analysis of minutes [m_lo, m_hi]: the smallest power of two, at
 * least the aggregate's width, that keeps the cells inside within AGG_SPAN_BUCKETS buckets. */
int64_t agg_view_width(const fl_agg *a, int64_t m_lo, int64_t m_hi);

#endif
