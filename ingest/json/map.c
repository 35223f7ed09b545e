/* The LogEntry -> fl_entry mapping (documented in src/fl_entry.h), applied to the values a
 * reader found. Both JSON readers end here, so they cannot disagree about the mapping. */
#include "json_internal.h"
#include "fl_digits.h"

#include <limits.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

fl_slot_def fl_slot_defs[FL_S_COUNT] = {
#define FL_SLOT_DEF(name, parent, key) {key, sizeof(key) - 1, FL_S_##parent, 0},
    FL_SLOT_LIST(FL_SLOT_DEF)
#undef FL_SLOT_DEF
};

__attribute__((constructor(101))) static void slot_defs_init(void)
{
    for (int i = 0; i < FL_S_COUNT; i++) {
        fl_slot_defs[i].last = (unsigned char)i;
        for (int j = i + 1; j < FL_S_COUNT; j++) {
            int a = fl_slot_defs[j].parent;
            while (a != FL_S_ROOT && a != i)
                a = fl_slot_defs[a].parent;
            if (a != i)
                break;
            fl_slot_defs[i].last = (unsigned char)j;
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static unsigned hex4(const char *p)
{
    return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t fl_json_unescape(const char *raw, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        const char *bs = memchr(raw + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (raw + i)) : n - i;
        memmove(out + o, raw + i, run);
        o += run;
        i += run;
        if (i >= n)
            break;
        char c = raw[i + 1];
        i += 2;
        switch (c) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            unsigned cp = hex4(raw + i);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && raw[i] == '\\' && raw[i + 1] == 'u') {
                unsigned lo = hex4(raw + i + 2);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += put_utf8(cp, out + o);
            break;
        }
        default: /* '"', '\\', '/' */
            out[o++] = c;
            break;
        }
    }
    return o;
}

/* ---- reading slot values ---- */

static bool is_str(const fl_slot *s)
{
    return s->t == FL_V_STR || s->t == FL_V_STR_ESC;
}

static bool nonempty(const fl_slot *s)
{
    return is_str(s) && s->n > 0;
}

/* A decoded copy for short-lived use: small values on the caller's stack, big ones on the
 * heap (*heap must be freed). */
typedef struct tmp_str {
    const char *p;
    size_t n;
    char *heap;
    char small[512];
} tmp_str;

static int tmp_decode(const fl_slot *s, tmp_str *t)
{
    t->heap = NULL;
    if (s->t == FL_V_STR) {
        t->p = s->p;
        t->n = s->n;
        return 0;
    }
    char *dst = t->small;
    if (s->n > sizeof(t->small)) {
        if (!(t->heap = fl_malloc(s->n)))
            return FL_ENOMEM;
        dst = t->heap;
    }
    t->n = fl_json_unescape(s->p, s->n, dst);
    t->p = dst;
    return 0;
}

/* Sixteen bytes at a time: a vector where the target has one (SSE2 on x86-64), else words. */
typedef unsigned char bytes16 __attribute__((vector_size(16)));

static inline void copy16(char *d, const char *s)
{
    bytes16 x;
    memcpy(&x, s, 16);
    memcpy(d, &x, 16);
}

/* memcpy for the strings most fields are (a method, a service, a log name, a trace, an
 * instance id), without a call: overlapping loads and stores from both ends cover any length
 * from 4 to 32, four or eight of sixteen bytes any length up to 128 (the call was 1.2% of a
 * run's instructions, issue 15). */
static inline void copy_short(char *d, const char *s, size_t n)
{
    if (n > 32) {
        if (n > 128) {
            memcpy(d, s, n);
            return;
        }
        if (n > 64) {
            copy16(d + 32, s + 32);
            copy16(d + 48, s + 48);
            copy16(d + n - 64, s + n - 64);
            copy16(d + n - 48, s + n - 48);
        }
        copy16(d, s);
        copy16(d + 16, s + 16);
        copy16(d + n - 32, s + n - 32);
        copy16(d + n - 16, s + n - 16);
    } else if (n >= 16) {
        copy16(d, s);
        copy16(d + n - 16, s + n - 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/* Where the next string goes in the entry's store, held in locals while the fields are copied:
 * any byte stored through the store may alias e->store_len, so with the length kept in the
 * entry it was loaded and stored again for every field (issue 15). cursor_sync writes it back
 * before anything else uses the store; cursor_load takes it up again afterwards. */
typedef struct store_cursor {
    char *base;
    size_t len, cap;
} store_cursor;

static inline void cursor_load(const fl_entry *e, store_cursor *c)
{
    c->base = e->store;
    c->len = e->store_len;
    c->cap = e->store_cap;
}

static inline void cursor_sync(fl_entry *e, const store_cursor *c)
{
    e->store_len = c->len;
}

/* Sets *field from a string slot that has escapes or does not fit the storage the entry has:
 * copies through fl_entry_set (which grows the storage) and decodes the escapes in place. */
static __attribute__((noinline)) int set_str_slow(fl_entry *e, const char **field,
                                                  const fl_slot *s, size_t *len)
{
    int rc = fl_entry_set(e, field, s->p, s->n);
    if (rc < 0)
        return rc;
    if (len)
        *len = s->n;
    if (s->t == FL_V_STR)
        return 0;
    /* The copy is the last thing in the store: decode it where it lies (never longer). */
    char *dst = (char *)*field;
    size_t m = fl_json_unescape(dst, s->n, dst);
    dst[m] = '\0';
    e->store_len -= s->n - m;
    if (m == 0)
        *field = "";
    if (len)
        *len = m;
    return 0;
}

/* Sets *field from a string slot, decoding escapes in place in the entry's storage; *len (when
 * not NULL) receives the stored length. The common case, a plain string that fits the storage
 * the entry already has (it is reused from entry to entry), is a copy inline here: a call per
 * field was 5% of a run (issue 15). The source is the record being read, never the entry's
 * own storage; store_cap never exceeds FL_ENTRY_MAX_STORE. c is e's store (cursor_load). */
static inline __attribute__((always_inline)) int set_str_c(fl_entry *e, store_cursor *c,
                                                           const char **field, const fl_slot *s,
                                                           size_t *len)
{
    size_t n = s->n;
    if (s->t != FL_V_STR || n == 0 || n >= c->cap - c->len) { /* or n + 1 bytes do not fit */
        if (!nonempty(s))
            return 0;
        cursor_sync(e, c);
        int rc = set_str_slow(e, field, s, len);
        cursor_load(e, c);
        return rc;
    }
    char *dst = c->base + c->len;
    copy_short(dst, s->p, n);
    dst[n] = '\0';
    c->len += n + 1;
    *field = dst;
    if (len)
        *len = n;
    return 0;
}

/* set_str_c for a single field, outside a run of them. */
static inline __attribute__((always_inline)) int set_str_len(fl_entry *e, const char **field,
                                                             const fl_slot *s, size_t *len)
{
    store_cursor c;
    cursor_load(e, &c);
    int rc = set_str_c(e, &c, field, s, len);
    cursor_sync(e, &c);
    return rc;
}

static inline __attribute__((always_inline)) int set_str(fl_entry *e, const char **field,
                                                         const fl_slot *s)
{
    return set_str_len(e, field, s, NULL);
}

static const fl_slot *first_nonempty(const fl_slots *s, const int *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (nonempty(&s->v[ids[i]]))
            return &s->v[ids[i]];
    return NULL;
}

static __attribute__((noinline)) fl_time parse_time_escaped(const fl_slot *s)
{
    fl_time t = 0;
    tmp_str d;
    if (!nonempty(s) || tmp_decode(s, &d) < 0)
        return 0;
    if (fl_time_parse(d.p, d.n, &t) < 0)
        t = 0;
    if (d.heap)
        fl_free(d.heap);
    return t;
}

/* The usual case, a plain string, inline (without the decoding buffer): a call per entry. */
static inline fl_time parse_time(const fl_slot *s)
{
    fl_time t = 0;
    if (s->t == FL_V_STR)
        return s->n && fl_time_parse(s->p, s->n, &t) == 0 ? t : 0;
    return s->t == FL_V_STR_ESC ? parse_time_escaped(s) : 0;
}

/* The value of a decimal digit; > 9 for any other byte. */
static inline unsigned digit_value(char c)
{
    return (unsigned)(unsigned char)c - '0';
}

static const double pow10_tab[] = {1,    1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                   1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

/* digits[.digits]s in p[0..n) -> its value, or -1; up to 18 significant digits are exact in a
 * uint64, further fraction digits are below a double's precision. */
static double latency_value(const char *p, size_t n)
{
    if (n < 2 || n >= 40 || p[n - 1] != 's' || digit_value(p[0]) > 9)
        return -1;
    /* The form Cloud Logging writes (a protobuf Duration: nanoseconds, "0.025804613s"): a few
     * whole digits, '.', nine fraction digits; the same value the loops below compute, without
     * them (this ran for every request, issue 15). */
    uint32_t eight;
    if (n >= 12 && n <= 20 && p[n - 11] == '.' && fl_digits8(p + n - 10, &eight) &&
        digit_value(p[n - 2]) <= 9) {
        uint64_t whole = 0;
        for (const char *q = p; q < p + n - 11; q++) {
            if (digit_value(*q) > 9)
                return -1;
            whole = whole * 10 + digit_value(*q);
        }
        uint64_t mant = (whole * 100000000 + eight) * 10 + digit_value(p[n - 2]);
        return (double)mant / pow10_tab[9];
    }
    const char *end = p + n - 1;
    uint64_t mant = 0;
    int digits = 0, frac = -1;
    for (; p < end && digit_value(*p) <= 9; p++, digits++) {
        if (digits == 18)
            return -1; /* an absurd number of whole seconds */
        mant = mant * 10 + digit_value(*p);
    }
    if (p < end && *p == '.') {
        frac = 0;
        /* The usual case, 9 fraction digits or fewer after a few whole ones: no count to keep
         * per digit (this loop was 0.3% of a run, issue 15). */
        const char *from = ++p;
        if (end - from <= 18 - digits) {
            for (; end - p >= 8 && fl_digits8(p, &eight); p += 8)
                mant = mant * 100000000 + eight;
            for (; p < end && digit_value(*p) <= 9; p++)
                mant = mant * 10 + digit_value(*p);
            frac = (int)(p - from);
        } else {
            for (; p < end && digit_value(*p) <= 9; p++)
                if (digits < 18) {
                    mant = mant * 10 + digit_value(*p);
                    digits++;
                    frac++;
                }
        }
    }
    if (p != end)
        return -1;
    return (double)mant / pow10_tab[frac > 0 ? frac : 0];
}

/* "0.783137066s" -> 0.783137066; anything else -> -1. */
static double parse_latency(const fl_slot *s)
{
    if (s->t == FL_V_STR)
        return latency_value(s->p, s->n);
    tmp_str d;
    if (!nonempty(s) || tmp_decode(s, &d) < 0)
        return -1;
    double v = latency_value(d.p, d.n);
    if (d.heap)
        fl_free(d.heap);
    return v;
}

static int int_in_range(const fl_slot *s, int64_t lo, int64_t hi, int dflt)
{
    return s->t == FL_V_INT && s->i >= lo && s->i <= hi ? (int)s->i : dflt;
}

static bool ends_with(const tmp_str *d, const char *suffix)
{
    size_t m = strlen(suffix);
    return d->n >= m && memcmp(d->p + d->n - m, suffix, m) == 0;
}

bool fl_slots_envelope(const fl_slots *s)
{
    return s->v[FL_S_ENV_MESSAGE].t == FL_V_OBJ && is_str(&s->v[FL_S_EM_DATA]);
}

/* The message is joined in the entry's own store, without a scratch buffer: each piece is
 * copied (and unescaped) to the end of the store, right after the message's terminating NUL,
 * and appending it is turning that NUL into '\n'. A piece that is not kept is taken back off
 * the end. Past MESSAGE_JOIN_MAX further pieces are left out (the primary text is always
 * kept whole), so one entry cannot exhaust the entry store. */
#define MESSAGE_JOIN_MAX (FL_ENTRY_MAX_STORE / 2)

typedef struct msg_join {
    fl_entry *e;
    size_t len;       /* of e->message */
    bool replace_ok; /* the message is only the primary text: a piece holding it may replace it */
} msg_join;

/* True when the first line of piece is text, or ends in ": " + text ("TypeError: " + msg). */
static bool holds_as_headline(const char *piece, size_t n, const char *text, size_t tn)
{
    const char *nl = memchr(piece, '\n', n);
    size_t first = nl ? (size_t)(nl - piece) : n;
    if (first == tn)
        return memcmp(piece, text, tn) == 0;
    return first > tn + 2 && memcmp(piece + first - tn, text, tn) == 0 &&
           memcmp(piece + first - tn - 2, ": ", 2) == 0;
}

/* The piece p (n bytes) is the last string in the store: keep it as the message, drop it when
 * the message already holds it, let it replace the message when its headline is the primary
 * text (pino's err.stack starts "Error: " + msg), or append it after a newline. */
static void join_tail(msg_join *j, char *p, size_t n)
{
    fl_entry *e = j->e;
    size_t drop = 0;
    while (n > drop && (p[n - 1 - drop] == '\n' || p[n - 1 - drop] == ' '))
        drop++;
    if (drop) { /* trailing newlines and blanks off the piece, which is last in the store */
        n -= drop;
        p[n] = '\0';
        e->store_len -= drop;
    }
    if (n == 0) {
        e->store_len -= 1;
        return;
    }
    if (j->len == 0) {
        e->message = p;
        j->len = n;
        return;
    }
    char *m = (char *)e->message;
    if (memmem(m, j->len, p, n) || j->len + 1 + n > MESSAGE_JOIN_MAX) {
        e->store_len -= n + 1;
        return;
    }
    if (j->replace_ok && holds_as_headline(p, n, m, j->len)) {
        e->message = p;
        j->len = n;
    } else if (m + j->len + 1 == p) {
        m[j->len] = '\n';
        j->len += 1 + n;
    } else { /* not adjacent (cannot happen in map_message): drop rather than misjoin */
        e->store_len -= n + 1;
        return;
    }
    j->replace_ok = false;
}

static int join_slot(msg_join *j, const fl_slot *s)
{
    if (!nonempty(s))
        return 0;
    const char *tmp = "";
    int rc = set_str(j->e, &tmp, s);
    if (rc == FL_ETOOBIG && j->len)
        return 0; /* an extra piece that does not fit is left out */
    if (rc == 0 && tmp[0])
        join_tail(j, (char *)tmp, strlen(tmp));
    return rc;
}

static int join_raw(msg_join *j, const char *p, size_t n)
{
    const char *tmp = "";
    int rc = fl_entry_set(j->e, &tmp, p, n);
    if (rc == FL_ETOOBIG && j->len)
        return 0;
    if (rc == 0 && tmp[0])
        join_tail(j, (char *)tmp, strlen(tmp));
    return rc;
}

/* An exception type worth putting before its message ("TimeoutError: ..."); loggers also put
 * plain words there ("str"), which would only add noise. */
static bool exception_like(const tmp_str *t)
{
    return ends_with(t, "Error") || ends_with(t, "Exception") || ends_with(t, "Fault") ||
           ends_with(t, "Exit");
}

/* An error object (pino's err, or an "error" object): its stack when there is one (it starts
 * with "Type: message"), else "type: message" (type only when it names an exception). */
static int join_error_object(msg_join *j, const fl_slots *s, int stack, int type, int msg,
                             int value)
{
    const fl_slot *v = s->v;
    if (nonempty(&v[stack]))
        return join_slot(j, &v[stack]);
    const fl_slot *m = nonempty(&v[msg]) ? &v[msg] : value >= 0 ? &v[value] : NULL;
    if (!m || !nonempty(m))
        return 0;
    if (!nonempty(&v[type]))
        return join_slot(j, m);
    tmp_str t, d;
    int rc = tmp_decode(&v[type], &t);
    if (rc < 0)
        return rc;
    if ((rc = tmp_decode(m, &d)) < 0) {
        fl_free(t.heap);
        return rc;
    }
    if (!exception_like(&t) || t.n + 2 + d.n > MESSAGE_JOIN_MAX) {
        rc = join_raw(j, d.p, d.n);
    } else {
        /* rare (an error object without a stack): compose on the heap */
        char *both = fl_malloc(t.n + 2 + d.n);
        if (!both) {
            rc = FL_ENOMEM;
        } else {
            memcpy(both, t.p, t.n);
            memcpy(both + t.n, ": ", 2);
            memcpy(both + t.n + 2, d.p, d.n);
            rc = join_raw(j, both, t.n + 2 + d.n);
            fl_free(both);
        }
    }
    fl_free(t.heap);
    fl_free(d.heap);
    return rc;
}

/* message: the primary text (textPayload, else jsonPayload.message / .msg / .event), then the
 * error detail structured loggers keep in fields of their own, each added unless already there
 * (see fl_entry.h and docs/loggers.md); audit entries fall back to status.message. */
static int map_message(const fl_slots *s, fl_entry *e, size_t *len)
{
    const fl_slot *v = s->v;
    /* The jsonPayload.* slots are set only when jsonPayload is an object (json_internal.h):
     * request and audit entries, most of a run, skip their tests. */
    bool json = v[FL_S_JSON].t == FL_V_OBJ;
    static const int json_text_ids[] = {FL_S_J_MESSAGE, FL_S_J_MSG, FL_S_J_EVENT};
    const fl_slot *m = nonempty(&v[FL_S_TEXT]) ? &v[FL_S_TEXT]
                       : json ? first_nonempty(s, json_text_ids, FL_ARRAY_LEN(json_text_ids))
                              : NULL;
    bool has_detail = json &&
                      (v[FL_S_J_ERROR].t != FL_V_NONE || v[FL_S_J_ERR].t != FL_V_NONE ||
                       nonempty(&v[FL_S_J_ERROR_VERBOSE]) || nonempty(&v[FL_S_J_EXCEPTION]) ||
                       nonempty(&v[FL_S_J_EXC_INFO]) || nonempty(&v[FL_S_J_STACK_TRACE]) ||
                       nonempty(&v[FL_S_J_STACK]) || nonempty(&v[FL_S_J_STACKTRACE]) ||
                       nonempty(&v[FL_S_J_STACKTRACE_LC]));
    int rc = 0;
    *len = 0;
    if (!has_detail) {
        /* The common case (request logs, plain lines): one copy, no scratch buffer. */
        if (m)
            rc = set_str_len(e, &e->message, m, len);
    } else {
        msg_join j = {e, 0, m != NULL};
        if (m)
            rc = join_slot(&j, m);
        /* pino (err), slog (err or error), zap (error, errorVerbose) and error objects */
        if (rc == 0 && nonempty(&v[FL_S_J_ERR]))
            rc = join_slot(&j, &v[FL_S_J_ERR]);
        else if (rc == 0 && v[FL_S_J_ERR].t == FL_V_OBJ)
            rc = join_error_object(&j, s, FL_S_JR_STACK, FL_S_JR_TYPE, FL_S_JR_MESSAGE, -1);
        if (rc == 0 && nonempty(&v[FL_S_J_ERROR]))
            rc = join_slot(&j, &v[FL_S_J_ERROR]);
        else if (rc == 0 && v[FL_S_J_ERROR].t == FL_V_OBJ)
            rc = join_error_object(&j, s, FL_S_JE_STACK, FL_S_JE_TYPE, FL_S_JE_MESSAGE,
                                   FL_S_JE_VALUE);
        else if (rc == 0)
            rc = join_slot(&j, &v[FL_S_J_ERROR_VERBOSE]);
        /* structlog (exception), python-json-logger (exc_info), logstash (stack_trace), zap
         * (stacktrace) and the usual spellings of a stack field */
        static const int tail_ids[] = {FL_S_J_EXCEPTION, FL_S_J_EXC_INFO};
        for (size_t i = 0; rc == 0 && i < FL_ARRAY_LEN(tail_ids); i++)
            rc = join_slot(&j, &v[tail_ids[i]]);
        static const int stack_ids[] = {FL_S_J_STACK_TRACE, FL_S_J_STACK, FL_S_J_STACKTRACE,
                                        FL_S_J_STACKTRACE_LC};
        const fl_slot *st = first_nonempty(s, stack_ids, FL_ARRAY_LEN(stack_ids));
        if (rc == 0 && st)
            rc = join_slot(&j, st);
        *len = j.len;
    }
    if (rc == 0 && !e->message[0] && v[FL_S_PROTO].t == FL_V_OBJ && v[FL_S_P_STATUS].t == FL_V_OBJ)
        rc = set_str_len(e, &e->message, &v[FL_S_PS_MESSAGE], len);
    return rc;
}

/* pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
static int pino_severity(int64_t level)
{
    return level >= 60   ? FL_SEV_CRITICAL
           : level >= 50 ? FL_SEV_ERROR
           : level >= 40 ? FL_SEV_WARNING
           : level >= 30 ? FL_SEV_INFO
                         : FL_SEV_DEBUG;
}

/* A logger's level name: the Cloud Logging names and their short forms, zap's "dpanic", JUL's
 * "SEVERE", slog's offsets ("ERROR+2", "WARN-4" count as their base level). -1: unknown. */
static int logger_severity(const char *p, size_t n)
{
    /* A plain name ("info", "error"), the usual case, without the scan for an offset: no
     * name holds '+' or '-', so one that parses is not one with an offset. */
    if (n > 0 && (p[0] < '0' || p[0] > '9')) {
        int sev = fl_severity_parse(p, n);
        if (sev >= 0)
            return sev;
    }
    for (size_t i = 1; i < n; i++)
        if (p[i] == '+' || p[i] == '-') {
            n = i;
            break;
        }
    if (n == 6 && strncasecmp(p, "dpanic", 6) == 0)
        return FL_SEV_CRITICAL;
    if (n == 6 && strncasecmp(p, "severe", 6) == 0)
        return FL_SEV_ERROR;
    if (n > 0 && (p[0] < '0' || p[0] > '9'))
        return fl_severity_parse(p, n);
    return -1;
}

/* Lifts the logger's own level (jsonPayload.level / .severity / .levelname) when Cloud Logging
 * did not set a severity: a pino number, a logger's level name, or a number in a string. The
 * text is read where it lies (an escaped one decoded on the stack); nothing keeps it. */
static int lift_level(const fl_slots *s, fl_entry *e)
{
    const fl_slot *lv = &s->v[FL_S_J_LEVEL];
    if (s->v[FL_S_JSON].t != FL_V_OBJ)
        return 0;
    if (lv->t == FL_V_INT && lv->i >= 1 && lv->i <= 100) {
        e->severity = pino_severity(lv->i);
        return 0;
    }
    static const int ids[] = {FL_S_J_LEVEL, FL_S_J_SEVERITY, FL_S_J_LEVELNAME};
    const fl_slot *f = first_nonempty(s, ids, FL_ARRAY_LEN(ids));
    if (!f)
        return 0;
    tmp_str d;
    int rc = tmp_decode(f, &d);
    if (rc < 0)
        return rc;
    int sev = logger_severity(d.p, d.n);
    if (sev <= 0) /* a number in a string ("30") */
        sev = fl_severity_parse(d.p, d.n);
    if (sev > 0)
        e->severity = sev;
    fl_free(d.heap);
    return 0;
}

/* The four bytes at p as a word, for comparing with a literal's (memcpy: any alignment). */
static inline uint32_t word4(const char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* fl_severity_parse, with the three names Cloud Logging writes most (it writes them in capitals)
 * matched inline: a call per entry (issue 15). */
static inline int entry_severity(const char *p, size_t n)
{
    if (n == 4 && word4(p) == word4("INFO"))
        return FL_SEV_INFO;
    if (n == 5 && word4(p) == word4("ERRO") && p[4] == 'R')
        return FL_SEV_ERROR;
    if (n == 7 && word4(p) == word4("WARN") && word4(p + 3) == word4("NING"))
        return FL_SEV_WARNING;
    return fl_severity_parse(p, n);
}

/* fl_log_kind_from_name, with Cloud Run's request log (the most common kind by far) matched
 * inline: a call per entry (issue 15). */
static inline fl_log_kind entry_log_kind(const char *p, size_t n)
{
    static const char requests[] = "/logs/run.googleapis.com%2Frequests";
    const size_t k = sizeof(requests) - 1;
    if (n >= k && p[n - 1] == 's' && memcmp(p + n - k, requests, k) == 0)
        return FL_LOG_REQUESTS;
    return fl_log_kind_from_name(p, n);
}

int fl_slots_to_entry(const fl_slots *s, fl_entry *e)
{
    const fl_slot *v = s->v;
    int rc = 0;

    e->ts = parse_time(&v[FL_S_TIMESTAMP]);
    if (e->ts == 0 && nonempty(&v[FL_S_TIMESTAMP]))
        e->fixes |= FL_FIX_TIMESTAMP; /* present but not RFC 3339: say so, do not guess */
    if (e->ts == 0)
        e->ts = parse_time(&v[FL_S_RECEIVE_TS]);

    const fl_slot *sev = &v[FL_S_SEVERITY];
    e->severity = FL_SEV_DEFAULT;
    if (sev->t == FL_V_INT) {
        e->severity = int_in_range(sev, 0, 100000, FL_SEV_DEFAULT);
    } else if (sev->t == FL_V_STR) { /* the usual case, without the decoding buffer */
        int x = entry_severity(sev->p, sev->n);
        e->severity = x >= 0 ? x : FL_SEV_DEFAULT;
    } else if (nonempty(sev)) {
        tmp_str d;
        if ((rc = tmp_decode(sev, &d)) < 0)
            return rc;
        int x = fl_severity_parse(d.p, d.n);
        e->severity = x >= 0 ? x : FL_SEV_DEFAULT;
        if (d.heap)
            fl_free(d.heap);
    }

#define SET(field, slot)                                                                           \
    do {                                                                                           \
        if ((rc = set_str_c(e, &c, &e->field, &v[slot], NULL)) < 0)                                \
            return rc;                                                                             \
    } while (0)
#define SET_FIRST(field, ...)                                                                      \
    do {                                                                                           \
        static const int ids_[] = {__VA_ARGS__};                                                   \
        const fl_slot *f_ = first_nonempty(s, ids_, FL_ARRAY_LEN(ids_));                           \
        if (f_ && (rc = set_str_c(e, &c, &e->field, f_, NULL)) < 0)                                \
            return rc;                                                                             \
    } while (0)
    /* The same, noting the length for the consumers that compare the field (fl_entry_len). */
#define SET_KNOWN(k, field, slot)                                                                  \
    do {                                                                                           \
        size_t n_ = 0;                                                                             \
        if ((rc = set_str_c(e, &c, &e->field, slot, &n_)) < 0)                                     \
            return rc;                                                                             \
        fl_entry_note_len(e, k, e->field, n_);                                                     \
    } while (0)
#define SET_FIRST_KNOWN(k, field, ...)                                                             \
    do {                                                                                           \
        static const int ids_[] = {__VA_ARGS__};                                                   \
        const fl_slot *f_ = first_nonempty(s, ids_, FL_ARRAY_LEN(ids_));                           \
        size_t n_ = 0;                                                                             \
        if (f_ && (rc = set_str_c(e, &c, &e->field, f_, &n_)) < 0)                                 \
            return rc;                                                                             \
        fl_entry_note_len(e, k, e->field, n_);                                                     \
    } while (0)

    /* The fields' strings go one after another into the store (cursor_sync before anything
     * else touches it: the message's join, the level's lift, a return). */
    store_cursor c;
    cursor_load(e, &c);
    size_t log_name_len = 0;
    if ((rc = set_str_c(e, &c, &e->log_name, &v[FL_S_LOGNAME], &log_name_len)) < 0)
        return rc;
    if (e->log_name[0])
        e->log_kind = entry_log_kind(e->log_name, log_name_len);
    else if (v[FL_S_HTTP].t == FL_V_OBJ)
        e->log_kind = FL_LOG_REQUESTS;
    else if (v[FL_S_PROTO].t == FL_V_OBJ)
        e->log_kind = FL_LOG_AUDIT_ACTIVITY;
    else
        e->log_kind = FL_LOG_OTHER;

    SET_FIRST_KNOWN(FL_KNOWN_SERVICE, service, FL_S_RL_SERVICE_NAME, FL_S_RL_FUNCTION_NAME,
                    FL_S_RL_CONTAINER_NAME, FL_S_RL_JOB_NAME, FL_S_RL_MODULE_ID,
                    FL_S_RL_INSTANCE_ID);
    SET_FIRST_KNOWN(FL_KNOWN_REVISION, revision, FL_S_RL_REVISION_NAME, FL_S_L_POD_HASH);
    SET_FIRST_KNOWN(FL_KNOWN_LOCATION, location, FL_S_RL_LOCATION, FL_S_RL_REGION);
    SET_KNOWN(FL_KNOWN_PROJECT, project, &v[FL_S_RL_PROJECT_ID]);

    size_t message_len;
    cursor_sync(e, &c);
    if ((rc = map_message(s, e, &message_len)) < 0)
        return rc;
    cursor_load(e, &c);
    fl_entry_note_len(e, FL_KNOWN_MESSAGE, e->message, message_len);

    SET(insert_id, FL_S_INSERT_ID);
    SET_KNOWN(FL_KNOWN_TRACE, trace, &v[FL_S_TRACE]);
    /* Both readers fill a slot only under an object (json_internal.h): when labels,
     * httpRequest or protoPayload is not one, none of the slots under it is set, and their
     * fields keep the values fl_entry_clear gave them. Most entries lack one or two. */
    if (v[FL_S_LABELS].t == FL_V_OBJ)
        SET_KNOWN(FL_KNOWN_INSTANCE_ID, instance_id, &v[FL_S_L_INSTANCE_ID]);
    else
        fl_entry_note_len(e, FL_KNOWN_INSTANCE_ID, e->instance_id, 0);
    if (v[FL_S_LABELS].t == FL_V_OBJ)
        SET(commit_sha, FL_S_L_COMMIT_SHA);

    e->http_status = 0;
    e->latency_s = -1;
    if (v[FL_S_HTTP].t == FL_V_OBJ) {
        e->http_status = int_in_range(&v[FL_S_H_STATUS], 0, INT_MAX, 0);
        e->latency_s = parse_latency(&v[FL_S_H_LATENCY]);
        SET(http_method, FL_S_H_METHOD);
        SET(http_url, FL_S_H_URL);
    }

    e->has_audit_status = false;
    e->audit_status_code = 0;
    if (v[FL_S_PROTO].t == FL_V_OBJ) {
        SET(audit_method, FL_S_P_METHOD);
        SET(audit_service, FL_S_P_SERVICE);
        SET(audit_resource, FL_S_P_RESOURCE);
        /* Third-party (workforce / workload identity) callers have no principalEmail, only
         * principalSubject ("principal://iam.googleapis.com/.../subject/NAME"). */
        SET_FIRST(audit_principal, FL_S_PA_PRINCIPAL, FL_S_PA_SUBJECT);
        SET(audit_status_message, FL_S_PS_MESSAGE);
        e->has_audit_status = v[FL_S_P_STATUS].t == FL_V_OBJ;
        e->audit_status_code = int_in_range(&v[FL_S_PS_CODE], INT_MIN, INT_MAX, 0);
    }

    cursor_sync(e, &c);
    if (nonempty(&v[FL_S_J_TYPE])) {
        tmp_str d;
        if ((rc = tmp_decode(&v[FL_S_J_TYPE], &d)) < 0)
            return rc;
        e->error_event = ends_with(&d, "ReportedErrorEvent");
        fl_free(d.heap);
    }
    /* "DEFAULT", absent or unrecognised: Cloud Logging did not lift a level */
    if (e->severity == FL_SEV_DEFAULT && (rc = lift_level(s, e)) < 0)
        return rc;
#undef SET
#undef SET_FIRST
#undef SET_KNOWN
#undef SET_FIRST_KNOWN
    /* A plain line with no level at all that clearly reports an error (a traceback, a panic,
     * "Error: ...") is one: see fl_text_looks_error. */
    if (e->severity == FL_SEV_DEFAULT && e->message[0] &&
        (e->log_kind == FL_LOG_STDERR || e->log_kind == FL_LOG_STDOUT ||
         e->log_kind == FL_LOG_OTHER || e->log_kind == FL_LOG_VARLOG_SYSTEM) &&
        fl_text_looks_error(e->message, message_len))
        e->severity = FL_SEV_ERROR;
    return 0;
}

int fl_unwrap_envelope(const fl_slots *s, fl_parse_fn parse, fl_entry *e, char *errbuf,
                       size_t errlen, int depth)
{
    tmp_str d;
    int rc = tmp_decode(&s->v[FL_S_EM_DATA], &d);
    if (rc < 0)
        return rc;
    unsigned char *raw = fl_malloc(d.n / 4 * 3 + 4);
    if (!raw) {
        fl_free(d.heap);
        return FL_ENOMEM;
    }
    long m = fl_base64_decode(d.p, d.n, raw);
    fl_free(d.heap);
    if (m == FL_ENOMEM) {
        fl_free(raw);
        return FL_ENOMEM;
    }
    if (m < 0) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "Pub/Sub envelope: message.data is not valid base64");
        fl_free(raw);
        return FL_EPARSE;
    }
    char inner[256] = "";
    rc = parse((const char *)raw, (size_t)m, e, inner, sizeof(inner), depth + 1);
    fl_free(raw);
    if (rc == FL_EPARSE && errbuf && errlen)
        snprintf(errbuf, errlen, "Pub/Sub envelope: decoded message.data: %s", inner);
    if (rc == 0 && e->ts == 0)
        e->ts = parse_time(&s->v[FL_S_EMA_LOG_TS]);
    if (rc == 0 && e->ts == 0)
        e->ts = parse_time(&s->v[FL_S_EM_PUBLISH_TIME]);
    return rc;
}
