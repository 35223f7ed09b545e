/* A ranked candidate written out as an fl_cause: score breakdown, one-sentence summary,
 * evidence lines with the numbers behind them, and the runbook actions. */
#include "analyze_internal.h"
#include "evidence.h"
#include "score.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const agg_field *an_top_field(const agg_group *g, const char *name)
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

/* One evidence line per captured field name, in name order (the fields array is in arrival
 * order, which must not show in the report). */
static int add_field_evidence(fl_cause *o, const agg_group *grp)
{
    int rc = 0;
    const char *last = NULL;
    for (;;) {
        const char *next = NULL;
        for (size_t i = 0; i < grp->n_fields; i++) {
            const char *n = grp->fields[i].name;
            if ((!last || strcmp(n, last) > 0) && (!next || strcmp(n, next) < 0))
                next = n;
        }
        if (!next)
            return rc;
        const agg_field *f = an_top_field(grp, next);
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "%s = %s (%" PRIu64 " times)", f->name,
                           f->value, f->count);
        last = next;
    }
}

/* "web-bff: 1204 `upstream_timeout` errors follow" for each caller the cause explains. */
static int add_follower_evidence(const ctx *c, const cand *x, fl_cause *o)
{
    int rc = 0;
    for (int k = 0; k < 2 && x->follow_svc[k][0]; k++) {
        if (strcmp(x->follow_svc[k], x->caller) == 0 && x->follow_group[k] == x->group)
            continue; /* already the cause's own evidence line */
        char name[128];
        an_group_name(&c->a->groups[x->follow_group[k]], name, sizeof(name));
        if (x->change >= 0 && c->ch[x->change].c.kind == FL_CHANGE_SECRET)
            rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                               "%s (also reads secret %s): %" PRIu64 " `%s` errors follow",
                               x->follow_svc[k], c->ch[x->change].c.service, x->follow_n[k],
                               name);
        else
            rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                               "%s (calls %s): %" PRIu64 " `%s` errors follow", x->follow_svc[k],
                               x->service, x->follow_n[k], name);
    }
    return rc;
}

static const char *memory_limit_field(const agg_group *g)
{
    for (size_t i = 0; i < g->n_fields; i++)
        if (strstr(g->fields[i].name, "limit")) {
            const agg_field *f = an_top_field(g, g->fields[i].name);
            return f ? f->value : NULL;
        }
    return NULL;
}

