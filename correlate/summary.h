/* Summary files: an aggregate and its input diagnostics on disk, so that shards of one run
 * (`faultline analyze --shard I/N --summary-out F`) can be ranked together later
 * (`faultline merge F...`). The layout is in docs/summary-format.md. Its size depends on the
 * services, revisions, time buckets and groups, never on the number of entries: the
 * aggregate is already bounded that way, and the diagnostics keep at most
 * FL_DIAG_MAX_WARNINGS warnings.
 *
 *     fl_summary_meta m = {.shard_index = 2, .shard_count = 8,
 *                          .rules_digest = fl_summary_rules_digest(agg, rules)};
 *     fl_summary_write(f, agg, &diag, &m, err, sizeof err);
 *     ...
 *     fl_agg *part; fl_diag d; fl_diag_init(&d);
 *     fl_summary_read(path, &part, &d, &m, err, sizeof err);   // err names the file
 *     fl_agg_merge(total, part); fl_summary_diag_add(&all, &d);
 *     ... fl_summary_diag_finish(&all);
 */
#ifndef FL_SUMMARY_H
#define FL_SUMMARY_H

#include "fl_correlate.h"
#include "fl_diag.h"

#include <stdio.h>

/* 2: TIME section, overflow pair, changes_dropped; 3: GRPH, GATE; 4: time cells of field values
 * and fcells_dropped; 5: time cells of each group's entries without a revision, and of its
 * captured values past the cap */
#define FL_SUMMARY_VERSION 5

typedef struct fl_summary_meta {
    uint32_t shard_index; /* which shard the summary is of */
    uint32_t shard_count; /* 0: not sharded */
    uint64_t rules_digest;
    uint64_t checksum; /* read only: the file's checksum (the same file given twice) */
    /* What the gate between reading and classifying did (src/engine/gate.c): only filter,
     * project, filtered_out, duplicates and dedup_unchecked are written and read. */
    fl_input_summary gate;
} fl_summary_meta;

/* A digest of what the report takes from the rules for the classes a's groups belong to
 * (class id and remediation steps): two summaries, or a summary and the merging process,
 * rank the same way only when their digests agree. 0 when a has no classified group. */
uint64_t fl_summary_rules_digest(const fl_agg *a, const fl_rules *rules);

/* Writes a summary of a and d to f. Returns 0, or FL_EIO / FL_ENOMEM with errbuf filled. */
int fl_summary_write(FILE *f, const fl_agg *a, const fl_diag *d, const fl_summary_meta *m,
                     char *errbuf, size_t errlen);

/* Reads the summary in path. On success *agg is a new aggregate (to merge with fl_agg_merge
 * and free), d (initialised by the caller) holds its diagnostics and *m its header. A file
 * that is not a summary, of another format version, truncated or failing its checksum is
 * refused: FL_EPARSE with errbuf naming path and the problem; FL_ENOTFOUND when unreadable. */
int fl_summary_read(const char *path, fl_agg **agg, fl_diag *d, fl_summary_meta *m, char *errbuf,
                    size_t errlen);

/* The same from len bytes in memory (a delta summary read from Kafka, `tail --summaries-from`);
 * path only names them in messages. */
int fl_summary_read_mem(const char *path, const void *data, size_t len, fl_agg **agg, fl_diag *d,
                        fl_summary_meta *m, char *errbuf, size_t errlen);

/* Adds the diagnostics of one summary into dst (counters summed, warnings and truncated
 * names appended). Returns 0 or FL_ENOMEM. */
int fl_summary_diag_add(fl_diag *dst, const fl_diag *src);
/* Puts the merged diagnostics in the order one pass reads the files: warnings and truncated
 * names sorted by file (path components in strcmp order, which is the order directories are
 * walked), then line (line 0, about the file as a whole, last), then order within the file.
 * Duplicates that every shard reports (a directory that cannot be opened, a bad --changes
 * line) are kept once, and the list is cut to FL_DIAG_MAX_WARNINGS, the rest counted as
 * dropped. Returns 0 or FL_ENOMEM. */
int fl_summary_diag_finish(fl_diag *d);

#endif
