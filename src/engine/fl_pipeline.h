/* The batch pipeline every subcommand shares: read -> classify -> aggregate -> analyze.
 * analyze, postmortem, the scenario suite and the benchmark all run exactly this. */
#ifndef FL_PIPELINE_H
#define FL_PIPELINE_H

#include "fl_correlate.h"
#include "fl_gate.h"
#include "fl_ingest.h"
#include "fl_patterns.h"

typedef struct fl_pipeline_opts {
    const char *const *pattern_dirs; /* user rule dirs, loaded after the built-ins */
    size_t n_pattern_dirs;
    bool no_builtin_patterns;
    const char *builtin_patterns_dir; /* FAULTLINE_PATTERNS_DIR (the CLI reads it); NULL: below */
    bool no_prefilter;                /* FL_NO_PREFILTER: every regex on every candidate line */
    const char *const *changes_files; /* --changes FILE (NDJSON from CI) */
    size_t n_changes_files;
    fl_reader_opts reader;
    fl_analyze_opts analyze;  /* .rules is filled in by the pipeline */
    int threads;              /* 0: all cores */
    fl_filter_spec filter;    /* --since, --service...; de-duplication (src/engine/gate.c) */
    /* What the gate did (filter text, project, counts): fl_pipeline_aggregate writes it here
     * and fl_pipeline_report copies it into the result's input summary; summaries carry it
     * between the two. NULL: not kept (fl_pipeline_run keeps its own). */
    fl_input_summary *gate_summary;
    /* With two or more threads, batches a worker counts before it hands its aggregate over to
     * the shared one; 0: 512 (about 128 MiB). For tests. */
    size_t handover_batches;
} fl_pipeline_opts;

/* Directory of the built-in rules: override when set and non-empty (the CLI passes
 * $FAULTLINE_PATTERNS_DIR), else the source tree's patterns/rules when run from a build
 * directory, else the installed data dir. */
const char *fl_builtin_patterns_dir(const char *override);

/* Loads the rules (built-ins, then user dirs) into *rules. errbuf gets file/rule/offset. */
int fl_pipeline_load_rules(const fl_pipeline_opts *opts, fl_rules **rules, char *errbuf,
                           size_t errlen);

/* The first half of fl_pipeline_run: reads, classifies and aggregates the inputs (and the
 * --changes files). On success *agg and *rules are set and owned by the caller; errors as for
 * fl_pipeline_run. `faultline analyze --summary-out` stops here and writes the aggregate. */
int fl_pipeline_aggregate(const char *const *inputs, size_t n_inputs,
                          const fl_pipeline_opts *opts, fl_diag *diag, fl_agg **agg,
                          fl_rules **rules, char *errbuf, size_t errlen);
/* The second half: ranks agg with rules (titles, remediation) and opts->analyze and adds the
 * input summary from diag, after the aggregate's own warnings (caps, far-away timestamps). `faultline merge` runs it over merged summaries. */
int fl_pipeline_report(const fl_agg *agg, const fl_rules *rules, const fl_pipeline_opts *opts,
                       fl_diag *diag, fl_result **out, char *errbuf, size_t errlen);

/* Copies the gate's record (filter, project, filtered out, duplicates) into in; NULL: none. */
void fl_pipeline_put_gate(const fl_input_summary *gate, fl_input_summary *in);

/* Runs the whole batch pipeline over the inputs. Input problems go to diag (and into the
 * result's input summary); returns 0 with *out set, or a negative code with errbuf filled
 * (bad rules: FL_EINVAL/FL_EPARSE; no readable input: FL_ENOTFOUND). */
int fl_pipeline_run(const char *const *inputs, size_t n_inputs, const fl_pipeline_opts *opts,
                    fl_diag *diag, fl_result **out, char *errbuf, size_t errlen);

/* What the workers of the last run with two or more threads did, for tests that count what
 * a run costs rather than time it. Not for concurrent runs. */
typedef struct fl_pipeline_counts {
    uint64_t batches; /* batches read */
    size_t sleeps;    /* waits of a worker for work (each a sleep and a wake-up) */
    size_t aggregates; /* made by the workers (one each, and one after each hand-over that
                        * another batch followed) */
    size_t reads_put_off; /* batches parsed or classified while the next one could have been
                           * read (no one reading, an empty batch free) */
} fl_pipeline_counts;
void fl_pipeline_last_counts(fl_pipeline_counts *out);

#endif