static int write_deploy_text(const ctx *c, const cand *x, fl_cause *o)
{
    const agg_group *grp = &c->a->groups[x->group];
    char gname[128];
    an_group_name(grp, gname, sizeof(gname));
    const cand_change *cc = &c->ch[x->change];
    char t1[16], t2[16], p1[16], p2[16], d[32];
    int rc = 0;
    long r = x->revision[0] ? an_find_rev(c, x->service, x->revision) : -1;
    long p = o->previous_revision[0] ? an_find_rev(c, x->service, o->previous_revision) : -1;
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
    /* A callee's change is judged by its caller's errors. */
    const char *where = x->caller[0] ? x->caller : x->service;
    uint64_t k = r >= 0 && !x->caller[0]
                     ? an_grp_sum(c, (size_t)x->group, (size_t)r, INT64_MIN, INT64_MAX, &first)
                     : an_grp_sum_service(c, (size_t)x->group, where,
                                          an_minute_of(x->change_ts), INT64_MAX, &first);
    uint64_t before = an_grp_sum_service(c, (size_t)x->group, where, INT64_MIN,
                                      an_minute_of(x->change_ts), NULL);
    char seen[96];
    if (before == 0)
        snprintf(seen, sizeof(seen), "never seen before");
    else
        snprintf(seen, sizeof(seen), "seen %" PRIu64 " times before the change", before);
    const char *what = cc->c.kind == FL_CHANGE_INFERRED ? "revision first appeared"
                       : x->revision[0]                 ? "rollout"
                                                        : "change";
    rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                       "first `%s` error %s, %s after the %s; %s", gname,
                       fl_time_clock(first, t2, 16),
                       fl_fmt_duration((double)(first - x->change_ts) / FL_USEC_PER_SEC, d, 32),
                       what, seen);
    uint64_t total = grp->count;
    if (x->caller[0])
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                           "%s (calls %s): %" PRIu64 " `%s` errors follow the rollout", x->caller,
                           x->service, k, gname);
    else
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                           "%" PRIu64 " of %" PRIu64 " `%s` errors (%s) are on %s", k, total,
                           gname, fl_fmt_pct(k, total, p1, 16),
                           x->revision[0] ? x->revision : x->service);
    rc |= add_follower_evidence(c, x, o);
    if (cc->c.kind == FL_CHANGE_SECRET) {
        /* The same group in other services after the new version: they read it too. */
        for (size_t i = 0; i < c->n_svcs; i++) {
            bool listed = false;
            for (int f = 0; f < 2; f++)
                listed |= strcmp(x->follow_svc[f], c->svc_names[i]) == 0 &&
                          x->follow_group[f] == x->group;
            if (listed || strcmp(c->svc_names[i], x->service) == 0)
                continue;
            uint64_t ko = an_grp_sum_service(c, (size_t)x->group, c->svc_names[i],
                                             an_minute_of(x->change_ts), INT64_MAX, NULL);
            uint64_t kb = an_grp_sum_service(c, (size_t)x->group, c->svc_names[i], INT64_MIN,
                                             an_minute_of(x->change_ts), NULL);
            if (ko > 0 && kb == 0)
                rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                                   "%s (also reads secret %s): %" PRIu64 " `%s` errors follow",
                                   c->svc_names[i], cc->c.service, ko, gname);
        }
    }
    if (x->symptom >= 0) {
        const agg_group *sg = &c->a->groups[x->symptom];
        char sname[128];
        uint64_t ks = r >= 0 ? an_grp_sum(c, (size_t)x->symptom, (size_t)r, INT64_MIN, INT64_MAX,
                                          NULL)
                             : an_grp_sum_service(c, (size_t)x->symptom, x->service,
                                                  an_minute_of(x->change_ts), INT64_MAX, NULL);
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                           "`%s` explains the %" PRIu64 " `%s` errors on %s that follow it",
                           gname, ks, an_group_name(sg, sname, sizeof(sname)),
                           x->revision[0] ? x->revision : x->service);
    }
    rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "change: %s at %s (%s%s%s)",
                       cc->c.description, fl_time_clock(cc->first_ts, t1, 16), cc->c.source,
                       cc->c.actor[0] ? ", " : "", cc->c.actor);
    rc |= add_field_evidence(o, grp);
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
                 x->revision, x->service, fl_time_clock(x->change_ts, t1, 16), gname,
                 x->score);
    else if (x->revision[0] && x->caller[0])
        snprintf(sum, sizeof(sum),
                 "Revision %.80s of %.60s, rolled out at %s, broke its caller %.60s: `%.90s` "
                 "errors there followed; %s%.80s.",
                 x->revision, x->service, fl_time_clock(x->change_ts, t1, 16), x->caller, gname,
                 o->previous_revision[0] ? "roll back to " : "roll back to the last healthy revision",
                 o->previous_revision);
    else if (x->revision[0])
        snprintf(sum, sizeof(sum),
                 "Revision %s of %s, rolled out at %s, is failing with `%s`%s%s%s; %s%s.",
                 x->revision, x->service, fl_time_clock(x->change_ts, t1, 16), gname,
                 pct[0] ? " (" : "", pct, pct[0] ? " of its requests 5xx)" : "",
                 o->previous_revision[0] ? "roll back to " : "roll back to the last healthy revision",
                 o->previous_revision);
    else if (cc->c.kind == FL_CHANGE_SECRET)
        snprintf(sum, sizeof(sum),
                 "A new version of secret %s was added at %s and `%s` errors followed in %s; "
                 "check what reads it and pin the previous version.",
                 cc->c.service, fl_time_clock(x->change_ts, t1, 16), gname, x->service);
    else
        snprintf(sum, sizeof(sum), "The %s of %s at %s was followed by `%s` errors; revert it.",
                 fl_change_kind_name(cc->c.kind), cc->c.service[0] ? cc->c.service : x->service,
                 fl_time_clock(x->change_ts, t1, 16), gname);
    o->summary = fl_strdup(sum);
    return rc || !o->summary ? FL_ENOMEM : 0;
}

