/* fl_analyze: from an aggregate to ranked causes.
 *
 * 1. Index the aggregate: traffic cells per revision, error cells per group and revision,
 *    each sorted by minute, so "how many in [a, b)" is a short scan.
 * 2. Change events: audit/system_event/CI changes, paired with the revision that first
 *    appears right after them, plus inferred deploys (a revision first seen in the logs after
 *    another revision of the same service, with no change naming it).
 * 3. Candidates: every change (of any service) against every error group, and for every group
 *    whose class implies a non-deploy cause (dependency, resource, platform, load) and for
 *    traffic surges, a non-deploy candidate. Each is scored from the signals in score.c.
 * 4. Rank, keep one cause per (kind, service, revision), write evidence and actions.
 * Every list is sorted with a total order; nothing depends on hash or pointer order. */
#include "agg_internal.h"
#include "evidence.h"
#include "score.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUCKETS 1500
#define PAIR_WINDOW (15 * 60 * FL_USEC_PER_SEC) /* audit deploy -> first sight of revision */
#define MIN_COMPARE_REQUESTS 20
#define MIN_CONCURRENT_REQUESTS 100 /* other revisions' traffic worth a side-by-side comparison */
#define UNKNOWN_CAUSE_CAP 0.45 /* an unexplained group is never a confident cause */
#define MIN_REPORTED_SCORE 0.10 /* below this a candidate is noise, not a cause to list */

typedef struct cellv {
    int64_t minute;
    uint64_t requests, r5xx, errors;
    fl_time first_ts;
} cellv;

typedef struct slice {
    size_t start, end;
} slice;

typedef struct rev_view {
    const agg_rev *r;
    cellv *cells; /* sorted by minute */
    size_t n;
    uint64_t requests, r5xx, errors;
} rev_view;

/* One change candidate after pairing and merging events of the same revision. */
typedef struct cand_change {
    fl_change c;         /* the representative event, revision filled when paired */
    fl_time first_ts;    /* earliest event */
    fl_time last_ts;     /* latest event (e.g. traffic shifted to a canary) */
    long rev;            /* agg revision index, -1 when none */
} cand_change;

typedef struct cand {
    fl_cause_kind kind;
    char service[128];
    char revision[128];
    char prev[128];
    char region[64];
    long group;
    const char *gkey; /* the group's key: ties are broken by name, never by index */
    long change;      /* index into changes, -1 */
    double values[FL_SIG_COUNT];
    char details[FL_SIG_COUNT][200];
    double impact;
    char impact_detail[200];
    double score;
    fl_time onset;
    fl_time change_ts;
    double surge_ratio;
    fl_time surge_ts;
} cand;

typedef struct ctx {
    const fl_agg *a;
    const fl_analyze_opts *opts;
    fl_time w0, w1;
    int64_t m0, m1; /* window minutes [m0, m1] */
    rev_view *revs;
    size_t n_revs;
    cellv **gcells; /* per group x revision: sorted cells; index g * n_revs + r */
    size_t *gn;
    cand_change *ch;
    size_t n_ch;
    /* per service request surge */
    cand *cands;
    size_t n_cands, cap_cands;
    bool oom; /* an allocation failed somewhere the callers cannot return a code */
} ctx;

static int64_t minute_of(fl_time t)
{
    return t >= 0 ? t / AGG_MINUTE : (t - AGG_MINUTE + 1) / AGG_MINUTE;
}

