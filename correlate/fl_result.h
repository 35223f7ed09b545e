/* fl_result: what an analysis found, as plain owned data. Produced by fl_analyze (correlate/),
 * read by every writer in reports/. docs/report-format.md documents the JSON rendering of this
 * struct, field by field. All strings are owned by the result and non-NULL unless noted. */
#ifndef FL_RESULT_H
#define FL_RESULT_H

#include "fl_common.h"
#include "fl_diag.h"

typedef enum {
    FL_CAUSE_UNKNOWN = 0,
    FL_CAUSE_DEPLOY,
    FL_CAUSE_DEPENDENCY,
    FL_CAUSE_LOAD,
    FL_CAUSE_RESOURCE,
    FL_CAUSE_PLATFORM,
} fl_cause_kind;

const char *fl_cause_kind_name(fl_cause_kind k); /* "deploy", "dependency", ... */

typedef enum {
    FL_CHANGE_DEPLOY = 0,     /* new revision rolled out (audit Create/Replace/UpdateService) */
    FL_CHANGE_CONFIG,         /* env/secret/limits change that made a new revision */
    FL_CHANGE_TRAFFIC,        /* traffic split changed */
    FL_CHANGE_SECRET,         /* Secret Manager AddSecretVersion */
    FL_CHANGE_REVISION_READY, /* system_event: Ready condition True for Revision X */
    FL_CHANGE_INFERRED,       /* revision first seen in the logs, no audit entry for it */
    FL_CHANGE_FAILED,         /* an attempted change that failed (audit ERROR status) */
    FL_CHANGE_EXTERNAL,       /* from --changes FILE (CI) */
} fl_change_kind;

const char *fl_change_kind_name(fl_change_kind k); /* "deploy", "config", "traffic", ... */

typedef struct fl_change_out {
    fl_time ts;
    fl_change_kind kind;
    char *service;
    char *revision;     /* "" when unknown (service-level audit entries) */
    char *actor;        /* principal email or CI actor; "" when unknown */
    char *description;  /* one line */
    char *source;       /* "audit", "system_event", "logs", "changes-file" */
    char *commit_sha;   /* "" when unknown */
} fl_change_out;

typedef struct fl_rev_count {
    char *service;
    char *revision;
    uint64_t count;
} fl_rev_count;

typedef struct fl_sample {
    fl_time ts;
    char *service;
    char *revision;
    char *instance_id;
    char *insert_id;
    char *message; /* already capped; redacted before output by reports/ */
} fl_sample;

typedef struct fl_field_value {
    char *name;  /* named capture, e.g. "env_var" */
    char *value; /* most frequent value seen */
    uint64_t count;
} fl_field_value;

typedef struct fl_group {
    char *key;         /* class id for matched groups, "fp:<fingerprint>" for unmatched */
    char *class_id;    /* NULL for unmatched errors */
    char *rule_id;     /* first rule that matched; NULL for unmatched */
    char *title;       /* rule title, or the template for unmatched */
    char *fingerprint; /* 16 hex digits */
    char *template_text;
    char *family;          /* class id for matched groups, "fam:<16 hex>" for unmatched:
                            * templates differing only where values vary share it */
    char *family_template; /* the family's template, "<*>" where its members differ */
    char *implies;     /* "dependency", "config", ... ("unknown" for unmatched) */
    int severity;
    uint64_t count;
    fl_time first_seen;
    fl_time last_seen;
    fl_rev_count *by_revision; /* most first */
    size_t n_by_revision;
    fl_sample *samples;        /* earliest first, at most FL_GROUP_MAX_SAMPLES */
    size_t n_samples;
    fl_field_value *fields;
    size_t n_fields;
    uint32_t *series;          /* per bucket, result->n_buckets long */
    bool chronic;              /* steady all window, there before its changes, unchanged by them */
} fl_group;

#define FL_GROUP_MAX_SAMPLES 5

typedef struct fl_revision {
    char *service;
    char *revision;
    char *commit_sha;   /* "" when unknown */
    fl_time first_seen;
    fl_time last_seen;
    uint64_t requests;
    uint64_t requests_5xx;
    uint64_t errors;    /* error entries (any group) */
    uint32_t *requests_series; /* per bucket */
    uint32_t *r5xx_series;
    uint32_t *errors_series;
} fl_revision;

typedef struct fl_score_part {
    char *signal;       /* "onset_after_change", "confined_to_revision", "novelty", ... */
    double weight;
    double value;       /* in [0,1] */
    double contribution;/* weight * value, what the score adds up */
    char *detail;       /* one line with the numbers behind the value */
} fl_score_part;

