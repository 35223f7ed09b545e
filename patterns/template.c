/* Templates for errors no rule knows: the message with its variable parts masked, so the same
 * error with different ids, numbers, hosts or paths falls into one group, while two different
 * errors that merely start alike do not (the whole first line is kept, plus the last
 * exception line of a multi-line message). */
#include "fl_patterns_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define LINE_INPUT_MAX (64 * 1024)

static bool is_word(unsigned char c)
{
    return isalnum(c) || c == '_';
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool looks_like_exception(const char *s, size_t n)
{
    if (starts_with(s, n, "Caused by:") || starts_with(s, n, "panic:") ||
        starts_with(s, n, "fatal error:"))
        return true;
    if (starts_with(s, n, "at ") || starts_with(s, n, "File \"") || starts_with(s, n, "..."))
        return false;
    size_t t = 0;
    while (t < n && (isalnum((unsigned char)s[t]) || s[t] == '_' || s[t] == '.' || s[t] == '$'))
        t++;
    if (t == 0 || (t < n && s[t] != ':' && s[t] != ' '))
        return false;
    static const char *const suffixes[] = {"Error",   "Exception", "Exit",      "Failure",
                                           "Fault",   "Interrupt", "Rejection", "Timeout",
                                           "Aborted", "Exceeded"};
    for (size_t i = 0; i < FL_ARRAY_LEN(suffixes); i++)
        if (ends_with(s, t, suffixes[i]))
            return true;
    return false;
}

bool fl_last_exception_line(const char *msg, size_t len, size_t *off, size_t *n)
{
    size_t end = len;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && msg[start - 1] != '\n')
            start--;
        size_t a = start, b = end;
        while (a < b && (msg[a] == ' ' || msg[a] == '\t'))
            a++;
        while (b > a && (msg[b - 1] == '\r' || msg[b - 1] == ' ' || msg[b - 1] == '\t'))
            b--;
        if (b > a && looks_like_exception(msg + a, b - a)) {
            *off = a;
            *n = b - a;
            return true;
        }
        if (start == 0)
            break;
        end = start - 1;
    }
    return false;
}

/* Output that keeps a running hash of everything written, so a template cut at the cap still
 * tells apart messages that differ after the cut. */
typedef struct writer {
    char *out;
    size_t cap;
    size_t len;
    size_t total;
    uint64_t hash;
    bool space;
} writer;

static void put(writer *w, const char *s, size_t n)
{
    if (w->space) {
        w->space = false;
        if (w->total > 0)
            put(w, " ", 1);
    }
    w->hash = fl_hash64(s, n, w->hash);
    w->total += n;
    if (w->cap && w->len < w->cap - 1) {
        size_t k = FL_MIN(n, w->cap - 1 - w->len);
        memcpy(w->out + w->len, s, k);
        w->len += k;
    }
}

static void puts_(writer *w, const char *s)
{
    put(w, s, strlen(s));
}

static size_t span(const char *s, size_t i, size_t n, int (*pred)(int))
{
    while (i < n && pred((unsigned char)s[i]))
        i++;
    return i;
}

static size_t match_uuid(const char *s, size_t i, size_t n)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t j = i;
    for (size_t g = 0; g < 5; g++) {
        size_t k = span(s, j, n, isxdigit);
        if (k - j != (size_t)groups[g])
            return 0;
        j = k;
        if (g < 4) {
            if (j >= n || s[j] != '-')
                return 0;
            j++;
        }
    }
    return (j < n && is_word((unsigned char)s[j])) ? 0 : j;
}

static size_t match_ipv4(const char *s, size_t i, size_t n)
{
    size_t j = i;
    for (int part = 0; part < 4; part++) {
        size_t k = span(s, j, n, isdigit);
        if (k == j || k - j > 3)
            return 0;
        j = k;
        if (part < 3) {
            if (j >= n || s[j] != '.')
                return 0;
            j++;
        }
    }
    if (j < n && (is_word((unsigned char)s[j]) ||
                  (s[j] == '.' && j + 1 < n && isdigit((unsigned char)s[j + 1]))))
        return 0;
    return j;
}

