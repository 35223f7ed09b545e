/* fl_entry: one Cloud Logging LogEntry reduced to the fields faultline reasons about.
 *
 * Every string field is non-NULL ("" when absent) and points into storage owned by the entry,
 * valid until the next fl_entry_clear/fl_entry_free. The storage grows up to
 * FL_ENTRY_MAX_STORE bytes; past that, fl_entry_set returns FL_ETOOBIG.
 *
 * Mapping from LogEntry JSON (both the jansson reader and the fast reader follow this, and the
 * differential tests hold them to it):
 *   ts             timestamp, else receiveTimestamp (RFC 3339) -> microseconds UTC
 *   severity       "DEFAULT".."EMERGENCY" or the numeric form (0..800); absent -> DEFAULT (0)
 *   log_name       logName verbatim;  log_kind derived from its suffix after "/logs/":
 *                  run.googleapis.com%2Frequests -> REQUESTS, %2Fstdout -> STDOUT,
 *                  %2Fstderr -> STDERR, %2Fvarlog%2Fsystem -> VARLOG_SYSTEM,
 *                  cloudaudit.googleapis.com%2Factivity -> AUDIT_ACTIVITY,
 *                  %2Fsystem_event -> AUDIT_SYSTEM_EVENT, %2Fdata_access -> AUDIT_DATA_ACCESS,
 *                  cloudfunctions.googleapis.com%2Fcloud-functions -> STDOUT; else OTHER.
 *                  ("/" in place of "%2F" is accepted too.) With no logName: httpRequest
 *                  present -> REQUESTS; protoPayload present -> AUDIT_ACTIVITY; else OTHER.
 *   service        resource.labels.service_name, else function_name, else container_name
 *                  (k8s_container), else job_name, else module_id (GAE), else instance_id (GCE)
 *   revision       resource.labels.revision_name, else labels."k8s-pod/pod-template-hash"
 *                  for GKE; "" for service-level audit entries
 *   location (else labels.region), project                  resource.labels.*
 *   message        textPayload, else jsonPayload.message / .msg / .event; then the error
 *                  detail of structured loggers, each piece after "\n" unless already there:
 *                  .err / .error (string, or an object's stack, else "type: message"),
 *                  .errorVerbose (without .error), .exception, .exc_info, then .stack_trace /
 *                  .stack / .stackTrace / .stacktrace (docs/loggers.md). For audit entries with
 *                  no payload text: protoPayload.status.message. Request logs with no text: "".
 *   insert_id, trace                                       top-level fields
 *   instance_id    labels.instanceId
 *   commit_sha     labels."commit-sha"
 *   http_status    httpRequest.status (int; 0 absent); latency_s httpRequest.latency
 *                  ("0.78s" -> 0.78; -1 absent); http_method requestMethod; http_url requestUrl
 *   audit_*        protoPayload.methodName, .serviceName, .resourceName,
 *                  .authenticationInfo.principalEmail (else .principalSubject),
 *                  .status.message, .status.code (has_audit_status true when
 *                  protoPayload.status exists)
 *   error_event    jsonPayload."@type" ends in "ReportedErrorEvent"
 *   (severity)     jsonPayload.level / .severity / .levelname raise a top-level severity that
 *                  is absent or DEFAULT (pino 10-60, zap's dpanic, slog's "ERROR+2", a number
 *                  in a string, docs/loggers.md). The text itself is not kept: nothing reads it.
 *   (severity)     a DEFAULT container line that clearly reports an error ("Traceback ...",
 *                  "panic: ", "Error: 5 NOT_FOUND: ...") becomes ERROR: fl_text_looks_error.
 */
#ifndef FL_ENTRY_H
#define FL_ENTRY_H

#include "fl_common.h"

#include <string.h>

#define FL_ENTRY_MAX_STORE (1024 * 1024)

/* Cloud Logging severities, numeric as in the API. */
enum {
    FL_SEV_DEFAULT = 0,
    FL_SEV_DEBUG = 100,
    FL_SEV_INFO = 200,
    FL_SEV_NOTICE = 300,
    FL_SEV_WARNING = 400,
    FL_SEV_ERROR = 500,
    FL_SEV_CRITICAL = 600,
    FL_SEV_ALERT = 700,
    FL_SEV_EMERGENCY = 800,
};

typedef enum {
    FL_LOG_OTHER = 0,
    FL_LOG_REQUESTS,
    FL_LOG_STDOUT,
    FL_LOG_STDERR,
    FL_LOG_VARLOG_SYSTEM,
    FL_LOG_AUDIT_ACTIVITY,
    FL_LOG_AUDIT_SYSTEM_EVENT,
    FL_LOG_AUDIT_DATA_ACCESS,
} fl_log_kind;

/* Repairs a reader made to keep an entry (fl_entry.fixes). */
enum {
    FL_FIX_UTF8 = 1 << 0,      /* invalid UTF-8 in a string -> U+FFFD */
    FL_FIX_NUL = 1 << 1,       /* "\u0000" -> U+FFFD */
    FL_FIX_SURROGATE = 1 << 2, /* unpaired surrogate escape -> U+FFFD */
    FL_FIX_NUMBER = 1 << 3,    /* a number out of range (1e999) -> null */
    FL_FIX_TIMESTAMP = 1 << 4, /* timestamp present but not RFC 3339: ignored */
};

