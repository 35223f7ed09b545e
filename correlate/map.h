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

/* Cell keys to indices into the caller's vector. The keys are not copied: element i of the
 * vector (base, stride bytes apart) starts with its fl_cell_key, so a slot costs 4 bytes. Every
 * call gets the vector's current base, since it moves when it grows. */
typedef struct fl_cellmap {
    uint32_t *slots; /* index + 1; 0 is a free slot */
    size_t cap;      /* power of two, 0 when empty */
    size_t n;
} fl_cellmap;

void fl_cellmap_init(fl_cellmap *m);
void fl_cellmap_free(fl_cellmap *m);
/* Returns the index of the element whose key is k, or -1. */
long fl_cellmap_get(const fl_cellmap *m, const fl_cell_key *k, const void *base, size_t stride);
/* Indexes element val, whose key must already be in the vector. */
int fl_cellmap_put(fl_cellmap *m, uint32_t val, const void *base, size_t stride);
/* Makes room for n more keys, so that the next n puts cannot fail. */
int fl_cellmap_reserve(fl_cellmap *m, size_t n, const void *base, size_t stride);

#endif