/* A commit in a deploy's range that evidence ties to the errors (filled by correlate/suspects
 * from --repo; docs/suspects.md). */
typedef struct fl_suspect {
    char *sha;       /* 40 hex digits */
    char *subject;   /* first line of the commit message */
    char *author;    /* author name */
    fl_time time;    /* author time */
    double score;    /* (0,1], what the reasons add up to */
    char **reasons;  /* strongest first: "removed `KV_REDIS_PASSWORD` from deploy/service.yaml" */
    size_t n_reasons;
} fl_suspect;

#define FL_MAX_SUSPECTS 5

/* The code change behind a deploy cause: both revisions' commit SHAs (Cloud Build labels), the
 * compare link and, with a repository, the suspect commits. Every pointer is NULL and every
 * count 0 until correlate/suspects has run (fl_suspects_annotate); after it, the strings are
 * non-NULL ("" when unknown). */
typedef struct fl_commit_range {
    char *prev_sha;       /* commit of the previous (healthy) revision */
    char *bad_sha;        /* commit of the blamed revision */
    char *compare_url;    /* from --repo-url or the repository's origin remote */
    bool searched;        /* a repository was read */
    uint32_t commits;     /* commits walked in PREV..BAD (at most the walk cap) */
    char *note;           /* why the search is partial or impossible, one line; "" none */
    fl_suspect *suspects; /* best first, at most FL_MAX_SUSPECTS */
    size_t n_suspects;
} fl_commit_range;

/* True when both SHAs are known: the range `git log PREV..BAD` can be named. */
static inline bool fl_commit_range_known(const fl_commit_range *cr)
{
    return cr->prev_sha && cr->prev_sha[0] && cr->bad_sha && cr->bad_sha[0];
}

typedef struct fl_cause {
    int rank;           /* 1 = most likely */
    double score;       /* [0,1] */
    fl_cause_kind kind;
    char *service;
    char *revision;          /* the changed revision for deploys, else "" */
    char *previous_revision; /* last healthy revision before it, "" when unknown */
    char *error_class;       /* group key it explains */
    char *summary;           /* one sentence a tired engineer reads first */
    fl_time onset;           /* first error of the group (0 unknown) */
    fl_time change_ts;       /* the change blamed (0 none) */
    fl_score_part *parts;
    size_t n_parts;
    char **evidence;
    size_t n_evidence;
    char **actions;          /* concrete commands/checks, in order */
    size_t n_actions;
    fl_commit_range commits; /* deploys only; see fl_commit_range */
} fl_cause;

/* One edge of the service call graph: caller sends requests to callee. */
typedef struct fl_call_edge {
    char *caller;
    char *callee;
    uint64_t traces;   /* sampled traces where a request of caller encloses one of callee */
    uint64_t mentions; /* error entries of caller whose text names callee (host or name) */
} fl_call_edge;

typedef struct fl_input_summary {
    uint64_t entries;
    uint64_t malformed;
    uint64_t oversize;
    uint64_t bytes;
    uint64_t files;
    uint64_t unreadable;
    char **truncated;
    size_t n_truncated;
    fl_warning *warnings;
    size_t n_warnings;
    uint64_t warnings_dropped;
} fl_input_summary;

typedef struct fl_result {
    fl_input_summary input;
    fl_time window_start;   /* first entry */
    fl_time window_end;     /* last entry */
    int bucket_seconds;     /* 60 for short inputs, larger for long archives */
    size_t n_buckets;
    fl_time bucket_origin;  /* start of bucket 0 */
    fl_change_out *changes; /* time order */
    size_t n_changes;
    fl_group *groups;       /* most frequent first */
    size_t n_groups;
    fl_revision *revisions; /* by service, then first_seen */
    size_t n_revisions;
    fl_call_edge *edges;    /* the call graph, by (caller, callee) */
    size_t n_edges;
    fl_cause *causes;       /* best first */
    size_t n_causes;
    double confidence_threshold; /* top score below this: "no confident cause" */
    bool confident;
} fl_result;

fl_result *fl_result_new(void);
void fl_result_free(fl_result *r);
/* Frees what cr owns and zeroes it. */
void fl_commit_range_clear(fl_commit_range *cr);
/* Copies counters and warnings from the reader's diagnostics into r->input. */
int fl_result_set_input(fl_result *r, const fl_diag *d);

#endif