static size_t match_ipv6(const char *s, size_t i, size_t n)
{
    size_t j = i, colons = 0, group = 0;
    bool dbl = false, letter = false;
    while (j < n && (isxdigit((unsigned char)s[j]) || s[j] == ':')) {
        if (s[j] == ':') {
            colons++;
            if (j + 1 < n && s[j + 1] == ':')
                dbl = true;
            group = 0;
        } else {
            if (++group > 4)
                return 0;
            letter = letter || isalpha((unsigned char)s[j]);
        }
        j++;
    }
    if (j < n && (is_word((unsigned char)s[j]) || s[j] == '.'))
        return 0;
    if (colons < 2 || !(dbl || colons >= 5 || letter))
        return 0;
    /* A trailing ":" is punctuation ("at ::1: refused"), not part of the address. */
    if (s[j - 1] == ':' && s[j - 2] != ':')
        j--;
    return j;
}

static size_t match_email(const char *s, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && (isalnum((unsigned char)s[j]) || strchr("._%+-", s[j])))
        j++;
    if (j == i || j >= n || s[j] != '@')
        return 0;
    size_t d = ++j, dot = 0;
    while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '-' || s[j] == '.')) {
        if (s[j] == '.')
            dot = j;
        j++;
    }
    if (!dot || dot == d || j - dot < 3)
        return 0;
    return j;
}

static bool path_char(unsigned char c)
{
    return isalnum(c) || strchr("_./~%@+-:,=", c);
}

static size_t match_path(const char *s, size_t i, size_t n)
{
    if (s[i] != '/' || i + 1 >= n || !path_char((unsigned char)s[i + 1]) || s[i + 1] == '/')
        return 0;
    size_t j = i + 1;
    while (j < n && path_char((unsigned char)s[j]))
        j++;
    while (j > i + 1 && strchr(".:,", s[j - 1])) /* sentence punctuation after a path */
        j--;
    return j;
}

static size_t match_duration(const char *s, size_t i, size_t n)
{
    size_t j = span(s, i, n, isdigit);
    if (j < n && s[j] == '.' && j + 1 < n && isdigit((unsigned char)s[j + 1]))
        j = span(s, j + 1, n, isdigit);
    size_t u = j < n && s[j] == ' ' ? j + 1 : j;
    static const char *const units[] = {"ms",  "us",   "ns",      "µs",     "s",
                                        "sec", "secs", "seconds", "second", "m",
                                        "min", "mins", "minutes", "h",      "hours"};
    size_t k = u;
    while (k < n && (isalpha((unsigned char)s[k]) || (unsigned char)s[k] >= 0x80))
        k++;
    if (k == u || (k < n && isdigit((unsigned char)s[k])))
        return 0;
    /* A bare "m"/"h"/"s" only counts directly after the number ("30s", not "3 s"). */
    for (size_t x = 0; x < FL_ARRAY_LEN(units); x++)
        if (strlen(units[x]) == k - u && memcmp(s + u, units[x], k - u) == 0 &&
            (u == j || k - u > 1))
            return k;
    return 0;
}

static size_t digits_at(const char *s, size_t i, size_t n, size_t count)
{
    for (size_t k = 0; k < count; k++)
        if (i + k >= n || !isdigit((unsigned char)s[i + k]))
            return 0;
    return i + count;
}

/* 2026-11-20T10:42:07.123Z, 2026-11-20 10:42:07+00:00, 10:42:07.5: one token each. */
static size_t match_clock(const char *s, size_t i, size_t n)
{
    size_t j = digits_at(s, i, n, 2);
    if (!j || j >= n || s[j] != ':' || !(j = digits_at(s, j + 1, n, 2)) || j >= n || s[j] != ':' ||
        !(j = digits_at(s, j + 1, n, 2)))
        return 0;
    if (j + 1 < n && (s[j] == '.' || s[j] == ',') && isdigit((unsigned char)s[j + 1]))
        j = span(s, j + 1, n, isdigit);
    return j;
}