static int cellv_cmp(const void *x, const void *y)
{
    const cellv *a = x, *b = y;
    return a->minute < b->minute ? -1 : a->minute > b->minute;
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

/* Revisions are viewed in (service, first_seen, name) order, never in the aggregate's
 * insertion order, so every loop over them is deterministic. */
static int build_index(ctx *c)
{
    const fl_agg *a = c->a;
    c->n_revs = a->n_revs;
    c->revs = fl_calloc(a->n_revs + 1, sizeof(rev_view));
    c->gcells = fl_calloc(a->n_groups * a->n_revs + 1, sizeof(cellv *));
    c->gn = fl_calloc(a->n_groups * a->n_revs + 1, sizeof(size_t));
    const agg_rev **order = fl_calloc(a->n_revs + 1, sizeof(agg_rev *));
    size_t *pos = fl_calloc(a->n_revs + 1, sizeof(size_t));
    size_t *cnt = fl_calloc(a->n_groups * a->n_revs + a->n_revs + 1, sizeof(size_t));
    int rc = FL_ENOMEM;
    if (!c->revs || !c->gcells || !c->gn || !order || !pos || !cnt)
        goto out;
    for (size_t r = 0; r < a->n_revs; r++)
        order[r] = &a->revs[r];
    qsort(order, a->n_revs, sizeof(*order), rev_order_cmp);
    for (size_t r = 0; r < a->n_revs; r++)
        pos[order[r] - a->revs] = r;
    /* slot s: revision traffic (s < n_revs) or group g x rev r (n_revs + g*n_revs + r) */
    for (size_t i = 0; i < a->n_cells; i++) {
        const agg_cell *x = &a->cells[i];
        size_t r = pos[x->k.rev];
        size_t s = x->k.grp < 0 ? r : a->n_revs + (size_t)x->k.grp * a->n_revs + r;
        cnt[s]++;
    }
    for (size_t r = 0; r < a->n_revs; r++) {
        c->revs[r].r = order[r];
        c->revs[r].cells = fl_calloc(cnt[r] + 1, sizeof(cellv));
        if (!c->revs[r].cells)
            goto out;
    }
    for (size_t s = 0; s < a->n_groups * a->n_revs; s++) {
        if (!cnt[a->n_revs + s])
            continue;
        c->gcells[s] = fl_calloc(cnt[a->n_revs + s], sizeof(cellv));
        if (!c->gcells[s])
            goto out;
    }
    for (size_t i = 0; i < a->n_cells; i++) {
        const agg_cell *x = &a->cells[i];
        cellv v = {x->k.minute, x->requests, x->r5xx, x->errors, x->first_ts};
        size_t r = pos[x->k.rev];
        if (x->k.grp < 0) {
            rev_view *rv = &c->revs[r];
            rv->cells[rv->n++] = v;
            rv->requests += v.requests;
            rv->r5xx += v.r5xx;
            rv->errors += v.errors;
        } else {
            size_t s = (size_t)x->k.grp * a->n_revs + r;
            c->gcells[s][c->gn[s]++] = v;
        }
    }
    for (size_t r = 0; r < a->n_revs; r++)
        qsort(c->revs[r].cells, c->revs[r].n, sizeof(cellv), cellv_cmp);
    for (size_t s = 0; s < a->n_groups * a->n_revs; s++)
        if (c->gn[s])
            qsort(c->gcells[s], c->gn[s], sizeof(cellv), cellv_cmp);
    rc = 0;
out:
    fl_free(order);
    fl_free(pos);
    fl_free(cnt);
    return rc;
}

static void free_index(ctx *c)
{
    for (size_t r = 0; c->revs && r < c->n_revs; r++)
        fl_free(c->revs[r].cells);
    fl_free(c->revs);
    if (c->gcells)
        for (size_t s = 0; s < c->a->n_groups * c->n_revs; s++)
            fl_free(c->gcells[s]);
    fl_free(c->gcells);
    fl_free(c->gn);
    fl_free(c->ch);
    fl_free(c->cands);
}

/* Traffic of revision r in minutes [ma, mb). */
static void rev_sum(const ctx *c, size_t r, int64_t ma, int64_t mb, uint64_t *req, uint64_t *r5xx)
{
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
static uint64_t grp_sum(const ctx *c, size_t g, size_t r, int64_t ma, int64_t mb, fl_time *first)
{
    size_t s = g * c->n_revs + r;
    uint64_t n = 0;
    for (size_t i = 0; i < c->gn[s]; i++) {
        const cellv *x = &c->gcells[s][i];
        if (x->minute < ma || x->minute >= mb)
            continue;
        n += x->errors;
        if (first && x->first_ts && (!*first || x->first_ts < *first))
            *first = x->first_ts;
    }
    return n;
}

/* Errors of group g on every revision of a service (NULL: all) in [ma, mb). */
static uint64_t grp_sum_service(const ctx *c, size_t g, const char *service, int64_t ma,
                                int64_t mb, fl_time *first)
{
    uint64_t n = 0;
    for (size_t r = 0; r < c->n_revs; r++)
        if (!service || strcmp(c->revs[r].r->service, service) == 0)
            n += grp_sum(c, g, r, ma, mb, first);
    return n;
}

static uint64_t service_requests(const ctx *c, const char *service, int64_t ma, int64_t mb)
{
    uint64_t n = 0, x;
    for (size_t r = 0; r < c->n_revs; r++)
        if (strcmp(c->revs[r].r->service, service) == 0) {
            rev_sum(c, r, ma, mb, &x, NULL);
            n += x;
        }
    return n;
}

/* The service where group g has the most errors (ties: name). */
static const char *group_service(const ctx *c, size_t g)
{
    const char *best = "";
    uint64_t best_n = 0;
    for (size_t r = 0; r < c->n_revs; r++) {
        const char *svc = c->revs[r].r->service;
        uint64_t n = grp_sum_service(c, g, svc, INT64_MIN, INT64_MAX, NULL);
        if (n > best_n || (n == best_n && n > 0 && strcmp(svc, best) < 0)) {
            best = svc;
            best_n = n;
        }
    }
    return best;
}

static long find_rev(const ctx *c, const char *service, const char *revision)
{
    for (size_t r = 0; r < c->n_revs; r++)
        if (strcmp(c->revs[r].r->service, service) == 0 &&
            strcmp(c->revs[r].r->revision, revision) == 0)
            return (long)r;
    return -1;
}

static int change_rank(fl_change_kind k)
{
    /* Which event of a revision's rollout names it in the report. */
    switch (k) {
    case FL_CHANGE_DEPLOY: return 0;
    case FL_CHANGE_CONFIG: return 1;
    case FL_CHANGE_EXTERNAL: return 2;
    case FL_CHANGE_REVISION_READY: return 3;
    case FL_CHANGE_TRAFFIC: return 4;
    case FL_CHANGE_SECRET: return 5;
    case FL_CHANGE_INFERRED: return 6;
    default: return 7;
    }
}

static int change_cmp(const void *x, const void *y)
{
    const fl_change *a = x, *b = y;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    int d;
    if ((d = strcmp(a->service, b->service)) || (d = strcmp(a->revision, b->revision)))
        return d;
    if (a->kind != b->kind)
        return (int)a->kind - (int)b->kind;
    if ((d = strcmp(a->source, b->source)) || (d = strcmp(a->description, b->description)))
        return d;
    return strcmp(a->actor, b->actor);
}

static bool is_rollout(fl_change_kind k)
{
    return k == FL_CHANGE_DEPLOY || k == FL_CHANGE_CONFIG || k == FL_CHANGE_EXTERNAL ||
           k == FL_CHANGE_TRAFFIC;
}

/* All change events, sorted, with revisions paired and inferred deploys added. The result is
 * in *out (owned) for the report; candidates are derived from it. */
static int collect_changes(ctx *c, fl_change **out, size_t *n_out)
{
    const fl_agg *a = c->a;
    size_t n = a->n_changes;
    fl_change *v = fl_calloc(n + a->n_revs + 1, sizeof(fl_change));
    bool *named = fl_calloc(a->n_revs + 1, sizeof(bool));
    if (!v || !named) {
        fl_free(v);
        fl_free(named);
        return FL_ENOMEM;
    }
    if (n)
        memcpy(v, a->changes, n * sizeof(fl_change));
    qsort(v, n, sizeof(fl_change), change_cmp);
    /* A revision named by a rollout (CI file, audit with a revision) is taken; one named only
     * by its Ready event can still be paired with the audit entry that created it. */
    bool *claimed = fl_calloc(a->n_revs + 1, sizeof(bool));
    if (!claimed) {
        fl_free(v);
        fl_free(named);
        return FL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        long r = v[i].revision[0] ? find_rev(c, v[i].service, v[i].revision) : -1;
        if (r >= 0 && v[i].kind != FL_CHANGE_FAILED)
            named[r] = true;
        if (r >= 0 && is_rollout(v[i].kind))
            claimed[r] = true;
    }
    /* Pair service-level rollouts with the revision first seen right after them. */
    for (size_t i = 0; i < n; i++) {
        if (v[i].revision[0] || !is_rollout(v[i].kind))
            continue;
        long best = -1;
        for (size_t r = 0; r < c->n_revs; r++) {
            const agg_rev *x = c->revs[r].r;
            if (strcmp(x->service, v[i].service) != 0 || !x->revision[0])
                continue;
            if (x->first_seen < v[i].ts - 60 * FL_USEC_PER_SEC ||
                x->first_seen > v[i].ts + PAIR_WINDOW)
                continue;
            if (claimed[r] && v[i].kind != FL_CHANGE_TRAFFIC)
                continue;
            if (best < 0 || x->first_seen < c->revs[best].r->first_seen ||
                (x->first_seen == c->revs[best].r->first_seen &&
                 strcmp(x->revision, c->revs[best].r->revision) < 0))
                best = (long)r;
        }
        if (best >= 0) {
            snprintf(v[i].revision, sizeof(v[i].revision), "%s", c->revs[best].r->revision);
            named[best] = true;
            claimed[best] = true;
        }
    }
    /* Inferred deploys: a revision first seen after another revision of its service. */
    for (size_t r = 0; r < c->n_revs; r++) {
        const agg_rev *x = c->revs[r].r;
        if (named[r] || !x->revision[0])
            continue;
        bool later = false;
        for (size_t o = 0; o < c->n_revs; o++) {
            const agg_rev *y = c->revs[o].r;
            if (o != r && strcmp(y->service, x->service) == 0 &&
                y->first_seen + 60 * FL_USEC_PER_SEC <= x->first_seen)
                later = true;
        }
        if (!later)
            continue;
        fl_change *ch = &v[n++];
        memset(ch, 0, sizeof(*ch));
        ch->ts = x->first_seen;
        ch->kind = FL_CHANGE_INFERRED;
        snprintf(ch->service, sizeof(ch->service), "%s", x->service);
        snprintf(ch->revision, sizeof(ch->revision), "%s", x->revision);
        snprintf(ch->commit_sha, sizeof(ch->commit_sha), "%s", x->commit_sha);
        snprintf(ch->source, sizeof(ch->source), "logs");
        snprintf(ch->description, sizeof(ch->description),
                 "revision %s first seen in the logs (no audit entry for it)", x->revision);
    }
    qsort(v, n, sizeof(fl_change), change_cmp);
    fl_free(named);
    fl_free(claimed);

    /* Candidates: one per (service, revision); service-level changes one each. */
    c->ch = fl_calloc(n + 1, sizeof(cand_change));
    if (!c->ch) {
        fl_free(v);
        return FL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == FL_CHANGE_FAILED)
            continue;
        if (v[i].kind == FL_CHANGE_REVISION_READY && !v[i].revision[0])
            continue; /* "service ready" only confirms a rollout already listed */
        cand_change *m = NULL;
        if (v[i].revision[0])
            for (size_t j = 0; j < c->n_ch; j++)
                if (strcmp(c->ch[j].c.service, v[i].service) == 0 &&
                    strcmp(c->ch[j].c.revision, v[i].revision) == 0)
                    m = &c->ch[j];
        if (!v[i].revision[0] && is_rollout(v[i].kind)) {
            /* A service update naming no new revision shortly after a rollout is most likely
             * its follow-up (traffic moved to the canary, a flag flipped): one candidate. */
            for (size_t j = c->n_ch; j-- > 0;) {
                if (strcmp(c->ch[j].c.service, v[i].service) != 0 || !c->ch[j].c.revision[0])
                    continue;
                if (v[i].ts - c->ch[j].last_ts <= PAIR_WINDOW)
                    m = &c->ch[j];
                break;
            }
            if (m) {
                snprintf(v[i].revision, sizeof(v[i].revision), "%s", m->c.revision);
                if (v[i].ts > m->last_ts)
                    m->last_ts = v[i].ts;
                continue;
            }
        }
        if (!m) {
            m = &c->ch[c->n_ch++];
            m->c = v[i];
            m->first_ts = m->last_ts = v[i].ts;
            m->rev = v[i].revision[0] ? find_rev(c, v[i].service, v[i].revision) : -1;
            continue;
        }
        if (v[i].ts > m->last_ts)
            m->last_ts = v[i].ts;
        if (change_rank(v[i].kind) < change_rank(m->c.kind)) {
            fl_time keep = m->c.ts;
            m->c = v[i];
            m->c.ts = keep < v[i].ts ? keep : v[i].ts;
        }
    }
    *out = v;
    *n_out = n;
    return 0;
}

static cand *cand_new(ctx *c)
{
    if (c->n_cands == c->cap_cands) {
        size_t nc = c->cap_cands ? c->cap_cands * 2 : 32;
        cand *p = fl_realloc(c->cands, nc * sizeof(cand));
        if (!p) {
            c->oom = true;
            return NULL;
        }
        c->cands = p;
        c->cap_cands = nc;
    }
    cand *x = &c->cands[c->n_cands++];
    memset(x, 0, sizeof(*x));
    x->group = -1;
    x->change = -1;
    return x;
}

static void finish_score(cand *x)
{
    double s = 0;
    for (int i = 0; i < FL_SIG_COUNT; i++)
        s += fl_signal_weight(x->kind, (fl_signal)i) * x->values[i];
    s *= x->impact;
    if (x->kind == FL_CAUSE_UNKNOWN && s > UNKNOWN_CAUSE_CAP)
        s = UNKNOWN_CAUSE_CAP;
    x->score = s < 0 ? 0 : s > 1 ? 1 : s;
}

/* Request-rate surge of a service: the change point of its per-minute requests. */
static double service_surge(ctx *c, const char *service, fl_time *at)
{
    size_t n = (size_t)(c->m1 - c->m0 + 1);
    uint32_t *x = fl_calloc(n + 1, sizeof(uint32_t));
    if (!x) {
        c->oom = true;
        return 1;
    }
    for (size_t r = 0; r < c->n_revs; r++) {
        if (strcmp(c->revs[r].r->service, service) != 0)
            continue;
        for (size_t i = 0; i < c->revs[r].n; i++) {
            int64_t m = c->revs[r].cells[i].minute - c->m0;
            if (m >= 0 && (size_t)m < n)
                x[m] += (uint32_t)c->revs[r].cells[i].requests;
        }
    }
    /* The first and last minutes of a window are usually partial: leave them out. */
    size_t k, skip = n > 8 ? 2 : 0, len = n > 8 ? n - 3 : n;
    double llr2 = fl_changepoint(x + skip, len, &k), ratio = 1;
    k += skip;
    n = skip + len;
    if (llr2 > 10 && k > skip) {
        double before = 0, after = 0;
        for (size_t i = skip; i < n; i++)
            *(i < k ? &before : &after) += x[i];
        before /= (double)(k - skip);
        after /= (double)(n - k);
        ratio = before > 0 ? after / before : (after > 0 ? 10 : 1);
        *at = (c->m0 + (int64_t)k) * AGG_MINUTE;
    }
    fl_free(x);
    return ratio;
}

typedef struct group_stats {
    const char *service;
    uint32_t *series;   /* per minute over the window */
    size_t n;
    double llr2;        /* change point strength */
    fl_time onset;      /* first error at/after the change point (or first_seen) */
    uint64_t before, after;
    double before_min, after_min;
    bool started;       /* a significant increase inside the window */
} group_stats;

static void group_stats_build(ctx *c, size_t g, group_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->service = group_service(c, g);
    size_t n = (size_t)(c->m1 - c->m0 + 1);
    st->series = fl_calloc(n + 1, sizeof(uint32_t));
    if (!st->series) {
        c->oom = true;
        return;
    }
    st->n = n;
    for (size_t r = 0; r < c->n_revs; r++) {
        size_t s = g * c->n_revs + r;
        for (size_t i = 0; i < c->gn[s]; i++) {
            int64_t m = c->gcells[s][i].minute - c->m0;
            if (m >= 0 && (size_t)m < st->n)
                st->series[m] += (uint32_t)c->gcells[s][i].errors;
        }
    }
    size_t k;
    st->llr2 = fl_changepoint(st->series, st->n, &k);
    /* A group with no error at all before the split needs less to count as started: being
     * new is itself part of the evidence (p ~ 0.05 rather than ~ 0.002). */
    uint64_t pre = 0;
    for (size_t i = 0; i < k && i < st->n; i++)
        pre += st->series[i];
    double need = pre == 0 ? 6 : 10;
    if (st->llr2 <= need || k == 0) {
        st->onset = c->a->groups[g].first_seen;
        st->started = false;
        k = 0;
    } else {
        /* The burst often begins inside the minute before the split: take that minute too
         * when it is already well above the earlier rate. */
        double base = k > 1 ? (double)(pre - st->series[k - 1]) / (double)(k - 1) : 0;
        int64_t from = c->m0 + (int64_t)k;
        if (st->series[k - 1] > 0 && (double)st->series[k - 1] > 3 * base)
            from--;
        fl_time first = 0;
        grp_sum_service(c, g, NULL, from, INT64_MAX, &first);
        st->onset = first;
        st->started = true;
    }
    for (size_t i = 0; i < st->n; i++)
        *(i < k ? &st->before : &st->after) += st->series[i];
    st->before_min = (double)k;
    st->after_min = (double)(st->n - k);
}

static double rate_excess(uint64_t k, double n, uint64_t k0, double n0)
{
    double expect = n0 > 0 ? (double)k0 / n0 * n : 0;
    return (double)k - expect;
}

/* A change against one error group. */
static void score_change(ctx *c, size_t ci, size_t g, const group_stats *st)
{
    const cand_change *cc = &c->ch[ci];
    const agg_group *grp = &c->a->groups[g];
    /* A secret names no Cloud Run service: any service reading it may break. */
    bool any_service = cc->c.kind == FL_CHANGE_SECRET || !cc->c.service[0];
    const char *svc = any_service ? st->service : cc->c.service;
    fl_implies imp = (fl_implies)grp->implies;
    bool same_service = strcmp(svc, st->service) == 0;
    const char *scope = svc;
    int64_t mT = minute_of(cc->first_ts);

    /* Errors the change could explain: on its revision, else on the service after it. */
    fl_time first = 0;
    uint64_t k_rev = 0;
    if (cc->rev >= 0)
        k_rev = grp_sum(c, g, (size_t)cc->rev, INT64_MIN, INT64_MAX, &first);
    if (cc->rev >= 0 && k_rev == 0)
        return;
    if (cc->rev < 0) {
        k_rev = grp_sum_service(c, g, scope, mT, INT64_MAX, &first);
        if (k_rev == 0 || first < cc->first_ts)
            return;
    }
    cand *x = cand_new(c);
    if (!x)
        return;
    x->kind = FL_CAUSE_DEPLOY;
    x->group = (long)g;
    x->gkey = grp->key;
    x->change = (long)ci;
    x->change_ts = cc->first_ts;
    snprintf(x->service, sizeof(x->service), "%s", svc);
    snprintf(x->revision, sizeof(x->revision), "%s", cc->c.revision);

    /* Novelty: the group's rate in the scope before the change vs after. */
    uint64_t before = grp_sum_service(c, g, scope, c->m0, mT, NULL);
    uint64_t after = grp_sum_service(c, g, scope, mT, c->m1 + 1, NULL);
    double bmin = (double)(mT - c->m0), amin = (double)(c->m1 + 1 - mT);
    x->values[FL_SIG_NOVELTY] = fl_score_novelty(before, bmin, after, amin);
    snprintf(x->details[FL_SIG_NOVELTY], 200, "%" PRIu64 " `%s` in %.0f min before, %" PRIu64
             " in %.0f min after",
             before, grp->key, bmin, after, amin);

    /* Onset: the first error for a new group; the change point for an old one. */
    fl_time ref = cc->first_ts;
    if (cc->last_ts > ref && cc->last_ts <= first)
        ref = cc->last_ts; /* e.g. traffic moved to the revision later than it was deployed */
    if (cc->rev >= 0 && c->revs[cc->rev].r->first_seen > ref &&
        c->revs[cc->rev].r->first_seen <= first)
        ref = c->revs[cc->rev].r->first_seen;
    fl_time onset = first;
    if (before > 0)
        onset = st->started && st->onset >= cc->first_ts - 60 * FL_USEC_PER_SEC ? st->onset : 0;
    x->onset = onset ? onset : first;
    if (onset) {
        double dt = (double)(onset - ref) / FL_USEC_PER_SEC;
        char d[32], d2[32];
        x->values[FL_SIG_ONSET_AFTER_CHANGE] = fl_score_time(dt, imp);
        if (ref != cc->first_ts)
            snprintf(x->details[FL_SIG_ONSET_AFTER_CHANGE], 200,
                     "`%s` starts %s after the revision went live (%s after the %s)", grp->key,
                     fl_fmt_duration(dt, d, sizeof(d)),
                     fl_fmt_duration((double)(onset - cc->first_ts) / FL_USEC_PER_SEC, d2,
                                     sizeof(d2)),
                     fl_change_kind_name(cc->c.kind));
        else
            snprintf(x->details[FL_SIG_ONSET_AFTER_CHANGE], 200, "`%s` starts %s after the %s",
                     grp->key, fl_fmt_duration(dt, d, sizeof(d)),
                     fl_change_kind_name(cc->c.kind));
    } else {
        snprintf(x->details[FL_SIG_ONSET_AFTER_CHANGE], 200,
                 "`%s` was already there before the change and did not rise after it",
                 grp->key);
    }

    /* Confinement: the changed revision against revisions serving at the same time, else
     * against its predecessor before the change. */
    double conf = 0.5, llr = 0, excess = (double)k_rev;
    if (cc->rev >= 0 && same_service) {
        size_t r = (size_t)cc->rev;
        int64_t ma = minute_of(first), mb = c->m1 + 1;
        uint64_t n_r, k_r = grp_sum(c, g, r, ma, mb, NULL), n_o = 0, k_o = 0, t;
        rev_sum(c, r, ma, mb, &n_r, NULL);
        for (size_t o = 0; o < c->n_revs; o++) {
            if (o == r || strcmp(c->revs[o].r->service, svc) != 0)
                continue;
            rev_sum(c, o, ma, mb, &t, NULL);
            n_o += t;
            k_o += grp_sum(c, g, o, ma, mb, NULL);
        }
        char p1[16], p2[16];
        if (n_o >= MIN_CONCURRENT_REQUESTS && n_r > 0) {
            conf = fl_score_lift(FL_MIN(k_r, n_r), n_r, FL_MIN(k_o, n_o), n_o);
            llr = fl_llr2_rates(k_r, (double)n_r, k_o, (double)n_o);
            excess = rate_excess(k_r, (double)n_r, k_o, (double)n_o);
            snprintf(x->details[FL_SIG_CONFINED], 200,
                     "%s %" PRIu64 "/%" PRIu64 " (%s) vs other revisions at the same time %" PRIu64
                     "/%" PRIu64 " (%s)",
                     c->revs[r].r->revision, k_r, n_r, fl_fmt_pct(FL_MIN(k_r, n_r), n_r, p1, 16),
                     k_o, n_o, fl_fmt_pct(FL_MIN(k_o, n_o), n_o, p2, 16));
        } else {
            /* Predecessor: the same service before the change. */
            uint64_t n_p = service_requests(c, svc, c->m0, mT);
            uint64_t k_p = before;
            uint64_t n_all = c->revs[r].requests;
            uint64_t k_all = k_rev;
            double tfit = onset ? fl_score_time((double)(onset - ref) / FL_USEC_PER_SEC, imp) : 0;
            if (n_p >= MIN_COMPARE_REQUESTS && n_all > 0) {
                conf = 0.8 * tfit *
                       fl_score_lift(FL_MIN(k_all, n_all), n_all, FL_MIN(k_p, n_p), n_p);
                llr = fl_llr2_rates(k_all, (double)n_all, k_p, (double)n_p);
                excess = rate_excess(k_all, (double)n_all, k_p, (double)n_p);
            } else {
                /* No requests to compare with: errors per minute. */
                double m_r = (double)(c->m1 + 1 - minute_of(c->revs[r].r->first_seen));
                conf = 0.5 * tfit;
                llr = fl_llr2_rates(k_all, m_r > 0 ? m_r : 1, k_p, bmin > 0 ? bmin : 1);
                excess = rate_excess(k_all, m_r, k_p, bmin);
            }
            snprintf(x->details[FL_SIG_CONFINED], 200,
                     "%s %" PRIu64 "/%" PRIu64 " (%s) vs the service before the change %" PRIu64
                     "/%" PRIu64 " (%s); no other revision serving alongside",
                     c->revs[r].r->revision, k_all, n_all,
                     fl_fmt_pct(FL_MIN(k_all, n_all), n_all, p1, 16), k_p, n_p,
                     fl_fmt_pct(FL_MIN(k_p, n_p), n_p, p2, 16));
        }
    } else if (!same_service) {
        conf = 0;
        llr = fl_llr2_rates(after, amin, before, bmin > 0 ? bmin : 1);
        excess = rate_excess(after, amin, before, bmin);
        snprintf(x->details[FL_SIG_CONFINED], 200, "the errors are in %s, the change in %s",
                 st->service, svc);
    } else {
        llr = fl_llr2_rates(after, amin, before, bmin > 0 ? bmin : 1);
        excess = rate_excess(after, amin, before, bmin);
        snprintf(x->details[FL_SIG_CONFINED], 200,
                 "the change names no revision; cannot compare revisions");
        /* Errors confined to a revision that a later change created point at that change. */
        for (size_t j = 0; j < c->n_ch; j++) {
            const cand_change *o = &c->ch[j];
            if (j == ci || o->rev < 0 || o->first_ts <= cc->first_ts || o->first_ts > first ||
                strcmp(o->c.service, svc) != 0)
                continue;
            uint64_t on = grp_sum(c, g, (size_t)o->rev, mT, c->m1 + 1, NULL);
            if (on * 10 >= after * 9) {
                conf = 0;
                snprintf(x->details[FL_SIG_CONFINED], 200,
                         "%" PRIu64 " of %" PRIu64 " errors are on %s, created by a later change",
                         on, after, o->c.revision);
                break;
            }
        }
    }
    x->values[FL_SIG_CONFINED] = conf;

    x->values[FL_SIG_IMPLIED] = fl_score_implied(FL_CAUSE_DEPLOY, imp);
    snprintf(x->details[FL_SIG_IMPLIED], 200, "`%s` implies %s", grp->key, fl_implies_name(imp));

    fl_time sat = 0;
    double ratio = service_surge(c, st->service, &sat);
    bool surge_near = sat && llabs((long long)(sat - x->onset)) <= 10 * AGG_MINUTE;
    double sv = surge_near ? fl_score_surge(ratio) : 0;
    x->values[FL_SIG_TRAFFIC] = 1 - sv;
    snprintf(x->details[FL_SIG_TRAFFIC], 200, surge_near ? "request rate x%.1f near the onset"
                                                         : "no request surge near the onset (x%.1f)",
             ratio);

    /* Novelty, class and traffic only say "something changed"; they count fully only when time
     * or confinement ties the errors to this change (a group that appears 35 minutes after a
     * deploy, on old and new revisions alike, is new but not the deploy's). */
    double link = FL_MAX(x->values[FL_SIG_ONSET_AFTER_CHANGE], x->values[FL_SIG_CONFINED]);
    double tie = FL_MIN(1.0, 0.5 + link);
    static const fl_signal loose[] = {FL_SIG_NOVELTY, FL_SIG_IMPLIED, FL_SIG_TRAFFIC};
    for (size_t i = 0; i < FL_ARRAY_LEN(loose) && tie < 0.999; i++) {
        char *d = x->details[loose[i]];
        size_t len = strlen(d);
        x->values[loose[i]] *= tie;
        snprintf(d + len, 200 - len, "; x%.2f: weak tie to the change", tie);
    }

    /* A group that starts after the change is a burst in time as well as (or instead of) a
     * difference between revisions; rare errors (OOM kills) show more in time. */
    if (st->started && st->onset >= cc->first_ts - 60 * FL_USEC_PER_SEC && same_service &&
        st->llr2 > llr) {
        llr = st->llr2;
        double ex = rate_excess(st->after, st->after_min, st->before, st->before_min);
        if (ex > excess)
            excess = ex;
    }
    double sw = fl_severity_weight(grp->severity);
    x->impact = fl_score_impact(llr, excess * sw);
    snprintf(x->impact_detail, 200, "2*LLR %.1f, %.0f excess errors%s", llr, excess,
             sw > 1 ? " (x4: each one took an instance down)" : "");
    finish_score(x);
}

/* Non-deploy explanations of one group. */
static void score_group(ctx *c, size_t g, const group_stats *st)
{
    const agg_group *grp = &c->a->groups[g];
    fl_implies imp = (fl_implies)grp->implies;
    if (!st->started)
        return;
    fl_time sat = 0;
    double ratio = service_surge(c, st->service, &sat);
    bool surge_near = sat && sat - 5 * AGG_MINUTE <= st->onset &&
                      st->onset <= sat + 15 * AGG_MINUTE;
    double surge = surge_near ? fl_score_surge(ratio) : 0;

    fl_cause_kind kinds[2];
    size_t nk = 0;
    switch (imp) {
    case FL_IMPLIES_DEPENDENCY: kinds[nk++] = FL_CAUSE_DEPENDENCY; break;
    case FL_IMPLIES_RESOURCE: kinds[nk++] = FL_CAUSE_RESOURCE; break;
    case FL_IMPLIES_PLATFORM: kinds[nk++] = FL_CAUSE_PLATFORM; break;
    case FL_IMPLIES_LOAD: break;
    default: kinds[nk++] = FL_CAUSE_UNKNOWN; break;
    }
    if (surge > 0 || imp == FL_IMPLIES_LOAD)
        kinds[nk++] = FL_CAUSE_LOAD;

    /* Closest change before the onset, of the group's service or of none in particular. */
    double near = 0;
    char near_detail[200] = "no change before the onset";
    for (size_t i = 0; i < c->n_ch; i++) {
        const cand_change *cc = &c->ch[i];
        if (cc->c.service[0] && strcmp(cc->c.service, st->service) != 0)
            continue;
        if (cc->first_ts > st->onset + 60 * FL_USEC_PER_SEC)
            continue;
        double dt = (double)(st->onset - cc->last_ts) / FL_USEC_PER_SEC;
        double v = fl_score_time(dt, imp);
        if (v > near) {
            char d[32];
            near = v;
            snprintf(near_detail, 200, "%s of %s %s before the onset",
                     fl_change_kind_name(cc->c.kind),
                     cc->c.revision[0] ? cc->c.revision : cc->c.service,
                     fl_fmt_duration(dt, d, sizeof(d)));
        }
    }
    /* Spread: errors on every revision that served after the onset, in proportion. */
    int64_t mo = minute_of(st->onset);
    size_t serving = 0, erring = 0;
    double worst_lift = 0;
    uint64_t n_all = 0, k_all = 0, t;
    for (size_t r = 0; r < c->n_revs; r++) {
        if (strcmp(c->revs[r].r->service, st->service) != 0)
            continue;
        rev_sum(c, r, mo, c->m1 + 1, &t, NULL);
        n_all += t;
        k_all += grp_sum(c, g, r, mo, c->m1 + 1, NULL);
    }
    for (size_t r = 0; r < c->n_revs; r++) {
        if (strcmp(c->revs[r].r->service, st->service) != 0)
            continue;
        uint64_t n_r, k_r = grp_sum(c, g, r, mo, c->m1 + 1, NULL);
        rev_sum(c, r, mo, c->m1 + 1, &n_r, NULL);
        if (n_r < MIN_COMPARE_REQUESTS && k_r == 0)
            continue;
        serving++;
        erring += k_r > 0;
        if (n_all > n_r && n_r > 0) {
            double l = fl_score_lift(FL_MIN(k_r, n_r), n_r, FL_MIN(k_all - k_r, n_all - n_r),
                                     n_all - n_r);
            if (l > worst_lift)
                worst_lift = l;
        }
    }
    /* Other services where the same group started within minutes: a shared dependency. */
    size_t services = 1;
    for (size_t r = 0; r < c->n_revs; r++) {
        const char *svc = c->revs[r].r->service;
        if (strcmp(svc, st->service) == 0)
            continue;
        bool seen = false;
        for (size_t o = 0; o < r; o++)
            seen |= strcmp(c->revs[o].r->service, svc) == 0;
        fl_time first = 0;
        if (!seen && grp_sum_service(c, g, svc, mo - 5, c->m1 + 1, &first) >= 3 &&
            grp_sum_service(c, g, svc, c->m0, mo - 5, NULL) == 0)
            services++;
    }
    /* One revision serving: if a change created it shortly before, its errors are as much the
     * change's fingerprint as the cause's; if it served all along, it says nothing. */
    double spread = 0.5;
    bool new_rev = false;
    if (serving < 2)
        for (size_t i = 0; i < c->n_ch; i++)
            if (c->ch[i].rev >= 0 && strcmp(c->ch[i].c.service, st->service) == 0 &&
                c->ch[i].first_ts <= st->onset &&
                grp_sum(c, g, (size_t)c->ch[i].rev, mo, c->m1 + 1, NULL) == k_all)
                new_rev = true;
    if (services >= 2)
        spread = 1;
    else if (serving >= 2)
        spread = 1 - worst_lift;
    else if (new_rev)
        spread = 0;
    char spread_detail[200];
    snprintf(spread_detail, 200, "errors on %zu of %zu revisions serving since the onset%s%s",
             erring, serving, serving >= 2 && worst_lift > 0.5 ? ", one much worse" : "",
             services >= 2 ? ", and in other services at the same time"
             : new_rev    ? ", only on a revision a change created"
                          : "");

    double excess = rate_excess(st->after, st->after_min, st->before, st->before_min);
    for (size_t i = 0; i < nk; i++) {
        cand *x = cand_new(c);
        if (!x)
            return;
        x->kind = kinds[i];
        x->group = (long)g;
        x->gkey = grp->key;
        x->onset = st->onset;
        x->surge_ratio = ratio;
        x->surge_ts = sat;
        snprintf(x->service, sizeof(x->service), "%s", st->service);
        x->values[FL_SIG_NOVELTY] =
            fl_score_novelty(st->before, st->before_min, st->after, st->after_min);
        snprintf(x->details[FL_SIG_NOVELTY], 200,
                 "%" PRIu64 " in %.0f min before the onset, %" PRIu64 " in %.0f min after",
                 st->before, st->before_min, st->after, st->after_min);
        x->values[FL_SIG_IMPLIED] = fl_score_implied(x->kind, imp);
        snprintf(x->details[FL_SIG_IMPLIED], 200, "`%s` implies %s", grp->key,
                 fl_implies_name(imp));
        x->values[FL_SIG_NO_CHANGE_NEARBY] = 1 - near;
        snprintf(x->details[FL_SIG_NO_CHANGE_NEARBY], 200, "%s", near_detail);
        x->values[FL_SIG_SPREAD] = spread;
        snprintf(x->details[FL_SIG_SPREAD], 200, "%s", spread_detail);
        x->values[FL_SIG_TRAFFIC] = x->kind == FL_CAUSE_LOAD ? surge : 1 - surge;
        snprintf(x->details[FL_SIG_TRAFFIC], 200, "requests/min x%.1f%s", ratio,
                 surge_near ? " at the onset" : ", not near the onset");
        double sw = fl_severity_weight(grp->severity);
        x->impact = fl_score_impact(st->llr2, excess * sw);
        snprintf(x->impact_detail, 200, "2*LLR %.1f, %.0f excess errors%s", st->llr2, excess,
                 sw > 1 ? " (x4: each one took an instance down)" : "");
        finish_score(x);
    }
}

static int cand_cmp(const void *p, const void *q)
{
    const cand *a = p, *b = q;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->kind != b->kind)
        return (int)a->kind - (int)b->kind;
    int d;
    if ((d = strcmp(a->service, b->service)) || (d = strcmp(a->revision, b->revision)))
        return d;
    if (a->group != b->group && (d = strcmp(a->gkey, b->gkey)))
        return d;
    return a->change < b->change ? -1 : a->change > b->change;
}

