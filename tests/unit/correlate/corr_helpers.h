/* Helpers for the correlate tests: entries built by hand, fake classifier matches, and the
 * JSON rendering of a result for byte comparisons. */
#ifndef CORR_HELPERS_H
#define CORR_HELPERS_H

#include "fl_correlate.h"
#include "fl_reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline fl_time T(const char *s)
{
    fl_time t = 0;
    if (fl_time_parse(s, strlen(s), &t) != 0) {
        fprintf(stderr, "bad time %s\n", s);
        abort();
    }
    return t;
}

typedef struct test_entry {
    fl_time ts;
    fl_log_kind kind;
    int severity;
    int status;
    const char *service;
    const char *revision;
    const char *message;
    const char *insert_id;
    const char *location;
    const char *trace; /* request logs: the trace id shared with the calls it made */
    double latency;    /* seconds; 0: absent */
} test_entry;

static inline void fill(fl_entry *e, const test_entry *t)
{
    fl_entry_clear(e);
    e->ts = t->ts;
    e->log_kind = t->kind;
    e->severity = t->severity;
    e->http_status = t->status;
    fl_entry_set(e, &e->service, t->service, strlen(t->service));
    fl_entry_set(e, &e->revision, t->revision, strlen(t->revision));
    if (t->message)
        fl_entry_set(e, &e->message, t->message, strlen(t->message));
    if (t->insert_id)
        fl_entry_set(e, &e->insert_id, t->insert_id, strlen(t->insert_id));
    const char *loc = t->location ? t->location : "europe-west1";
    fl_entry_set(e, &e->location, loc, strlen(loc));
    if (t->trace)
        fl_entry_set(e, &e->trace, t->trace, strlen(t->trace));
    e->latency_s = t->latency > 0 ? t->latency : -1;
    if (t->kind == FL_LOG_REQUESTS) {
        fl_entry_set(e, &e->http_method, "GET", 3);
        fl_entry_set(e, &e->http_url, "https://x.run.app/api/orders/123", 32);
    }
}

/* A fake rule per class, so tests need no rule files. */
static fl_rule_info fake_rules[] = {
    {"schema_validation.zod", "schema_validation", "Config validation failed", FL_SEV_ERROR,
     FL_IMPLIES_CONFIG, false, NULL, 0, "test"},
    {"mongo_server_selection.node", "mongo_server_selection", "MongoDB server selection timed out",
     FL_SEV_ERROR, FL_IMPLIES_DEPENDENCY, false, NULL, 0, "test"},
    {"pool_exhausted.pg", "pool_exhausted", "Connection pool exhausted", FL_SEV_ERROR,
     FL_IMPLIES_RESOURCE, false, NULL, 0, "test"},
    {"oom.cloudrun", "oom", "Memory limit exceeded", FL_SEV_ERROR, FL_IMPLIES_RESOURCE, false,
     NULL, 0, "test"},
    /* the implied causes the real rule files give these classes */
    {"redis_timeout.ioredis", "redis_timeout", "Redis command timed out", FL_SEV_ERROR,
     FL_IMPLIES_DEPENDENCY, false, NULL, 0, "test"},
    {"module_not_found.node", "module_not_found", "Cannot find module", FL_SEV_ERROR,
     FL_IMPLIES_CONFIG, false, NULL, 0, "test"},
    {"quota_exhausted.grpc", "quota_exhausted", "RESOURCE_EXHAUSTED", FL_SEV_ERROR,
     FL_IMPLIES_LOAD, false, NULL, 0, "test"},
    {"upstream_timeout.axios", "upstream_timeout", "Upstream request timed out", FL_SEV_ERROR,
     FL_IMPLIES_DEPENDENCY, false, NULL, 0, "test"},
};

static inline fl_match match_for(const char *class_id)
{
    fl_match m;
    memset(&m, 0, sizeof(m));
    for (size_t i = 0; class_id && i < sizeof(fake_rules) / sizeof(fake_rules[0]); i++)
        if (strcmp(fake_rules[i].class_id, class_id) == 0)
            m.rule = &fake_rules[i];
    return m;
}

/* Renders r as JSON into a malloc'd string (free with free()). */
static inline char *render_json(const fl_result *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fl_report_opts o = {.no_redact = true};
    if (fl_report_write("json", r, &o, f) != 0) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    return buf;
}

#endif
