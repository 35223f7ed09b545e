/* The aggregate indexed for the analysis: cells per revision and per group x revision, sorted
 * by minute, and sums over minute ranges. Revisions are viewed in (service, first_seen, name)
 * order so every loop over them is deterministic. */
#include "analyze_internal.h"
#include "evidence.h"
#include "score.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t an_minute_of(fl_time t)
{
    return t >= 0 ? t / AGG_MINUTE : (t - AGG_MINUTE + 1) / AGG_MINUTE;
}

static int cellv_cmp(const void *x, const void *y)
{
    const cellv *a = x, *b = y;
    return a->minute < b->minute ? -1 : a->minute > b->minute;
}

/* Adds up the cells of sorted v that fell into the same bucket; returns the new count. */
static size_t merge_same_bucket(cellv *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && v[k - 1].minute == v[i].minute) {
            cellv *d = &v[k - 1];
            d->requests += v[i].requests;
            d->r5xx += v[i].r5xx;
            d->errors += v[i].errors;
            if (v[i].first_ts && (!d->first_ts || v[i].first_ts < d->first_ts))
                d->first_ts = v[i].first_ts;
            continue;
        }
        v[k++] = v[i];
    }
    return k;
}

static int rev_order_cmp(const void *p, const void *q)
{
    const agg_rev *a = *(const agg_rev *const *)p, *b = *(const agg_rev *const *)q;
    int d = strcmp(a->service, b->service);
    if (d)
        return d;
    if (a->first_seen != b->first_seen)
        return a->first_seen < b->first_seen ? -1 : 1;
    return strcmp(a->revision, b->revision);
}

/* A group cell on its way into the index: sorted by (group, revision, minute). */
typedef struct gitem {
    size_t g, r;
    cellv v;
} gitem;

static int gitem_cmp(const void *x, const void *y)
{
    const gitem *a = x, *b = y;
    if (a->g != b->g)
        return a->g < b->g ? -1 : 1;
    if (a->r != b->r)
        return a->r < b->r ? -1 : 1;
    return a->v.minute < b->v.minute ? -1 : a->v.minute > b->v.minute;
}

/* The group cells, sparse: one run per (group, revision) pair that has cells. items is sorted
 * and its cells already folded to the analysis width. */
static int index_groups(ctx *c, gitem *items, size_t n)
{
    size_t ng = c->a->n_groups, pairs = 0;
    for (size_t i = 0; i < n; i++)
        pairs += i == 0 || items[i].g != items[i - 1].g || items[i].r != items[i - 1].r;
    c->gofs = fl_calloc(ng + 2, sizeof(size_t));
    c->grev = fl_calloc(pairs + 1, sizeof(an_grev));
    c->gcellv = fl_calloc(n + 1, sizeof(cellv));
    if (!c->gofs || !c->grev || !c->gcellv)
        return FL_ENOMEM;
    size_t k = 0, p = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i;
        for (; e < n && items[e].g == items[i].g && items[e].r == items[i].r; e++)
            c->gcellv[k + (e - i)] = items[e].v;
        an_grev *gr = &c->grev[p++];
        gr->r = items[i].r;
        gr->cells = &c->gcellv[k];
        gr->n = merge_same_bucket(&c->gcellv[k], e - i);
        c->gofs[items[i].g + 1] = p;
        k += e - i;
        i = e;
    }
    for (size_t g = 1; g <= ng; g++) /* groups without cells end where the previous one does */
        if (c->gofs[g] < c->gofs[g - 1])
            c->gofs[g] = c->gofs[g - 1];
    return 0;
}

/* Revisions are viewed in (service, first_seen, name) order, never in the aggregate's
 * insertion order, so every loop over them is deterministic. */
int an_build_index(ctx *c)
{
    const fl_agg *a = c->a;
    c->n_revs = a->n_revs;
    c->revs = fl_calloc(a->n_revs + 1, sizeof(rev_view));
    const agg_rev **order = fl_calloc(a->n_revs + 1, sizeof(agg_rev *));
    size_t *pos = fl_calloc(a->n_revs + 1, sizeof(size_t));
    size_t *cnt = fl_calloc(a->n_revs + 1, sizeof(size_t));
    gitem *items = NULL;
    size_t n_items = 0;
    int rc = FL_ENOMEM;
    if (!c->revs || !order || !pos || !cnt)
        goto out;
    for (size_t r = 0; r < a->n_revs; r++)
        order[r] = &a->revs[r];
    qsort(order, a->n_revs, sizeof(*order), rev_order_cmp);
    for (size_t r = 0; r < a->n_revs; r++)
        pos[order[r] - a->revs] = r;
    for (size_t i = 0; i < a->n_cells; i++) {
        const agg_cell *x = &a->cells[i];
        if (x->k.grp < 0)
            cnt[pos[x->k.rev]]++;
        else
            n_items++;
    }
    items = fl_calloc(n_items + 1, sizeof(gitem));
    if (!items)
        goto out;
    for (size_t r = 0; r < a->n_revs; r++) {
        c->revs[r].r = order[r];
        c->revs[r].cells = fl_calloc(cnt[r] + 1, sizeof(cellv));
        if (!c->revs[r].cells)
            goto out;
    }
    n_items = 0;
    for (size_t i = 0; i < a->n_cells; i++) {
        const agg_cell *x = &a->cells[i];
        /* The aggregate's cells may be finer than the analysis buckets: view them folded. */
        cellv v = {agg_bucket_start(x->k.minute, c->w), x->requests, x->r5xx, x->errors,
                   x->first_ts};
        size_t r = pos[x->k.rev];
        if (x->k.grp < 0) {
            rev_view *rv = &c->revs[r];
            rv->cells[rv->n++] = v;
            rv->requests += v.requests;
            rv->r5xx += v.r5xx;
            rv->errors += v.errors;
        } else {
            items[n_items++] = (gitem){(size_t)x->k.grp, r, v};
        }
    }
    for (size_t r = 0; r < a->n_revs; r++) {
        qsort(c->revs[r].cells, c->revs[r].n, sizeof(cellv), cellv_cmp);
        c->revs[r].n = merge_same_bucket(c->revs[r].cells, c->revs[r].n);
    }
    qsort(items, n_items, sizeof(gitem), gitem_cmp);
    rc = index_groups(c, items, n_items);
out:
    fl_free(order);
    fl_free(pos);
    fl_free(cnt);
    fl_free(items);
    return rc;
}