static int write_group_text(const ctx *c, const cand *x, fl_cause *o)
{
    const agg_group *grp = &c->a->groups[x->group];
    char gname[128];
    an_group_name(grp, gname, sizeof(gname));
    char t1[16], t2[16], p1[16], line[512];
    int rc = 0;
    int64_t mo = an_minute_of(x->onset);
    size_t len = 0;
    line[0] = '\0';
    uint64_t total = 0;
    for (size_t r = 0; r < c->n_revs; r++) {
        if (strcmp(c->revs[r].r->service, x->service) != 0)
            continue;
        uint64_t n, k = an_grp_sum(c, (size_t)x->group, r, mo, c->m1 + 1, NULL);
        an_rev_sum(c, r, mo, c->m1 + 1, &n, NULL);
        total += k;
        if ((k || n) && len < sizeof(line) - 100)
            len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s: %" PRIu64 " errors in %" PRIu64
                                    " requests (%s)",
                                    len ? ", " : "", c->revs[r].r->revision, k, n,
                                    fl_fmt_pct(FL_MIN(k, n), n, p1, 16));
    }
    rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "`%s`: %" PRIu64 " errors since %s in %s; %s",
                       gname, total, fl_time_clock(x->onset, t1, 16), x->service,
                       line[0] ? line : "no request logs");
    rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "%s",
                       x->details[FL_SIG_NO_CHANGE_NEARBY]);
    if (x->kind == FL_CAUSE_LOAD && x->surge_ts) {
        uint64_t before = an_service_requests(c, x->service, c->m0, an_minute_of(x->surge_ts));
        uint64_t after = an_service_requests(c, x->service, an_minute_of(x->surge_ts), c->m1 + 1);
        double bm = (double)(an_minute_of(x->surge_ts) - c->m0),
               am = (double)(c->m1 + 1 - an_minute_of(x->surge_ts));
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence,
                           "requests/min for %s rose from %.0f to %.0f (x%.1f) at %s", x->service,
                           bm > 0 ? (double)before / bm : 0, am > 0 ? (double)after / am : 0,
                           x->surge_ratio, fl_time_clock(x->surge_ts, t2, 16));
    }
    rc |= add_follower_evidence(c, x, o);
    rc |= add_field_evidence(o, grp);
    if (grp->n_samples)
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "sample %s %s: %.300s",
                           fl_time_clock(grp->samples[0].ts, t1, 16), grp->samples[0].revision,
                           grp->samples[0].message);
    char sum[512];
    switch (x->kind) {
    case FL_CAUSE_DEPENDENCY:
        if (grp->class_id && strcmp(grp->class_id, "quota_exhausted") == 0) {
            snprintf(sum, sizeof(sum),
                     "A quota wall, not load: `%s` errors started at %s on %s with no request "
                     "surge; request more quota or back off, do not scale out.",
                     gname, fl_time_clock(x->onset, t1, 16), x->service);
            break;
        }
        snprintf(sum, sizeof(sum),
                 "A dependency is failing, not a deploy: `%s` errors started at %s on %s and hit "
                 "every revision alike; check the dependency, do not roll back.",
                 gname, fl_time_clock(x->onset, t1, 16), x->service);
        break;
    case FL_CAUSE_LOAD:
        snprintf(sum, sizeof(sum),
                 "Traffic surge: requests to %s rose x%.1f at %s and `%s` errors followed; scale "
                 "out rather than roll back.",
                 x->service, x->surge_ratio, fl_time_clock(x->surge_ts ? x->surge_ts : x->onset,
                                                           t1, 16),
                 gname);
        break;
    case FL_CAUSE_RESOURCE:
        snprintf(sum, sizeof(sum),
                 "%s is running out of resources: `%s` since %s with no change just before; raise "
                 "the limit.",
                 x->service, gname, fl_time_clock(x->onset, t1, 16));
        break;
    case FL_CAUSE_PLATFORM:
        snprintf(sum, sizeof(sum),
                 "Platform problem on %s: `%s` since %s with no change just before.", x->service,
                 gname, fl_time_clock(x->onset, t1, 16));
        break;
    default:
        snprintf(sum, sizeof(sum), "`%s` errors on %s since %s with no clear cause.", gname,
                 x->service, fl_time_clock(x->onset, t1, 16));
        break;
    }
    o->summary = fl_strdup(sum);
    return rc || !o->summary ? FL_ENOMEM : 0;
}

