/* The postmortem draft: the runbooks' template (Summary, Impact, Timeline (UTC), Root Cause,
 * Resolution, Action Items, Lessons Learned) prefilled from an analysis. Facts come from the
 * result; what only a person can know is a clearly marked "_TODO (human): ..._" blank.
 * Untrusted text goes through fl_md_inline / code spans / fenced blocks. */
#include "common/group_name.h"
#include "common/span.h"
#include <stdlib.h>
#include <string.h>

#include "fl_config.h"
#include "postmortem.h"

#define MAX_TIMELINE_GROUPS 8
#define MAX_TIMELINE 64

typedef struct pm {
    const fl_result *r;
    const fl_cause *top; /* NULL when there is no cause */
    FILE *o;
    fl_time first_error, last_error; /* of the top cause's group, else of all errors */
    bool from_cause;                 /* first/last error are the top cause's */
    bool ongoing;                    /* the cause's errors had not stopped when the logs end */
    bool coarse;                     /* the end is only known to a bucket wider than 5 min */
    uint64_t requests, r5xx, errors;
    uint64_t inc_requests, inc_r5xx; /* inside [first_error, last_error] */
    const fl_change_out *rollback;   /* a later change back to the previous revision */
} pm;

static void clock_of(fl_time t, char *buf, size_t size)
{
    char full[32];
    fl_time_format(t, false, full, sizeof(full));
    snprintf(buf, size, "%.10s %.8s", full, full + 11); /* "2026-11-20 10:42:07" */
}

static void put_time(FILE *o, fl_time t)
{
    char b[40];
    if (!t) {
        fputs("_unknown_", o);
        return;
    }
    clock_of(t, b, sizeof(b));
    fputs(b, o);
}

static void put_duration(FILE *o, fl_time us)
{
    long long s = (long long)(us / FL_USEC_PER_SEC);
    if (s < 0)
        s = 0;
    if (s < 120)
        fprintf(o, "%lld s", s);
    else if (s < 2 * 3600)
        fprintf(o, "%lld min", (s + 30) / 60);
    else {
        char buf[48];
        fputs(fl_span_text(us, buf, sizeof buf), o);
    }
}

/* The incident ends when the cause's errors stop: the last error before they go quiet for
 * 30 minutes (and at least 3 buckets). A background error that recurs all through a
 * year-long archive is not a year-long incident; the group's last error in the export would
 * say it was. Sets *ongoing when the errors run to the end of the logs. */
static fl_time incident_end(const fl_result *r, const fl_group *g, fl_time onset, bool *ongoing)
{
    *ongoing = false;
    if (!g->series || !r->n_buckets || r->bucket_seconds <= 0 || onset < r->bucket_origin)
        return g->last_seen;
    fl_time b = (fl_time)r->bucket_seconds * FL_USEC_PER_SEC;
    size_t from = (size_t)((onset - r->bucket_origin) / b);
    size_t quiet = FL_MAX((size_t)3, (size_t)((1800 + r->bucket_seconds - 1) / r->bucket_seconds));
    size_t last = from;
    for (size_t i = from; i < r->n_buckets; i++) {
        if (g->series[i])
            last = i;
        else if (i - last > quiet)
            break;
    }
    if (last + quiet >= r->n_buckets)
        *ongoing = true;
    fl_time end = r->bucket_origin + (fl_time)(last + 1) * b;
    return FL_MIN(end, g->last_seen);
}

static const char *change_verb(fl_change_kind k)
{
    switch (k) {
    case FL_CHANGE_DEPLOY:
        return "Deploy";
    case FL_CHANGE_CONFIG:
        return "Configuration change";
    case FL_CHANGE_TRAFFIC:
        return "Traffic change";
    case FL_CHANGE_SECRET:
        return "New secret version";
    case FL_CHANGE_REVISION_READY:
        return "Revision ready";
    case FL_CHANGE_INFERRED:
        return "New revision first seen in the logs";
    case FL_CHANGE_FAILED:
        return "Failed change attempt";
    case FL_CHANGE_EXTERNAL:
        return "CI change";
    }
    return "Change";
}

static const fl_group *group_of(const fl_result *r, const char *key);

