/* The LogEntry mapping shared by both JSON readers.
 *
 * A reader (jansson tree or the single-pass fast reader) only has to find the values at a fixed
 * set of paths ("slots") and record their type; one function, fl_slots_to_entry, then applies
 * the mapping documented in fl_entry.h. Keeping the mapping in one place means the two readers
 * can differ only in JSON grammar and string decoding, which is what the differential tests and
 * the fuzz target compare. */
#ifndef FL_JSON_INTERNAL_H
#define FL_JSON_INTERNAL_H

#include "fl_base64.h"
#include "fl_ingest.h"

/* Slots in tree order: every object slot is followed by all of its descendants, so "forget
 * everything under slot X" (a duplicate key replaces the whole subtree) is one index range. */
#define FL_SLOT_LIST(X)                                                                            \
    X(TIMESTAMP, ROOT, "timestamp")                                                                \
    X(RECEIVE_TS, ROOT, "receiveTimestamp")                                                        \
    X(SEVERITY, ROOT, "severity")                                                                  \
    X(LOGNAME, ROOT, "logName")                                                                    \
    X(INSERT_ID, ROOT, "insertId")                                                                 \
    X(TRACE, ROOT, "trace")                                                                        \
    X(TEXT, ROOT, "textPayload")                                                                   \
    X(RESOURCE, ROOT, "resource")                                                                  \
    X(RES_TYPE, RESOURCE, "type")                                                                  \
    X(RES_LABELS, RESOURCE, "labels")                                                              \
    X(RL_SERVICE_NAME, RES_LABELS, "service_name")                                                 \
    X(RL_FUNCTION_NAME, RES_LABELS, "function_name")                                               \
    X(RL_CONTAINER_NAME, RES_LABELS, "container_name")                                             \
    X(RL_JOB_NAME, RES_LABELS, "job_name")                                                         \
    X(RL_MODULE_ID, RES_LABELS, "module_id")                                                       \
    X(RL_INSTANCE_ID, RES_LABELS, "instance_id")                                                   \
    X(RL_REVISION_NAME, RES_LABELS, "revision_name")                                               \
    X(RL_CONFIGURATION_NAME, RES_LABELS, "configuration_name")                                     \
    X(RL_LOCATION, RES_LABELS, "location")                                                         \
    X(RL_REGION, RES_LABELS, "region")                                                             \
    X(RL_PROJECT_ID, RES_LABELS, "project_id")                                                     \
    X(LABELS, ROOT, "labels")                                                                      \
    X(L_INSTANCE_ID, LABELS, "instanceId")                                                         \
    X(L_COMMIT_SHA, LABELS, "commit-sha")                                                          \
    X(L_BUILD_ID, LABELS, "gcb-build-id")                                                          \
    X(L_POD_HASH, LABELS, "k8s-pod/pod-template-hash")                                             \
    X(HTTP, ROOT, "httpRequest")                                                                   \
    X(H_STATUS, HTTP, "status")                                                                    \
    X(H_LATENCY, HTTP, "latency")                                                                  \
    X(H_METHOD, HTTP, "requestMethod")                                                             \
    X(H_URL, HTTP, "requestUrl")                                                                   \
    X(PROTO, ROOT, "protoPayload")                                                                 \
    X(P_METHOD, PROTO, "methodName")                                                               \
    X(P_SERVICE, PROTO, "serviceName")                                                             \
    X(P_RESOURCE, PROTO, "resourceName")                                                           \
    X(P_AUTH, PROTO, "authenticationInfo")                                                         \
    X(PA_PRINCIPAL, P_AUTH, "principalEmail")                                                      \
    X(PA_SUBJECT, P_AUTH, "principalSubject")                                                      \
    X(P_STATUS, PROTO, "status")                                                                   \
    X(PS_MESSAGE, P_STATUS, "message")                                                             \
    X(PS_CODE, P_STATUS, "code")                                                                   \
    X(JSON, ROOT, "jsonPayload")                                                                   \
    X(J_MESSAGE, JSON, "message")                                                                  \
    X(J_MSG, JSON, "msg")                                                                          \
    X(J_EVENT, JSON, "event")                                                                      \
    X(J_ERROR, JSON, "error")                                                                      \
    X(JE_MESSAGE, J_ERROR, "message")                                                              \
    X(JE_VALUE, J_ERROR, "value")                                                                  \
    X(JE_TYPE, J_ERROR, "type")                                                                    \
    X(JE_STACK, J_ERROR, "stack")                                                                  \
    X(J_ERR, JSON, "err")                                                                          \
    X(JR_MESSAGE, J_ERR, "message")                                                                \
    X(JR_TYPE, J_ERR, "type")                                                                      \
    X(JR_STACK, J_ERR, "stack")                                                                    \
    X(J_ERROR_VERBOSE, JSON, "errorVerbose")                                                       \
    X(J_EXCEPTION, JSON, "exception")                                                              \
    X(J_EXC_INFO, JSON, "exc_info")                                                                \
    X(J_STACK_TRACE, JSON, "stack_trace")                                                          \
    X(J_STACK, JSON, "stack")                                                                      \
    X(J_STACKTRACE, JSON, "stackTrace")                                                            \
    X(J_STACKTRACE_LC, JSON, "stacktrace")                                                         \
    X(J_LEVEL, JSON, "level")                                                                      \
    X(J_SEVERITY, JSON, "severity")                                                                \
    X(J_LEVELNAME, JSON, "levelname")                                                              \
    X(J_TYPE, JSON, "@type")                                                                       \
    X(ENV_MESSAGE, ROOT, "message")                                                                \
    X(EM_DATA, ENV_MESSAGE, "data")                                                                \
    X(EM_ATTRS, ENV_MESSAGE, "attributes")                                                         \
    X(EMA_LOG_TS, EM_ATTRS, "logging.googleapis.com/timestamp")                                    \
    X(EM_PUBLISH_TIME, ENV_MESSAGE, "publishTime")

