#include "fl_entry.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Offsets of every string member, so storage can move (realloc, copy) and the pointers follow. */
static const size_t str_fields[] = {
    offsetof(fl_entry, log_name),     offsetof(fl_entry, service),
    offsetof(fl_entry, revision),     offsetof(fl_entry, location),
    offsetof(fl_entry, project),      offsetof(fl_entry, message),
    offsetof(fl_entry, insert_id),    offsetof(fl_entry, trace),
    offsetof(fl_entry, instance_id),  offsetof(fl_entry, commit_sha),
    offsetof(fl_entry, http_method),
    offsetof(fl_entry, http_url),     offsetof(fl_entry, audit_method),
    offsetof(fl_entry, audit_service), offsetof(fl_entry, audit_resource),
    offsetof(fl_entry, audit_principal), offsetof(fl_entry, audit_status_message),
};

#define FIELD(e, off) ((const char **)((char *)(e) + (off)))

/* fl_entry_clear names each member: a new string member must be added there too. */
_Static_assert(FL_ARRAY_LEN(str_fields) == 17, "fl_entry_clear lists 17 string members");

static const char empty[] = "";

void fl_entry_init(fl_entry *e)
{
    memset(e, 0, sizeof(*e));
    fl_entry_clear(e);
}

void fl_entry_clear(fl_entry *e)
{
    e->ts = 0;
    e->severity = FL_SEV_DEFAULT;
    e->log_kind = FL_LOG_OTHER;
    e->http_status = 0;
    e->latency_s = -1;
    e->audit_status_code = 0;
    e->has_audit_status = false;
    e->error_event = false;
    e->fixes = 0;
    /* One store per member rather than a loop over str_fields: this runs several times per
     * entry (parse, reassembly), and the loop was 3% of a run's instructions (issue 15). */
    e->log_name = e->service = e->revision = empty;
    e->location = e->project = e->message = e->insert_id = e->trace = e->instance_id = empty;
    e->commit_sha = e->http_method = e->http_url = e->audit_method = empty;
    e->audit_service = e->audit_resource = e->audit_principal = empty;
    e->audit_status_message = empty;
    e->src_file = empty;
    e->src_line = 0;
    e->store_len = 0;
    memset(e->known_at, 0, sizeof(e->known_at));
}

void fl_entry_free(fl_entry *e)
{
    if (!e)
        return;
    fl_free(e->store);
    e->store = NULL;
    e->store_cap = e->store_len = 0;
    fl_entry_clear(e);
}

static bool in_store(const fl_entry *e, const char *p)
{
    return e->store && p >= e->store && p < e->store + e->store_cap;
}

/* Moves every string pointer that pointed into old storage so it points into new storage. */
static void rebase(fl_entry *e, const char *old_base, char *new_base, size_t old_cap)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(str_fields); i++) {
        const char **f = FIELD(e, str_fields[i]);
        if (old_base && *f >= old_base && *f < old_base + old_cap)
            *f = new_base + (*f - old_base);
    }
    /* Noted lengths follow their strings; one left pointing at freed storage could match a
     * later field that happens to land there. */
    for (size_t k = 0; k < FL_KNOWN_COUNT; k++) {
        const char *p = e->known_at[k];
        if (old_base && p >= old_base && p < old_base + old_cap)
            e->known_at[k] = new_base + (p - old_base);
    }
}

/* Where each FL_KNOWN_* field lies in fl_entry, in the enum's order. */
static const size_t known_offset[FL_KNOWN_COUNT] = {
    [FL_KNOWN_MESSAGE] = offsetof(fl_entry, message),
    [FL_KNOWN_SERVICE] = offsetof(fl_entry, service),
    [FL_KNOWN_REVISION] = offsetof(fl_entry, revision),
    [FL_KNOWN_INSTANCE_ID] = offsetof(fl_entry, instance_id),
    [FL_KNOWN_LOCATION] = offsetof(fl_entry, location),
    [FL_KNOWN_PROJECT] = offsetof(fl_entry, project),
    [FL_KNOWN_TRACE] = offsetof(fl_entry, trace),
};

/* The FL_KNOWN_* index of an entry's field, or -1. */
static int known_index(const fl_entry *e, const char **field)
{
    size_t off = (size_t)((const char *)field - (const char *)e);
    for (int k = 0; k < FL_KNOWN_COUNT; k++)
        if (known_offset[k] == off)
            return k;
    return -1;
}

