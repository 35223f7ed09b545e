/* The aggregate's insides, shared by agg.c (filling, merging, expiring) and analyze.c
 * (reading). Nothing outside correlate/ sees these. */
#ifndef FL_AGG_INTERNAL_H
#define FL_AGG_INTERNAL_H

#include "fl_correlate.h"
#include "graph.h"
#include "map.h"

#define AGG_MAX_FIELD_VALUES 64 /* distinct (capture, value) pairs kept per group */
#define AGG_MINUTE (60 * FL_USEC_PER_SEC)
/* Distinct time buckets a series may span before the aggregate doubles its bucket width:
 * 4096 one-minute buckets is 68 h, so incident windows of up to two days keep minute
 * resolution, and a longer span costs no more than this many cells per series. */
#define AGG_SPAN_BUCKETS 4096

typedef struct agg_rev {
    char *service;
    char *revision;
    char *location;   /* resource label location, for the gcloud --region flag */
    char *commit_sha;
    fl_time first_seen;
    fl_time last_seen;
    fl_time sha_ts;   /* timestamp the commit_sha came from (earliest wins) */
} agg_rev;

typedef struct agg_sample {
    fl_time ts;
    char *service;
    char *revision;
    char *instance_id;
    char *insert_id;
    char *message;
} agg_sample;

typedef struct agg_field {
    char *name;
    char *value;
    uint64_t count;
    uint64_t hash; /* of name and value: which values the cap keeps (see field_add) */
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
} agg_group;

/* One time bucket (agg.width minutes, starting at k.minute) of one revision (grp == -1: requests, 5xx, error entries) or of one group on one
 * revision (count in errors, first_ts the earliest error in that minute). */
typedef struct agg_cell {
    fl_cell_key k;
    uint64_t requests;
    uint64_t r5xx;
    uint64_t errors;
    fl_time first_ts;
} agg_cell;

struct fl_agg {
    fl_agg_opts opts;
    uint64_t entries;
    uint64_t cells_dropped;
    fl_time min_ts;
    fl_time max_ts;
    agg_rev *revs;
    size_t n_revs, cap_revs;
    fl_strmap rev_index;
    agg_group *groups;
    size_t n_groups, cap_groups;
    fl_strmap group_index;
    agg_cell *cells;
    size_t n_cells, cap_cells;
    fl_cellmap cell_index;
    fl_change *changes;
    size_t n_changes, cap_changes;
    /* Minutes per cell: a power of two, the smallest that keeps the span of timestamped cells
     * [span_lo, span_hi] within AGG_SPAN_BUCKETS aligned buckets. It depends only on that span
     * (a min and a max), so it is the same whatever the input order or shard merge order. */
    int64_t width;
    int64_t span_lo, span_hi; /* minutes; valid when has_span */
    bool has_span;
    agg_graph *graph; /* trace ids of request logs, for the call graph; NULL until one */
};

/* The start of the width-minute bucket holding minute m (floor, also for negative m). */
static inline int64_t agg_bucket_start(int64_t m, int64_t width)
{
    return (int64_t)((uint64_t)m & ~(uint64_t)(width - 1));
}

#endif
