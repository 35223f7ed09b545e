/* The first pass of a relative --since/--until (gate_prescan.c): finds the newest entry and
 * resolves the bounds. Standard input is copied to a temporary file so it can be read twice. */
#ifndef FL_GATE_PRESCAN_H
#define FL_GATE_PRESCAN_H

#include "fl_gate.h"
#include "fl_ingest.h"

typedef struct fl_prescan {
    const char **inputs; /* the inputs for the second pass ("-" replaced by spool) */
    size_t n_inputs;
    char *spool;         /* temporary copy of stdin, removed by fl_prescan_free; or NULL */
} fl_prescan;

/* Reads every input once (parse only) and calls fl_gate_consider/fl_gate_resolve. Returns 0,
 * or a negative code with errbuf filled (stdin could not be spooled, read error). */
int fl_gate_prescan(fl_gate *g, const char *const *inputs, size_t n_inputs,
                    const fl_reader_opts *ropts, fl_prescan *ps, char *errbuf, size_t errlen);
void fl_prescan_free(fl_prescan *ps);

#endif
