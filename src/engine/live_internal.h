/* Internal to src/engine: the live engine's state, shared by live.c (counting, checkpoints,
 * budget, reload, sources) and live_alert.c (announcing a new top cause). */
#ifndef FL_LIVE_INTERNAL_H
#define FL_LIVE_INTERNAL_H

#include "fl_live_engine.h"

#define LIVE_MAX_FIRED 64
#define LIVE_KEY_MAX 320

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