/* Fields whose length the producer notes (fl_entry_len): the ones compared or hashed for
 * every entry (reassembly's source, the aggregate's revision, the dedup project, the trace). */
typedef enum {
    FL_KNOWN_MESSAGE,
    FL_KNOWN_SERVICE,
    FL_KNOWN_REVISION,
    FL_KNOWN_INSTANCE_ID,
    FL_KNOWN_LOCATION,
    FL_KNOWN_PROJECT,
    FL_KNOWN_TRACE,
    FL_KNOWN_COUNT
} fl_known_field;

typedef struct fl_entry {
    fl_time ts;
    int severity;
    fl_log_kind log_kind;
    int http_status;
    double latency_s;
    int audit_status_code;
    bool has_audit_status;
    bool error_event;

    const char *log_name;
    const char *service;
    const char *revision;
    const char *location;
    const char *project;
    const char *message;
    const char *insert_id;
    const char *trace;
    const char *instance_id;
    const char *commit_sha;
    const char *http_method;
    const char *http_url;
    const char *audit_method;
    const char *audit_service;
    const char *audit_resource;
    const char *audit_principal;
    const char *audit_status_message;

    /* What the reader replaced to keep the entry (FL_FIX_*), for a warning naming the line. */
    unsigned fixes;

    /* Where the entry came from, for warnings: file name (not owned) and 1-based line. */
    const char *src_file;
    uint64_t src_line;

    /* Lengths of the FL_KNOWN_* fields as their producer noted them: known_n[k] holds while the
     * field still points at known_at[k] (fl_entry_len), so a field assigned some other way (a
     * test, a literal) is measured, never given a stale length. fl_entry_set and the JSON
     * mapping note them; fl_entry_clear forgets them. */
    const char *known_at[FL_KNOWN_COUNT];
    uint32_t known_n[FL_KNOWN_COUNT];

    /* Storage behind the string fields. */
    char *store;
    size_t store_len;
    size_t store_cap;
} fl_entry;

void fl_entry_init(fl_entry *e);
/* Empties every field (strings to "", numbers to their "absent" value) but keeps storage. */
void fl_entry_clear(fl_entry *e);
void fl_entry_free(fl_entry *e);
/* Copies s[0..n) into the entry's storage and points *field at it. field must be the address
 * of one of the entry's const char * members. Returns 0, FL_ENOMEM or FL_ETOOBIG. */
int fl_entry_set(fl_entry *e, const char **field, const char *s, size_t n);
/* The length of field s (which must be e's field k): the noted one, else strlen. Consumers
 * that run for every entry use this instead of strlen or strcmp (issue 15). */
static inline size_t fl_entry_len(const fl_entry *e, fl_known_field k, const char *s)
{
    return e->known_at[k] == s ? e->known_n[k] : strlen(s);
}

/* Notes that field k (pointing at s) is n bytes long. */
static inline void fl_entry_note_len(fl_entry *e, fl_known_field k, const char *s, size_t n)
{
    e->known_at[k] = s;
    e->known_n[k] = (uint32_t)n; /* the store is at most FL_ENTRY_MAX_STORE */
}

/* a[0..n) == b[0..n): inline word loads for the short strings compared per entry (a service,
 * a revision name, a project), memcmp past 32 bytes. Both must have n readable bytes. */
static inline bool fl_bytes_equal(const char *a, const char *b, size_t n)
{
    if (n > 32) /* long (an instance id): the library's vector compare */
        return memcmp(a, b, n) == 0;
    if (n > 16) { /* the first and last sixteen bytes, overlapping below 32 */
        uint64_t x[4], y[4];
        memcpy(&x[0], a, 16);
        memcpy(&x[2], a + n - 16, 16);
        memcpy(&y[0], b, 16);
        memcpy(&y[2], b + n - 16, 16);
        return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
    }
    if (n >= 8) { /* two words, overlapping below 16 bytes */
        uint64_t x, y, z, w;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&z, a + n - 8, 8);
        memcpy(&w, b + n - 8, 8);
        return x == y && z == w;
    }
    if (n >= 4) {
        uint32_t x, y, z, w;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&z, a + n - 4, 4);
        memcpy(&w, b + n - 4, 4);
        return x == y && z == w;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Deep copy (dst must be initialised; its previous content is replaced). */
int fl_entry_copy(fl_entry *dst, const fl_entry *src);

/* "ERROR" for 500 etc.; nearest lower name for odd numbers. */
const char *fl_severity_name(int sev);
/* Parses a severity name (case-insensitive; also "warn", "fatal", "err") or a decimal number.
 * Returns -1 if not recognised. */
int fl_severity_parse(const char *s, size_t n);
/* Derives the log kind from a logName. */
fl_log_kind fl_log_kind_from_name(const char *log_name, size_t n);
const char *fl_log_kind_name(fl_log_kind k);
/* True for entries that can be errors worth classifying: severity >= WARNING, HTTP 5xx,
 * stderr / varlog/system / unknown-severity output. Rules with any_severity bypass this. */
bool fl_entry_maybe_error(const fl_entry *e);

#endif
