/* Far-away timestamps: a histogram of entry times and the fence that says which entries are
 * the bulk of the input.
 *
 * One entry stamped 9999-12-31 (or 1970-01-01) among an hour of logs must not stretch the
 * analysis window to eight thousand years. The histogram counts entries per bin of `width`
 * minutes; when it has more than AGG_TIME_BINS non-empty bins the width doubles. Aligned bins
 * nest, so the width is the smallest that fits the set of timestamps seen: the histogram, and
 * so the fence, is the same for any input order, thread count or shard merge order.
 *
 * The fence is robust: the quartiles of the histogram, widened by ten interquartile ranges and
 * at least a week on each side. What lies outside is an outlier only while it is rare (at most
 * 1% of the entries on that side): a second cluster of real data is never cut away, whatever
 * its distance. The earliest and latest few entries are kept with file and line, so each
 * outlier can be named in a warning. */
#include "agg_internal.h"

#include <stdlib.h>
#include <string.h>

#define FENCE_FLOOR_MIN (7 * 1440) /* a week: nothing closer to the bulk is an outlier */
#define FENCE_IQRS 10

void agg_time_init(agg_time *t)
{
    memset(t, 0, sizeof(*t));
    fl_cellmap_init(&t->index);
    t->width = 1;
    t->hi = t->hi_buf + AGG_TIME_EXTREMES;
}

void agg_time_free(agg_time *t)
{
    fl_free(t->bins);
    fl_cellmap_free(&t->index);
    for (size_t i = 0; i < t->n_lo; i++)
        fl_free(t->lo[i].file);
    for (size_t i = 0; i < t->n_hi; i++)
        fl_free(t->hi[i].file);
    agg_time_init(t);
}

static int64_t minute_of(fl_time t)
{
    return t >= 0 ? t / AGG_MINUTE : (t - AGG_MINUTE + 1) / AGG_MINUTE;
}

static int extreme_cmp(fl_time ts, const char *file, uint64_t line, const agg_extreme *x)
{
    if (ts != x->ts)
        return ts < x->ts ? -1 : 1;
    int c = strcmp(file, x->file);
    if (c)
        return c;
    return line < x->line ? -1 : line > x->line;
}

/* The file name for an entry that takes the place of one falling out of a full list: the
 * leaving entry's copy when the name is the same (most often), else a new one (the old is
 * freed). NULL when out of memory; then nothing has changed. */
static char *reuse_file_copy(char *leaving, const char *file)
{
    if (strcmp(leaving, file) == 0)
        return leaving;
    char *d = fl_strdup(file);
    if (d)
        fl_free(leaving);
    return d;
}

/* A full list gets an entry before all it holds: the common case of the latest list with
 * time-ordered input, so it is one fixed-size move (issue 15). The last entry falls out; its
 * copy of the file name is kept when the name is the same. Nothing changes when it fails. */
static int extreme_push_front(agg_extreme *v, fl_time ts, const char *file, uint64_t line)
{
    char *copy = reuse_file_copy(v[AGG_TIME_EXTREMES - 1].file, file);
    if (!copy)
        return FL_ENOMEM;
    memmove(&v[1], &v[0], (AGG_TIME_EXTREMES - 1) * sizeof(*v));
    v[0] = (agg_extreme){ts, copy, line};
    return 0;
}

/* The same for the full latest list, without moving it: hi starts one place lower in hi_buf;
 * once in AGG_TIME_EXTREMES times, at its bottom, its entries are copied back to the top
 * half (issue 15: the move was most of a time-ordered entry's cost here). */
int agg_time_push_latest(agg_time *t, fl_time ts, const char *file, uint64_t line)
{
    agg_extreme *v = t->hi;
    char *copy = reuse_file_copy(v[AGG_TIME_EXTREMES - 1].file, file);
    if (!copy)
        return FL_ENOMEM;
    if (v == t->hi_buf) {
        memmove(&t->hi_buf[AGG_TIME_EXTREMES + 1], v, (AGG_TIME_EXTREMES - 1) * sizeof(*v));
        v = &t->hi_buf[AGG_TIME_EXTREMES + 1];
    }
    v--;
    v[0] = (agg_extreme){ts, copy, line};
    t->hi = v;
    return 0;
}