/* Predecessor: the revision of the service with the most requests before the change,
 * among those first seen before the changed revision. */
static void previous_revision(const ctx *c, const cand *x, char *out, size_t cap)
{
    out[0] = '\0';
    long r = find_rev(c, x->service, x->revision);
    if (r < 0)
        return;
    fl_time t0 = c->revs[r].r->first_seen;
    int64_t mT = minute_of(x->change_ts ? x->change_ts : t0);
    long best = -1;
    uint64_t best_n = 0;
    for (size_t o = 0; o < c->n_revs; o++) {
        const agg_rev *y = c->revs[o].r;
        if ((long)o == r || strcmp(y->service, x->service) != 0 || y->first_seen >= t0)
            continue;
        uint64_t n, k5;
        rev_sum(c, o, c->m0, mT + 1, &n, &k5);
        /* Healthy: under 5% 5xx. A bad predecessor is not where to roll back to. */
        bool healthy = n == 0 || k5 * 20 < n;
        if (!healthy)
            continue;
        if (best < 0 || n > best_n ||
            (n == best_n && y->first_seen > c->revs[best].r->first_seen)) {
            best = (long)o;
            best_n = n;
        }
    }
    if (best >= 0)
        snprintf(out, cap, "%s", c->revs[best].r->revision);
}

