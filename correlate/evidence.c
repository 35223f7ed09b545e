/* Human wording of numbers and the runbook actions; see evidence.h. */
#include <ctype.h>
#include "evidence.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fl_fmt_pct(uint64_t k, uint64_t n, char *buf, size_t size)
{
    if (n == 0) {
        snprintf(buf, size, "n/a");
        return buf;
    }
    double p = 100.0 * (double)k / (double)n;
    if (k == 0)
        snprintf(buf, size, "0%%");
    else if (p >= 10)
        snprintf(buf, size, "%.0f%%", p);
    else if (p >= 1)
        snprintf(buf, size, "%.1f%%", p);
    else if (p >= 0.01)
        snprintf(buf, size, "%.2f%%", p);
    else
        snprintf(buf, size, "%.3f%%", p);
    return buf;
}

char *fl_fmt_duration(double s, char *buf, size_t size)
{
    if (s < 0)
        s = -s;
    if (s < 120)
        snprintf(buf, size, "%.0f s", s);
    else if (s < 3600)
        snprintf(buf, size, "%.0f min", s / 60);
    else
        snprintf(buf, size, "%.0f h %.0f min", floor(s / 3600), fmod(s, 3600) / 60);
    return buf;
}

int fl_strv_addf(char ***v, size_t *n, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    char **nv = fl_realloc(*v, (*n + 1) * sizeof(char *));
    if (!nv)
        return FL_ENOMEM;
    *v = nv;
    if (!(nv[*n] = fl_strdup(line)))
        return FL_ENOMEM;
    (*n)++;
    return 0;
}

/* "512 MiB" / "512M" / "1 GiB" -> MiB; 0 when unreadable. */
static double limit_mib(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (v <= 0)
        return 0;
    while (*end == ' ')
        end++;
    if (*end == 'G' || *end == 'g')
        v *= 1024;
    return v;
}

static bool class_has(const char *class_id, const char *word)
{
    return class_id && strstr(class_id, word);
}

static int dependency_checks(const fl_action_ctx *c, char ***v, size_t *n)
{
    const char *svc = c->service, *reg = c->region[0] ? c->region : "REGION";
    int rc = 0;
    if (class_has(c->class_id, "quota")) {
        /* More instances make more calls: a quota wall needs less traffic or more quota. */
        rc |= fl_strv_addf(v, n, "Find the API and quota in the samples; check its usage under "
                                 "IAM & Admin > Quotas and request more if the demand is real");
        rc |= fl_strv_addf(v, n, "Back off with jitter, cache or batch the calls; do not scale "
                                 "%s out, more instances make more calls",
                           svc);
        return rc;
    }
    if (class_has(c->class_id, "request_timeout")) {
        rc |= fl_strv_addf(v, n, "Find the upstream the slow requests of %s wait on (traces of "
                                 "the slowest requests); time out that call before the request "
                                 "times out",
                           svc);
        return rc;
    }
    if (class_has(c->class_id, "mongo")) {
        rc |= fl_strv_addf(v, n, "Check the MongoDB Atlas cluster status (Atlas UI or status "
                                 "page) and whether a primary is elected");
        rc |= fl_strv_addf(v, n, "Check the Atlas network access list: the egress IPs of %s "
                                 "(VPC connector / Cloud NAT) must be allowed",
                           svc);
    } else if (class_has(c->class_id, "redis")) {
        rc |= fl_strv_addf(v, n, "gcloud redis instances describe INSTANCE --region=%s "
                                 "(state, memory usage, connected clients)",
                           reg);
        rc |= fl_strv_addf(v, n, "Check the VPC connector %s uses to reach Memorystore", svc);
    } else if (class_has(c->class_id, "pool") || class_has(c->class_id, "db")) {
        rc |= fl_strv_addf(v, n, "gcloud sql instances describe INSTANCE (state, "
                                 "max_connections) and its connection count");
        rc |= fl_strv_addf(v, n, "SELECT count(*) FROM pg_stat_activity; -- compare with "
                                 "max_connections and the pool size of each instance");
    } else {
        rc |= fl_strv_addf(v, n, "Check the status of the upstream %s calls (provider status "
                                 "page, quotas, credentials) before touching %s",
                           c->class_id ? c->class_id : "dependency", svc);
    }
    rc |= fl_strv_addf(v, n, "Do not roll back %s: its revisions fail alike, a rollback will "
                             "not help",
                       svc);
    return rc;
}

/* Writes step with the placeholders the rules use (SVC, REGION, REV, PREV, whole words only)
 * replaced by what the analysis knows; unknown ones stay as they are for the reader to fill. */
static int fill_placeholders(const fl_action_ctx *c, const char *step, fl_buf *out)
{
    const struct {
        const char *word;
        const char *value;
    } subst[] = {
        {"SVC", c->service},
        {"REGION", c->region},
        {"REV", c->revision},
        {"PREV", c->previous_revision},
    };
    int rc = 0;
    for (const char *p = step; *p && !rc;) {
        bool done = false;
        bool at_start = p == step || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        for (size_t i = 0; at_start && i < FL_ARRAY_LEN(subst); i++) {
            size_t len = strlen(subst[i].word);
            if (strncmp(p, subst[i].word, len) != 0 || isalnum((unsigned char)p[len]) ||
                p[len] == '_' || !subst[i].value || !subst[i].value[0])
                continue;
            rc = fl_buf_addstr(out, subst[i].value);
            p += len;
            done = true;
            break;
        }
        if (!done && !rc)
            rc = fl_buf_addc(out, *p++);
    }
    return rc;
}