/* Requests and 5xx in the buckets that overlap the incident window. */
static void window_counts(pm *p)
{
    const fl_result *r = p->r;
    if (!p->first_error || !r->n_buckets || r->bucket_seconds <= 0)
        return;
    fl_time b = (fl_time)r->bucket_seconds * FL_USEC_PER_SEC;
    fl_time lo = (p->first_error - r->bucket_origin) / b,
            hi = (p->last_error - r->bucket_origin) / b;
    if (lo < 0)
        lo = 0;
    if (hi >= (fl_time)r->n_buckets)
        hi = (fl_time)r->n_buckets - 1;
    for (size_t i = 0; i < r->n_revisions; i++) {
        const fl_revision *v = &r->revisions[i];
        for (fl_time k = lo; k <= hi; k++) {
            p->inc_requests += v->requests_series ? v->requests_series[k] : 0;
            p->inc_r5xx += v->r5xx_series ? v->r5xx_series[k] : 0;
        }
    }
}

/* "12 min", or "at most 7 h 40 min" when the end is only known to a coarse bucket. */
static void put_incident_duration(const pm *p)
{
    if (p->coarse)
        fputs("at most ", p->o);
    put_duration(p->o, p->last_error - p->first_error);
}

static void gather(pm *p)
{
    const fl_result *r = p->r;
    for (size_t i = 0; i < r->n_groups; i++) {
        const fl_group *g = &r->groups[i];
        if (g->first_seen && (!p->first_error || g->first_seen < p->first_error))
            p->first_error = g->first_seen;
        if (g->last_seen > p->last_error)
            p->last_error = g->last_seen;
        p->errors += g->count;
    }
    for (size_t i = 0; i < r->n_revisions; i++) {
        p->requests += r->revisions[i].requests;
        p->r5xx += r->revisions[i].requests_5xx;
    }
    p->top = r->n_causes ? &r->causes[0] : NULL;
    const fl_group *tg = p->top ? group_of(r, p->top->error_class) : NULL;
    if (tg && tg->first_seen) {
        p->first_error = p->top->onset ? p->top->onset : tg->first_seen;
        p->last_error = incident_end(r, tg, p->first_error, &p->ongoing);
        p->coarse = r->bucket_seconds > 300 && p->last_error < tg->last_seen;
        p->from_cause = true;
    }
    window_counts(p);
    /* Rollback: after the blamed change (or the onset), a deploy or traffic change that puts
     * the previous revision back. */
    if (p->top && p->top->previous_revision[0]) {
        fl_time after = p->top->change_ts ? p->top->change_ts : p->top->onset;
        for (size_t i = 0; i < r->n_changes; i++) {
            const fl_change_out *c = &r->changes[i];
            if (c->ts <= after || strcmp(c->revision, p->top->previous_revision) != 0)
                continue;
            if (c->kind == FL_CHANGE_TRAFFIC || c->kind == FL_CHANGE_DEPLOY ||
                c->kind == FL_CHANGE_EXTERNAL || c->kind == FL_CHANGE_CONFIG) {
                p->rollback = c;
                break;
            }
        }
    }
}

/* Affected: the top cause's revision, or a revision with a 5xx rate above 2% or at least 5% of
 * all errors. The rest is background noise every service has, and is only counted. */
static bool affected(const pm *p, const fl_revision *v)
{
    if (!v->requests_5xx && !v->errors)
        return false;
    if (p->top && strcmp(v->service, p->top->service) == 0 &&
        (strcmp(v->revision, p->top->revision) == 0 || !p->top->revision[0]))
        return true;
    if (v->requests && v->requests_5xx * 50 > v->requests)
        return true;
    return p->errors && v->errors * 20 >= p->errors;
}

/* Sorted list of affected services, written as code spans. */
static void put_services(const pm *p)
{
    const fl_result *r = p->r;
    const char *seen[64];
    size_t n = 0;
    for (size_t i = 0; i < r->n_revisions && n < FL_ARRAY_LEN(seen); i++) {
        const fl_revision *v = &r->revisions[i];
        if (!affected(p, v))
            continue;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(seen[k], v->service) == 0;
        if (!dup)
            seen[n++] = v->service;
    }
    if (!n && p->top)
        seen[n++] = p->top->service;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = i + 1; k < n; k++)
            if (strcmp(seen[k], seen[i]) < 0) {
                const char *t = seen[i];
                seen[i] = seen[k];
                seen[k] = t;
            }
    }
    if (!n)
        fputs("_none identified_", p->o);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", p->o);
        fl_md_code(p->o, seen[i]);
    }
}

