/* Internal to src/engine: the live engine's state, shared by live.c (counting, checkpoints,
 * budget, reload, sources) and live_alert.c (announcing a new top cause). */
#ifndef FL_LIVE_INTERNAL_H
#define FL_LIVE_INTERNAL_H

#include "fl_gate.h"
#include "fl_ingest.h"
#include "fl_live_engine.h"

#define LIVE_MAX_FIRED 64
#define LIVE_KEY_MAX 320

/* Reassembly in tail (live_assemble.c): a trace is held at most hold_ms of wall time (plus
 * one tick, an eighth of it) after its first line arrived, then released as it is. */
#define LIVE_HOLD_TICKS 8    /* ticks per hold time */
#define LIVE_HOLD_SAMPLES 16 /* ticks remembered: twice the hold time */
/* A journal record that is not a LogEntry: "#flush <age>" replays a hold-time release. */
#define LIVE_MARK_FLUSH "#flush "

/* De-duplication tags: the index of the source that delivered a record first, or this for a
 * record replayed from the journal. */
#define LIVE_TAG_JOURNAL FL_LIVE_MAX_SOURCES
_Static_assert(LIVE_TAG_JOURNAL <= FL_DEDUP_TAG_MAX, "a dedup tag per source and the journal");

typedef struct hold_sample {
    uint64_t ms;     /* loop time */
    uint64_t pushed; /* fl_multiline_pushed then */
} hold_sample;

typedef struct live_part_delta live_part_delta; /* live_deltas.c */
typedef struct live_hwm live_hwm;

typedef struct fired_cause {
    char key[LIVE_KEY_MAX];
    uint64_t at_ms; /* wall clock */
} fired_cause;

struct fl_live_engine {
    fl_live_engine_opts o;
    uv_loop_t *loop;
    fl_live_source *sources[FL_LIVE_MAX_SOURCES];
    size_t n_sources;
    size_t sources_open;
    void (*closed)(void *arg);
    void *closed_arg;
    fl_rules *rules;
    fl_rules *retired_rules[8]; /* kept alive: results may still point at old rule text */
    size_t n_retired;
    fl_matcher *matcher;
    fl_agg *agg;
    fl_diag diag;
    fl_dedup *dedup;
    fl_journal *journal;
    fl_entry entry;
    /* reassembly and the gate (live_assemble.c) */
    fl_multiline *ml; /* NULL with --no-multiline */
    fl_entry out;     /* a finished entry on its way through the gate */
    fl_gate *gate;    /* the filter; de-duplication is done per record, before reassembly */
    uv_timer_t *hold_timer; /* NULL: none (no loop, --no-multiline) or closed */
    uint64_t hold_ms;
    hold_sample hold[LIVE_HOLD_SAMPLES];
    size_t hold_next; /* ring position */
    uint64_t duplicates;
    uint64_t records_seen;
    uint64_t resumed;
    fl_time newest;
    bool paused;
    uint64_t bytes_since_check;
    bool rss_warned; /* resident size far above what is held: said once */
    bool journal_damaged;
    /* announcing */
    char top_key[LIVE_KEY_MAX];
    char command_key[LIVE_KEY_MAX]; /* the cause --on-new-cause last ran for, until fired */
    bool webhook_in_flight;
    fired_cause fired[LIVE_MAX_FIRED];
    size_t n_fired;
    /* two stages on Kafka (live_deltas.c): stage one's deltas, stage two's marks */
    fl_live_delta_sink delta_sink;
    live_part_delta *deltas;
    size_t n_deltas;
    live_hwm *hwms;
    size_t n_hwms;
    bool hwm_dirty;
    bool digest_warned;
    uint64_t deltas_applied, deltas_duplicate, deltas_refused, deltas_gap;
};

void live_message(fl_live_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
fl_time live_wall_now(void);
/* The newest entry's timestamp (the clock before any): the window ends there. */
fl_time live_window_anchor(const fl_live_engine *e);
/* live_assemble.c. Creates the gate and the assembler and starts the hold timer (loop may be
 * NULL in tests: no timer). Returns 0 or a code with errbuf filled. */
int live_assemble_init(fl_live_engine *e, char *errbuf, size_t errlen);
void live_assemble_free(fl_live_engine *e);
/* Takes e->entry (a new, not duplicate record): reassembly, the gate, classify and count. */
int live_assemble_take(fl_live_engine *e);
/* A record recognised again (e->entry): counted in the report as analyze's gate counts a
 * duplicate (or as filtered out, when the filter drops it). */
void live_assemble_count_duplicate(fl_live_engine *e);
/* A journal record that is a marker (starts with '#'): replays it. Returns 1 if it was one. */
int live_assemble_replay_mark(fl_live_engine *e, const char *data, size_t len);
/* Releases every held trace into the counts without journaling the cut: the end of input or a
 * stop (after a restart the journal holds the trace open again, so it can still complete). */
int live_assemble_flush_all(fl_live_engine *e);
/* Stops and closes the hold timer (it frees itself when the loop runs its close callback). */
void live_assemble_close(fl_live_engine *e);
/* A source finished closing. */
void live_source_closed(void *arg);
#define LIVE_MEMORY_CHECK_EVERY 1024u              /* records; a power of two */
#define LIVE_MEMORY_CHECK_BYTES (4u * 1024 * 1024) /* or record bytes */
/* STATE/fired.tsv: the causes already announced, so a restart within the cooldown does not
 * page again. */
void live_load_fired(fl_live_engine *e);

/* live_deltas.c: the two-stage Kafka pipeline (docs/scale.md). */
const fl_live_delta_sink *live_deltas_sink(fl_live_engine *e);
/* Stage two: applies one delta envelope if it continues its raw partition's high-water mark
 * (replay: from the journal, always). 1 applied, 0 skipped or refused, negative fatal. */
int live_delta_apply(fl_live_engine *e, const char *label, const char *data, size_t len,
                     bool replay);
int live_deltas_load_hwm(fl_live_engine *e);
/* Writes STATE/summaries.hwm when a mark moved (after the journal sync, before commits). */
void live_deltas_save_hwm(fl_live_engine *e);
void live_deltas_free(fl_live_engine *e);

#endif