int fl_entry_set(fl_entry *e, const char **field, const char *s, size_t n)
{
    int k = known_index(e, field);
    if (n == 0) {
        *field = empty;
        if (k >= 0)
            fl_entry_note_len(e, (fl_known_field)k, empty, 0);
        return 0;
    }
    size_t need = e->store_len + n + 1;
    if (need > FL_ENTRY_MAX_STORE)
        return FL_ETOOBIG;
    if (need > e->store_cap) {
        /* The source may itself live in our storage (copying a field onto another). */
        ptrdiff_t src_off = in_store(e, s) ? s - e->store : -1;
        size_t cap = e->store_cap ? e->store_cap : 1024;
        while (cap < need)
            cap *= 2;
        if (cap > FL_ENTRY_MAX_STORE)
            cap = FL_ENTRY_MAX_STORE;
        char *old = e->store;
        size_t old_cap = e->store_cap;
        char *p = fl_realloc(e->store, cap);
        if (!p)
            return FL_ENOMEM;
        e->store = p;
        e->store_cap = cap;
        rebase(e, old, p, old_cap);
        if (src_off >= 0)
            s = p + src_off;
    }
    char *dst = e->store + e->store_len;
    memmove(dst, s, n);
    dst[n] = '\0';
    e->store_len += n + 1;
    *field = dst;
    if (k >= 0)
        fl_entry_note_len(e, (fl_known_field)k, dst, n);
    return 0;
}

int fl_entry_copy(fl_entry *dst, const fl_entry *src)
{
    if (dst == src)
        return 0;
    char *store = dst->store;
    size_t cap = dst->store_cap;
    if (cap < src->store_len) {
        store = fl_realloc(dst->store, src->store_len);
        if (!store)
            return FL_ENOMEM;
        cap = src->store_len;
    }
    *dst = *src;
    dst->store = store;
    dst->store_cap = cap;
    if (src->store_len)
        memcpy(store, src->store, src->store_len);
    for (size_t i = 0; i < FL_ARRAY_LEN(str_fields); i++) {
        const char **f = FIELD(dst, str_fields[i]);
        if (in_store(src, *f))
            *f = store + (*f - src->store);
        else
            *f = empty;
    }
    for (size_t k = 0; k < FL_KNOWN_COUNT; k++)
        dst->known_at[k] =
            in_store(src, src->known_at[k]) ? store + (src->known_at[k] - src->store) : NULL;
    return 0;
}

const char *fl_severity_name(int sev)
{
    if (sev >= FL_SEV_EMERGENCY)
        return "EMERGENCY";
    if (sev >= FL_SEV_ALERT)
        return "ALERT";
    if (sev >= FL_SEV_CRITICAL)
        return "CRITICAL";
    if (sev >= FL_SEV_ERROR)
        return "ERROR";
    if (sev >= FL_SEV_WARNING)
        return "WARNING";
    if (sev >= FL_SEV_NOTICE)
        return "NOTICE";
    if (sev >= FL_SEV_INFO)
        return "INFO";
    if (sev >= FL_SEV_DEBUG)
        return "DEBUG";
    return "DEFAULT";
}

/* Severity names are matched by length, then as little-endian words of their bytes: this runs
 * for most entries (the top-level severity, then a logger's own level); a loop of strncasecmp
 * over the name table was 1% of a run (issue 15), byte-wise folding and memcmp still 0.5%.
 * Every byte compared is a letter, and for a letter c, (x | 0x20) == c (lower case) holds
 * exactly when x is c in either case: that is strncasecmp in the C locale. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define W4(a, b, c, d)                                                                             \
    ((uint32_t)(d) | (uint32_t)(c) << 8 | (uint32_t)(b) << 16 | (uint32_t)(a) << 24)
#else
#define W4(a, b, c, d)                                                                             \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#endif

static inline uint32_t lower4(const char *s)
{
    uint32_t w;
    memcpy(&w, s, 4);
    return w | 0x20202020u;
}

int fl_severity_parse(const char *s, size_t n)
{
    if (n == 0)
        return -1;
    if ((unsigned)(unsigned char)s[0] - '0' <= 9) { /* isdigit in the C locale, inline */
        int v = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned d = (unsigned)(unsigned char)s[i] - '0';
            if (d > 9 || v > 100000)
                return -1;
            v = v * 10 + (int)d;
        }
        return v;
    }
    if (n < 3 || n > 9)
        return -1;
    if (n == 3) {
        bool err = (s[0] | 0x20) == 'e' && (s[1] | 0x20) == 'r' && (s[2] | 0x20) == 'r';
        return err ? FL_SEV_ERROR : -1;
    }
    /* n >= 4: the first four bytes and the last four (overlapping below 8) */
    uint32_t a = lower4(s), z = lower4(s + n - 4);
    switch (n) {
    case 4:
        return a == W4('i', 'n', 'f', 'o')   ? FL_SEV_INFO
               : a == W4('w', 'a', 'r', 'n') ? FL_SEV_WARNING
                                             : -1;
    case 5:
        return a == W4('d', 'e', 'b', 'u') && z == W4('e', 'b', 'u', 'g')   ? FL_SEV_DEBUG
               : a == W4('t', 'r', 'a', 'c') && z == W4('r', 'a', 'c', 'e') ? FL_SEV_DEBUG
               : a == W4('e', 'r', 'r', 'o') && z == W4('r', 'r', 'o', 'r') ? FL_SEV_ERROR
               : a == W4('f', 'a', 't', 'a') && z == W4('a', 't', 'a', 'l') ? FL_SEV_CRITICAL
               : a == W4('a', 'l', 'e', 'r') && z == W4('l', 'e', 'r', 't') ? FL_SEV_ALERT
               : a == W4('p', 'a', 'n', 'i') && z == W4('a', 'n', 'i', 'c') ? FL_SEV_EMERGENCY
                                                                            : -1;
    case 6:
        return a == W4('n', 'o', 't', 'i') && z == W4('t', 'i', 'c', 'e') ? FL_SEV_NOTICE : -1;
    case 7:
        return a == W4('d', 'e', 'f', 'a') && z == W4('a', 'u', 'l', 't')   ? FL_SEV_DEFAULT
               : a == W4('w', 'a', 'r', 'n') && z == W4('n', 'i', 'n', 'g') ? FL_SEV_WARNING
                                                                            : -1;
    case 8:
        return a == W4('c', 'r', 'i', 't') && z == W4('i', 'c', 'a', 'l') ? FL_SEV_CRITICAL : -1;
    case 9: /* the middle byte is in neither word */
        return a == W4('e', 'm', 'e', 'r') && z == W4('e', 'n', 'c', 'y') && (s[4] | 0x20) == 'g'
                   ? FL_SEV_EMERGENCY
                   : -1;
    }
    return -1;
}
#undef W4