static void title(const pm *p, const fl_postmortem_opts *opts)
{
    FILE *o = p->o;
    fputs("# Postmortem: ", o);
    if (opts && opts->title) {
        fl_md_inline(o, opts->title);
    } else if (p->top) {
        fl_md_inline(o, p->top->service);
        fprintf(o, " %s incident",
                p->top->kind == FL_CAUSE_UNKNOWN ? "error" : fl_cause_kind_name(p->top->kind));
    } else {
        fputs("incident", o);
    }
    char d[32];
    fl_time_format(p->first_error ? p->first_error : p->r->window_start, false, d, sizeof(d));
    fprintf(o, " on %.10s\n\n", d);
    fprintf(o,
            "> Draft generated by faultline " FL_VERSION " from %llu log entries "
            "(%llu file%s). Facts below come from the logs; every _TODO (human)_ needs a "
            "person. Secrets are redacted.\n\n",
            (unsigned long long)p->r->input.entries, (unsigned long long)p->r->input.files,
            p->r->input.files == 1 ? "" : "s");
    /* The reader must know when the draft covers part of the logs only (issue 13 item 1). */
    if (p->r->input.filter[0] || p->r->input.duplicates) {
        fputs(">", o);
        if (p->r->input.filter[0]) {
            fputs(" Filter: ", o);
            fl_md_code(o, p->r->input.filter);
            fprintf(o, " (%llu entries outside it left out).",
                    (unsigned long long)p->r->input.filtered_out);
        }
        if (p->r->input.duplicates)
            fprintf(o, " %llu duplicate entries (same insertId, logName and timestamp) dropped.",
                    (unsigned long long)p->r->input.duplicates);
        fputs("\n\n", o);
    }
    fputs("**Date**: ", o);
    fprintf(o, "%.10s  \n**Duration**: ", d);
    if (p->first_error) {
        put_incident_duration(p);
        fputs(p->from_cause ? " (onset to recovery of the top cause's errors" : " (first to last error",
              o);
        fputs(p->ongoing ? "; still failing when the logs end)" : ")", o);
        if (p->coarse) {
            char b[48];
            fprintf(o, "; counted in %s buckets over this long window: run again with "
                       "--since/--until around the onset for minutes",
                    fl_span_text((fl_time)p->r->bucket_seconds * FL_USEC_PER_SEC, b, sizeof b));
        }
    } else {
        fputs("_no errors in the logs_", o);
    }
    fputs("  \n**Severity**: "
          "_TODO (human): P0/P1/P2/P3_"
          "  \n**Status**: ",
          o);
    if (p->rollback)
        fputs("mitigated (rollback seen in the logs)", o);
    else
        fputs("_TODO (human): resolved / mitigated / ongoing_", o);
    fputs("\n\n", o);
}

static void summary(const pm *p)
{
    FILE *o = p->o;
    fputs("## Summary\n\n", o);
    if (!p->top) {
        fputs("faultline found no errors to explain in the analysed logs. "
              "_TODO (human): what happened?_"
              "\n\n",
              o);
        return;
    }
    fl_md_inline(o, p->top->summary);
    fputs("\n\n", o);
    fputs("- **Service(s)**: ", o);
    put_services(p);
    fputs("\n- **First error**: ", o);
    put_time(o, p->first_error);
    fputs(" UTC\n- **Last error**: ", o);
    put_time(o, p->last_error);
    fputs(" UTC\n- **Duration**: ", o);
    put_incident_duration(p);
    fprintf(o, "\n- **Most likely cause**: %s (score %.2f", fl_cause_kind_name(p->top->kind),
            p->top->score);
    if (!p->r->confident)
        fprintf(o, ", below the confidence threshold %.2f: confirm by hand",
                p->r->confidence_threshold);
    fputs(")\n- **Detected by**: "
          "_TODO (human): alert, customer report, or on-call noticing_"
          "\n\n",
          o);
}