/* Keeps the AGG_TIME_EXTREMES first entries in the order sign * (ts, file, line): sign 1
 * keeps the earliest (lo), -1 the latest (hi). */
static int extreme_offer(agg_extreme *v, size_t *n, int sign, fl_time ts, const char *file,
                         uint64_t line)
{
    /* pos: after every kept entry not later than this one (in sign order); binary search, as
     * with time-ordered input every entry enters the latest list at its front. */
    size_t pos = 0, hi = *n;
    if (hi && (sign > 0 ? ts < v[0].ts : ts > v[0].ts)) {
        if (hi == AGG_TIME_EXTREMES)
            return extreme_push_front(v, ts, file, line);
        hi = 0; /* before them all */
    }
    while (pos < hi) {
        size_t mid = (pos + hi) / 2;
        if (sign * extreme_cmp(ts, file, line, &v[mid]) < 0)
            hi = mid;
        else
            pos = mid + 1;
    }
    if (pos > 0 && extreme_cmp(ts, file, line, &v[pos - 1]) == 0)
        return 0; /* the same entry through two shards */
    if (pos >= AGG_TIME_EXTREMES)
        return 0;
    char *copy = NULL;
    if (*n == AGG_TIME_EXTREMES) {
        /* The entry that falls out usually comes from the same file: keep its copy. */
        copy = v[--*n].file;
        if (strcmp(copy, file) != 0) {
            fl_free(copy);
            copy = NULL;
        }
    }
    if (!copy && !(copy = fl_strdup(file)))
        return FL_ENOMEM;
    memmove(&v[pos + 1], &v[pos], (*n - pos) * sizeof(*v));
    v[pos] = (agg_extreme){ts, copy, line};
    (*n)++;
    return 0;
}

/* Folds the bins to width w. Nothing changes when it fails. */
static int fold_bins(agg_time *t, int64_t w)
{
    fl_cellmap idx;
    fl_cellmap_init(&idx);
    if (fl_cellmap_reserve(&idx, t->n_bins, t->bins, sizeof(agg_tbin)))
        return FL_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < t->n_bins; i++) {
        agg_tbin b = t->bins[i];
        b.k.minute = agg_bucket_start(b.k.minute, w);
        long j = fl_cellmap_get(&idx, &b.k, t->bins, sizeof(agg_tbin));
        if (j >= 0) {
            t->bins[j].n += b.n;
            continue;
        }
        t->bins[n] = b;
        fl_cellmap_put(&idx, (uint32_t)n++, t->bins, sizeof(agg_tbin)); /* reserved */
    }
    fl_cellmap_free(&t->index);
    t->index = idx;
    t->n_bins = n;
    t->width = w;
    return 0;
}

static int bin_insert(agg_time *t, int64_t minute, uint64_t n);

/* Entries mostly come in time order: the bin the last one went to is tried inline (bins are
 * unique by minute, so a bin with this minute is the one the index would find). */
static inline int bin_add(agg_time *t, int64_t minute, uint64_t n)
{
    if (t->last < t->n_bins && t->bins[t->last].k.minute == agg_bucket_start(minute, t->width)) {
        t->bins[t->last].n += n;
        return 0;
    }
    return bin_insert(t, minute, n);
}

static __attribute__((noinline)) int bin_insert(agg_time *t, int64_t minute, uint64_t n)
{
    fl_cell_key k;
    memset(&k, 0, sizeof(k));
    for (;;) {
        k.minute = agg_bucket_start(minute, t->width);
        /* Entries mostly come in time order: try the bin the last one went to. Bins are unique
         * by minute, so a bin with this minute is the one the index would find. */
        if (t->last < t->n_bins && t->bins[t->last].k.minute == k.minute) {
            t->bins[t->last].n += n;
            return 0;
        }
        long i = fl_cellmap_get(&t->index, &k, t->bins, sizeof(agg_tbin));
        if (i >= 0) {
            t->bins[i].n += n;
            t->last = (size_t)i;
            return 0;
        }
        if (t->n_bins < AGG_TIME_BINS || t->width >= (INT64_C(1) << 50))
            break;
        if (fold_bins(t, t->width * 2))
            return FL_ENOMEM;
    }
    if (t->n_bins == t->cap_bins) {
        size_t cap = t->cap_bins ? t->cap_bins * 2 : 64;
        agg_tbin *p = fl_realloc(t->bins, cap * sizeof(*p));
        if (!p)
            return FL_ENOMEM;
        t->bins = p;
        t->cap_bins = cap;
    }
    t->bins[t->n_bins].k = k;
    t->bins[t->n_bins].n = n;
    if (fl_cellmap_put(&t->index, (uint32_t)t->n_bins, t->bins, sizeof(agg_tbin)))
        return FL_ENOMEM;
    t->last = t->n_bins++;
    return 0;
}

