/* The "error-looking line" rule: a container line that Cloud Logging gave no severity (plain
 * stderr/stdout text, DEFAULT) but that clearly reports an error counts as ERROR, so that it is
 * counted and forms a group even when no classification rule knows it. What it takes and what
 * it must not take is listed in docs/loggers.md and tested in tests/unit/ingest/test_errlike.c.
 *
 * Two kinds of signal:
 *   - strong, at the start of any line of the first 8 KiB: a Python traceback header, a Go
 *     panic or runtime fatal error, Java's "Exception in thread", Rust's "panicked at", Node's
 *     unhandled rejections;
 *   - weak, on the first line only, and vetoed by healthy look-alikes ("0 errors", "no error",
 *     "succeeded"): a level word in the line's prefix (ERROR, FATAL, [error], error:), a logfmt
 *     or JSON level (level=error), a glog E/F prefix, or an exception line ("Error: 5
 *     NOT_FOUND: ...", "redis.exceptions.ConnectionError: ...").
 * An explicit lower level (level=info, INFO, [warn]) settles it the other way. */
#include "fl_ingest.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define SCAN_MAX 8192    /* bytes of a message looked at */
#define PREFIX_TOKENS 6  /* leading tokens that may hold the level word */
#define PREFIX_BYTES 160 /* and the bytes they may span */

typedef enum { LV_NONE, LV_ERROR, LV_OTHER } level_verdict;

static bool starts(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

static bool has(const char *p, const char *end, const char *lit)
{
    return memmem(p, (size_t)(end - p), lit, strlen(lit)) != NULL;
}

static bool has_nocase(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    for (; (size_t)(end - p) >= n; p++)
        if (strncasecmp(p, lit, n) == 0)
            return true;
    return false;
}

/* Lines that report an error whatever else they say. */
static bool strong_line(const char *p, const char *end)
{
    return starts(p, end, "Traceback (most recent call last):") || starts(p, end, "panic: ") ||
           starts(p, end, "fatal error: ") || starts(p, end, "Exception in thread \"") ||
           (starts(p, end, "thread '") && has(p, end, "' panicked at")) ||
           has(p, end, "UnhandledPromiseRejection") || starts(p, end, "Unhandled rejection") ||
           starts(p, end, "Uncaught exception") || has(p, end, "uncaughtException");
}

/* Healthy lines that mention errors: counters, empty lists, recoveries. */
static bool healthy_lookalike(const char *p, const char *end)
{
    static const char *const vetoes[] = {
        "no error",    "0 errors",     "errors=0",  "error_count=0", "errors: 0", "error=nil",
        "err=<nil>",   "\"errors\": []", "\"errors\":[]", "\"error\": null", "\"error\":null",
        "without error", "succeeded",  "recovered", "resolved",      "retry ok",
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(vetoes); i++)
        if (has_nocase(p, end, vetoes[i]))
            return true;
    return false;
}

/* Level names: error-like ones and the rest (an explicit lower level settles the question). */
static level_verdict level_word(const char *w, size_t n)
{
    static const char *const errors[] = {"ERROR", "ERR",   "FATAL",     "CRITICAL", "CRIT",
                                         "SEVERE", "PANIC", "EMERGENCY", "EMERG",    "ALERT"};
    static const char *const others[] = {"INFO",  "DEBUG",  "TRACE",  "WARN",
                                         "WARNING", "NOTICE", "VERBOSE", "FINE"};
    for (size_t i = 0; i < FL_ARRAY_LEN(errors); i++)
        if (strlen(errors[i]) == n && strncasecmp(errors[i], w, n) == 0)
            return LV_ERROR;
    for (size_t i = 0; i < FL_ARRAY_LEN(others); i++)
        if (strlen(others[i]) == n && strncasecmp(others[i], w, n) == 0)
            return LV_OTHER;
    return LV_NONE;
}

static bool all_upper(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)w[i]))
            return false;
    return true;
}

/* A level given as a key: logfmt (level=error, lvl=, severity=) or JSON in text
 * ("level":"error", "levelname": "ERROR"). */
static level_verdict keyed_level(const char *p, const char *end)
{
    static const char *const keys[] = {"level=",     "lvl=",          "severity=",
                                       "\"level\":", "\"severity\":", "\"levelname\":"};
    for (size_t k = 0; k < FL_ARRAY_LEN(keys); k++) {
        size_t kn = strlen(keys[k]);
        for (const char *q = p; (size_t)(end - q) > kn; q++) {
            q = memmem(q, (size_t)(end - q), keys[k], kn);
            if (!q || (size_t)(end - q) <= kn)
                break;
            if (q > p && (isalnum((unsigned char)q[-1]) || q[-1] == '_'))
                continue; /* "loglevel=" is some other key */
            const char *v = q + kn;
            while (v < end && *v == ' ')
                v++;
            if (v < end && *v == '"')
                v++;
            const char *ve = v;
            while (ve < end && isalpha((unsigned char)*ve))
                ve++;
            level_verdict lv = level_word(v, (size_t)(ve - v));
            if (lv != LV_NONE)
                return lv;
        }
    }
    return LV_NONE;
}

