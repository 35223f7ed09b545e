/* Failed rollouts as causes. A revision that never became Ready served no request: users still
 * reach the previous revision, so there is nothing to roll back; the cause to report is the
 * failed rollout itself, with the crash reason from the revision's own logs.
 *
 * A revision counts as failed when nothing says it became Ready (no "Ready condition status
 * changed to True for Revision X") and either the platform said so ("... changed to False for
 * Revision X") or, with no system events in the export, it served no request while logging
 * classified startup errors and another revision of its service kept serving after it. */
#include "analyze_internal.h"
#include "evidence.h"

#include <stdio.h>
#include <string.h>

/* Weights of the three pieces of evidence; they sum to 0.95 (a failed rollout is certain only
 * when all three agree, and a live incident elsewhere may still outrank it). From logs alone
 * (no system events at all) it reaches 0.70: still confident, since a revision that logged a
 * classified crash and served nothing while its predecessor served everything did not start. */
#define W_READY_FALSE 0.50
#define W_CRASH_LOGS 0.30
#define W_TRAFFIC_STAYED 0.15

static bool change_names(const fl_change *ch, const agg_rev *r, fl_change_kind kind)
{
    return ch->kind == kind && strcmp(ch->service, r->service) == 0 &&
           strcmp(ch->revision, r->revision) == 0;
}

/* The group that best says why revision r crashed: classified before unclassified, then the
 * most errors on r, then the key. -1 when r logged no error. */
static long crash_group(const ctx *c, size_t r, uint64_t *count)
{
    long best = -1;
    uint64_t best_n = 0;
    int best_cls = -1;
    for (size_t g = 0; g < c->a->n_groups; g++) {
        uint64_t n = an_grp_sum(c, g, r, INT64_MIN, INT64_MAX, NULL);
        if (n == 0)
            continue;
        const agg_group *grp = &c->a->groups[g];
        /* 2: a class that says why (a missing module, a bad config); 1: one that only says
         * that it failed to start; 0: unclassified. */
        int cls = !grp->class_id || an_group_app_timeout(grp)      ? 0
                  : strcmp(grp->class_id, "startup_failure") == 0 ? 1
                                                                   : 2;
        if (best < 0 || cls > best_cls ||
            (cls == best_cls && (n > best_n || (n == best_n &&
                                                strcmp(grp->key, c->a->groups[best].key) < 0)))) {
            best = (long)g;
            best_n = n;
            best_cls = cls;
        }
    }
    *count = best_n;
    return best;
}

void an_score_failed_rollouts(ctx *c)
{
    const fl_agg *a = c->a;
    /* An export without system events cannot say Ready=False; its silence is half a sign. */
    bool has_events = false;
    for (size_t i = 0; i < a->n_changes; i++)
        has_events |= strcmp(a->changes[i].source, "system_event") == 0;
    for (size_t r = 0; r < c->n_revs; r++) {
        const agg_rev *rv = c->revs[r].r;
        if (!rv->revision[0] || c->revs[r].requests > 0)
            continue;
        bool ready = false, not_ready = false;
        fl_time failed_ts = 0;
        for (size_t i = 0; i < a->n_changes; i++) {
            ready |= change_names(&a->changes[i], rv, FL_CHANGE_REVISION_READY);
            if (change_names(&a->changes[i], rv, FL_CHANGE_FAILED) &&
                strcmp(a->changes[i].source, "system_event") == 0) {
                if (!not_ready || a->changes[i].ts < failed_ts)
                    failed_ts = a->changes[i].ts;
                not_ready = true;
            }
        }
        if (ready)
            continue;
        uint64_t n_crash = 0;
        long g = crash_group(c, r, &n_crash);
        if (g < 0)
            continue;
        const agg_group *grp = &a->groups[g];
        bool classified = grp->class_id != NULL;
        /* The revision still serving: most requests after the failed one appeared. */
        long prev = -1;
        uint64_t prev_n = 0;
        int64_t from = an_minute_of(rv->first_seen);
        for (size_t o = 0; o < c->n_revs; o++) {
            if (o == r || strcmp(c->revs[o].r->service, rv->service) != 0)
                continue;
            uint64_t n;
            an_rev_sum(c, o, from, c->m1 + 1, &n, NULL);
            if (n > prev_n || (n == prev_n && n > 0 && prev >= 0 &&
                               strcmp(c->revs[o].r->revision, c->revs[prev].r->revision) < 0)) {
                prev = (long)o;
                prev_n = n;
            }
        }
        /* Without the platform's word, the logs alone must show a crash (a classified error)
         * on a revision that never served while another one did. */
        if (!not_ready && (!classified || prev < 0 || n_crash < 2))
            continue;
        cand *x = an_cand_new(c);
        if (!x)
            return;
        x->kind = FL_CAUSE_DEPLOY;
        x->failed_rollout = true;
        x->group = g;
        x->gkey = grp->key;
        x->onset = not_ready ? failed_ts : grp->first_seen;
        snprintf(x->service, sizeof(x->service), "%s", rv->service);
        snprintf(x->revision, sizeof(x->revision), "%s", rv->revision);
        if (prev >= 0)
            snprintf(x->prev, sizeof(x->prev), "%s", c->revs[prev].r->revision);
        /* The rollout event that created it, if any, so its ordinary deploy candidates fold
         * into this one. */
        x->change_ts = rv->first_seen;
        for (size_t i = 0; i < c->n_ch; i++)
            if (c->ch[i].rev == (long)r) {
                x->change = (long)i;
                x->change_ts = c->ch[i].first_ts;
            }
        char gname[128];
        an_group_name(grp, gname, sizeof(gname));
        x->fr_values[0] = not_ready ? 1 : has_events ? 0 : 0.5;
        snprintf(x->fr_details[0], 200, "%s",
                 not_ready    ? "system event: Ready condition changed to False for the revision"
                 : has_events ? "no Ready event for the revision, though the export has them"
                              : "the export has no system events; nothing says it became ready");
        x->fr_values[1] = classified ? 1 : 0.5;
        snprintf(x->fr_details[1], 200, "%llu `%s` errors in the revision's own logs",
                 (unsigned long long)n_crash, gname);
        x->fr_values[2] = prev >= 0 ? 1 : 0;
        if (prev >= 0)
            snprintf(x->fr_details[2], 200,
                     "the revision served no request; %s served %llu since it appeared",
                     c->revs[prev].r->revision, (unsigned long long)prev_n);
        else
            snprintf(x->fr_details[2], 200, "the revision served no request");
        x->impact = 1;
        snprintf(x->impact_detail, 200, "a failed rollout needs no error volume to be certain");
        x->score = W_READY_FALSE * x->fr_values[0] + W_CRASH_LOGS * x->fr_values[1] +
                   W_TRAFFIC_STAYED * x->fr_values[2];
        /* The ordinary deploy candidates of the revision would advise a rollback of a
         * revision that never took traffic. */
        for (size_t i = 0; i + 1 < c->n_cands; i++)
            if (c->cands[i].kind == FL_CAUSE_DEPLOY && !c->cands[i].failed_rollout &&
                strcmp(c->cands[i].service, rv->service) == 0 &&
                strcmp(c->cands[i].revision, rv->revision) == 0)
                c->cands[i].score = 0;
    }
}

const char *const an_rollout_signals[3] = {"ready_false_event", "crash_in_own_logs",
                                           "traffic_stayed_on_previous"};
const double an_rollout_weights[3] = {W_READY_FALSE, W_CRASH_LOGS, W_TRAFFIC_STAYED};