static void region_of(const ctx *c, const char *service, const char *revision, char *out,
                      size_t cap)
{
    out[0] = '\0';
    long r = find_rev(c, service, revision);
    if (r >= 0 && c->revs[r].r->location[0]) {
        snprintf(out, cap, "%s", c->revs[r].r->location);
        return;
    }
    for (size_t o = 0; o < c->n_revs; o++)
        if (strcmp(c->revs[o].r->service, service) == 0 && c->revs[o].r->location[0] &&
            (!out[0] || strcmp(c->revs[o].r->location, out) < 0))
            snprintf(out, cap, "%s", c->revs[o].r->location);
}

/* Most frequent value of a named capture (ties: smallest value). */
static const agg_field *top_field(const agg_group *g, const char *name)
{
    const agg_field *best = NULL;
    for (size_t i = 0; i < g->n_fields; i++) {
        const agg_field *f = &g->fields[i];
        if (strcmp(f->name, name) != 0)
            continue;
        if (!best || f->count > best->count ||
            (f->count == best->count && strcmp(f->value, best->value) < 0))
            best = f;
    }
    return best;
}

static const char *memory_limit_field(const agg_group *g)
{
    for (size_t i = 0; i < g->n_fields; i++)
        if (strstr(g->fields[i].name, "limit")) {
            const agg_field *f = top_field(g, g->fields[i].name);
            return f ? f->value : NULL;
        }
    return NULL;
}