static size_t match_timestamp(const char *s, size_t i, size_t n, bool *date_only)
{
    size_t j = digits_at(s, i, n, 4);
    if (!j || j >= n || s[j] != '-' || !(j = digits_at(s, j + 1, n, 2)) || j >= n || s[j] != '-' ||
        !(j = digits_at(s, j + 1, n, 2)))
        return 0;
    *date_only = true;
    if (j < n && (s[j] == 'T' || s[j] == ' ')) {
        size_t k = match_clock(s, j + 1, n);
        if (k) {
            *date_only = false;
            j = k;
            if (j < n && s[j] == 'Z')
                j++;
            else if (j + 2 < n && (s[j] == '+' || s[j] == '-') && digits_at(s, j + 1, n, 2)) {
                j = j + 3;
                if (j < n && s[j] == ':')
                    j++;
                j = span(s, j, n, isdigit);
            }
        }
    }
    return (j < n && isalnum((unsigned char)s[j])) ? 0 : j;
}

static void mask(writer *w, const char *s, size_t n, bool in_url);

static bool word_in(const char *s, size_t n, const char *const *set, size_t count)
{
    for (size_t k = 0; k < count; k++)
        if (strlen(set[k]) == n && memcmp(s, set[k], n) == 0)
            return true;
    return false;
}

/* ctime and syslog dates: "Sun Jul 10 03:55:15 2005", "Jul  1 07:57:30", "Mon Dec 7 2026". */
static size_t match_ctime(const char *s, size_t i, size_t n)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    size_t j = i;
    bool day = false;
    if (j + 4 <= n && word_in(s + j, 3, days, 7) && s[j + 3] == ' ') {
        day = true;
        j += 4;
    }
    if (j + 4 > n || !word_in(s + j, 3, months, 12) || s[j + 3] != ' ')
        return 0;
    j += 3;
    while (j < n && s[j] == ' ')
        j++;
    size_t d = span(s, j, n, isdigit);
    if (d == j || d - j > 2)
        return 0;
    j = d;
    size_t k = j < n && s[j] == ' ' ? match_clock(s, j + 1, n) : 0;
    bool clock = k != 0;
    if (clock)
        j = k;
    if (j + 5 <= n && s[j] == ' ' && digits_at(s, j + 1, n, 4) &&
        (j + 5 == n || !isalnum((unsigned char)s[j + 5])))
        j += 5;
    else if (!clock && !day)
        return 0; /* "Jun 17" alone is too weak */
    return (j < n && isalnum((unsigned char)s[j])) ? 0 : j;
}

static int host_char(int c)
{
    return islower(c) || isdigit(c) || c == '-';
}

/* A DNS name: lowercase labels joined by dots, the last one alphabetic, followed by a ":port"
 * or ending in a common top-level domain (or .local/.internal). Java and Python
 * names (org.apache.Foo, google.api_core) have capitals or underscores and do not qualify. */
static size_t match_host(const char *s, size_t i, size_t n)
{
    size_t j = i, labels = 0, last = i;
    while (j < n && host_char((unsigned char)s[j])) {
        last = j;
        j = span(s, j, n, host_char);
        labels++;
        if (j + 1 < n && s[j] == '.' && host_char((unsigned char)s[j + 1]))
            j++;
        else
            break;
    }
    if (labels < 2 || j - last < 2 || span(s, last, j, islower) != j)
        return 0;
    if (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '@' ||
                  (s[j] == '.' && j + 1 < n && isalnum((unsigned char)s[j + 1]))))
        return 0;
    if (j + 1 < n && s[j] == ':' && isdigit((unsigned char)s[j + 1]))
        return j;
    static const char *const tlds[] = {"com", "net", "org", "io",  "edu", "gov", "info", "biz",
                                       "co",  "us",  "uk",  "de",  "fr",  "jp",  "cn",   "hk",
                                       "ru",  "br",  "in",  "au",  "ca",  "nl",  "eu",   "ch",
                                       "kr",  "tw",  "sg",  "dev", "app", "cloud", "local",
                                       "internal", "ai"};
    return labels >= 2 && word_in(s + last, j - last, tlds, FL_ARRAY_LEN(tlds)) ? j : 0;
}