static void impact(const pm *p)
{
    const fl_result *r = p->r;
    FILE *o = p->o;
    fputs("## Impact\n\n", o);
    if (p->inc_requests)
        fprintf(o,
                "- **Failed requests during the incident**: %llu of %llu requests returned 5xx "
                "(%.1f%%) in the buckets from first to last error\n",
                (unsigned long long)p->inc_r5xx, (unsigned long long)p->inc_requests,
                100.0 * (double)p->inc_r5xx / (double)p->inc_requests);
    if (p->requests)
        fprintf(o,
                "- **Failed requests**: %llu of %llu requests returned 5xx (%.1f%%) in the "
                "analysed window\n",
                (unsigned long long)p->r5xx, (unsigned long long)p->requests,
                100.0 * (double)p->r5xx / (double)p->requests);
    else
        fputs("- **Failed requests**: no request logs in the input; "
              "_TODO (human): count from the load balancer_"
              "\n",
              o);
    fprintf(o, "- **Errors logged**: %llu in %zu group%s\n", (unsigned long long)p->errors,
            r->n_groups, r->n_groups == 1 ? "" : "s");
    fputs("- **Affected services**: ", o);
    put_services(p);
    fputs("\n- **Affected revisions**:", o);
    size_t shown = 0, background = 0;
    uint64_t bg_5xx = 0, bg_errors = 0;
    for (size_t i = 0; i < r->n_revisions; i++) {
        const fl_revision *v = &r->revisions[i];
        if (!affected(p, v)) {
            background += v->requests_5xx || v->errors;
            bg_5xx += v->requests_5xx;
            bg_errors += v->errors;
            continue;
        }
        fputs("\n  - ", o);
        fl_md_code(o, v->revision[0] ? v->revision : v->service);
        fprintf(o, ": %llu 5xx of %llu requests, %llu error%s", (unsigned long long)v->requests_5xx,
                (unsigned long long)v->requests, (unsigned long long)v->errors,
                v->errors == 1 ? "" : "s");
        shown++;
    }
    if (!shown)
        fputs(" _none_", o);
    if (background)
        fprintf(o,
                "\n- **Background**: %zu other revision%s with %llu 5xx and %llu errors in "
                "total (each under 2%% 5xx and 5%% of the errors)",
                background, background == 1 ? "" : "s", (unsigned long long)bg_5xx,
                (unsigned long long)bg_errors);
    fputs("\n- **Duration of impact**: ", o);
    if (p->first_error) {
        put_incident_duration(p);
        fputs(" (", o);
        put_time(o, p->first_error);
        fputs(" to ", o);
        put_time(o, p->last_error);
        fputs(" UTC)", o);
    } else {
        fputs("_none_", o);
    }
    fputs("\n- **Users affected**: "
          "_TODO (human): number of users / customers affected_"
          "\n"
          "- **Customer impact in money**: "
          "_TODO (human): customer impact in money_"
          "\n"
          "- **SLO / error budget consumed**: "
          "_TODO (human): error budget burned_"
          "\n\n",
          o);
}

typedef struct event {
    fl_time ts;
    int order; /* insertion order, for a stable sort */
    int kind;  /* 0 change, 1 first error of a group, 2 last error, 3 rollback */
    size_t idx;
} event;

static int event_cmp(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->order - y->order;
}