static int write_deploy_text(const ctx *c, const cand *x, fl_cause *o)
{
    const agg_group *grp = &c->a->groups[x->group];
    const cand_change *cc = &c->ch[x->change];
    char t1[16], t2[16], p1[16], p2[16], d[32];
    int rc = 0;
    long r = x->revision[0] ? find_rev(c, x->service, x->revision) : -1;
    long p = o->previous_revision[0] ? find_rev(c, x->service, o->previous_revision) : -1;
    if (r >= 0) {
        const rev_view *v = &c->revs[r];
        if (v->requests)
            rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                               "revision %s: %" PRIu64 "/%" PRIu64 " requests 5xx (%s) since %s",
                               x->revision, v->r5xx, v->requests,
                               fl_fmt_pct(v->r5xx, v->requests, p1, 16),
                               fl_time_clock(v->r->first_seen, t1, 16));
        else
            rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                               "revision %s: no requests served, %" PRIu64 " error entries since %s",
                               x->revision, v->errors, fl_time_clock(v->r->first_seen, t1, 16));
    }
    if (p >= 0) {
        const rev_view *v = &c->revs[p];
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                           "previous revision %s: %" PRIu64 "/%" PRIu64 " requests 5xx (%s)",
                           o->previous_revision, v->r5xx, v->requests,
                           fl_fmt_pct(v->r5xx, v->requests, p2, 16));
    }
    fl_time first = 0;
    uint64_t k = r >= 0 ? grp_sum(c, (size_t)x->group, (size_t)r, INT64_MIN, INT64_MAX, &first)
                        : grp_sum_service(c, (size_t)x->group, x->service,
                                          minute_of(x->change_ts), INT64_MAX, &first);
    uint64_t before = grp_sum_service(c, (size_t)x->group, x->service, INT64_MIN,
                                      minute_of(x->change_ts), NULL);
    char seen[96];
    if (before == 0)
        snprintf(seen, sizeof(seen), "never seen before");
    else
        snprintf(seen, sizeof(seen), "seen %" PRIu64 " times before the change", before);
    const char *what = cc->c.kind == FL_CHANGE_INFERRED ? "revision first appeared"
                       : x->revision[0]                 ? "rollout"
                                                        : "change";
    rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                       "first `%s` error %s, %s after the %s; %s", grp->key,
                       fl_time_clock(first, t2, 16),
                       fl_fmt_duration((double)(first - x->change_ts) / FL_USEC_PER_SEC, d, 32),
                       what, seen);
    uint64_t total = grp->count;
    rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                       "%" PRIu64 " of %" PRIu64 " `%s` errors (%s) are on %s", k, total,
                       grp->key, fl_fmt_pct(k, total, p1, 16),
                       x->revision[0] ? x->revision : x->service);
    rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "change: %s at %s (%s%s%s)",
                       cc->c.description, fl_time_clock(cc->first_ts, t1, 16), cc->c.source,
                       cc->c.actor[0] ? ", " : "", cc->c.actor);
    for (size_t i = 0; i < grp->n_fields; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup |= strcmp(grp->fields[j].name, grp->fields[i].name) == 0;
        const agg_field *f = dup ? NULL : top_field(grp, grp->fields[i].name);
        if (f)
            rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "%s = %s (%" PRIu64 " times)",
                               f->name, f->value, f->count);
    }
    if (grp->n_samples)
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "sample %s %s: %.300s",
                           fl_time_clock(grp->samples[0].ts, t1, 16), grp->samples[0].revision,
                           grp->samples[0].message);

    char pct[16] = "";
    if (r >= 0 && c->revs[r].requests)
        fl_fmt_pct(c->revs[r].r5xx, c->revs[r].requests, pct, 16);
    char sum[512];
    double threshold = c->opts->threshold > 0 ? c->opts->threshold : FL_DEFAULT_THRESHOLD;
    if (x->revision[0] && x->score < threshold)
        snprintf(sum, sizeof(sum),
                 "Maybe revision %s of %s (rolled out at %s): `%s` errors on it, but the link to "
                 "the rollout is weak (score %.2f).",
                 x->revision, x->service, fl_time_clock(x->change_ts, t1, 16), grp->key,
                 x->score);
    else if (x->revision[0])
        snprintf(sum, sizeof(sum),
                 "Revision %s of %s, rolled out at %s, is failing with `%s`%s%s%s; %s%s.",
                 x->revision, x->service, fl_time_clock(x->change_ts, t1, 16), grp->key,
                 pct[0] ? " (" : "", pct, pct[0] ? " of its requests 5xx)" : "",
                 o->previous_revision[0] ? "roll back to " : "roll back to the last healthy revision",
                 o->previous_revision);
    else if (cc->c.kind == FL_CHANGE_SECRET)
        snprintf(sum, sizeof(sum),
                 "A new version of secret %s was added at %s and `%s` errors followed in %s; "
                 "check what reads it and pin the previous version.",
                 cc->c.service, fl_time_clock(x->change_ts, t1, 16), grp->key, x->service);
    else
        snprintf(sum, sizeof(sum), "The %s of %s at %s was followed by `%s` errors; revert it.",
                 fl_change_kind_name(cc->c.kind), cc->c.service[0] ? cc->c.service : x->service,
                 fl_time_clock(x->change_ts, t1, 16), grp->key);
    o->summary = fl_strdup(sum);
    return rc || !o->summary ? FL_ENOMEM : 0;
}

