/* Two small open-addressing tables used by the aggregate: strings to indices (services x
 * revisions, error groups) and fixed-size cell keys to indices (minute buckets). They hold
 * indices into the caller's vectors, so iteration order never leaks into results: callers walk
 * their vectors, which they sort before anything is reported. Internal to correlate/. */
#ifndef FL_CORRELATE_MAP_H
#define FL_CORRELATE_MAP_H

#include "fl_common.h"

typedef struct fl_strmap {
    char **keys;     /* owned copies */
    uint32_t *vals;
    size_t cap;      /* power of two, 0 when empty */
    size_t n;
} fl_strmap;

void fl_strmap_init(fl_strmap *m);
void fl_strmap_free(fl_strmap *m);
/* Returns the value of key, or -1. */
long fl_strmap_get(const fl_strmap *m, const char *key);
int fl_strmap_put(fl_strmap *m, const char *key, uint32_t val);

/* A time bucket: group (-1 for a revision's traffic cell), revision, first minute since epoch. */
typedef struct fl_cell_key {
    int32_t grp;
    int32_t rev;
    int64_t minute;
} fl_cell_key;

typedef struct fl_cellmap {
    fl_cell_key *keys;
    uint32_t *vals;
    uint8_t *used;
    size_t cap;
    size_t n;
} fl_cellmap;

void fl_cellmap_init(fl_cellmap *m);
void fl_cellmap_free(fl_cellmap *m);
long fl_cellmap_get(const fl_cellmap *m, const fl_cell_key *k);
int fl_cellmap_put(fl_cellmap *m, const fl_cell_key *k, uint32_t val);
/* Makes room for n keys, so that the next n puts of new keys cannot fail. */
int fl_cellmap_reserve(fl_cellmap *m, size_t n);

#endif
