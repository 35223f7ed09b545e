/* The live engine behind `faultline tail`.
 *
 * Sources (ingest/live) hand raw LogEntry records to the engine on one libuv loop; the engine
 * parses and de-duplicates them (insertId, logName and timestamp, else a content hash), joins
 * split stack traces, applies the filter (the same assembler and gate as `analyze`,
 * live_assemble.c), classifies and counts them into a sliding-window aggregate. Sources are
 * acknowledged only at a checkpoint, after the counts are durable: with a state directory every
 * record is appended to a journal when it arrives (before reassembly, so a trace still held is
 * in it), and the journal is fsynced before any Kafka offset is stored, Pub/Sub message acked
 * or file position saved; a restart replays the journal, so a record delivered again after a
 * crash is counted once and a half-assembled trace completes (docs/tail.md). The engine also keeps the memory budget (pausing sources above it), reloads
 * rules, and announces a new top cause (--on-new-cause command, webhook through src/net) with a
 * cooldown that survives restarts. Everything it announces is built from the redacted result.
 *
 * The engine never prints: messages for the user go to opts.message. The CLI keeps the
 * options, the timers and the screen. */
#ifndef FL_LIVE_ENGINE_H
#define FL_LIVE_ENGINE_H

#include <uv.h>

#include "fl_live.h"
#include "fl_pipeline.h"
#include "fl_reports.h"

#define FL_LIVE_MAX_SOURCES 16
#define FL_LIVE_DEDUP_DEFAULT 500000
#define FL_LIVE_HOLD_DEFAULT_MS 2000

typedef struct fl_live_engine fl_live_engine;

typedef struct fl_live_engine_opts {
    fl_pipeline_opts pipeline; /* rules, --changes files, analysis options */
    bool slow_json;            /* parse with jansson (the reference parser) */
    bool no_redact;            /* announce raw text (the user asked for it) */
    const fl_redact_policy *redact; /* actors and allow-list of what is announced; NULL: defaults */
    const char *state_dir;     /* journal, checkpoints and fired.tsv; NULL: none */
    fl_time window_us;         /* the sliding window */
    uint64_t cooldown_ms;      /* the same cause is not announced again within this */
    size_t dedup_max;          /* record ids remembered; 0: FL_LIVE_DEDUP_DEFAULT */
    uint64_t max_memory_mb;    /* sources pause while more is held (live_memory.c); 0: 1024 */
    uint64_t hold_ms;          /* a split stack trace waits this long for the rest of it;
                                * 0: FL_LIVE_HOLD_DEFAULT_MS */
    const char *on_new_cause;  /* sh -c command run for a new top cause; NULL: none */
    const char *webhook;       /* URL the new top cause is POSTed to; NULL: none */
    const char *webhook_secret; /* Standard Webhooks secret; NULL: unsigned */
    /* Stage two of the Kafka pipeline (--summaries-from): records are delta summaries, applied
     * once per raw offset range (docs/scale.md). Stage one needs no option: a source opened
     * with summaries_to gets the engine's delta sink. */
    bool summaries_from;
    /* A message for the user (source events, checkpoint trouble, announcements). */
    void (*message)(void *arg, const char *msg);
    void *message_arg;
} fl_live_engine_opts;

/* Loads the rules and the --changes files (a bad line is a warning in the diag, and skipped),
 * opens and replays the journal. Strings in opts are borrowed for the engine's lifetime.
 * Returns 0, FL_EINVAL (bad rules, unreadable --changes), FL_EIO (state directory) or
 * FL_ENOMEM, with errbuf saying what. */
int fl_live_engine_new(fl_live_engine **out, uv_loop_t *loop, const fl_live_engine_opts *opts,
                       char *errbuf, size_t errlen);
/* Frees the engine; its sources must be closed (fl_live_engine_close) and the loop run. */
void fl_live_engine_free(fl_live_engine *e);

/* Opens a source feeding the engine. Returns 0 or a code with errbuf filled. */
int fl_live_engine_add_source(fl_live_engine *e, const fl_live_ops *ops,
                              const fl_live_config *cfg, char *errbuf, size_t errlen);
size_t fl_live_engine_n_sources(const fl_live_engine *e);
fl_live_source *fl_live_engine_source(const fl_live_engine *e, size_t i);
/* True when every source is finite and has ended (stdin only). */
bool fl_live_engine_sources_ended(const fl_live_engine *e);

/* Makes the counts durable, lets every source acknowledge what it delivered, and compacts a
 * journal grown large. */
void fl_live_engine_checkpoint(fl_live_engine *e);
/* Pauses every source while the memory the process holds is above the budget, resumes them
 * below the low-water mark (LIVE_MEMORY_LOW_WATER_PCT of it); see live_memory.c. */
void fl_live_engine_check_memory(fl_live_engine *e);
/* SIGHUP: reloads the rule files; on failure the old rules stay. */
void fl_live_engine_reload_rules(fl_live_engine *e);
/* The input ended or tail stops: releases the stack traces still held by reassembly into the
 * counts (not into the journal, so after a restart a trace can still complete). */
int fl_live_engine_finish(fl_live_engine *e);
/* Expires the aggregate to the window (and a relative --since) and ranks it (the same
 * fl_analyze as `analyze`); the input section names the filter as analyze's does. */
int fl_live_engine_analyze(fl_live_engine *e, fl_result **out);
/* Announces r's top cause if it is new, above the threshold and out of its cooldown. */
void fl_live_engine_announce(fl_live_engine *e, const fl_result *r);
/* Starts closing every source; done(arg) runs once all are closed (at once if none). */
void fl_live_engine_close(fl_live_engine *e, void (*done)(void *arg), void *arg);

/* What the run's input makes the exit status, as for `analyze`: 3 when records were malformed
 * or oversize or a damaged journal lost counts, 2 when nothing at all could be read, else 0. */
int fl_live_engine_exit_status(const fl_live_engine *e);
/* Counters: entries resumed from the journal at start, redelivered records recognised (a
 * record again from the source that delivered it first, or counted before a restart; a copy
 * from another source is a duplicate in the data, in the report's input.duplicates). */
uint64_t fl_live_engine_resumed(const fl_live_engine *e);
uint64_t fl_live_engine_duplicates(const fl_live_engine *e);
const fl_diag *fl_live_engine_diag(const fl_live_engine *e);
/* Stage two: deltas applied, skipped as already applied, refused as overlapping, and applied
 * after a gap of offsets no delta covered. */
void fl_live_engine_delta_counts(const fl_live_engine *e, uint64_t *applied, uint64_t *duplicate,
                                 uint64_t *refused, uint64_t *gaps);

#endif
