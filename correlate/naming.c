/* What a group is called in summaries and evidence: its class when a rule matched, else the
 * first line of its template text, never a bare fingerprint. A 504 whose latency shows that
 * the service itself gave up (well below Cloud Run's 300 s request timeout) is named as the
 * application's timeout, not the platform's. */
#include "analyze_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cloud Run's default request timeout; 504s well below it come from the service's own code. */
#define PLATFORM_TIMEOUT_S 300.0

double an_group_max_latency(const agg_group *g)
{
    double max = -1;
    for (size_t i = 0; i < g->n_fields; i++) {
        if (strcmp(g->fields[i].name, "latency_s") != 0)
            continue;
        double v = strtod(g->fields[i].value, NULL);
        if (v > max)
            max = v;
    }
    return max;
}

bool an_group_app_timeout(const agg_group *g)
{
    if (!g->class_id || strcmp(g->class_id, "request_timeout") != 0)
        return false;
    double lat = an_group_max_latency(g);
    return lat >= 0 && lat < PLATFORM_TIMEOUT_S - 10;
}

const char *an_group_name(const agg_group *g, char *buf, size_t cap)
{
    if (an_group_app_timeout(g)) {
        snprintf(buf, cap, "HTTP 504 from the service after <= %.0f s (not Cloud Run's %.0f s "
                           "timeout)",
                 an_group_max_latency(g), PLATFORM_TIMEOUT_S);
        return buf;
    }
    if (g->class_id && g->class_id[0]) {
        snprintf(buf, cap, "%s", g->class_id);
        return buf;
    }
    const char *t = g->template_text && g->template_text[0] ? g->template_text
                    : g->title && g->title[0]            ? g->title
                                                         : g->key;
    size_t n = strcspn(t, "\n");
    if (n > 90) {
        snprintf(buf, cap, "%.87s...", t);
        return buf;
    }
    snprintf(buf, cap, "%.*s", (int)n, t);
    return buf;
}