static void timeline(const pm *p)
{
    const fl_result *r = p->r;
    FILE *o = p->o;
    event ev[MAX_TIMELINE];
    size_t n = 0;
    int order = 0;
    for (size_t i = 0; i < r->n_changes && n < MAX_TIMELINE - MAX_TIMELINE_GROUPS - 2; i++) {
        /* "service X is ready" repeats the revision's own ready event. */
        if (r->changes[i].kind == FL_CHANGE_REVISION_READY && !r->changes[i].revision[0])
            continue;
        ev[n++] = (event){r->changes[i].ts, order++, &r->changes[i] == p->rollback ? 3 : 0, i};
    }
    /* Groups that began long before the incident are background, not part of its story: only
     * those first seen from 30 minutes before the blamed change (or the onset) are listed. */
    fl_time from = 0;
    if (p->top) {
        fl_time start = p->top->change_ts ? p->top->change_ts : p->first_error;
        from = start ? start - 30 * 60 * FL_USEC_PER_SEC : 0;
    }
    for (size_t i = 0, listed = 0; i < r->n_groups && listed < MAX_TIMELINE_GROUPS; i++) {
        const fl_group *g = &r->groups[i];
        bool is_top = p->top && strcmp(g->key, p->top->error_class) == 0;
        if (g->first_seen && (g->first_seen >= from || is_top)) {
            ev[n++] = (event){g->first_seen, order++, 1, i};
            listed++;
        }
    }
    if (p->last_error)
        ev[n++] = (event){p->last_error, order++, 2, 0};
    qsort(ev, n, sizeof(*ev), event_cmp);

    fputs("## Timeline (UTC)\n\n", o);
    fputs("- "
          "_TODO (human): HH:MM alert fired / incident acknowledged_"
          "\n",
          o);
    bool onset_done = false;
    for (size_t i = 0; i < n; i++) {
        fputs("- ", o);
        put_time(o, ev[i].ts);
        fputs(" — ", o);
        if (ev[i].kind == 0 || ev[i].kind == 3) {
            const fl_change_out *c = &r->changes[ev[i].idx];
            if (ev[i].kind == 3)
                fputs("**Rollback** — ", o);
            fputs(change_verb(c->kind), o);
            if (c->revision[0]) {
                fputs(" ", o);
                fl_md_code(o, c->revision);
            } else {
                fputs(" of ", o);
                fl_md_code(o, c->service);
            }
            if (c->actor[0]) {
                fputs(" by ", o);
                fl_md_inline(o, c->actor);
            }
            if (c->description[0]) {
                fputs(": ", o);
                fl_md_inline(o, c->description);
            }
            if (p->top && p->top->change_ts && c->ts == p->top->change_ts)
                fputs(" **(change blamed by cause #1)**", o);
        } else if (ev[i].kind == 1) {
            const fl_group *g = &r->groups[ev[i].idx];
            fputs("First ", o);
            fl_md_code(o, fl_group_name(g));
            fputs(" error (", o);
            fl_md_inline(o, g->title);
            fputs(")", o);
            if (g->n_by_revision) {
                fputs(" on ", o);
                fl_md_code(o, g->by_revision[0].revision[0] ? g->by_revision[0].revision
                                                            : g->by_revision[0].service);
            }
            if (p->top && !onset_done && strcmp(p->top->error_class, g->key) == 0) {
                fputs(" — **onset of cause #1**", o);
                onset_done = true;
            }
        } else {
            if (p->from_cause) {
                fputs("Last error of cause #1 (", o);
                fl_md_code(o, fl_group_name_of(r, p->top->error_class));
                fputs(")", o);
            } else {
                fputs("Last error in the logs", o);
            }
        }
        fputs("\n", o);
    }
    if (p->top && p->top->onset && !onset_done) {
        fputs("- ", o);
        put_time(o, p->top->onset);
        fputs(" — **Onset of cause #1** (", o);
        fl_md_code(o, fl_group_name_of(r, p->top->error_class));
        fputs(")\n", o);
    }
    if (!p->rollback)
        fputs("- "
              "_TODO (human): HH:MM mitigation deployed (no rollback found in the logs)_"
              "\n",
              o);
    fputs("- "
          "_TODO (human): HH:MM incident resolved_"
          "\n\n",
          o);
}

static const fl_group *group_of(const fl_result *r, const char *key)
{
    for (size_t i = 0; key && i < r->n_groups; i++)
        if (strcmp(r->groups[i].key, key) == 0)
            return &r->groups[i];
    return NULL;
}

/* The code change behind the blamed deploy: the top suspect commit named in the list of facts,
 * the others and the range below it (correlate/suspects). */
static void code_change(FILE *o, const fl_commit_range *cr)
{
    if (!cr->bad_sha && !cr->note)
        return;
    bool range = fl_commit_range_known(cr) && strcmp(cr->prev_sha, cr->bad_sha) != 0;
    char buf[128];
    if (cr->n_suspects) {
        const fl_suspect *s = &cr->suspects[0];
        snprintf(buf, sizeof buf, "%.10s", s->sha);
        fputs("\n- **Suspect commit**: ", o);
        fl_md_code(o, buf);
        fputs(" ", o);
        fl_md_inline(o, s->subject);
        fputs(" (", o);
        fl_md_inline(o, s->author);
        fputs(")", o);
        if (s->n_reasons) {
            fputs(": ", o);
            fl_md_inline(o, s->reasons[0]);
        }
    }
    if (range) {
        snprintf(buf, sizeof buf, "git log --oneline %.12s..%.12s", cr->prev_sha, cr->bad_sha);
        fputs("\n- **Code change**: ", o);
        fl_md_code(o, buf);
        if (cr->searched)
            fprintf(o, " (%u commit%s)", cr->commits, cr->commits == 1 ? "" : "s");
        if (cr->compare_url[0]) {
            fputs(", ", o);
            fl_md_inline(o, cr->compare_url);
        }
    }
    if (cr->note[0]) {
        fputs("\n- **Code change note**: ", o);
        fl_md_inline(o, cr->note);
    }
}