/* log_name ends with the string literal lit (a memcmp of constant length, expanded inline). */
#define ENDS(lit)                                                                                  \
    (n >= sizeof(lit) - 1 && memcmp(log_name + n - (sizeof(lit) - 1), lit, sizeof(lit) - 1) == 0)

/* The suffixes of fl_entry.h ("/" in place of "%2F" accepted too), picked by their last byte:
 * this runs for every entry, and a loop of strlen + memcmp over a table was 1% of a run
 * (issue 15). */
fl_log_kind fl_log_kind_from_name(const char *log_name, size_t n)
{
    if (n == 0)
        return FL_LOG_OTHER;
    switch (log_name[n - 1]) {
    case 's':
        if (ENDS("run.googleapis.com%2Frequests") || ENDS("run.googleapis.com/requests"))
            return FL_LOG_REQUESTS;
        if (ENDS("cloudfunctions.googleapis.com%2Fcloud-functions") ||
            ENDS("cloudfunctions.googleapis.com/cloud-functions"))
            return FL_LOG_STDOUT;
        if (ENDS("cloudaudit.googleapis.com%2Fdata_access") ||
            ENDS("cloudaudit.googleapis.com/data_access"))
            return FL_LOG_AUDIT_DATA_ACCESS;
        break;
    case 't':
        if (ENDS("run.googleapis.com%2Fstdout") || ENDS("run.googleapis.com/stdout") ||
            ENDS("/logs/stdout"))
            return FL_LOG_STDOUT;
        if (ENDS("cloudaudit.googleapis.com%2Fsystem_event") ||
            ENDS("cloudaudit.googleapis.com/system_event"))
            return FL_LOG_AUDIT_SYSTEM_EVENT;
        break;
    case 'r':
        if (ENDS("run.googleapis.com%2Fstderr") || ENDS("run.googleapis.com/stderr") ||
            ENDS("/logs/stderr"))
            return FL_LOG_STDERR;
        break;
    case 'm':
        if (ENDS("run.googleapis.com%2Fvarlog%2Fsystem") || ENDS("run.googleapis.com/varlog/system"))
            return FL_LOG_VARLOG_SYSTEM;
        break;
    case 'y':
        if (ENDS("cloudaudit.googleapis.com%2Factivity") ||
            ENDS("cloudaudit.googleapis.com/activity"))
            return FL_LOG_AUDIT_ACTIVITY;
        break;
    }
    return FL_LOG_OTHER;
}
#undef ENDS

const char *fl_log_kind_name(fl_log_kind k)
{
    switch (k) {
    case FL_LOG_REQUESTS:
        return "requests";
    case FL_LOG_STDOUT:
        return "stdout";
    case FL_LOG_STDERR:
        return "stderr";
    case FL_LOG_VARLOG_SYSTEM:
        return "varlog/system";
    case FL_LOG_AUDIT_ACTIVITY:
        return "activity";
    case FL_LOG_AUDIT_SYSTEM_EVENT:
        return "system_event";
    case FL_LOG_AUDIT_DATA_ACCESS:
        return "data_access";
    case FL_LOG_OTHER:
        break;
    }
    return "other";
}

bool fl_entry_maybe_error(const fl_entry *e)
{
    if (e->severity >= FL_SEV_WARNING)
        return true;
    if (e->http_status >= 500)
        return true;
    if (e->severity == FL_SEV_DEFAULT &&
        (e->log_kind == FL_LOG_STDERR || e->log_kind == FL_LOG_VARLOG_SYSTEM ||
         e->log_kind == FL_LOG_STDOUT || e->log_kind == FL_LOG_OTHER))
        return e->message[0] != '\0';
    return false;
}