static int write_group_text(const ctx *c, const cand *x, fl_cause *o)
{
    const agg_group *grp = &c->a->groups[x->group];
    char t1[16], t2[16], p1[16], line[512];
    int rc = 0;
    int64_t mo = minute_of(x->onset);
    size_t len = 0;
    line[0] = '\0';
    uint64_t total = 0;
    for (size_t r = 0; r < c->n_revs; r++) {
        if (strcmp(c->revs[r].r->service, x->service) != 0)
            continue;
        uint64_t n, k = grp_sum(c, (size_t)x->group, r, mo, c->m1 + 1, NULL);
        rev_sum(c, r, mo, c->m1 + 1, &n, NULL);
        total += k;
        if ((k || n) && len < sizeof(line) - 100)
            len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s: %" PRIu64 " errors in %" PRIu64
                                    " requests (%s)",
                                    len ? ", " : "", c->revs[r].r->revision, k, n,
                                    fl_fmt_pct(FL_MIN(k, n), n, p1, 16));
    }
    rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "`%s`: %" PRIu64 " errors since %s in %s; %s",
                       grp->key, total, fl_time_clock(x->onset, t1, 16), x->service,
                       line[0] ? line : "no request logs");
    rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "%s",
                       x->details[FL_SIG_NO_CHANGE_NEARBY]);
    if (x->kind == FL_CAUSE_LOAD && x->surge_ts) {
        uint64_t before = service_requests(c, x->service, c->m0, minute_of(x->surge_ts));
        uint64_t after = service_requests(c, x->service, minute_of(x->surge_ts), c->m1 + 1);
        double bm = (double)(minute_of(x->surge_ts) - c->m0),
               am = (double)(c->m1 + 1 - minute_of(x->surge_ts));
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                           "requests/min for %s rose from %.0f to %.0f (x%.1f) at %s", x->service,
                           bm > 0 ? (double)before / bm : 0, am > 0 ? (double)after / am : 0,
                           x->surge_ratio, fl_time_clock(x->surge_ts, t2, 16));
    }
    for (size_t i = 0; i < grp->n_fields; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup |= strcmp(grp->fields[j].name, grp->fields[i].name) == 0;
        const agg_field *f = dup ? NULL : top_field(grp, grp->fields[i].name);
        if (f)
            rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "%s = %s (%" PRIu64 " times)",
                               f->name, f->value, f->count);
    }
    if (grp->n_samples)
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "sample %s %s: %.300s",
                           fl_time_clock(grp->samples[0].ts, t1, 16), grp->samples[0].revision,
                           grp->samples[0].message);
    char sum[512];
    switch (x->kind) {
    case FL_CAUSE_DEPENDENCY:
        snprintf(sum, sizeof(sum),
                 "A dependency is failing, not a deploy: `%s` errors started at %s on %s and hit "
                 "every revision alike; check the dependency, do not roll back.",
                 grp->key, fl_time_clock(x->onset, t1, 16), x->service);
        break;
    case FL_CAUSE_LOAD:
        snprintf(sum, sizeof(sum),
                 "Traffic surge: requests to %s rose x%.1f at %s and `%s` errors followed; scale "
                 "out rather than roll back.",
                 x->service, x->surge_ratio, fl_time_clock(x->surge_ts ? x->surge_ts : x->onset,
                                                           t1, 16),
                 grp->key);
        break;
    case FL_CAUSE_RESOURCE:
        snprintf(sum, sizeof(sum),
                 "%s is running out of resources: `%s` since %s with no change just before; raise "
                 "the limit.",
                 x->service, grp->key, fl_time_clock(x->onset, t1, 16));
        break;
    case FL_CAUSE_PLATFORM:
        snprintf(sum, sizeof(sum),
                 "Platform problem on %s: `%s` since %s with no change just before.", x->service,
                 grp->key, fl_time_clock(x->onset, t1, 16));
        break;
    default:
        snprintf(sum, sizeof(sum), "`%s` errors on %s since %s with no clear cause.", grp->key,
                 x->service, fl_time_clock(x->onset, t1, 16));
        break;
    }
    o->summary = fl_strdup(sum);
    return rc || !o->summary ? FL_ENOMEM : 0;
}