/* The other suspects with their reasons, under the evidence. */
static void more_suspects(FILE *o, const fl_commit_range *cr)
{
    if (cr->n_suspects < 2)
        return;
    fputs("\nOther suspect commits:\n\n", o);
    for (size_t i = 1; i < cr->n_suspects; i++) {
        const fl_suspect *s = &cr->suspects[i];
        char sha[16];
        snprintf(sha, sizeof sha, "%.10s", s->sha);
        fputs("- ", o);
        fl_md_code(o, sha);
        fputs(" ", o);
        fl_md_inline(o, s->subject);
        fprintf(o, " (score %.2f)", s->score);
        for (size_t j = 0; j < s->n_reasons; j++) {
            fputs(j ? "; " : ": ", o);
            fl_md_inline(o, s->reasons[j]);
        }
        fputs("\n", o);
    }
}

static void root_cause(const pm *p)
{
    const fl_result *r = p->r;
    FILE *o = p->o;
    fputs("## Root Cause\n\n", o);
    if (!p->top) {
        fputs("_TODO (human): technical explanation of what went wrong_"
              "\n\n",
              o);
        return;
    }
    const fl_cause *c = p->top;
    fprintf(o, "**%s** — ", fl_cause_kind_name(c->kind));
    fl_md_inline(o, c->summary);
    fputs("\n\n", o);
    if (!r->confident)
        fprintf(o,
                "> faultline is not confident (top score %.2f, threshold %.2f). "
                "_TODO (human): confirm or replace this root cause._\n\n",
                c->score, r->confidence_threshold);
    fputs("- **Service**: ", o);
    fl_md_code(o, c->service);
    if (c->revision[0]) {
        fputs("\n- **Bad revision**: ", o);
        fl_md_code(o, c->revision);
    }
    if (c->previous_revision[0]) {
        fputs("\n- **Last healthy revision**: ", o);
        fl_md_code(o, c->previous_revision);
    }
    fputs("\n- **Error class**: ", o);
    fl_md_code(o, fl_group_name_of(r, c->error_class));
    fputs("\n- **Onset**: ", o);
    put_time(o, c->onset);
    fputs(" UTC", o);
    if (c->change_ts) {
        fputs("\n- **Change blamed**: ", o);
        put_time(o, c->change_ts);
        fputs(" UTC", o);
    }
    code_change(o, &c->commits);
    fputs("\n\n### Evidence\n\n", o);
    for (size_t i = 0; i < c->n_evidence; i++) {
        fputs("- ", o);
        fl_md_inline(o, c->evidence[i]);
        fputs("\n", o);
    }
    if (!c->n_evidence)
        fputs("- _no evidence lines_\n", o);
    more_suspects(o, &c->commits);
    if (c->n_parts) {
        fprintf(o, "\nScore %.2f, from these signals:\n\n", c->score);
        for (size_t i = 0; i < c->n_parts; i++) {
            const fl_score_part *s = &c->parts[i];
            fputs("- ", o);
            fl_md_code(o, s->signal);
            fprintf(o, " %.2f × weight %.2f = %.3f", s->value, s->weight, s->contribution);
            if (s->detail && s->detail[0]) {
                fputs(" — ", o);
                fl_md_inline(o, s->detail);
            }
            fputs("\n", o);
        }
    }
    const fl_group *g = group_of(r, c->error_class);
    if (g && g->n_samples) {
        fputs("\nSample log lines:\n\n", o);
        fl_buf b;
        fl_buf_init(&b, 64 * 1024);
        for (size_t i = 0; i < g->n_samples && i < 3; i++) {
            char t[40];
            clock_of(g->samples[i].ts, t, sizeof(t));
            /* Past the cap the samples already kept are enough to show. */
            int need = snprintf(NULL, 0, "%s %s %s\n", t, g->samples[i].revision,
                                g->samples[i].message);
            if (need < 0 || b.len + (size_t)need > b.max ||
                fl_buf_printf(&b, "%s %s %s\n", t, g->samples[i].revision,
                              g->samples[i].message) != 0)
                break;
        }
        fl_md_block(o, b.data ? b.data : "");
        fl_buf_free(&b);
    }
    if (r->n_causes > 1) {
        fputs("\nOther candidates considered:\n\n", o);
        for (size_t i = 1; i < r->n_causes; i++) {
            fprintf(o, "%zu. (%s, score %.2f) ", i + 1, fl_cause_kind_name(r->causes[i].kind),
                    r->causes[i].score);
            fl_md_inline(o, r->causes[i].summary);
            fputs("\n", o);
        }
    }
    fputs("\n"
          "_TODO (human): why did this reach production? (5 whys)_"
          "\n\n",
          o);
}

