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
#include "analyze_internal.h"
#include "evidence.h"
#include "score.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


cand *an_cand_new(ctx *c)
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
    x->symptom = -1;
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

/* Request-rate surge of a service: the change point of its per-bucket requests. */
static double service_surge(ctx *c, const char *service, fl_time *at)
{
    size_t n = (size_t)((c->m1 - c->m0 + 1) / c->w);
    uint32_t *x = fl_calloc(n + 1, sizeof(uint32_t));
    if (!x) {
        c->oom = true;
        return 1;
    }
    for (size_t r = 0; r < c->n_revs; r++) {
        if (strcmp(c->revs[r].r->service, service) != 0)
            continue;
        for (size_t i = 0; i < c->revs[r].n; i++) {
            int64_t m = (c->revs[r].cells[i].minute - c->m0) / c->w;
            if (c->revs[r].cells[i].minute >= c->m0 && (size_t)m < n)
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
        *at = (c->m0 + (int64_t)k * c->w) * AGG_MINUTE;
    }
    fl_free(x);
    return ratio;
}


static void group_stats_build(ctx *c, size_t g, group_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->service = an_group_service(c, g);
    size_t n = (size_t)((c->m1 - c->m0 + 1) / c->w);
    st->series = fl_calloc(n + 1, sizeof(uint32_t));
    if (!st->series) {
        c->oom = true;
        return;
    }
    st->n = n;
    for (size_t s = c->gofs[g]; s < c->gofs[g + 1]; s++) {
        const an_grev *gr = &c->grev[s];
        for (size_t i = 0; i < gr->n; i++) {
            int64_t m = (gr->cells[i].minute - c->m0) / c->w;
            if (gr->cells[i].minute >= c->m0 && (size_t)m < st->n)
                st->series[m] += (uint32_t)gr->cells[i].errors;
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
        /* The burst often begins inside the bucket before the split: take that bucket too
         * when it is already well above the earlier rate. */
        double base = k > 1 ? (double)(pre - st->series[k - 1]) / (double)(k - 1) : 0;
        int64_t from = c->m0 + (int64_t)k * c->w;
        if (st->series[k - 1] > 0 && (double)st->series[k - 1] > 3 * base)
            from -= c->w;
        fl_time first = 0;
        an_grp_sum_service(c, g, NULL, from, INT64_MAX, &first);
        st->onset = first;
        st->started = true;
    }
    for (size_t i = 0; i < st->n; i++)
        *(i < k ? &st->before : &st->after) += st->series[i];
    st->before_min = (double)k * (double)c->w;
    st->after_min = (double)(st->n - k) * (double)c->w;
}

/* Chronic: no significant rise anywhere in the window (no change point), present in its
 * first and its last quarter, and there before the window's first change. Such a group is
 * background, not an incident: it is flagged in the report and never a change's cause. */
static bool is_chronic(const ctx *c, const group_stats *st)
{
    if (st->started || st->n < 8)
        return false;
    size_t q = st->n / 4;
    uint64_t head = 0, tail = 0, total = 0;
    for (size_t i = 0; i < st->n; i++) {
        total += st->series[i];
        head += i < q ? st->series[i] : 0;
        tail += i >= st->n - q ? st->series[i] : 0;
    }
    if (total < 10 || !head || !tail)
        return false;
    /* Before the first change of its service (or of none in particular). */
    fl_time first_change = 0;
    for (size_t i = 0; i < c->n_ch; i++)
        if ((!c->ch[i].c.service[0] || strcmp(c->ch[i].c.service, st->service) == 0) &&
            (!first_change || c->ch[i].first_ts < first_change))
            first_change = c->ch[i].first_ts;
    int64_t mc = first_change ? an_minute_of(first_change) : c->m1 + 1;
    size_t before = 0;
    for (size_t i = 0; i < st->n && c->m0 + (int64_t)i * c->w < mc; i++)
        before += st->series[i];
    return before > 0;
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
    if (c->chronic[g])
        return; /* there before the change and unchanged by it */
    char gname[128];
    an_group_name(grp, gname, sizeof(gname));
    /* A secret names no Cloud Run service: any service reading it may break. */
    bool any_service = cc->c.kind == FL_CHANGE_SECRET || !cc->c.service[0];
    const char *svc = any_service ? st->service : cc->c.service;
    fl_implies imp = (fl_implies)grp->implies;
    bool same_service = strcmp(svc, st->service) == 0;
    /* A change of a service the erring one calls: its callers' call errors are its evidence. */
    double callee_fit = 0;
    bool via_callee = !same_service && !any_service && an_calls(c, st->service, svc) &&
                      (callee_fit = an_callee_fit(c, grp, svc)) > 0;
    const char *scope = via_callee ? st->service : svc;
    int64_t mT = an_minute_of(cc->first_ts);

    /* Errors the change could explain: on its revision, else on the service after it. */
    fl_time first = 0;
    uint64_t k_rev = 0;
    if (cc->rev >= 0 && !via_callee)
        k_rev = an_grp_sum(c, g, (size_t)cc->rev, INT64_MIN, INT64_MAX, &first);
    if (cc->rev >= 0 && !via_callee && k_rev == 0)
        return;
    if (cc->rev < 0 || via_callee) {
        k_rev = an_grp_sum_service(c, g, scope, mT, INT64_MAX, &first);
        if (k_rev == 0 || first < cc->first_ts)
            return;
    }
    cand *x = an_cand_new(c);
    if (!x)
        return;
    x->kind = FL_CAUSE_DEPLOY;
    x->group = (long)g;
    x->gkey = grp->key;
    x->change = (long)ci;
    x->change_ts = cc->first_ts;
    if (via_callee)
        snprintf(x->caller, sizeof(x->caller), "%s", st->service);
    snprintf(x->service, sizeof(x->service), "%s", svc);
    snprintf(x->revision, sizeof(x->revision), "%s", cc->c.revision);

    /* Novelty: the group's rate in the scope before the change vs after. */
    uint64_t before = an_grp_sum_service(c, g, scope, c->m0, mT, NULL);
    uint64_t after = an_grp_sum_service(c, g, scope, mT, c->m1 + 1, NULL);
    double bmin = (double)(mT - c->m0), amin = (double)(c->m1 + 1 - mT);
    x->values[FL_SIG_NOVELTY] = fl_score_novelty(before, bmin, after, amin);
    snprintf(x->details[FL_SIG_NOVELTY], 200, "%" PRIu64 " `%s` in %.0f min before, %" PRIu64
             " in %.0f min after",
             before, gname, bmin, after, amin);

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
                     "`%s` starts %s after the revision went live (%s after the %s)", gname,
                     fl_fmt_duration(dt, d, sizeof(d)),
                     fl_fmt_duration((double)(onset - cc->first_ts) / FL_USEC_PER_SEC, d2,
                                     sizeof(d2)),
                     fl_change_kind_name(cc->c.kind));
        else
            snprintf(x->details[FL_SIG_ONSET_AFTER_CHANGE], 200, "`%s` starts %s after the %s",
                     gname, fl_fmt_duration(dt, d, sizeof(d)),
                     fl_change_kind_name(cc->c.kind));
    } else {
        snprintf(x->details[FL_SIG_ONSET_AFTER_CHANGE], 200,
                 "`%s` was already there before the change and did not rise after it",
                 gname);
    }

    /* Confinement: the changed revision against revisions serving at the same time, else
     * against its predecessor before the change. */
    double conf = 0.5, llr = 0, excess = (double)k_rev;
    if (cc->rev >= 0 && same_service) {
        size_t r = (size_t)cc->rev;
        int64_t ma = an_minute_of(first), mb = c->m1 + 1;
        uint64_t n_r, k_r = an_grp_sum(c, g, r, ma, mb, NULL), n_o = 0, k_o = 0, t;
        an_rev_sum(c, r, ma, mb, &n_r, NULL);
        for (size_t o = 0; o < c->n_revs; o++) {
            if (o == r || strcmp(c->revs[o].r->service, svc) != 0)
                continue;
            an_rev_sum(c, o, ma, mb, &t, NULL);
            n_o += t;
            k_o += an_grp_sum(c, g, o, ma, mb, NULL);
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
            uint64_t n_p = an_service_requests(c, svc, c->m0, mT);
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
                double m_r = (double)(c->m1 + 1 - an_minute_of(c->revs[r].r->first_seen));
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
    } else if (via_callee) {
        /* The callee's new revision against its other revisions: worse confirms the link; a
         * callee that fails without logging it (slow, hanging) leaves this neutral. */
        conf = 0.5;
        llr = fl_llr2_rates(after, amin, before, bmin > 0 ? bmin : 1);
        excess = rate_excess(after, amin, before, bmin);
        snprintf(x->details[FL_SIG_CONFINED], 200,
                 "the errors are in %.50s, which calls %.50s; its requests say nothing more",
                 st->service, svc);
        if (cc->rev >= 0) {
            size_t r = (size_t)cc->rev;
            int64_t ma = an_minute_of(first), mb = c->m1 + 1;
            uint64_t n_r, k_r, n_o = 0, k_o = 0, t, k5;
            an_rev_sum(c, r, ma, mb, &n_r, &k_r);
            for (size_t o = 0; o < c->n_revs; o++) {
                if (o == r || strcmp(c->revs[o].r->service, svc) != 0)
                    continue;
                an_rev_sum(c, o, ma, mb, &t, &k5);
                n_o += t;
                k_o += k5;
            }
            if (n_r >= MIN_COMPARE_REQUESTS && n_o >= MIN_COMPARE_REQUESTS) {
                double lift = fl_score_lift(k_r, n_r, k_o, n_o);
                conf = 0.5 + 0.5 * lift;
                char p1[16], p2[16];
                snprintf(x->details[FL_SIG_CONFINED], 200,
                         "errors in caller %s; callee %s 5xx %" PRIu64 "/%" PRIu64 " (%s) vs its "
                         "other revisions %" PRIu64 "/%" PRIu64 " (%s)",
                         st->service, c->revs[r].r->revision, k_r, n_r,
                         fl_fmt_pct(k_r, n_r, p1, 16), k_o, n_o, fl_fmt_pct(k_o, n_o, p2, 16));
            }
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
            uint64_t on = an_grp_sum(c, g, (size_t)o->rev, mT, c->m1 + 1, NULL);
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
    snprintf(x->details[FL_SIG_IMPLIED], 200, "`%s` implies %s", gname, fl_implies_name(imp));
    if (via_callee) {
        x->values[FL_SIG_IMPLIED] = callee_fit;
        snprintf(x->details[FL_SIG_IMPLIED], 200, "`%.60s` in %.40s is what a failing call to "
                 "%.40s looks like",
                 gname, st->service, svc);
    }

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
    /* Through a callee, the neutral 0.5 of "its requests say nothing" is no tie; only the
     * part a worse callee revision adds is. */
    double confined = via_callee ? 2 * (x->values[FL_SIG_CONFINED] - 0.5)
                                 : x->values[FL_SIG_CONFINED];
    double link = FL_MAX(x->values[FL_SIG_ONSET_AFTER_CHANGE], confined);
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
    if (st->started && st->onset >= cc->first_ts - 60 * FL_USEC_PER_SEC &&
        (same_service || via_callee) && st->llr2 > llr) {
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
    char gname[128];
    an_group_name(grp, gname, sizeof(gname));
    fl_time sat = 0;
    double ratio = service_surge(c, st->service, &sat);
    bool surge_near = sat && sat - 5 * AGG_MINUTE <= st->onset &&
                      st->onset <= sat + 15 * AGG_MINUTE;
    double surge = surge_near ? fl_score_surge(ratio) : 0;

    fl_cause_kind kinds[2];
    size_t nk = fl_group_cause_kinds(grp->class_id, imp, surge > 0, kinds);

    /* Closest change before the onset, of the group's service or of none in particular. */
    double near = 0;
    char near_detail[200] = "no change before the onset";
    for (size_t i = 0; i < c->n_ch; i++) {
        const cand_change *cc = &c->ch[i];
        /* A change of a service this one calls counts too: it may be what broke the calls. */
        /* A secret names no Cloud Run service: any service may read it. */
        if (cc->c.kind != FL_CHANGE_SECRET && cc->c.service[0] &&
            strcmp(cc->c.service, st->service) != 0 && !an_calls(c, st->service, cc->c.service))
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
    int64_t mo = an_minute_of(st->onset);
    size_t serving = 0, erring = 0;
    double worst_lift = 0;
    uint64_t n_all = 0, k_all = 0, t;
    for (size_t r = 0; r < c->n_revs; r++) {
        if (strcmp(c->revs[r].r->service, st->service) != 0)
            continue;
        an_rev_sum(c, r, mo, c->m1 + 1, &t, NULL);
        n_all += t;
        k_all += an_grp_sum(c, g, r, mo, c->m1 + 1, NULL);
    }
    for (size_t r = 0; r < c->n_revs; r++) {
        if (strcmp(c->revs[r].r->service, st->service) != 0)
            continue;
        uint64_t n_r, k_r = an_grp_sum(c, g, r, mo, c->m1 + 1, NULL);
        an_rev_sum(c, r, mo, c->m1 + 1, &n_r, NULL);
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
        /* The view is sorted by service: a service seen before is the previous revision's. */
        bool seen = r > 0 && strcmp(c->revs[r - 1].r->service, svc) == 0;
        fl_time first = 0;
        if (!seen && an_grp_sum_service(c, g, svc, mo - 5, c->m1 + 1, &first) >= 3 &&
            an_grp_sum_service(c, g, svc, c->m0, mo - 5, NULL) == 0)
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
                an_grp_sum(c, g, (size_t)c->ch[i].rev, mo, c->m1 + 1, NULL) == k_all)
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
        cand *x = an_cand_new(c);
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
        x->values[FL_SIG_IMPLIED] = fl_score_class_fit(x->kind, grp->class_id, imp);
        snprintf(x->details[FL_SIG_IMPLIED], 200, "`%s` implies %s", gname,
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

/* A group that says nothing about what broke: the 5xx lines of the request log ("HTTP 500
 * GET <path>"), Cloud Run's 503 text for a dead instance, or a request timeout (something was
 * slow, never what). An unclassified group with the application's own words ("Error: 5
 * NOT_FOUND: Queue does not exist") is not one: its template is the best name there is. */
static bool is_symptom_group(const agg_group *g)
{
    if (g->class_id)
        return strcmp(g->class_id, "request_timeout") == 0;
    const char *t = g->template_text ? g->template_text : "";
    bool request_line = strncmp(t, "HTTP ", 5) == 0 && t[5] >= '1' && t[5] <= '5';
    return request_line || strstr(t, "HTTP response was malformed") ||
           strstr(t, "connection to the instance had an error");
}

static int cand_order(const cand *a, const cand *b);
static void follower_add(const ctx *c, cand *y, const char *svc, long g, uint64_t n);

/* Two more ways one cause shows up as two candidates, decided on the scores before any is
 * cleared:
 *   - a callee's change blamed through its callers' errors, when the callee's own errors
 *     blame the same change: the callee's own group names the cause, the callers' errors
 *     become its evidence;
 *   - a non-deploy candidate of a symptom group (a timeout) next to a classified one of the
 *     same kind in the same service starting within 5 minutes (the upstream timeouts behind
 *     the 504s): the classified one names it. */
static void prefer_own_evidence(ctx *c)
{
    long *to = fl_calloc(c->n_cands + 1, sizeof(long));
    if (!to) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < c->n_cands; i++) {
        const cand *x = &c->cands[i];
        to[i] = -1;
        if (x->score <= 0 || x->failed_rollout)
            continue;
        bool via = x->kind == FL_CAUSE_DEPLOY && x->caller[0];
        bool symptom = x->kind != FL_CAUSE_DEPLOY && is_symptom_group(&c->a->groups[x->group]);
        if (!via && !symptom)
            continue;
        for (size_t j = 0; j < c->n_cands; j++) {
            const cand *y = &c->cands[j];
            if (j == i || y->score < MIN_REPORTED_SCORE || y->score < 0.5 * x->score ||
                y->kind != x->kind || strcmp(y->service, x->service) != 0)
                continue;
            if (via && (y->change != x->change || y->caller[0] || y->failed_rollout))
                continue;
            if (symptom && (is_symptom_group(&c->a->groups[y->group]) ||
                            llabs((long long)(y->onset - x->onset)) > 5 * AGG_MINUTE))
                continue;
            const cand *b = to[i] >= 0 ? &c->cands[to[i]] : NULL;
            if (!b || y->score > b->score || (y->score == b->score && cand_order(y, b) < 0))
                to[i] = (long)j;
        }
    }
    for (size_t i = 0; i < c->n_cands; i++) {
        if (to[i] < 0)
            continue;
        cand *x = &c->cands[i];
        if (x->caller[0])
            follower_add(c, &c->cands[to[i]], x->caller, x->group,
                         an_grp_sum_service(c, (size_t)x->group, x->caller,
                                            an_minute_of(x->change_ts), INT64_MAX, NULL));
        x->score = 0;
    }
    fl_free(to);
}

/* A change found through a symptom group is named by the classified group of the same change
 * that explains it: the OOM in the revision's own system log rather than the 503s it causes,
 * the Redis timeouts rather than the 500s. The score stays the one the evidence earned; the
 * symptom is kept for the evidence. */
static void name_by_class(ctx *c)
{
    for (size_t i = 0; i < c->n_cands; i++) {
        cand *x = &c->cands[i];
        if (x->kind != FL_CAUSE_DEPLOY || x->failed_rollout ||
            !is_symptom_group(&c->a->groups[x->group]))
            continue;
        const cand *best = NULL;
        for (size_t j = 0; j < c->n_cands; j++) {
            const cand *y = &c->cands[j];
            /* The naming group must be the changed service's own, not a caller's. */
            if (j == i || y->kind != FL_CAUSE_DEPLOY || y->change != x->change || y->failed_rollout ||
                y->caller[0] || x->caller[0] || y->symptom >= 0 ||
                strcmp(y->service, x->service) != 0 ||
                is_symptom_group(&c->a->groups[y->group]))
                continue;
            /* It must start with the symptom, not long after it, and be new with the change
             * (a timeout seen before the deploy is background, not its explanation). */
            if (y->onset > x->onset + 10 * AGG_MINUTE ||
                an_grp_sum_service(c, (size_t)y->group, y->service, c->m0,
                                   an_minute_of(y->change_ts), NULL) > 0)
                continue;
            if (!best || y->score > best->score ||
                (y->score == best->score && strcmp(y->gkey, best->gkey) < 0))
                best = y;
        }
        if (!best)
            continue;
        x->symptom = x->group;
        x->gsym = x->gkey;
        x->group = best->group;
        x->gkey = best->gkey;
        if (best->onset && best->onset < x->onset)
            x->onset = best->onset;
    }
}

static int cand_cmp(const void *p, const void *q);
static int cand_order(const cand *a, const cand *b)
{
    return cand_cmp(a, b);
}

/* Keeps the two callers with the most errors following cause y (ties: service, group key),
 * in (service, key) order, whatever order they are offered in. */
static void follower_add(const ctx *c, cand *y, const char *svc, long g, uint64_t n)
{
    for (int k = 0; k < 2; k++)
        if (y->follow_svc[k][0] && strcmp(y->follow_svc[k], svc) == 0 && y->follow_group[k] == g)
            return;
    int at = !y->follow_svc[0][0] ? 0 : !y->follow_svc[1][0] ? 1 : -1;
    if (at < 0) {
        int weak = 0;
        for (int k = 1; k < 2; k++) {
            int d = y->follow_n[k] != y->follow_n[weak]
                        ? (y->follow_n[k] < y->follow_n[weak] ? -1 : 1)
                        : -strcmp(y->follow_svc[k], y->follow_svc[weak]);
            if (d < 0)
                weak = k;
        }
        int d = n != y->follow_n[weak] ? (n < y->follow_n[weak] ? -1 : 1)
                                       : -strcmp(svc, y->follow_svc[weak]);
        if (d <= 0)
            return;
        at = weak;
    }
    snprintf(y->follow_svc[at], sizeof(y->follow_svc[at]), "%s", svc);
    y->follow_group[at] = g;
    y->follow_n[at] = n;
    if (y->follow_svc[1][0]) {
        int d = strcmp(y->follow_svc[0], y->follow_svc[1]);
        if (!d)
            d = strcmp(c->a->groups[y->follow_group[0]].key, c->a->groups[y->follow_group[1]].key);
        if (d > 0) {
            char t[128];
            memcpy(t, y->follow_svc[0], sizeof(t));
            memcpy(y->follow_svc[0], y->follow_svc[1], sizeof(t));
            memcpy(y->follow_svc[1], t, sizeof(t));
            long tg = y->follow_group[0];
            y->follow_group[0] = y->follow_group[1];
            y->follow_group[1] = tg;
            uint64_t tn = y->follow_n[0];
            y->follow_n[0] = y->follow_n[1];
            y->follow_n[1] = tn;
        }
    }
}

/* A caller's errors that follow a failure or change of a service it calls are that cause's
 * evidence, not a cause of their own ("web-bff: 1,204 upstream timeouts follow"). Decided on
 * the scores before any is cleared, so a chain A -> B -> C does not depend on the order. */
static void callers_follow_callees(ctx *c)
{
    long *to = fl_calloc(c->n_cands + 1, sizeof(long));
    if (!to) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < c->n_cands; i++) {
        const cand *x = &c->cands[i];
        to[i] = -1;
        if (x->kind == FL_CAUSE_DEPLOY || x->score <= 0)
            continue;
        for (size_t j = 0; j < c->n_cands; j++) {
            const cand *y = &c->cands[j];
            if (j == i || y->score < MIN_REPORTED_SCORE || !an_calls(c, x->service, y->service))
                continue;
            /* The callee's trouble comes first (or within a minute: clocks and buckets). */
            fl_time at = y->kind == FL_CAUSE_DEPLOY ? y->change_ts : y->onset;
            if (!at || at > x->onset + AGG_MINUTE || at < x->onset - 30 * AGG_MINUTE)
                continue;
            const cand *b = to[i] >= 0 ? &c->cands[to[i]] : NULL;
            if (!b || y->score > b->score || (y->score == b->score && cand_order(y, b) < 0))
                to[i] = (long)j;
        }
    }
    for (size_t i = 0; i < c->n_cands; i++) {
        if (to[i] < 0)
            continue;
        cand *x = &c->cands[i];
        follower_add(c, &c->cands[to[i]], x->service, x->group,
                     an_grp_sum_service(c, (size_t)x->group, x->service, an_minute_of(x->onset),
                                        INT64_MAX, NULL));
        x->score = 0;
    }
    fl_free(to);
}

/* A secret change blamed in several services is listed once, under its best-scored service;
 * the other services that read it become its evidence. cands are ranked already. */
static void secret_readers(ctx *c)
{
    for (size_t i = 0; i < c->n_cands; i++) {
        cand *x = &c->cands[i];
        if (x->kind != FL_CAUSE_DEPLOY || x->change < 0 || x->score < MIN_REPORTED_SCORE ||
            c->ch[x->change].c.kind != FL_CHANGE_SECRET)
            continue;
        bool lead = true;
        for (size_t j = 0; j < i && lead; j++)
            lead = !(c->cands[j].kind == FL_CAUSE_DEPLOY && c->cands[j].change == x->change &&
                     c->cands[j].score >= MIN_REPORTED_SCORE);
        if (!lead)
            continue;
        for (size_t j = i + 1; j < c->n_cands; j++) {
            const cand *y = &c->cands[j];
            if (y->kind == FL_CAUSE_DEPLOY && y->change == x->change &&
                y->score >= MIN_REPORTED_SCORE && strcmp(y->service, x->service) != 0)
                follower_add(c, x, y->service, y->group,
                             an_grp_sum_service(c, (size_t)y->group, y->service,
                                                an_minute_of(y->change_ts), INT64_MAX, NULL));
        }
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
    if (a->change != b->change)
        return a->change < b->change ? -1 : 1;
    /* Candidates renamed to one group differ in the symptom they were found through; callee
     * candidates in their caller. Group indices follow input order: only keys may decide. */
    const char *sa = a->symptom >= 0 ? a->gsym : "", *sb = b->symptom >= 0 ? b->gsym : "";
    if ((d = strcmp(sa, sb)) || (d = strcmp(a->caller, b->caller)))
        return d;
    return (int)a->failed_rollout - (int)b->failed_rollout;
}

/* Predecessor: the revision of the service with the most requests before the change,
 * among those first seen before the changed revision. */
static void previous_revision(const ctx *c, const cand *x, char *out, size_t cap)
{
    out[0] = '\0';
    long r = an_find_rev(c, x->service, x->revision);
    if (r < 0)
        return;
    fl_time t0 = c->revs[r].r->first_seen;
    int64_t mT = an_minute_of(x->change_ts ? x->change_ts : t0);
    long best = -1;
    uint64_t best_n = 0;
    for (size_t o = 0; o < c->n_revs; o++) {
        const agg_rev *y = c->revs[o].r;
        if ((long)o == r || strcmp(y->service, x->service) != 0 || y->first_seen >= t0)
            continue;
        uint64_t n, k5;
        an_rev_sum(c, o, c->m0, mT + 1, &n, &k5);
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
    long r = an_find_rev(c, service, revision);
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

/* Output buckets per series: MAX_BUCKETS, fewer when the report would hold more than
 * REPORT_POINTS series points (a group's series, and three per revision), never fewer than
 * MIN_REPORT_BUCKETS. Thousands of revisions or groups then cost coarser series, not
 * gigabytes (the JSON writer holds about 50 bytes a point). */
static int64_t report_buckets(const fl_agg *a)
{
    size_t series = a->n_groups + 3 * a->n_revs;
    size_t n = series ? REPORT_POINTS / series : MAX_BUCKETS;
    return (int64_t)FL_MAX(FL_MIN(n, (size_t)MAX_BUCKETS), (size_t)MIN_REPORT_BUCKETS);
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
    /* Entries stamped far from the bulk of the input stay out of the window (agg_time.c). */
    agg_fence fence;
    agg_time_fence(&a->time, &fence);
    c.w0 = opts->window_start ? opts->window_start : fence.cut_lo ? fence.first : a->min_ts;
    c.w1 = opts->window_end ? opts->window_end : fence.cut_hi ? fence.last : a->max_ts;
    if (c.w1 < c.w0)
        c.w1 = c.w0;
    /* The window in whole buckets (minutes unless the span was long): wide enough for the
     * cells in the window to span at most AGG_SPAN_BUCKETS, and the window at most
     * AGG_WINDOW_BUCKETS, whatever the timestamps. */
    c.w = agg_view_width(a, an_minute_of(c.w0), an_minute_of(c.w1));
    for (;;) {
        c.m0 = agg_bucket_start(an_minute_of(c.w0), c.w);
        c.m1 = agg_bucket_start(an_minute_of(c.w1), c.w) + c.w - 1;
        if ((c.m1 - c.m0) / c.w < AGG_WINDOW_BUCKETS || c.w >= (INT64_C(1) << 50))
            break;
        c.w *= 2;
    }
    res->window_start = c.w0;
    res->window_end = c.w1;
    res->confidence_threshold = opts->threshold > 0 ? opts->threshold : FL_DEFAULT_THRESHOLD;
    int64_t minutes = c.m1 - c.m0 + 1;
    int64_t max_buckets = report_buckets(a);
    int64_t per = (minutes + max_buckets - 1) / max_buckets;
    per = (per + c.w - 1) / c.w * c.w; /* an output bucket never splits a cell */
    res->bucket_seconds = (int)(per < 1 ? 60 : per * 60);
    res->bucket_origin = c.m0 * AGG_MINUTE;
    res->n_buckets = (size_t)((minutes + per - 1) / (per < 1 ? 1 : per));
    if (res->n_buckets == 0)
        res->n_buckets = 1;

    fl_change *changes = NULL;
    size_t n_changes = 0;
    group_stats *gs = NULL;
    int rc = an_build_index(&c);
    if (!rc)
        rc = an_build_graph(&c);
    if (!rc)
        rc = an_collect_changes(&c, &changes, &n_changes);
    if (!rc)
        rc = an_out_changes(res, changes, n_changes);
    if (!rc && !(gs = fl_calloc(a->n_groups + 1, sizeof(group_stats))))
        rc = FL_ENOMEM;
    if (!rc && !(c.chronic = fl_calloc(a->n_groups + 1, sizeof(bool))))
        rc = FL_ENOMEM;
    /* One group's per-minute series at a time: all of them at once would cost groups x
     * minutes (10,000 x 4,096 cells). */
    for (size_t g = 0; !rc && g < a->n_groups; g++) {
        group_stats_build(&c, g, &gs[g]);
        c.chronic[g] = gs[g].series && is_chronic(&c, &gs[g]);
        fl_free(gs[g].series);
        gs[g].series = NULL;
    }
    for (size_t g = 0; !rc && g < a->n_groups; g++) {
        for (size_t i = 0; i < c.n_ch; i++)
            score_change(&c, i, g, &gs[g]);
        score_group(&c, g, &gs[g]);
    }
    if (!rc)
        an_score_failed_rollouts(&c);
    if (!rc)
        name_by_class(&c);
    if (!rc)
        prefer_own_evidence(&c);
    if (!rc)
        callers_follow_callees(&c);
    /* An unexplained group that starts with an explained one in the same service is a symptom
     * of it (the 5xx of a crashing revision), not a second cause. So is one that starts while
     * an explained group is already erring in its service, even when that group's candidate
     * was scored elsewhere (a class-keyed group spans services: the 500s of content-api while
     * its MongoDB calls fail). Decided on the scores before any is cleared. */
    bool *symptom = rc ? NULL : fl_calloc(c.n_cands + 1, sizeof(bool));
    if (!rc && !symptom)
        rc = FL_ENOMEM;
    for (size_t i = 0; !rc && i < c.n_cands; i++) {
        const cand *x = &c.cands[i];
        if (x->kind != FL_CAUSE_UNKNOWN)
            continue;
        int64_t mo = an_minute_of(x->onset);
        for (size_t j = 0; j < c.n_cands && !symptom[i]; j++) {
            const cand *y = &c.cands[j];
            if (y->kind == FL_CAUSE_UNKNOWN || y->score < MIN_REPORTED_SCORE ||
                y->score < x->score * 0.5)
                continue;
            if (strcmp(y->service, x->service) == 0 &&
                llabs((long long)(y->onset - x->onset)) <= 5 * AGG_MINUTE)
                symptom[i] = true;
            else
                symptom[i] = y->onset <= x->onset + AGG_MINUTE &&
                             an_grp_sum_service(&c, (size_t)y->group, x->service, mo - 10,
                                                mo + 2, NULL) > 0;
        }
    }
    for (size_t i = 0; !rc && i < c.n_cands; i++)
        if (symptom[i])
            c.cands[i].score = 0;
    fl_free(symptom);
    if (!rc) {
        if (c.n_cands)
            qsort(c.cands, c.n_cands, sizeof(cand), cand_cmp);
        secret_readers(&c);
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
                /* One secret version is one cause, whichever services read it. */
                if (x->kind == FL_CAUSE_DEPLOY && y->kind == FL_CAUSE_DEPLOY &&
                    x->change >= 0 && y->change == x->change &&
                    c.ch[x->change].c.kind == FL_CHANGE_SECRET)
                    dup = true;
            }
            if (dup)
                continue;
            if (x->kind == FL_CAUSE_DEPLOY && !x->failed_rollout)
                previous_revision(&c, x, x->prev, sizeof(x->prev));
            region_of(&c, x->service, x->revision, x->region, sizeof(x->region));
            rc = an_build_cause(&c, x, (int)res->n_causes + 1, &res->causes[res->n_causes]);
            res->n_causes++;
        }
    }
    if (!rc && c.oom)
        rc = FL_ENOMEM;
    if (!rc)
        rc = an_out_groups(&c, res);
    if (!rc)
        rc = an_out_revisions(&c, res);
    if (!rc)
        rc = an_out_graph(&c, res);
    res->confident = res->n_causes > 0 && res->causes[0].score >= res->confidence_threshold;
    if (gs)
        for (size_t g = 0; g < a->n_groups; g++)
            fl_free(gs[g].series);
    fl_free(gs);
    fl_free(changes);
    an_free_graph(&c);
    fl_free(c.chronic);
    an_free_index(&c);
    if (rc) {
        fl_result_free(res);
        return rc;
    }
    *out = res;
    return 0;
}