/* clang-format off */
enum {
#define FL_SLOT_ENUM(name, parent, key) FL_S_##name,
    FL_SLOT_LIST(FL_SLOT_ENUM)
#undef FL_SLOT_ENUM
    FL_S_COUNT,
    FL_S_ROOT = -1,
};
/* clang-format on */

typedef struct fl_slot_def {
    const char *key;
    unsigned char key_len;
    signed char parent; /* FL_S_ROOT or a slot index */
    unsigned char last; /* index of the last descendant (itself when it has none) */
} fl_slot_def;

/* Built before main() runs (a constructor in map.c); read-only afterwards. */
extern fl_slot_def fl_slot_defs[FL_S_COUNT];

typedef enum {
    FL_V_NONE = 0, /* key absent */
    FL_V_STR,      /* p/n: decoded UTF-8 (no NUL inside) */
    FL_V_STR_ESC,  /* p/n: raw JSON string body, still with backslash escapes */
    FL_V_INT,      /* i */
    FL_V_OBJ,      /* an object: its children may be set */
    FL_V_OTHER,    /* real, array, true/false/null */
} fl_vtype;

typedef struct fl_slot {
    const char *p;
    size_t n;
    int64_t i;
    fl_vtype t;
} fl_slot;

typedef struct fl_slots {
    fl_slot v[FL_S_COUNT];
} fl_slots;

/* Applies the mapping of fl_entry.h to the found values (e already cleared). If the slots hold
 * a Pub/Sub push envelope, *envelope gets the base64 text (p/n, raw) and nothing is mapped.
 * Returns 0, FL_ENOMEM or FL_ETOOBIG. */
int fl_slots_to_entry(const fl_slots *s, fl_entry *e);
/* True when the slots are a Pub/Sub push envelope ({"message":{"data":"..."}}). */
bool fl_slots_envelope(const fl_slots *s);