static int add_at(agg_time *t, fl_time ts, int64_t minute, uint64_t n, const char *file,
                  uint64_t line)
{
    if (bin_add(t, minute, n))
        return FL_ENOMEM;
    t->n += n;
    /* Most entries are neither among the earliest nor the latest: one comparison says so,
     * before a call (issue 15). */
    bool full_lo = t->n_lo == AGG_TIME_EXTREMES, full_hi = t->n_hi == AGG_TIME_EXTREMES;
    if (full_lo && ts < t->lo[0].ts) {
        /* the earliest so far: newest-first input (gcloud's order), every entry */
        if (extreme_push_front(t->lo, ts, file, line))
            return FL_ENOMEM;
    } else if (!(full_lo && ts > t->lo[AGG_TIME_EXTREMES - 1].ts) &&
               extreme_offer(t->lo, &t->n_lo, 1, ts, file, line)) {
        return FL_ENOMEM;
    }
    if (full_hi && ts > t->hi[0].ts) /* the latest so far: time-ordered input, every entry */
        return agg_time_push_latest(t, ts, file, line);
    if (!(full_hi && ts < t->hi[AGG_TIME_EXTREMES - 1].ts) &&
        extreme_offer(t->hi, &t->n_hi, -1, ts, file, line))
        return FL_ENOMEM;
    return 0;
}

int agg_time_add(agg_time *t, fl_time ts, uint64_t n, const char *file, uint64_t line)
{
    return add_at(t, ts, minute_of(ts), n, file, line);
}

int agg_time_add_minute(agg_time *t, fl_time ts, int64_t minute, const char *file, uint64_t line)
{
    return add_at(t, ts, minute, 1, file, line);
}

int agg_time_merge(agg_time *dst, const agg_time *src)
{
    if (src->width > dst->width && fold_bins(dst, src->width))
        return FL_ENOMEM;
    for (size_t i = 0; i < src->n_bins; i++) {
        if (bin_add(dst, src->bins[i].k.minute, src->bins[i].n))
            return FL_ENOMEM;
        dst->n += src->bins[i].n;
    }
    for (size_t i = 0; i < src->n_lo; i++)
        if (extreme_offer(dst->lo, &dst->n_lo, 1, src->lo[i].ts, src->lo[i].file,
                          src->lo[i].line))
            return FL_ENOMEM;
    for (size_t i = 0; i < src->n_hi; i++)
        if (extreme_offer(dst->hi, &dst->n_hi, -1, src->hi[i].ts, src->hi[i].file,
                          src->hi[i].line))
            return FL_ENOMEM;
    return 0;
}

void agg_time_expire(agg_time *t, fl_time ts)
{
    int64_t cut = minute_of(ts);
    size_t n = 0;
    t->n = 0;
    for (size_t i = 0; i < t->n_bins; i++)
        if (t->bins[i].k.minute + t->width > cut) {
            t->bins[n++] = t->bins[i];
            t->n += t->bins[n - 1].n;
        }
    t->n_bins = n;
    fl_cellmap_free(&t->index);
    fl_cellmap_init(&t->index);
    if (fl_cellmap_reserve(&t->index, n, t->bins, sizeof(agg_tbin)) == 0)
        for (size_t i = 0; i < n; i++)
            fl_cellmap_put(&t->index, (uint32_t)i, t->bins, sizeof(agg_tbin));
    else
        t->n_bins = 0; /* no index: start the histogram afresh */
    size_t k = 0;
    for (size_t i = 0; i < t->n_lo; i++) {
        if (t->lo[i].ts < ts)
            fl_free(t->lo[i].file);
        else
            t->lo[k++] = t->lo[i];
    }
    t->n_lo = k;
    k = 0;
    for (size_t i = 0; i < t->n_hi; i++) {
        if (t->hi[i].ts < ts)
            fl_free(t->hi[i].file);
        else
            t->hi[k++] = t->hi[i];
    }
    t->n_hi = k;
}