/* The level word in the line's prefix: "ERROR ...", "2026-12-07 04:00:01.123 ERROR 1 --- ...",
 * "[2026-...] [1] [CRITICAL] ...", "ERROR:root:...", "error: ...", "E1207 04:00:01.5 ...".
 * Timestamps, pids and bracketed thread names are skipped; the first other word ends the
 * search. Upper-case level words count bare; others only bracketed or before a colon. */
static level_verdict prefix_level(const char *p, const char *end)
{
    if (end - p >= 11 && (p[0] == 'E' || p[0] == 'F') && isdigit((unsigned char)p[1]) &&
        isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) &&
        isdigit((unsigned char)p[4]) && p[5] == ' ' && isdigit((unsigned char)p[6]) &&
        p[8] == ':')
        return LV_ERROR; /* glog / klog: E1207 04:00:01.123456 1 file.go:12] ... */
    if (starts(p, end, "npm ERR!"))
        return LV_ERROR;
    const char *lim = p + (end - p < PREFIX_BYTES ? end - p : PREFIX_BYTES);
    const char *q = p;
    for (int tok = 0; tok < PREFIX_TOKENS && q < lim; tok++) {
        while (q < lim && (*q == ' ' || *q == '\t'))
            q++;
        const char *ts = q;
        while (q < lim && *q != ' ' && *q != '\t')
            q++;
        const char *te = q;
        if (ts == te)
            break;
        bool bracketed = *ts == '[' || *ts == '(' || *ts == '<';
        const char *w = ts;
        while (w < te && (*w == '[' || *w == '(' || *w == '<' || *w == '"'))
            w++;
        const char *we = w;
        while (we < te && isalpha((unsigned char)*we))
            we++;
        size_t wn = (size_t)(we - w);
        char after = we < te ? *we : ' ';
        if (wn > 0 && after != '=' && after != '_' && !isalnum((unsigned char)after)) {
            level_verdict lv = level_word(w, wn);
            bool marked = bracketed || after == ':' || after == ']' || after == ')' ||
                          after == '>' || all_upper(w, wn);
            if (lv != LV_NONE && marked)
                return lv;
        }
        /* skip what cannot be the message yet: numbers, times, pids, [thread], key=value */
        bool noise = bracketed || wn == 0 || memchr(ts, '=', (size_t)(te - ts)) != NULL;
        for (const char *c = ts; !noise && c < te; c++)
            noise = isdigit((unsigned char)*c) || *c == '-';
        if (!noise)
            break;
    }
    return LV_NONE;
}

/* "Error: 5 NOT_FOUND: ...", "TypeError: x", "Error [ERR_X]: y", "java.net.ConnectException:
 * Connection refused", "redis.exceptions.TimeoutError: ...", or such a name alone. */
static bool exception_line(const char *p, const char *end)
{
    const char *q = p;
    if (q >= end || !(isalpha((unsigned char)*q) || *q == '_' || *q == '$'))
        return false;
    while (q < end && (isalnum((unsigned char)*q) || *q == '_' || *q == '$' || *q == '.'))
        q++;
    const char *id_end = q;
    size_t n = (size_t)(id_end - p);
    bool named = (n >= 5 && memcmp(id_end - 5, "Error", 5) == 0) ||
                 (n >= 9 && memcmp(id_end - 9, "Exception", 9) == 0) ||
                 (n >= 5 && memcmp(id_end - 5, "Fault", 5) == 0);
    if (!named)
        return false;
    if (q == end)
        return true;
    if (q + 2 < end && q[0] == ' ' && q[1] == '[') { /* Node's "Error [ERR_CODE]: ..." */
        const char *c = memchr(q, ']', (size_t)(end - q));
        if (!c)
            return false;
        q = c + 1;
    }
    return q < end && *q == ':' && (q + 1 == end || q[1] == ' ');
}

bool fl_text_looks_error(const char *s, size_t n)
{
    const char *end = s + (n < SCAN_MAX ? n : SCAN_MAX);
    const char *first_end = memchr(s, '\n', (size_t)(end - s));
    if (!first_end)
        first_end = end;
    for (const char *line = s; line < end;) {
        const char *le = memchr(line, '\n', (size_t)(end - line));
        if (!le)
            le = end;
        if (strong_line(line, le))
            return true;
        line = le + 1;
    }
    level_verdict lv = keyed_level(s, first_end);
    if (lv == LV_NONE)
        lv = prefix_level(s, first_end);
    bool weak = lv != LV_NONE ? lv == LV_ERROR : exception_line(s, first_end);
    /* the look-alike scan is the costly part: only lines that would be taken pay for it */
    return weak && !healthy_lookalike(s, first_end);
}
