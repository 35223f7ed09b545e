/* Diagnostics of several summaries, merged into the order one pass would have reported them. */
#include "summary_internal.h"

#include <stdlib.h>
#include <string.h>

int fl_summary_diag_add(fl_diag *dst, const fl_diag *src)
{
    dst->entries += src->entries;
    dst->malformed += src->malformed;
    dst->oversize += src->oversize;
    dst->bytes += src->bytes;
    dst->files += src->files;
    dst->unreadable += src->unreadable;
    dst->warnings_dropped += src->warnings_dropped;
    if (src->n_truncated) {
        char **t = fl_realloc(dst->truncated, (dst->n_truncated + src->n_truncated) * sizeof(*t));
        if (!t)
            return FL_ENOMEM;
        dst->truncated = t;
        for (size_t i = 0; i < src->n_truncated; i++) {
            if (!(t[dst->n_truncated] = fl_strdup(src->truncated[i])))
                return FL_ENOMEM;
            dst->n_truncated++;
        }
    }
    if (src->n_warnings) {
        fl_warning *w = fl_realloc(dst->warnings, (dst->n_warnings + src->n_warnings) * sizeof(*w));
        if (!w)
            return FL_ENOMEM;
        dst->warnings = w;
        for (size_t i = 0; i < src->n_warnings; i++) {
            fl_warning *x = &w[dst->n_warnings];
            *x = src->warnings[i];
            x->file = fl_strdup(src->warnings[i].file);
            x->message = fl_strdup(src->warnings[i].message);
            if (!x->file || !x->message) {
                fl_free(x->file);
                fl_free(x->message);
                return FL_ENOMEM;
            }
            dst->n_warnings++;
        }
    }
    return 0;
}

/* Path order of the directory walk: component by component, each in strcmp order, so that
 * "a/b/c.json" (inside directory "a/b") comes before "a/b.json" just as the walk visits it. */
static int path_cmp(const char *x, const char *y)
{
    for (;;) {
        size_t nx = strcspn(x, "/"), ny = strcspn(y, "/");
        size_t n = FL_MIN(nx, ny);
        int c = memcmp(x, y, n);
        if (c)
            return c;
        if (nx != ny)
            return nx < ny ? -1 : 1;
        if (!x[nx] || !y[ny])
            return (x[nx] != 0) - (y[ny] != 0);
        x += nx + 1;
        y += ny + 1;
    }
}

typedef struct wkey {
    fl_warning w;
    size_t seq;
} wkey;

static int wkey_cmp(const void *pa, const void *pb)
{
    const wkey *a = pa, *b = pb;
    int c = path_cmp(a->w.file, b->w.file);
    if (c)
        return c;
    /* line 0 speaks of the file as a whole (unreadable, truncated at the end): last */
    uint64_t la = a->w.line ? a->w.line : UINT64_MAX, lb = b->w.line ? b->w.line : UINT64_MAX;
    if (la != lb)
        return la < lb ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int str_cmp(const void *pa, const void *pb)
{
    return path_cmp(*(char *const *)pa, *(char *const *)pb);
}

static bool same_warning(const fl_warning *a, const fl_warning *b)
{
    return a->kind == b->kind && a->line == b->line && strcmp(a->file, b->file) == 0 &&
           strcmp(a->message, b->message) == 0;
}

int fl_summary_diag_finish(fl_diag *d)
{
    if (d->n_truncated > 1) {
        qsort(d->truncated, d->n_truncated, sizeof(char *), str_cmp);
        size_t n = 1;
        for (size_t i = 1; i < d->n_truncated; i++) {
            if (strcmp(d->truncated[i], d->truncated[n - 1]) == 0)
                fl_free(d->truncated[i]);
            else
                d->truncated[n++] = d->truncated[i];
        }
        d->n_truncated = n;
    }
    if (!d->n_warnings)
        return 0;
    wkey *k = fl_calloc(d->n_warnings, sizeof(*k));
    if (!k)
        return FL_ENOMEM;
    for (size_t i = 0; i < d->n_warnings; i++)
        k[i] = (wkey){d->warnings[i], i};
    qsort(k, d->n_warnings, sizeof(*k), wkey_cmp);
    size_t n = 0, start = 0; /* start: first kept warning of the current (file, line) run */
    for (size_t i = 0; i < d->n_warnings; i++) {
        bool dup = false;
        if (n > start && strcmp(d->warnings[start].file, k[i].w.file) == 0 &&
            d->warnings[start].line == k[i].w.line) {
            for (size_t j = start; j < n && !dup; j++)
                dup = same_warning(&d->warnings[j], &k[i].w);
        } else {
            start = n;
        }
        if (dup) {
            /* one problem every shard saw: counted once, as one pass counts it */
            if (k[i].w.kind == FL_WARN_UNREADABLE && d->unreadable)
                d->unreadable--;
            fl_free(k[i].w.file);
            fl_free(k[i].w.message);
            continue;
        }
        d->warnings[n++] = k[i].w;
    }
    fl_free(k);
    for (size_t i = FL_DIAG_MAX_WARNINGS; i < n; i++) {
        fl_free(d->warnings[i].file);
        fl_free(d->warnings[i].message);
        d->warnings_dropped++;
    }
    d->n_warnings = FL_MIN(n, (size_t)FL_DIAG_MAX_WARNINGS);
    return 0;
}