static int tbin_cmp(const void *x, const void *y)
{
    const agg_tbin *a = x, *b = y;
    return a->k.minute < b->k.minute ? -1 : a->k.minute > b->k.minute;
}

/* The first minute of the bin that holds the entry of rank r (1-based) in time order. */
static int64_t rank_minute(const agg_tbin *v, size_t n, uint64_t r)
{
    uint64_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        seen += v[i].n;
        if (seen >= r)
            return v[i].k.minute;
    }
    return n ? v[n - 1].k.minute : 0;
}

bool agg_time_outside(const agg_time *t, const agg_fence *f, fl_time ts)
{
    int64_t b = agg_bucket_start(minute_of(ts), t->width);
    return (f->cut_lo && b + t->width - 1 < f->lo_min) || (f->cut_hi && b > f->hi_min);
}

void agg_time_fence(const agg_time *t, agg_fence *f)
{
    memset(f, 0, sizeof(*f));
    f->first = t->n_lo ? t->lo[0].ts : 0;
    f->last = t->n_hi ? t->hi[0].ts : 0;
    if (t->n < 3 || t->n_bins < 2)
        return; /* two entries far apart: nothing says which one is the odd one */
    agg_tbin *v = fl_malloc(t->n_bins * sizeof(*v));
    if (!v)
        return; /* no fence: the analysis still costs at most its bucket cap */
    memcpy(v, t->bins, t->n_bins * sizeof(*v));
    qsort(v, t->n_bins, sizeof(*v), tbin_cmp);
    size_t n = t->n_bins;
    int64_t q1 = rank_minute(v, n, (t->n + 3) / 4);
    int64_t q3 = rank_minute(v, n, (3 * t->n + 3) / 4) + t->width - 1;
    int64_t margin = (q3 - q1) * FENCE_IQRS;
    if (margin < FENCE_FLOOR_MIN)
        margin = FENCE_FLOOR_MIN;
    int64_t lo = q1 - margin, hi = q3 + margin;
    uint64_t out_lo = 0, out_hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].k.minute + t->width - 1 < lo)
            out_lo += v[i].n;
        else if (v[i].k.minute > hi)
            out_hi += v[i].n;
    }
    uint64_t rare = t->n / 100 > 1 ? t->n / 100 : 1;
    f->cut_lo = out_lo > 0 && out_lo <= rare;
    f->cut_hi = out_hi > 0 && out_hi <= rare;
    f->out_lo = f->cut_lo ? out_lo : 0;
    f->out_hi = f->cut_hi ? out_hi : 0;
    f->lo_min = lo;
    f->hi_min = hi;
    /* The earliest and latest entries inside: exact when one of the kept extremes is inside,
     * else the edge of the first bin inside. */
    if (f->cut_lo) {
        f->first = 0;
        for (size_t i = 0; i < t->n_lo && !f->first; i++)
            if (!agg_time_outside(t, f, t->lo[i].ts))
                f->first = t->lo[i].ts;
        for (size_t i = 0; i < n && !f->first; i++)
            if (v[i].k.minute + t->width - 1 >= lo)
                f->first = (v[i].k.minute < lo ? lo : v[i].k.minute) * AGG_MINUTE;
    }
    if (f->cut_hi) {
        f->last = 0;
        for (size_t i = 0; i < t->n_hi && !f->last; i++)
            if (!agg_time_outside(t, f, t->hi[i].ts))
                f->last = t->hi[i].ts;
        for (size_t i = n; i > 0 && !f->last; i--)
            if (v[i - 1].k.minute <= hi) {
                int64_t end = v[i - 1].k.minute + t->width - 1;
                f->last = (end > hi ? hi : end) * AGG_MINUTE + AGG_MINUTE - 1;
            }
    }
    fl_free(v);
}