/* " (18.4 KB)", " (3)": a quantity restated in parentheses after a value, an optional part
 * some lines carry and others do not. Returns the end of the group, 0 if it is not one. */
static size_t match_paren_quantity(const char *s, size_t i, size_t n)
{
    if (s[i] != '(' || i == 0 || s[i - 1] != ' ')
        return 0;
    size_t j = span(s, i + 1, n, isdigit);
    if (j == i + 1)
        return 0;
    if (j + 1 < n && (s[j] == '.' || s[j] == ',') && isdigit((unsigned char)s[j + 1]))
        j = span(s, j + 1, n, isdigit);
    if (j < n && s[j] == ' ')
        j++;
    size_t u = j;
    while (j < n && j - u < 4 && (isalpha((unsigned char)s[j]) || s[j] == '%'))
        j++;
    return j < n && s[j] == ')' ? j + 1 : 0;
}

/* "GET /x HTTP/1.1", "SELECT ...": a quoted request or command line keeps its shape. */
static bool verb_first(const char *s, size_t a, size_t b)
{
    size_t k = a;
    while (k < b && isupper((unsigned char)s[k]))
        k++;
    return k - a >= 3 && k < b && s[k] == ' ';
}

/* scheme://host/path?k=v#frag: host masked like text, path as <path>, query values as <val>. */
static size_t emit_url(writer *w, const char *s, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && (isalnum((unsigned char)s[j]) || strchr("+.-", s[j])))
        j++;
    if (j + 3 > n || memcmp(s + j, "://", 3) != 0 || !isalpha((unsigned char)s[i]))
        return 0;
    put(w, s + i, j + 3 - i);
    size_t h = j + 3, he = h;
    while (he < n && !isspace((unsigned char)s[he]) && !strchr("/?#\"'<>", s[he]))
        he++;
    mask(w, s + h, he - h, true);
    size_t p = he;
    while (p < n && !isspace((unsigned char)s[p]) && !strchr("?#\"'<>", s[p]))
        p++;
    if (p - he > 1)
        puts_(w, "/<path>");
    else if (p > he)
        put(w, "/", 1);
    if (p < n && s[p] == '?') {
        put(w, "?", 1);
        p++;
        while (p < n && !isspace((unsigned char)s[p]) && !strchr("#\"'<>", s[p])) {
            size_t k = p;
            while (k < n && !isspace((unsigned char)s[k]) && !strchr("=&#\"'<>", s[k]))
                k++;
            put(w, s + p, k - p);
            p = k;
            if (p < n && s[p] == '=') {
                puts_(w, "=<val>");
                while (p < n && !isspace((unsigned char)s[p]) && !strchr("&#\"'<>", s[p]))
                    p++;
            }
            if (p < n && s[p] == '&') {
                put(w, "&", 1);
                p++;
            }
        }
    }
    while (p < n && !isspace((unsigned char)s[p]) && !strchr("\"'<>", s[p]))
        p++; /* fragment */
    return p;
}

/* A run of letters and digits: numbers, hex and long mixed ids masked; short codes such as
 * P2024, E11000, utf8 or ipv4 kept, since they name the error. */
