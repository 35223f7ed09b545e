/* fl_gate: which entries an analysis looks at. Between the reader and the classifier, the
 * gate drops entries outside the user's filter (--since/--until, --service, --revision,
 * --min-severity) and drops duplicates (the same insertId, logName and timestamp seen again,
 * as when two exports overlap). Batch (src/engine/pipeline.c) and live sources share it.
 *
 *     fl_gate *g;
 *     fl_gate_new(&g, &spec, err, sizeof err);        // parses --since/--until
 *     if (fl_gate_needs_newest(g)) fl_gate_set_newest(g, newest_entry_time);
 *     for each entry in input order: if (fl_gate_admit(g, e)) classify(e);
 *     fl_gate_annotate(g, &result->input);              // what was applied and dropped
 *     fl_gate_free(g);
 *
 * fl_gate_admit is not thread-safe: call it from one thread at a time and in input order
 * (the pipeline calls it in the turn-ordered section where multi-line reassembly runs), so
 * the first copy of a duplicate in input order is the one kept, for any thread count.
 *
 * Duplicates come from overlapping exports, so they are looked for only when the input is
 * several sources (several paths, or a directory): a single export or stream holds each entry
 * once, and then the gate keeps no memory at all (the streaming memory bound of
 * docs/PERFORMANCE.md stays flat). With several sources, keys are remembered as 64-bit hashes
 * in an open-addressing set of at most FL_GATE_DEDUP_MAX_SLOTS slots, 3/4 full at most:
 * 32 MiB and 3,145,728 distinct entries at the cap (48 MiB for the moment of the last
 * doubling). Past the cap the set stops growing: new keys are admitted without being
 * remembered (their copies would be counted twice) and the number of entries admitted
 * unchecked is reported, so the report says it is no longer exact. Entries without an
 * insertId are never treated as duplicates. */
#ifndef FL_GATE_H
#define FL_GATE_H

#include "fl_entry.h"
#include "fl_result.h"

#define FL_GATE_DEDUP_MAX_SLOTS (4u * 1024 * 1024)

typedef struct fl_filter_spec {
    const char *since; /* RFC 3339 / YYYY-MM-DD, or a duration back from the newest entry */
    const char *until; /* same forms */
    const char *const *services; /* globs (fnmatch); an entry matches any one */
    size_t n_services;
    const char *const *revisions; /* globs */
    size_t n_revisions;
    const char *min_severity; /* "ERROR", "warning", "400"...; NULL: none */
    bool no_dedup;            /* keep duplicates (--keep-duplicates; single-source input) */
    size_t dedup_max_slots;   /* 0: FL_GATE_DEDUP_MAX_SLOTS (tests set a small cap) */
    const char *tmpdir;       /* where fl_gate_prescan spools stdin ($TMPDIR, read by the
                               * CLI); NULL: /tmp */
} fl_filter_spec;

typedef struct fl_gate fl_gate;

/* Parses the spec. Returns 0, FL_ENOMEM, or FL_EINVAL with a message for the user in errbuf
 * ("--since: '3x' is neither an RFC 3339 time nor a duration like 30m, 2h, 7d"). */
int fl_gate_new(fl_gate **out, const fl_filter_spec *spec, char *errbuf, size_t errlen);
void fl_gate_free(fl_gate *g);

/* True when --since or --until is a duration, which counts back from the newest entry that
 * passes the other filters: the caller finds it (fl_gate_consider over every entry of a first
 * pass) and then calls fl_gate_set_newest before the first fl_gate_admit. */
bool fl_gate_needs_newest(const fl_gate *g);
/* First pass: notes e's time if e passes the service/revision/severity filters. */
void fl_gate_consider(fl_gate *g, const fl_entry *e);
/* Ends the first pass: resolves the durations against the newest entry considered. */
void fl_gate_resolve(fl_gate *g);

/* The lower bound --since stands for now (resolved), or INT64_MIN without --since. A live
 * caller that resolves a relative --since as entries arrive (fl_gate_consider, then
 * fl_gate_resolve, then fl_gate_admit, per entry) expires its aggregate to it, since the bound
 * only moves forward. */
fl_time fl_gate_since_at(const fl_gate *g);

/* The de-duplication key of an entry with an insertId: insertId, logName and timestamp,
 * hashed (never 0). `tail` recognises redelivered records by the same key. */
uint64_t fl_gate_dedup_key(const fl_entry *e);

/* For a caller that recognised e as a duplicate itself (tail, per record, before reassembly):
 * counts it as fl_gate_admit would, as filtered out when the filter drops it, else as a
 * duplicate. */
void fl_gate_count_duplicate(fl_gate *g, const fl_entry *e);

/* True if e should be analysed; false if it is filtered out or a duplicate (both counted). */
bool fl_gate_admit(fl_gate *g, const fl_entry *e);
/* spec->tmpdir, or "/tmp". */
const char *fl_gate_tmpdir(const fl_gate *g);
/* True when the gate filters anything (dedup alone does not count as a filter). */
bool fl_gate_filters(const fl_gate *g);

/* Writes what the gate did into in: the filter text, entries filtered out, duplicates
 * dropped, entries admitted unchecked past the dedup cap. */
void fl_gate_annotate(const fl_gate *g, fl_input_summary *in);

/* Parses a duration: "90s", "30m", "2h", "7d", "1w", combined "1h30m". Returns 0 and sets
 * *usec, or FL_EPARSE. */
int fl_duration_parse(const char *s, fl_time *usec);

#endif
