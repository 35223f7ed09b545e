/* reports/terminal: the live screen of `faultline tail`, redrawn in place on a terminal.
 *
 * fl_terminal_render draws one full frame (the newest entry's time, the top cause with its
 * rollback command, the next causes, per-revision request and 5xx sparklines on one shared
 * scale, error groups with the new ones highlighted, and the health of every source), fitted
 * to the terminal's size by priority, as a string of ANSI escapes that starts by homing the cursor;
 * writing it inside the alternate screen updates the view without scrolling. Pure: the same
 * inputs give the same bytes. */
#ifndef FL_TERMINAL_H
#define FL_TERMINAL_H

#include <stdio.h>

#include "fl_result.h"

typedef struct fl_term_source {
    const char *label; /* "kafka:logs" */
    uint64_t records;
    double per_sec;
    int64_t lag; /* -1 unknown */
    bool paused;
    bool connected;
    const char *last_error; /* "" none */
} fl_term_source;

typedef struct fl_term_view {
    int width, height; /* terminal size; 0: 100 x 40 */
    bool color;
    const char *title;  /* "faultline tail" */
    fl_time now;        /* wall clock: how far the newest entry is behind it */
    const char *window; /* "30m" */
    const fl_term_source *sources;
    size_t n_sources;
    const bool *group_is_new; /* per r->groups[i]: appeared since the previous frames */
    uint64_t duplicates;      /* redelivered records counted once */
    const char *status;       /* last notable event ("kafka: brokers down"), may be NULL */
} fl_term_view;

/* Escape sequences to enter and leave the alternate screen (and hide the cursor). */
extern const char fl_term_enter[];
extern const char fl_term_leave[];

/* Writes one frame to out. Returns 0 or FL_EIO. */
int fl_terminal_render(const fl_result *r, const fl_term_view *v, FILE *out);

#endif