static size_t emit_word(writer *w, const char *s, size_t i, size_t n)
{
    size_t j = i, digits = 0, letters = 0, hexok = 1;
    while (j < n && isalnum((unsigned char)s[j])) {
        digits += isdigit((unsigned char)s[j]) != 0;
        letters += isalpha((unsigned char)s[j]) != 0;
        hexok &= isxdigit((unsigned char)s[j]) != 0;
        j++;
    }
    size_t len = j - i;
    if (!letters) {
        puts_(w, "<num>");
        return j;
    }
    if (!digits) {
        put(w, s + i, len);
        return j;
    }
    /* Hex ids mask like decimal ones: "c0000700" and "40000500" are the same kind of value. */
    if (hexok && (len >= 8 || (len >= 6 && digits >= 2))) {
        puts_(w, "<num>");
        return j;
    }
    if (len >= 12 && digits >= 3) {
        puts_(w, "<id>");
        return j;
    }
    size_t lead_end = span(s, i, j, isalpha);
    size_t lead = lead_end - i;
    bool code = lead <= 2 && lead > 0 && span(s, lead_end, j, isdigit) == j;
    if (code || digits < 3) {
        put(w, s + i, len);
        return j;
    }
    for (size_t k = i; k < j;) {
        if (isdigit((unsigned char)s[k])) {
            k = span(s, k, j, isdigit);
            puts_(w, "<num>");
        } else {
            size_t e = span(s, k, j, isalpha);
            put(w, s + k, e - k);
            k = e;
        }
    }
    return j;
}

/* "name": with an identifier-like name, as JSON keys are. */
static bool json_key(const char *s, size_t a, size_t b, size_t n)
{
    if (b == a || b - a > 64)
        return false;
    for (size_t k = a; k < b; k++)
        if (!isalnum((unsigned char)s[k]) && !strchr("_-.@$", s[k]))
            return false;
    size_t k = b + 1;
    while (k < n && s[k] == ' ')
        k++;
    return k < n && s[k] == ':';
}

static void mask(writer *w, const char *s, size_t n, bool in_url)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        bool boundary = i == 0 || !is_word((unsigned char)s[i - 1]);
        size_t e;
        if (isspace(c)) {
            w->space = true;
            i++;
            continue;
        }
        if (boundary && !in_url && (c == '"' || c == '\'' || c == '`')) {
            size_t k = i + 1;
            while (k < n && s[k] != (char)c) {
                if (s[k] == '\\')
                    k++;
                k++;
            }
            if (k < n && c == '"' && json_key(s, i + 1, k, n)) {
                /* A JSON key names the shape of the message: keep it. */
                put(w, s + i, k + 1 - i);
                i = k + 1;
                continue;
            }
            if (k < n && verb_first(s, i + 1, k)) {
                put(w, s + i, 1);
                mask(w, s + i + 1, k - i - 1, false);
                put(w, s + k, 1);
                i = k + 1;
                continue;
            }
            if (k < n) {
                puts_(w, "<str>");
                i = k + 1;
                continue;
            }
        }
        if (boundary && !in_url && isalpha(c) && (e = emit_url(w, s, i, n))) {
            i = e;
            continue;
        }
        if (c == '(' && (e = match_paren_quantity(s, i, n))) {
            i = e;
            continue;
        }
        if (boundary && isupper(c) && (e = match_ctime(s, i, n))) {
            puts_(w, "<ts>");
            i = e;
            continue;
        }
        if (boundary && !in_url && islower(c) && (e = match_host(s, i, n))) {
            puts_(w, "<host>");
            i = e;
            continue;
        }
        /* A sign belongs to its number ("blk_-123" is "blk_<num>" like "blk_123"), unless it
         * follows a letter or digit ("a-1", "5-3" keep theirs). */
        if ((c == '-' || c == '+') && i + 1 < n && isdigit((unsigned char)s[i + 1]) &&
            (i == 0 || !isalnum((unsigned char)s[i - 1]))) {
            i++;
            continue;
        }
        if (boundary && isxdigit(c) && (e = match_uuid(s, i, n))) {
            puts_(w, "<uuid>");
            i = e;
            continue;
        }
        bool date_only;
        if (boundary && isdigit(c) && (e = match_timestamp(s, i, n, &date_only))) {
            puts_(w, date_only ? "<date>" : "<ts>");
            i = e;
            continue;
        }
        if (boundary && isdigit(c) && (e = match_clock(s, i, n)) &&
            (e >= n || !isalnum((unsigned char)s[e]))) {
            puts_(w, "<time>");
            i = e;
            continue;
        }
        if (boundary && isdigit(c) && (e = match_ipv4(s, i, n))) {
            puts_(w, "<ip>");
            i = e;
            continue;
        }
        if (boundary && (isxdigit(c) || c == ':') && (e = match_ipv6(s, i, n))) {
            puts_(w, "<ip>");
            i = e;
            continue;
        }
        if (boundary && !in_url && isalnum(c) && (e = match_email(s, i, n))) {
            puts_(w, "<email>");
            i = e;
            continue;
        }
        if (boundary && !in_url && c == '/' && (i == 0 || !strchr(")]}>", s[i - 1])) &&
            (e = match_path(s, i, n))) {
            puts_(w, "<path>");
            i = e;
            continue;
        }
        if (boundary && c == '0' && i + 2 < n && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
            isxdigit((unsigned char)s[i + 2])) {
            i = span(s, i + 2, n, isxdigit);
            puts_(w, "<num>");
            continue;
        }
        if (boundary && isdigit(c) && (e = match_duration(s, i, n))) {
            puts_(w, "<dur>");
            i = e;
            continue;
        }
        if (boundary && isdigit(c)) {
            /* Decimals are one number. */
            size_t k = span(s, i, n, isdigit);
            if (k + 1 < n && s[k] == '.' && isdigit((unsigned char)s[k + 1]) &&
                !match_ipv4(s, i, n)) {
                size_t k2 = span(s, k + 1, n, isdigit);
                if (k2 >= n || !isalpha((unsigned char)s[k2])) {
                    puts_(w, "<num>");
                    i = k2;
                    continue;
                }
            }
        }
        if (isalnum(c)) {
            i = emit_word(w, s, i, n);
            continue;
        }
        put(w, s + i, 1);
        i++;
    }
}

