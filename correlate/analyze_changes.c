/* Change events for the analysis: sorted, audit rollouts paired with the revision first seen
 * right after them, inferred deploys added, and one candidate per (service, revision). */
#include "analyze_internal.h"
#include "evidence.h"
#include "score.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* "UpdateService of S by X" and "UpdateService of S": the same method on the same service (the
 * operation's last entry may carry no principal). */
static bool same_method(const char *a, const char *b)
{
    size_t la = strcspn(a, " "), lb = strcspn(b, " ");
    return la == lb && strncmp(a, b, la) == 0;
}

/* One operation, two audit entries: a v2 UpdateService logs its first and its last step
 * (operation.first / operation.last) with the same method, service and principal, seconds
 * apart. A second entry like that, naming the same revision or none, is the same change. A
 * real second deploy makes a second revision, so it stays. v is sorted; returns the new n. */
static size_t merge_operation_halves(fl_change *v, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        fl_change *m = NULL;
        bool mergeable = is_rollout(v[i].kind) && v[i].kind != FL_CHANGE_TRAFFIC &&
                         strcmp(v[i].source, "audit") == 0;
        for (size_t j = kept; mergeable && j-- > 0 && !m;) {
            fl_change *o = &v[j];
            if (v[i].ts - o->ts > OPERATION_WINDOW)
                break;
            if (o->kind == v[i].kind && is_rollout(o->kind) && o->kind != FL_CHANGE_TRAFFIC &&
                strcmp(o->source, "audit") == 0 && strcmp(v[i].source, "audit") == 0 &&
                strcmp(o->service, v[i].service) == 0 &&
                (!o->actor[0] || !v[i].actor[0] || strcmp(o->actor, v[i].actor) == 0) &&
                same_method(o->description, v[i].description) &&
                (!o->revision[0] || !v[i].revision[0] ||
                 strcmp(o->revision, v[i].revision) == 0))
                m = o;
        }
        if (!m) {
            v[kept++] = v[i];
            continue;
        }
        if (!m->revision[0])
            snprintf(m->revision, sizeof(m->revision), "%s", v[i].revision);
        if (!m->actor[0])
            snprintf(m->actor, sizeof(m->actor), "%s", v[i].actor);
        if (!m->commit_sha[0])
            snprintf(m->commit_sha, sizeof(m->commit_sha), "%s", v[i].commit_sha);
    }
    return kept;
}

/* All change events, sorted, with revisions paired and inferred deploys added. The result is
 * in *out (owned) for the report; candidates are derived from it. */
int an_collect_changes(ctx *c, fl_change **out, size_t *n_out)
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
        long r = v[i].revision[0] ? an_find_rev(c, v[i].service, v[i].revision) : -1;
        if (r >= 0 && v[i].kind != FL_CHANGE_FAILED)
            named[r] = true;
        if (r >= 0 && is_rollout(v[i].kind))
            claimed[r] = true;
    }
    /* A service-level rollout whose revision turned Ready shortly after it (v1 ReplaceService:
     * Ready 15-30 s later) carries that revision, whatever the logs show first. */
    for (size_t i = 0; i < n; i++) {
        if (v[i].revision[0] || !is_rollout(v[i].kind) || v[i].kind == FL_CHANGE_TRAFFIC)
            continue;
        /* v is sorted by time: only [first at or after v[i].ts, end of the window] can pair */
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (v[mid].ts < v[i].ts)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t j = lo; j < n && v[j].ts <= v[i].ts + READY_PAIR_WINDOW; j++) {
            if (v[j].kind != FL_CHANGE_REVISION_READY || !v[j].revision[0] ||
                strcmp(v[j].service, v[i].service) != 0)
                continue;
            long r = an_find_rev(c, v[j].service, v[j].revision);
            if (r >= 0 && claimed[r])
                continue;
            snprintf(v[i].revision, sizeof(v[i].revision), "%s", v[j].revision);
            if (r >= 0)
                named[r] = claimed[r] = true;
            break; /* v is in time order: the first Ready after the rollout */
        }
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
    n = merge_operation_halves(v, n);

    /* Candidates: one per (service, revision); service-level changes one each. Found through
     * two maps, (service, revision) and service -> its latest candidate with a revision, so
     * 20,000 changes cost no 20,000 x 20,000 comparisons. */
    c->ch = fl_calloc(n + 1, sizeof(cand_change));
    fl_strmap by_rev, by_svc;
    fl_strmap_init(&by_rev);
    fl_strmap_init(&by_svc);
    if (!c->ch) {
        fl_free(v);
        return FL_ENOMEM;
    }
    char key[sizeof(v->service) + sizeof(v->revision) + 2];
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == FL_CHANGE_FAILED)
            continue;
        if (v[i].kind == FL_CHANGE_REVISION_READY && !v[i].revision[0])
            continue; /* "service ready" only confirms a rollout already listed */
        cand_change *m = NULL;
        snprintf(key, sizeof(key), "%s\x1f%s", v[i].service, v[i].revision);
        if (v[i].revision[0]) {
            long j = fl_strmap_get(&by_rev, key);
            if (j >= 0)
                m = &c->ch[j];
        }
        if (!v[i].revision[0] && is_rollout(v[i].kind)) {
            /* A service update naming no new revision shortly after a rollout is most likely
             * its follow-up (traffic moved to the canary, a flag flipped): one candidate. */
            long j = fl_strmap_get(&by_svc, v[i].service);
            if (j >= 0 && v[i].ts - c->ch[j].last_ts <= PAIR_WINDOW)
                m = &c->ch[j];
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
            m->rev = v[i].revision[0] ? an_find_rev(c, v[i].service, v[i].revision) : -1;
            if (v[i].revision[0] &&
                (fl_strmap_put(&by_rev, key, (uint32_t)(c->n_ch - 1)) ||
                 fl_strmap_put(&by_svc, v[i].service, (uint32_t)(c->n_ch - 1)))) {
                fl_strmap_free(&by_rev);
                fl_strmap_free(&by_svc);
                fl_free(v);
                return FL_ENOMEM;
            }
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
    fl_strmap_free(&by_rev);
    fl_strmap_free(&by_svc);
    /* The report lists a service-level "Ready" only when no revision-level Ready of the same
     * service stands within a minute of it: otherwise it says the same thing twice. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool echo = false;
        if (v[i].kind == FL_CHANGE_REVISION_READY && !v[i].revision[0])
            for (size_t j = 0; j < n && !echo; j++)
                echo = j != i && v[j].kind == FL_CHANGE_REVISION_READY && v[j].revision[0] &&
                       strcmp(v[j].service, v[i].service) == 0 &&
                       llabs(v[j].ts - v[i].ts) <= 60 * FL_USEC_PER_SEC;
        if (!echo)
            v[kept++] = v[i];
    }
    *out = v;
    *n_out = kept;
    return 0;
}