static void resolution(const pm *p)
{
    const fl_result *r = p->r;
    FILE *o = p->o;
    fputs("## Resolution\n\n", o);
    fl_time after = p->top ? (p->top->onset ? p->top->onset : p->top->change_ts) : 0;
    size_t taken = 0;
    for (size_t i = 0; p->top && i < r->n_changes; i++) {
        const fl_change_out *c = &r->changes[i];
        if (c->ts <= after || c->kind == FL_CHANGE_REVISION_READY)
            continue;
        if (!taken++)
            fputs("Mitigation seen in the logs:\n\n", o);
        fputs("- ", o);
        put_time(o, c->ts);
        fputs(" — ", o);
        if (c == p->rollback)
            fputs("**rollback** — ", o);
        fputs(change_verb(c->kind), o);
        fputs(" ", o);
        fl_md_code(o, c->revision[0] ? c->revision : c->service);
        if (c->description[0]) {
            fputs(": ", o);
            fl_md_inline(o, c->description);
        }
        fputs("\n", o);
    }
    if (p->rollback && p->last_error) {
        fputs("\n", o);
        if (p->last_error > p->rollback->ts) {
            fputs("Errors continued until ", o);
            put_time(o, p->last_error);
            fputs(" UTC (", o);
            put_duration(o, p->last_error - p->rollback->ts);
            fputs(" after the rollback).\n", o);
        } else {
            fputs("No errors were logged after the rollback (last error ", o);
            put_time(o, p->last_error);
            fputs(" UTC).\n", o);
        }
    }
    if (!taken)
        fputs("No mitigation was found in the logs. "
              "_TODO (human): what was done to fix the issue?_"
              "\n",
              o);
    if (p->top && p->top->n_actions) {
        fprintf(o, "\n%s:\n\n",
                taken ? "Recommended checks and follow-up commands" : "Recommended mitigation");
        for (size_t i = 0; i < p->top->n_actions; i++) {
            const char *a = p->top->actions[i];
            fprintf(o, "%zu. ", i + 1);
            /* Commands as code so they copy cleanly; advice as (escaped) prose. */
            if (!strncmp(a, "gcloud ", 7) || !strncmp(a, "kubectl ", 8) ||
                !strncmp(a, "curl ", 5) || !strncmp(a, "bq ", 3) || !strncmp(a, "gsutil ", 7))
                fl_md_code(o, a);
            else
                fl_md_inline(o, a);
            fputs("\n", o);
        }
    }
    fputs("\n", o);
}

static void item(FILE *o, const char *text)
{
    fprintf(o, "- [ ] %s (Owner: _TODO_, Due: _TODO_)\n", text);
}

