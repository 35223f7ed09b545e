/* Keeping entries that are almost JSON.
 *
 * jansson (and the fast reader, which accepts exactly what jansson accepts) refuses a whole
 * document for invalid UTF-8, a "\u0000" escape, an unpaired surrogate escape or a number that
 * overflows ("1e999"), even in a field faultline never reads. Losing the entry for that loses
 * an error or a request from the counts. When a document is refused, fl_json_repair makes a
 * copy with exactly those defects replaced (U+FFFD for text, null for the number) and both
 * readers parse the copy; the entry is kept and says what was replaced (e->fixes) so the
 * reader can warn with file and line. Anything else stays malformed.
 *
 * The walk is lexical: strings are told from the rest by their quotes and escapes, which is
 * all it needs; the parser that follows is still the judge of the grammar. */
#include "json_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char REPLACEMENT_UTF8[] = "\xEF\xBF\xBD";
static const char REPLACEMENT_ESC[] = "\\uFFFD";

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The code unit of a "\uXXXX" escape at p (p[0] == '\\'), or -1. */
static long u_escape(const char *p, const char *end)
{
    if (end - p < 6 || p[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at p, or 0 (overlong forms, surrogates and code points
 * past U+10FFFF are invalid, as jansson's utf8 check has them). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    unsigned v = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    return n;
}

/* Length of the number token at p (JSON grammar, loosely), 0 if none. */
static size_t number_len(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && *q == '-')
        q++;
    const char *digits = q;
    while (q < end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
                       ((*q == '+' || *q == '-') && (q[-1] == 'e' || q[-1] == 'E'))))
        q++;
    return q > digits && digits[0] >= '0' && digits[0] <= '9' ? (size_t)(q - p) : 0;
}

/* True when the number would not fit: a real that overflows to infinity, or an integer
 * outside int64 (jansson refuses both). */
static bool number_overflows(const char *p, size_t n)
{
    char tmp[64];
    if (n >= sizeof(tmp))
        return true; /* 63 digits is past any double or int64 we could keep exactly */
    memcpy(tmp, p, n);
    tmp[n] = 0;
    bool real = strpbrk(tmp, ".eE") != NULL;
    if (real)
        return isinf(strtod(tmp, NULL));
    size_t digits = n - (tmp[0] == '-');
    if (digits < 19)
        return false;
    if (digits > 19)
        return true;
    return strcmp(tmp + (tmp[0] == '-'), tmp[0] == '-' ? "9223372036854775808"
                                                       : "9223372036854775807") > 0;
}

int fl_json_repair(const char *buf, size_t len, char **out, size_t *out_len, unsigned *fixes)
{
    *out = NULL;
    *out_len = 0;
    *fixes = 0;
    /* Worst case: each byte becomes three (U+FFFD), or an escape of 6 stays 6. */
    char *o = fl_malloc(len * 3 + 8);
    if (!o)
        return FL_ENOMEM;
    size_t w = 0;
    const char *p = buf, *end = buf + len;
    bool in_str = false;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (!in_str) {
            if (c == '"') {
                in_str = true;
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                size_t n = number_len(p, end);
                if (n && number_overflows(p, n)) {
                    memcpy(o + w, "null", 4);
                    w += 4;
                    p += n;
                    *fixes |= FL_FIX_NUMBER;
                    continue;
                }
                if (n) {
                    memcpy(o + w, p, n);
                    w += n;
                    p += n;
                    continue;
                }
            }
            o[w++] = (char)c;
            p++;
            continue;
        }
        if (c == '"') {
            in_str = false;
            o[w++] = (char)c;
            p++;
        } else if (c == '\\' && p + 1 < end && p[1] == 'u') {
            long u = u_escape(p, end);
            if (u < 0) { /* malformed escape: leave it to the parser */
                o[w++] = (char)c;
                p++;
                continue;
            }
            long lo = u >= 0xD800 && u <= 0xDBFF && end - p >= 12 && p[6] == '\\'
                          ? u_escape(p + 6, end)
                          : -1;
            if (u == 0) {
                *fixes |= FL_FIX_NUL;
            } else if (u >= 0xD800 && u <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF) {
                memcpy(o + w, p, 12); /* a proper pair */
                w += 12;
                p += 12;
                continue;
            } else if (u >= 0xD800 && u <= 0xDFFF) {
                *fixes |= FL_FIX_SURROGATE;
            } else {
                memcpy(o + w, p, 6);
                w += 6;
                p += 6;
                continue;
            }
            memcpy(o + w, REPLACEMENT_ESC, 6);
            w += 6;
            p += 6;
        } else if (c == '\\' && p + 1 < end) {
            o[w++] = p[0];
            o[w++] = p[1];
            p += 2;
        } else {
            size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
            if (n == 0) {
                memcpy(o + w, REPLACEMENT_UTF8, 3);
                w += 3;
                p++;
                *fixes |= FL_FIX_UTF8;
                continue;
            }
            memcpy(o + w, p, n);
            w += n;
            p += n;
        }
    }
    if (!*fixes) {
        fl_free(o);
        return 0;
    }
    *out = o;
    *out_len = w;
    return 1;
}

int fl_json_parse_repaired(const char *buf, size_t len, fl_entry *e, char *errbuf,
                           size_t errlen, int rc, fl_parse_fn parse)
{
    if (rc != FL_EPARSE)
        return rc;
    char *fixed;
    size_t n;
    unsigned fixes;
    int r = fl_json_repair(buf, len, &fixed, &n, &fixes);
    if (r <= 0)
        return r < 0 ? r : rc;
    char err[8];
    r = parse(fixed, n, e, err, sizeof(err), 0);
    fl_free(fixed);
    if (r == 0) {
        e->fixes |= fixes;
        if (errbuf && errlen)
            errbuf[0] = '\0';
        return 0;
    }
    if (r != FL_EPARSE)
        return r;
    fl_entry_clear(e);
    return rc; /* still malformed: the first error is the one to show */
}

size_t fl_entry_fixes_text(unsigned fixes, char *buf, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *text;
    } names[] = {
        {FL_FIX_UTF8, "invalid UTF-8 replaced by U+FFFD"},
        {FL_FIX_NUL, "\\u0000 replaced by U+FFFD"},
        {FL_FIX_SURROGATE, "unpaired surrogate replaced by U+FFFD"},
        {FL_FIX_NUMBER, "out-of-range number replaced by null"},
        {FL_FIX_TIMESTAMP, "timestamp is not RFC 3339, ignored"},
    };
    size_t w = 0;
    if (cap)
        buf[0] = '\0';
    for (size_t i = 0; i < FL_ARRAY_LEN(names); i++)
        if (fixes & names[i].bit) {
            int k = snprintf(buf + w, cap > w ? cap - w : 0, "%s%s", w ? "; " : "",
                             names[i].text);
            if (k > 0)
                w = FL_MIN(cap ? cap - 1 : 0, w + (size_t)k);
        }
    return w;
}