void an_free_index(ctx *c)
{
    for (size_t r = 0; c->revs && r < c->n_revs; r++)
        fl_free(c->revs[r].cells);
    fl_free(c->revs);
    fl_free(c->grev);
    fl_free(c->gofs);
    fl_free(c->gcellv);
    fl_free(c->ch);
    fl_free(c->cands);
}

const cellv *an_gcells(const ctx *c, size_t g, size_t r, size_t *n)
{
    size_t lo = c->gofs[g], hi = c->gofs[g + 1];
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (c->grev[m].r < r)
            lo = m + 1;
        else
            hi = m;
    }
    if (lo < c->gofs[g + 1] && c->grev[lo].r == r) {
        *n = c->grev[lo].n;
        return c->grev[lo].cells;
    }
    *n = 0;
    return NULL;
}

/* Traffic of revision r in minutes [ma, mb). */
void an_rev_sum(const ctx *c, size_t r, int64_t ma, int64_t mb, uint64_t *req, uint64_t *r5xx)
{
    ma = agg_bucket_start(ma, c->w);
    mb = agg_bucket_start(mb, c->w);
    *req = 0;
    if (r5xx)
        *r5xx = 0;
    const rev_view *v = &c->revs[r];
    for (size_t i = 0; i < v->n; i++) {
        if (v->cells[i].minute < ma || v->cells[i].minute >= mb)
            continue;
        *req += v->cells[i].requests;
        if (r5xx)
            *r5xx += v->cells[i].r5xx;
    }
}

/* Errors of group g on revision r in minutes [ma, mb); *first gets the earliest. */
uint64_t an_grp_sum(const ctx *c, size_t g, size_t r, int64_t ma, int64_t mb, fl_time *first)
{
    size_t len;
    const cellv *v = an_gcells(c, g, r, &len);
    uint64_t n = 0;
    ma = agg_bucket_start(ma, c->w);
    mb = agg_bucket_start(mb, c->w);
    for (size_t i = 0; i < len; i++) {
        const cellv *x = &v[i];
        if (x->minute < ma || x->minute >= mb)
            continue;
        n += x->errors;
        if (first && x->first_ts && (!*first || x->first_ts < *first))
            *first = x->first_ts;
    }
    return n;
}

/* The revisions of a service: [*lo, *hi) of the view, which is sorted by service (binary
 * search, so that per-group and per-change sums do not scan every revision). */
static void service_run(const ctx *c, const char *service, size_t *lo, size_t *hi)
{
    size_t a = 0, b = c->n_revs;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (strcmp(c->revs[m].r->service, service) < 0)
            a = m + 1;
        else
            b = m;
    }
    *lo = a;
    for (b = a; b < c->n_revs && strcmp(c->revs[b].r->service, service) == 0; b++)
        ;
    *hi = b;
}

/* Errors of group g on every revision of a service (NULL: all) in [ma, mb). */
uint64_t an_grp_sum_service(const ctx *c, size_t g, const char *service, int64_t ma,
                                int64_t mb, fl_time *first)
{
    uint64_t n = 0;
    size_t lo = 0, hi = c->n_revs;
    if (service)
        service_run(c, service, &lo, &hi);
    for (size_t i = c->gofs[g]; i < c->gofs[g + 1]; i++)
        if (c->grev[i].r >= lo && c->grev[i].r < hi)
            n += an_grp_sum(c, g, c->grev[i].r, ma, mb, first);
    return n;
}

uint64_t an_service_requests(const ctx *c, const char *service, int64_t ma, int64_t mb)
{
    uint64_t n = 0, x;
    size_t lo, hi;
    service_run(c, service, &lo, &hi);
    for (size_t r = lo; r < hi; r++) {
        an_rev_sum(c, r, ma, mb, &x, NULL);
        n += x;
    }
    return n;
}

/* The service where group g has the most errors (ties: name). Revisions are viewed sorted by
 * service, so each service is one run of the group's revisions: one pass over the revisions
 * the group has cells on (4,096 revisions x 10,000 groups must not cost their product). */
const char *an_group_service(const ctx *c, size_t g)
{
    const char *best = "";
    uint64_t best_n = 0;
    for (size_t i = c->gofs[g]; i < c->gofs[g + 1];) {
        const char *svc = c->revs[c->grev[i].r].r->service;
        uint64_t n = 0;
        for (; i < c->gofs[g + 1] && strcmp(c->revs[c->grev[i].r].r->service, svc) == 0; i++)
            n += an_grp_sum(c, g, c->grev[i].r, INT64_MIN, INT64_MAX, NULL);
        if (n > best_n || (n == best_n && n > 0 && strcmp(svc, best) < 0)) {
            best = svc;
            best_n = n;
        }
    }
    return best;
}

long an_find_rev(const ctx *c, const char *service, const char *revision)
{
    for (size_t r = 0; r < c->n_revs; r++)
        if (strcmp(c->revs[r].r->service, service) == 0 &&
            strcmp(c->revs[r].r->revision, revision) == 0)
            return (long)r;
    return -1;
}