static void action_items(const pm *p)
{
    FILE *o = p->o;
    fputs("## Action Items\n\n", o);
    fl_cause_kind k = p->top ? p->top->kind : FL_CAUSE_UNKNOWN;
    switch (k) {
    case FL_CAUSE_DEPLOY:
        item(o, "Add a CI gate that validates the service's configuration and environment "
                "schema (required env vars, secrets) against the target environment before "
                "deploy");
        item(o, "Roll out new revisions as a canary (deploy with --no-traffic, shift traffic "
                "in steps) and promote only while the 5xx rate stays at baseline");
        item(o, "Add a startup probe that fails fast on invalid configuration so a bad "
                "revision never becomes Ready");
        item(o, "Automate rollback to the last healthy revision when the error budget burns "
                "fast after a deploy");
        break;
    case FL_CAUSE_DEPENDENCY:
        item(o, "Add alerting on the failing dependency's error rate and latency, separate "
                "from the service's own 5xx alert");
        item(o, "Set explicit timeouts, retries with backoff and a circuit breaker on calls to "
                "the dependency");
        item(o, "Degrade gracefully when the dependency is down (cached or partial "
                "responses)");
        break;
    case FL_CAUSE_LOAD:
        item(o, "Review autoscaling limits (max instances, concurrency) against the peak "
                "seen in this incident");
        item(o, "Size connection pools so max instances x pool size stays under the "
                "database's connection limit");
        item(o, "Load-test the service at the observed peak and alert on saturation before "
                "requests fail");
        break;
    case FL_CAUSE_RESOURCE:
        item(o, "Review the memory/CPU limits against the usage seen in this incident");
        item(o, "Investigate a leak: compare heap profiles over an instance's lifetime");
        item(o, "Alert on memory utilisation and instance restarts before they cause 5xx");
        break;
    case FL_CAUSE_PLATFORM:
        item(o, "Check the Google Cloud status history for the window and open a support "
                "case if needed");
        item(o, "Document the failover option (second region / traffic split) in the "
                "runbook");
        break;
    case FL_CAUSE_UNKNOWN:
        item(o, "Find and fix the root cause (faultline could not classify it)");
        break;
    }
    item(o, "Alert on the 5xx rate of the affected service if no alert fired first");
    item(o, "Update the runbook with what was learned");
    fputs("- [ ] "
          "_TODO (human): further action items_"
          "\n\n",
          o);
}

static void lessons(const pm *p)
{
    fputs("## Lessons Learned\n\n"
          "- **What went well**: "
          "_TODO (human): ..._"
          "\n"
          "- **What went wrong**: "
          "_TODO (human): ..._"
          "\n"
          "- **Where we got lucky**: "
          "_TODO (human): ..._"
          "\n\n",
          p->o);
}

static void appendix(const pm *p)
{
    const fl_result *r = p->r;
    FILE *o = p->o;
    if (!r->n_groups)
        return;
    fputs("## Appendix: error groups\n\n", o);
    fputs("| Group | Count | First seen (UTC) | Last seen (UTC) | Revisions |\n"
          "|---|---:|---|---|---|\n",
          o);
    for (size_t i = 0; i < r->n_groups && i < 20; i++) {
        const fl_group *g = &r->groups[i];
        fputs("| ", o);
        fl_md_code(o, fl_group_name(g));
        fputs(" ", o);
        fl_md_inline(o, g->title);
        fprintf(o, " | %llu | ", (unsigned long long)g->count);
        put_time(o, g->first_seen);
        fputs(" | ", o);
        put_time(o, g->last_seen);
        fputs(" | ", o);
        for (size_t k = 0; k < g->n_by_revision && k < 4; k++) {
            fputs(k ? ", " : "", o);
            fl_md_code(o, g->by_revision[k].revision[0] ? g->by_revision[k].revision
                                                        : g->by_revision[k].service);
            fprintf(o, " %llu", (unsigned long long)g->by_revision[k].count);
        }
        fputs(" |\n", o);
    }
    if (r->n_groups > 20)
        fprintf(o, "\n%zu more groups in the full report (`faultline analyze`).\n",
                r->n_groups - 20);
    fputs("\n", o);
}

static int write_draft(const fl_result *r, const fl_postmortem_opts *opts, FILE *out)
{
    pm p = {.r = r, .o = out};
    gather(&p);
    title(&p, opts);
    summary(&p);
    impact(&p);
    timeline(&p);
    root_cause(&p);
    resolution(&p);
    action_items(&p);
    lessons(&p);
    appendix(&p);
    return ferror(out) ? FL_EIO : 0;
}

int fl_postmortem_write(const fl_result *r, const fl_postmortem_opts *opts, FILE *out)
{
    if (opts && opts->no_redact)
        return write_draft(r, opts, out);
    fl_result *red = fl_result_redacted_with(r, opts ? opts->redact : NULL);
    if (!red)
        return FL_ENOMEM;
    int rc = write_draft(red, opts, out);
    fl_result_free(red);
    return rc;
}

char *fl_postmortem_string(const fl_result *r, const fl_postmortem_opts *opts)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int rc = fl_postmortem_write(r, opts, f);
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        return NULL;
    }
    /* open_memstream allocates with malloc; hand back an fl_ allocation. */
    char *s = fl_strndup(buf, len);
    free(buf);
    return s;
}