static size_t first_line(const char *msg, size_t len, size_t *start)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)msg[i]))
        i++;
    *start = i;
    size_t e = i;
    while (e < len && msg[e] != '\n')
        e++;
    return e - i;
}

void fl_template_parts(const char *msg, size_t len, size_t off[2], size_t n[2])
{
    size_t start, fl = first_line(msg, len, &start), eo, en;
    off[0] = start;
    n[0] = FL_MIN(fl, (size_t)LINE_INPUT_MAX);
    off[1] = n[1] = 0;
    if (start + fl < len && fl_last_exception_line(msg, len, &eo, &en) && eo > start + fl) {
        off[1] = eo;
        n[1] = FL_MIN(en, (size_t)LINE_INPUT_MAX);
    }
}

size_t fl_template(const char *msg, size_t len, char *out, size_t cap)
{
    writer w = {.out = out, .cap = cap, .hash = FL_HASH_SEED};
    if (!msg) {
        msg = "";
        len = 0;
    }
    size_t off[2], n[2];
    fl_template_parts(msg, len, off, n);
    mask(&w, msg + off[0], n[0], false);
    if (n[1]) {
        w.space = false;
        puts_(&w, " | ");
        mask(&w, msg + off[1], n[1], false);
    }
    if (cap == 0)
        return 0;
    if (w.total > w.len && cap > 32) {
        /* Cut: end with a hash of the full template so different tails stay apart. */
        char tail[24];
        int k = snprintf(tail, sizeof(tail), " ~%08llx", (unsigned long long)(w.hash >> 32));
        w.len = FL_MIN(w.len, cap - 1 - (size_t)k);
        memcpy(out + w.len, tail, (size_t)k);
        w.len += (size_t)k;
    }
    while (w.len > 0 && out[w.len - 1] == ' ')
        w.len--;
    out[w.len] = '\0';
    return w.len;
}

void fl_fingerprint(const char *tmpl, size_t len, char out[17])
{
    /* "%016llx" by hand: this runs for every error entry (issue 15). */
    static const char hex[] = "0123456789abcdef";
    uint64_t h = fl_hash64(tmpl, len, FL_HASH_SEED);
    for (int i = 15; i >= 0; i--, h >>= 4)
        out[i] = hex[h & 15];
    out[16] = '\0';
}