int fl_action_add_filled(const fl_action_ctx *c, const char *step, char ***v, size_t *n)
{
    fl_buf b;
    fl_buf_init(&b, 4096);
    fill_placeholders(c, step, &b);
    int rc = b.data ? fl_strv_addf(v, n, "%s", b.data) : FL_ENOMEM;
    fl_buf_free(&b);
    return rc;
}

int fl_actions_build(const fl_action_ctx *c, char ***v, size_t *n)
{
    const char *svc = c->service[0] ? c->service : "SERVICE";
    const char *reg = c->region[0] ? c->region : "REGION";
    int rc = 0;
    /* A dry connection pool is a resource too, but memory is not what it lacks. */
    bool oom = class_has(c->class_id, "oom") ||
               (c->implies == FL_IMPLIES_RESOURCE && !class_has(c->class_id, "pool"));
    double mib = c->memory_limit ? limit_mib(c->memory_limit) : 0;
    char mem[32];
    if (mib > 0)
        snprintf(mem, sizeof(mem), "%.0fMi", mib * 2);
    else
        snprintf(mem, sizeof(mem), "1Gi");

    switch (c->kind) {
    case FL_CAUSE_DEPLOY:
        if (c->revision[0] && c->previous_revision[0])
            rc |= fl_strv_addf(v, n,
                               "gcloud run services update-traffic %s --region=%s "
                               "--to-revisions=%s=100",
                               svc, reg, c->previous_revision);
        else if (c->revision[0])
            rc |= fl_strv_addf(v, n,
                               "gcloud run revisions list --service=%s --region=%s  # pick the "
                               "last healthy revision before %s, then: gcloud run services "
                               "update-traffic %s --region=%s --to-revisions=PREVIOUS=100",
                               svc, reg, c->revision, svc, reg);
        else
            rc |= fl_strv_addf(v, n, "Revert the change, or roll %s back: gcloud run services "
                                     "update-traffic %s --region=%s --to-revisions=PREVIOUS=100",
                               svc, svc, reg);
        if (oom)
            rc |= fl_strv_addf(v, n, "If the new code needs more memory: gcloud run services "
                                     "update %s --region=%s --memory=%s",
                               svc, reg, mem);
        break;
    case FL_CAUSE_DEPENDENCY:
        rc |= dependency_checks(c, v, n);
        break;
    case FL_CAUSE_LOAD: {
        double r = c->surge_ratio > 1 ? c->surge_ratio : 2;
        rc |= fl_strv_addf(v, n,
                           "gcloud run services describe %s --region=%s  # note max-instances "
                           "and concurrency",
                           svc, reg);
        rc |= fl_strv_addf(v, n,
                           "gcloud run services update %s --region=%s --max-instances=N "
                           "--concurrency=N  # traffic is x%.1f: raise max-instances about "
                           "x%.0f, keep concurrency within the DB pool size",
                           svc, reg, r, ceil(r));
        rc |= fl_strv_addf(v, n, "Check the connection pool size against max-instances x "
                                 "pool size <= database max_connections "
                                 "(SELECT count(*) FROM pg_stat_activity;)");
        break;
    }
    case FL_CAUSE_RESOURCE:
        if (class_has(c->class_id, "no_instance")) {
            rc |= fl_strv_addf(v, n,
                               "gcloud run services describe %s --region=%s  # max-instances, "
                               "and whether new instances start (startup probe, exit codes)",
                               svc, reg);
            break;
        }
        rc |= fl_strv_addf(v, n, "gcloud run services update %s --region=%s --memory=%s", svc,
                           reg, mem);
        rc |= fl_strv_addf(v, n, "Look for a leak: memory that grows with uptime, not load");
        break;
    case FL_CAUSE_PLATFORM:
        rc |= fl_strv_addf(v, n, "Check the Google Cloud status page for Cloud Run in %s and "
                                 "the revision's events: gcloud run revisions describe ... "
                                 "--region=%s",
                           reg, reg);
        break;
    default:
        rc |= fl_strv_addf(v, n, "Read the first samples of the group and the changes just "
                                 "before it; no single cause stands out");
        break;
    }
    /* The rule's own steps, minus its generic rollback: a blamed change already got the exact
     * command above, and any other cause must not be rolled back. */
    for (size_t i = 0; c->rule && i < c->rule->n_remediation && i < 4; i++) {
        const char *step = c->rule->remediation[i];
        if (strstr(step, "update-traffic"))
            continue;
        fl_buf b;
        fl_buf_init(&b, 4096);
        int frc = fill_placeholders(c, step, &b);
        if (frc == FL_ETOOBIG) /* a step too long to fill in is shown as the rule wrote it */
            rc |= fl_strv_addf(v, n, "%s", step);
        else
            rc |= frc ? frc : fl_strv_addf(v, n, "%s", b.data ? b.data : "");
        fl_buf_free(&b);
    }
    return rc ? FL_ENOMEM : 0;
}