/* A revision that never became Ready: what crashed, where traffic still is, what to do. */
static int write_failed_rollout(const ctx *c, const cand *x, fl_cause *o)
{
    const agg_group *grp = &c->a->groups[x->group];
    char gname[128], t1[16];
    an_group_name(grp, gname, sizeof(gname));
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        fl_score_part *p = &o->parts[o->n_parts++];
        p->signal = fl_strdup(an_rollout_signals[i]);
        p->weight = an_rollout_weights[i];
        p->value = x->fr_values[i];
        p->contribution = floor(an_rollout_weights[i] * x->fr_values[i] * 1000 + 0.5) / 1000;
        p->detail = fl_strdup(x->fr_details[i]);
        if (!p->signal || !p->detail)
            return FL_ENOMEM;
    }
    for (int i = 0; i < 3; i++)
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "%s", x->fr_details[i]);
    if (x->change >= 0) {
        const cand_change *cc = &c->ch[x->change];
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "change: %s at %s (%s%s%s)",
                           cc->c.description, fl_time_clock(cc->first_ts, t1, 16), cc->c.source,
                           cc->c.actor[0] ? ", " : "", cc->c.actor);
    }
    rc |= add_field_evidence(o, grp);
    if (grp->n_samples)
        rc |= fl_strv_addf(&o->evidence, &o->n_evidence, "crash reason %s %s: %.300s",
                           fl_time_clock(grp->samples[0].ts, t1, 16), grp->samples[0].revision,
                           grp->samples[0].message);
    char sum[640];
    snprintf(sum, sizeof(sum),
             "Revision %s of %s never became ready (`%s`); traffic is still on %s; nothing to "
             "roll back: fix and redeploy.",
             x->revision, x->service, gname, x->prev[0] ? x->prev : "the previous revision");
    o->summary = fl_strdup(sum);
    const char *reg = x->region[0] ? x->region : "REGION";
    rc |= fl_strv_addf(&o->actions, &o->n_actions,
                       "gcloud run revisions describe %s --region=%s  # the Ready condition's "
                       "message says why it did not start",
                       x->revision, reg);
    rc |= fl_strv_addf(&o->actions, &o->n_actions,
                       "Fix `%s` and redeploy; do not roll back or move traffic: %s never "
                       "served, %s still serves",
                       gname, x->revision, x->prev[0] ? x->prev : "the previous revision");
    const fl_rule_info *rule =
        c->opts->rules && grp->class_id ? fl_rules_find_class(c->opts->rules, grp->class_id)
                                        : NULL;
    fl_action_ctx ac = {x->kind, x->service, x->region, x->revision, x->prev, grp->class_id,
                        (fl_implies)grp->implies, NULL, 0, rule};
    for (size_t i = 0; rule && i < rule->n_remediation && i < 4; i++)
        if (!strstr(rule->remediation[i], "update-traffic") &&
            !strstr(rule->remediation[i], "roll back"))
            rc |= fl_action_add_filled(&ac, rule->remediation[i], &o->actions, &o->n_actions);
    return rc || !o->summary ? FL_ENOMEM : 0;
}

int an_build_cause(const ctx *c, const cand *x, int rank, fl_cause *o)
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
    if (x->failed_rollout)
        return write_failed_rollout(c, x, o);
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
