/* What every live source (ingest/kafka, pubsub, cloudlogging, follow, stdin) keeps and does the
 * same way: its fl_live_source head, delivery counts and rate for health, the last warning,
 * user events, and the close sequence that frees the source and then tells the consumer.
 *
 * A source struct starts with an fl_live_common named `common`, so the fl_live_source * the ops
 * receive, the fl_live_common * and the source's own pointer are all the same address. */
#ifndef FL_LIVE_COMMON_H
#define FL_LIVE_COMMON_H

#include "fl_live.h"

typedef struct fl_live_common {
    fl_live_source base; /* first */
    uv_loop_t *loop;
    uint64_t records; /* delivered, for health */
    fl_rate rate;
    bool paused;
    char last_error[160];    /* the last warning, "" when none */
    fl_ratelimit warn_limit; /* period_ms 0: every warning reaches the sink */
    void (*free_source)(void *source);
    int open_handles; /* still to close before the source is freed */
    void (*done)(void *);
    void *done_arg;
} fl_live_common;

/* Sets the head (ops, a copy of the sink) and the loop; free_source releases everything the
 * source owns (and the source itself) once its handles are closed. The label is the source's. */
void fl_live_common_init(fl_live_common *c, const fl_live_ops *ops, const fl_live_sink *sink,
                         uv_loop_t *loop, void (*free_source)(void *source));

/* Tells the user (sink->event). Warnings and errors become last_error; with a warn_limit period
 * they are also rate limited (last_error is still updated). */
void fl_live_common_event(fl_live_common *c, fl_live_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Counts one record and hands it to the sink; a record with no bytes is counted but not handed
 * over. Returns the sink's code (0 when not handed over). */
int fl_live_common_deliver(fl_live_common *c, const char *data, size_t len);

/* A record over the size limit was skipped: tells the sink (counted as oversize) and warns. */
void fl_live_common_oversize(fl_live_common *c, const char *what);

/* Fills the fields every source reports the same way: records, per_sec, paused, last_error;
 * zeroes the rest (the source sets lag and connected). */
void fl_live_common_health(fl_live_common *c, fl_live_health *h);

/* Starts closing: remembers done(arg) and that n_handles callbacks are still to come. */
void fl_live_common_closing(fl_live_common *c, void (*done)(void *), void *arg, int n_handles);
/* uv_close callback for a source's handles (handle->data is the source). */
void fl_live_common_handle_closed(uv_handle_t *h);
/* One of the source's resources finished closing (source is the source); after the last, frees
 * the source and then runs done. libuv runs close callbacks in no promised order. */
void fl_live_common_release(void *source);

#endif