static int build_cause(const ctx *c, const cand *x, int rank, fl_cause *o)
{
    const agg_group *grp = &c->a->groups[x->group];
    o->rank = rank;
    o->score = floor(x->score * 1000 + 0.5) / 1000;
    o->kind = x->kind;
    o->onset = x->onset;
    o->change_ts = x->change_ts;
    o->service = fl_strdup(x->service);
    o->revision = fl_strdup(x->revision);
    o->previous_revision = fl_strdup(x->prev);
    o->error_class = fl_strdup(grp->key);
    if (!o->service || !o->revision || !o->previous_revision || !o->error_class)
        return FL_ENOMEM;
    o->parts = fl_calloc(FL_SIG_COUNT + 1, sizeof(fl_score_part));
    if (!o->parts)
        return FL_ENOMEM;
    for (int i = 0; i < FL_SIG_COUNT; i++) {
        double w = fl_signal_weight(x->kind, (fl_signal)i);
        if (w <= 0)
            continue;
        fl_score_part *p = &o->parts[o->n_parts++];
        p->signal = fl_strdup(fl_signal_name((fl_signal)i));
        /* The impact gate scales every weight, so contributions add up to the score. */
        p->weight = floor(w * x->impact * 1000 + 0.5) / 1000;
        p->value = floor(x->values[i] * 1000 + 0.5) / 1000;
        p->contribution = floor(w * x->impact * x->values[i] * 1000 + 0.5) / 1000;
        p->detail = fl_strdup(x->details[i][0] ? x->details[i] : "-");
        if (!p->signal || !p->detail)
            return FL_ENOMEM;
    }
    fl_score_part *p = &o->parts[o->n_parts++];
    p->signal = fl_strdup("impact");
    p->weight = 0;
    p->value = floor(x->impact * 1000 + 0.5) / 1000;
    p->contribution = 0;
    char det[300];
    snprintf(det, sizeof(det), "scales every weight: %s", x->impact_detail);
    p->detail = fl_strdup(det);
    if (!p->signal || !p->detail)
        return FL_ENOMEM;

    int rc = x->kind == FL_CAUSE_DEPLOY ? write_deploy_text(c, x, o) : write_group_text(c, x, o);
    if (rc)
        return rc;
    const fl_rule_info *rule =
        c->opts->rules && grp->class_id ? fl_rules_find_class(c->opts->rules, grp->class_id)
                                        : NULL;
    fl_action_ctx ac = {x->kind,
                        x->service,
                        x->region,
                        x->revision,
                        x->prev,
                        grp->class_id,
                        (fl_implies)grp->implies,
                        memory_limit_field(grp),
                        x->surge_ratio,
                        rule};
    return fl_actions_build(&ac, &o->actions, &o->n_actions);
}

/* ---- result: changes, groups, revisions, series ---- */

static size_t bucket_of(const fl_result *res, int64_t minute)
{
    fl_time t = minute * AGG_MINUTE;
    int64_t b = (t - res->bucket_origin) / ((int64_t)res->bucket_seconds * FL_USEC_PER_SEC);
    if (b < 0)
        return 0;
    return (size_t)b < res->n_buckets ? (size_t)b : res->n_buckets - 1;
}

static int out_changes(fl_result *res, const fl_change *v, size_t n)
{
    res->changes = fl_calloc(n + 1, sizeof(fl_change_out));
    if (!res->changes)
        return FL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        fl_change_out *o = &res->changes[res->n_changes++];
        o->ts = v[i].ts;
        o->kind = v[i].kind;
        o->service = fl_strdup(v[i].service);
        o->revision = fl_strdup(v[i].revision);
        o->actor = fl_strdup(v[i].actor);
        o->description = fl_strdup(v[i].description);
        o->source = fl_strdup(v[i].source);
        o->commit_sha = fl_strdup(v[i].commit_sha);
        if (!o->service || !o->revision || !o->actor || !o->description || !o->source ||
            !o->commit_sha)
            return FL_ENOMEM;
    }
    return 0;
}

static int revcount_cmp(const void *p, const void *q)
{
    const fl_rev_count *a = p, *b = q;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    int d = strcmp(a->service, b->service);
    return d ? d : strcmp(a->revision, b->revision);
}

static int group_out_cmp(const void *p, const void *q)
{
    const fl_group *a = p, *b = q;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->key, b->key);
}

static int field_out_cmp(const void *p, const void *q)
{
    const fl_field_value *a = p, *b = q;
    return strcmp(a->name, b->name);
}

static int out_groups(const ctx *c, fl_result *res)
{
    const fl_agg *a = c->a;
    res->groups = fl_calloc(a->n_groups + 1, sizeof(fl_group));
    if (!res->groups)
        return FL_ENOMEM;
    for (size_t g = 0; g < a->n_groups; g++) {
        const agg_group *s = &a->groups[g];
        fl_group *o = &res->groups[res->n_groups++];
        o->key = fl_strdup(s->key);
        o->class_id = s->class_id ? fl_strdup(s->class_id) : NULL;
        o->rule_id = s->rule_id ? fl_strdup(s->rule_id) : NULL;
        o->title = fl_strdup(s->title);
        o->fingerprint = fl_strdup(s->fingerprint);
        o->template_text = fl_strdup(s->template_text);
        o->implies = fl_strdup(fl_implies_name((fl_implies)s->implies));
        o->severity = s->severity;
        o->count = s->count;
        o->first_seen = s->first_seen;
        o->last_seen = s->last_seen;
        if (!o->key || !o->title || !o->fingerprint || !o->template_text || !o->implies)
            return FL_ENOMEM;
        o->by_revision = fl_calloc(c->n_revs + 1, sizeof(fl_rev_count));
        o->series = fl_calloc(res->n_buckets + 1, sizeof(uint32_t));
        o->samples = fl_calloc(FL_GROUP_MAX_SAMPLES, sizeof(fl_sample));
        o->fields = fl_calloc(s->n_fields + 1, sizeof(fl_field_value));
        if (!o->by_revision || !o->series || !o->samples || !o->fields)
            return FL_ENOMEM;
        for (size_t r = 0; r < c->n_revs; r++) {
            size_t sl = g * c->n_revs + r;
            uint64_t k = 0;
            for (size_t i = 0; i < c->gn[sl]; i++) {
                k += c->gcells[sl][i].errors;
                o->series[bucket_of(res, c->gcells[sl][i].minute)] +=
                    (uint32_t)c->gcells[sl][i].errors;
            }
            if (!k)
                continue;
            fl_rev_count *rc = &o->by_revision[o->n_by_revision++];
            rc->service = fl_strdup(c->revs[r].r->service);
            rc->revision = fl_strdup(c->revs[r].r->revision);
            rc->count = k;
            if (!rc->service || !rc->revision)
                return FL_ENOMEM;
        }
        qsort(o->by_revision, o->n_by_revision, sizeof(fl_rev_count), revcount_cmp);
        for (size_t i = 0; i < s->n_samples; i++) {
            const agg_sample *x = &s->samples[i];
            fl_sample *y = &o->samples[o->n_samples++];
            y->ts = x->ts;
            y->service = fl_strdup(x->service);
            y->revision = fl_strdup(x->revision);
            y->instance_id = fl_strdup(x->instance_id);
            y->insert_id = fl_strdup(x->insert_id);
            y->message = fl_strdup(x->message);
            if (!y->service || !y->revision || !y->instance_id || !y->insert_id || !y->message)
                return FL_ENOMEM;
        }
        for (size_t i = 0; i < s->n_fields; i++) {
            bool dup = false;
            for (size_t j = 0; j < o->n_fields; j++)
                dup |= strcmp(o->fields[j].name, s->fields[i].name) == 0;
            if (dup)
                continue;
            const agg_field *f = top_field(s, s->fields[i].name);
            fl_field_value *y = &o->fields[o->n_fields++];
            y->name = fl_strdup(f->name);
            y->value = fl_strdup(f->value);
            y->count = f->count;
            if (!y->name || !y->value)
                return FL_ENOMEM;
        }
        qsort(o->fields, o->n_fields, sizeof(fl_field_value), field_out_cmp);
    }
    qsort(res->groups, res->n_groups, sizeof(fl_group), group_out_cmp);
    return 0;
}