/* Decodes the body of a JSON string that is known to be valid (the reader checked it) into
 * out, which needs n bytes. Returns the decoded length. */
size_t fl_json_unescape(const char *raw, size_t n, char *out);

/* base64: src/core/fl_base64.h */

/* Decodes an envelope's data (in s) and parses it with parse (the same reader that read the
 * envelope). An inner LogEntry without a timestamp takes the envelope's: the
 * logging.googleapis.com/timestamp attribute (set by a Cloud Logging sink), else publishTime. */
typedef int (*fl_parse_fn)(const char *buf, size_t len, fl_entry *e, char *errbuf, size_t errlen,
                           int depth);
int fl_unwrap_envelope(const fl_slots *s, fl_parse_fn parse, fl_entry *e, char *errbuf,
                       size_t errlen, int depth);

/* The readers, with the envelope depth (0 at the top, 1 inside an envelope's data). */
int fl_entry_parse_jansson_depth(const char *buf, size_t len, fl_entry *e, char *errbuf,
                                 size_t errlen, int depth);
int fl_entry_parse_fast_depth(const char *buf, size_t len, fl_entry *e, char *errbuf, size_t errlen,
                              int depth);
/* repair.c: a copy of buf with invalid UTF-8, "\u0000", unpaired surrogates (U+FFFD) and
 * overflowing numbers (null) replaced. Returns 1 with *out (fl_free) and *fixes (FL_FIX_*)
 * when something was replaced, 0 when nothing was, FL_ENOMEM. */
int fl_json_repair(const char *buf, size_t len, char **out, size_t *out_len, unsigned *fixes);
/* After a reader returned rc for buf: when rc is FL_EPARSE and a repaired copy parses, returns
 * 0 with e->fixes set; otherwise rc (e cleared, errbuf untouched). */
int fl_json_parse_repaired(const char *buf, size_t len, fl_entry *e, char *errbuf,
                           size_t errlen, int rc, fl_parse_fn parse);

/* The fast reader (ingest/json/fast.c). */
int fl_entry_parse_fast(const char *buf, size_t len, fl_entry *e, char *errbuf, size_t errlen);
/* Where a JSON object that fl_entry_parse_fast_prefix read in place ended, and what the array
 * splitter needs to know to cut the same record its bracket scanner would. */
typedef struct fl_json_extent {
    size_t len;     /* the object's bytes, from its '{' to its '}' */
    uint64_t lines; /* newlines inside */
    long brace_col; /* least column of a '{' that starts a line inside (LONG_MAX: none) */
} fl_json_extent;
/* The object that starts at buf (its '{'), when it is a valid LogEntry that fl_entry_parse
 * would accept unrepaired: returns 0 with e filled and *x set (bytes after the object are not
 * looked at). Anything else returns non-zero and the caller must cut the record and parse it
 * the usual way (errors, repairs and warnings come from there). */
int fl_entry_parse_fast_prefix(const char *buf, size_t avail, fl_entry *e, fl_json_extent *x);
/* NDJSON: the line that starts at buf, parsed where it lies without looking for its end first
 * (the parser reads every byte of it anyway). Succeeds, returning 0, only when the line is
 * blanks, a LogEntry object that fl_entry_parse accepts unrepaired with no newline inside and
 * at most record_max bytes long, blanks and a '\n', all within avail bytes: then e is filled,
 * *obj / *obj_len are the object (what the line splitter would hand out) and *line_len is the
 * line's length without its '\n'. Anything else (a blank line, invalid JSON, a repair, an
 * oversize or unfinished line, a last line without '\n') returns non-zero and the caller cuts
 * the line and parses it the usual way, so errors, repairs and line numbers come from there. */
int fl_entry_parse_fast_line(const char *buf, size_t avail, size_t record_max, fl_entry *e,
                             size_t *obj, size_t *obj_len, size_t *line_len);

#endif
