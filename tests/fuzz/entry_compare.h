/* Runs both LogEntry readers on the same bytes and compares the verdict (accept/reject) and,
 * when both accept, every field of the result. Used by the differential unit test and the
 * fuzz target. */
#ifndef FL_ENTRY_COMPARE_H
#define FL_ENTRY_COMPARE_H

#include "fl_ingest.h"

#include <stdio.h>
#include <string.h>

/* Writes the first difference into why; returns 0 when the readers agree. */
static inline int fl_entry_compare(const char *buf, size_t len, char *why, size_t why_len)
{
    static fl_entry a, b;
    static int ready;
    if (!ready) {
        fl_entry_init(&a);
        fl_entry_init(&b);
        ready = 1;
    }
    char ea[256], eb[256];
    int ra = fl_entry_parse(buf, len, &a, ea, sizeof(ea));
    int rb = fl_entry_parse_jansson(buf, len, &b, eb, sizeof(eb));
    if (ra != rb) {
        snprintf(why, why_len, "verdict: fast %s (%.100s), jansson %s (%.100s)", fl_errname(ra),
                 ra ? ea : "-", fl_errname(rb), rb ? eb : "-");
        return 1;
    }
    if (ra != 0)
        return 0;
#define NUM(f)                                                                                     \
    do {                                                                                           \
        if (a.f != b.f) {                                                                          \
            snprintf(why, why_len, #f ": fast %lld, jansson %lld", (long long)a.f,                 \
                     (long long)b.f);                                                              \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)
#define STR(f)                                                                                     \
    do {                                                                                           \
        if (strcmp(a.f, b.f) != 0) {                                                               \
            snprintf(why, why_len, #f ": fast \"%.80s\", jansson \"%.80s\"", a.f, b.f);            \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)
    NUM(ts);
    NUM(severity);
    NUM(log_kind);
    NUM(http_status);
    NUM(audit_status_code);
    NUM(has_audit_status);
    NUM(error_event);
    NUM(fixes); /* what was repaired (a number that overflows, ...) is warned about */
    if (a.latency_s != b.latency_s) {
        snprintf(why, why_len, "latency_s: fast %g, jansson %g", a.latency_s, b.latency_s);
        return 1;
    }
    STR(log_name);
    STR(service);
    STR(revision);
    STR(location);
    STR(project);
    STR(message);
    STR(insert_id);
    STR(trace);
    STR(instance_id);
    STR(commit_sha);
    STR(http_method);
    STR(http_url);
    STR(audit_method);
    STR(audit_service);
    STR(audit_resource);
    STR(audit_principal);
    STR(audit_status_message);
#undef NUM
#undef STR
    return 0;
}

#endif
