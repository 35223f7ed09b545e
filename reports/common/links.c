/* Console links for causes (see links.h). */
#include "links.h"

#include <stdio.h>
#include <string.h>

/* Percent-encodes s (RFC 3986 unreserved characters stay) onto out at *len. */
static void put_encoded(char *out, size_t *len, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s && *len + 4 < FL_LINK_MAX; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch)) {
            out[(*len)++] = (char)ch;
        } else {
            out[(*len)++] = '%';
            out[(*len)++] = hex[ch >> 4];
            out[(*len)++] = hex[ch & 15];
        }
    }
    out[*len] = '\0';
}

static bool safe_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* The region of the cause's gcloud commands ("--region=us-west1"), or "". */
static void region_of(const fl_cause *c, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < c->n_actions; i++) {
        const char *p = strstr(c->actions[i], "--region=");
        if (!p)
            continue;
        p += strlen("--region=");
        size_t k = strcspn(p, " \t\"'");
        if (k && k < n) {
            memcpy(out, p, k);
            out[k] = '\0';
            if (safe_name(out) && strcmp(out, "REGION") != 0)
                return;
        }
        out[0] = '\0';
    }
}

bool fl_cause_links(const fl_result *r, const fl_cause *c, char *explorer, char *revision_page)
{
    explorer[0] = revision_page[0] = '\0';
    const char *project = r->input.project;
    if (!safe_name(project) || !safe_name(c->service))
        return false;
    /* The query: the cause's service (and revision), errors and 5xx. */
    char query[1024];
    int q = snprintf(query, sizeof query,
                     "resource.type=\"cloud_run_revision\"\nresource.labels.service_name=\"%s\"",
                     c->service);
    if (c->revision[0] && safe_name(c->revision))
        q += snprintf(query + q, sizeof query - (size_t)q,
                      "\nresource.labels.revision_name=\"%s\"", c->revision);
    snprintf(query + q, sizeof query - (size_t)q, "\n(severity>=ERROR OR httpRequest.status>=500)");
    /* From 30 minutes before the change (or onset) to the end of the window. */
    fl_time from = c->change_ts ? c->change_ts : c->onset ? c->onset : r->window_start;
    from -= 30 * 60 * FL_USEC_PER_SEC;
    fl_time to = r->window_end + 60 * FL_USEC_PER_SEC;
    char a[32], b[32];
    size_t len = (size_t)snprintf(explorer, FL_LINK_MAX,
                                  "https://console.cloud.google.com/logs/query;query=");
    put_encoded(explorer, &len, query);
    snprintf(explorer + len, FL_LINK_MAX - len, ";timeRange=%s%%2F%s?project=%s",
             fl_time_format(from, false, a, sizeof a), fl_time_format(to, false, b, sizeof b),
             project);
    char region[64];
    region_of(c, region, sizeof region);
    if (region[0])
        snprintf(revision_page, FL_LINK_MAX,
                 "https://console.cloud.google.com/run/detail/%s/%s/revisions?project=%s", region,
                 c->service, project);
    return true;
}