static int rev_out_cmp(const void *p, const void *q)
{
    const fl_revision *a = p, *b = q;
    int d = strcmp(a->service, b->service);
    if (d)
        return d;
    if (a->first_seen != b->first_seen)
        return a->first_seen < b->first_seen ? -1 : 1;
    return strcmp(a->revision, b->revision);
}

static int out_revisions(const ctx *c, fl_result *res)
{
    res->revisions = fl_calloc(c->n_revs + 1, sizeof(fl_revision));
    if (!res->revisions)
        return FL_ENOMEM;
    for (size_t r = 0; r < c->n_revs; r++) {
        const rev_view *v = &c->revs[r];
        fl_revision *o = &res->revisions[res->n_revisions++];
        o->service = fl_strdup(v->r->service);
        o->revision = fl_strdup(v->r->revision);
        o->commit_sha = fl_strdup(v->r->commit_sha);
        o->first_seen = v->r->first_seen;
        o->last_seen = v->r->last_seen;
        o->requests = v->requests;
        o->requests_5xx = v->r5xx;
        o->errors = v->errors;
        o->requests_series = fl_calloc(res->n_buckets + 1, sizeof(uint32_t));
        o->r5xx_series = fl_calloc(res->n_buckets + 1, sizeof(uint32_t));
        o->errors_series = fl_calloc(res->n_buckets + 1, sizeof(uint32_t));
        if (!o->service || !o->revision || !o->commit_sha || !o->requests_series ||
            !o->r5xx_series || !o->errors_series)
            return FL_ENOMEM;
        for (size_t i = 0; i < v->n; i++) {
            size_t b = bucket_of(res, v->cells[i].minute);
            o->requests_series[b] += (uint32_t)v->cells[i].requests;
            o->r5xx_series[b] += (uint32_t)v->cells[i].r5xx;
            o->errors_series[b] += (uint32_t)v->cells[i].errors;
        }
    }
    qsort(res->revisions, res->n_revisions, sizeof(fl_revision), rev_out_cmp);
    return 0;
}

int fl_analyze(const fl_agg *a, const fl_analyze_opts *opts, fl_result **out)
{
    static const fl_analyze_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    *out = NULL;
    fl_result *res = fl_result_new();
    if (!res)
        return FL_ENOMEM;
    ctx c;
    memset(&c, 0, sizeof(c));
    c.a = a;
    c.opts = opts;
    c.w0 = opts->window_start ? opts->window_start : a->min_ts;
    c.w1 = opts->window_end ? opts->window_end : a->max_ts;
    if (c.w1 < c.w0)
        c.w1 = c.w0;
    c.m0 = minute_of(c.w0);
    c.m1 = minute_of(c.w1);
    res->window_start = c.w0;
    res->window_end = c.w1;
    res->confidence_threshold = opts->threshold > 0 ? opts->threshold : FL_DEFAULT_THRESHOLD;
    int64_t minutes = c.m1 - c.m0 + 1;
    int64_t per = (minutes + MAX_BUCKETS - 1) / MAX_BUCKETS;
    res->bucket_seconds = (int)(per < 1 ? 60 : per * 60);
    res->bucket_origin = c.m0 * AGG_MINUTE;
    res->n_buckets = (size_t)((minutes + per - 1) / (per < 1 ? 1 : per));
    if (res->n_buckets == 0)
        res->n_buckets = 1;

    fl_change *changes = NULL;
    size_t n_changes = 0;
    group_stats *gs = NULL;
    int rc = build_index(&c);
    if (!rc)
        rc = collect_changes(&c, &changes, &n_changes);
    if (!rc)
        rc = out_changes(res, changes, n_changes);
    if (!rc && !(gs = fl_calloc(a->n_groups + 1, sizeof(group_stats))))
        rc = FL_ENOMEM;
    for (size_t g = 0; !rc && g < a->n_groups; g++)
        group_stats_build(&c, g, &gs[g]);
    for (size_t g = 0; !rc && g < a->n_groups; g++) {
        for (size_t i = 0; i < c.n_ch; i++)
            score_change(&c, i, g, &gs[g]);
        score_group(&c, g, &gs[g]);
    }
    /* An unexplained group that starts with an explained one in the same service is a symptom
     * of it (the 5xx of a crashing revision), not a second cause. */
    for (size_t i = 0; !rc && i < c.n_cands; i++) {
        cand *x = &c.cands[i];
        if (x->kind != FL_CAUSE_UNKNOWN)
            continue;
        for (size_t j = 0; j < c.n_cands; j++) {
            const cand *y = &c.cands[j];
            if (y->kind != FL_CAUSE_UNKNOWN && y->score >= MIN_REPORTED_SCORE &&
                y->score >= x->score * 0.5 && strcmp(y->service, x->service) == 0 &&
                llabs((long long)(y->onset - x->onset)) <= 5 * AGG_MINUTE) {
                x->score = 0;
                break;
            }
        }
    }
    if (!rc) {
        if (c.n_cands)
            qsort(c.cands, c.n_cands, sizeof(cand), cand_cmp);
        size_t max = opts->max_causes ? opts->max_causes : 5;
        res->causes = fl_calloc(max + 1, sizeof(fl_cause));
        if (!res->causes)
            rc = FL_ENOMEM;
        for (size_t i = 0; !rc && i < c.n_cands && res->n_causes < max; i++) {
            cand *x = &c.cands[i];
            if (x->score < MIN_REPORTED_SCORE)
                break;
            bool dup = false;
            for (size_t j = 0; j < i; j++) {
                const cand *y = &c.cands[j];
                if (y->kind == x->kind && strcmp(y->service, x->service) == 0 &&
                    strcmp(y->revision, x->revision) == 0 &&
                    (x->kind == FL_CAUSE_DEPLOY ? y->change == x->change : true))
                    dup = true;
            }
            if (dup)
                continue;
            if (x->kind == FL_CAUSE_DEPLOY)
                previous_revision(&c, x, x->prev, sizeof(x->prev));
            region_of(&c, x->service, x->revision, x->region, sizeof(x->region));
            rc = build_cause(&c, x, (int)res->n_causes + 1, &res->causes[res->n_causes]);
            res->n_causes++;
        }
    }
    if (!rc && c.oom)
        rc = FL_ENOMEM;
    if (!rc)
        rc = out_groups(&c, res);
    if (!rc)
        rc = out_revisions(&c, res);
    res->confident = res->n_causes > 0 && res->causes[0].score >= res->confidence_threshold;
    if (gs)
        for (size_t g = 0; g < a->n_groups; g++)
            fl_free(gs[g].series);
    fl_free(gs);
    fl_free(changes);
    free_index(&c);
    if (rc) {
        fl_result_free(res);
        return rc;
    }
    *out = res;
    return 0;
}
