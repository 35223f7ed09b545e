#include "fl_common.h"
#include "fl_digits.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *fl_strerror(int code)
{
    switch (code) {
    case FL_OK:
        return "success";
#define FL_ERR_MSG(name, c, msg)                                                                   \
    case c:                                                                                        \
        return msg;
        FL_ERRNO_MAP(FL_ERR_MSG)
#undef FL_ERR_MSG
    }
    return "unknown error";
}

const char *fl_errname(int code)
{
    switch (code) {
    case FL_OK:
        return "OK";
#define FL_ERR_NAME(name, c, msg)                                                                  \
    case c:                                                                                        \
        return #name;
        FL_ERRNO_MAP(FL_ERR_NAME)
#undef FL_ERR_NAME
    }
    return "UNKNOWN";
}

/* -1: never fail. Otherwise the number of allocations still allowed to succeed. */
static atomic_long alloc_budget = -1;

void fl_alloc_fail_after(long n)
{
    atomic_store(&alloc_budget, n);
}

static bool alloc_allowed(void)
{
    long b = atomic_load(&alloc_budget);
    if (b < 0)
        return true;
    while (b > 0) {
        if (atomic_compare_exchange_weak(&alloc_budget, &b, b - 1))
            return true;
    }
    return false;
}

void *fl_malloc(size_t n)
{
    return alloc_allowed() ? malloc(n ? n : 1) : NULL;
}

void *fl_calloc(size_t count, size_t n)
{
    return alloc_allowed() ? calloc(count ? count : 1, n ? n : 1) : NULL;
}

void *fl_realloc(void *p, size_t n)
{
    return alloc_allowed() ? realloc(p, n ? n : 1) : NULL;
}

char *fl_strndup(const char *s, size_t n)
{
    char *d = fl_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *fl_strdup(const char *s)
{
    return s ? fl_strndup(s, strlen(s)) : NULL;
}

void fl_free(void *p)
{
    free(p);
}

void fl_buf_init(fl_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

/* Makes room for extra more bytes; on failure the content is freed (see fl_common.h). */
static int buf_reserve(fl_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) {
        fl_buf_free(b);
        return FL_ETOOBIG;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = fl_realloc(b->data, cap);
    if (!p) {
        fl_buf_free(b);
        return FL_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int fl_buf_add(fl_buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int fl_buf_addc(fl_buf *b, char c)
{
    return fl_buf_add(b, &c, 1);
}

int fl_buf_addstr(fl_buf *b, const char *s)
{
    return fl_buf_add(b, s, strlen(s));
}

int fl_buf_printf(fl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fl_buf_free(b);
        return FL_EINVAL;
    }
    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void fl_buf_reset(fl_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *fl_buf_detach(fl_buf *b)
{
    char *d = b->data ? b->data : fl_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void fl_buf_free(fl_buf *b)
{
    fl_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    if (at + count > n)
        return -1;
    int v = 0;
    for (size_t i = 0; i < count; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}

/* The date part "YYYY-MM-DD" -> days since the epoch (negative before 1970); false when it is
 * not a valid date. */
static bool parse_date(const char *s, size_t n, int64_t *days)
{
    int Y, M, D;
    if (digits(s, n, 0, 4, &Y) || n < 5 || s[4] != '-' || digits(s, n, 5, 2, &M) || n < 8 ||
        s[7] != '-' || digits(s, n, 8, 2, &D))
        return false;
    /* RFC 3339 section 5.7: the day must exist in its month (Feb 29 in leap years only). */
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (M < 1 || M > 12 || D < 1 || D > month_days[M - 1])
        return false;
    if (M == 2 && D == 29 && !(Y % 4 == 0 && (Y % 100 != 0 || Y % 400 == 0)))
        return false;
    *days = days_from_civil(Y, (unsigned)M, (unsigned)D);
    return true;
}

/* The value of a decimal digit; > 9 for any other byte. */
static inline unsigned digit(char c)
{
    return (unsigned)(unsigned char)c - '0';
}

/* The last valid minute parsed by this thread ("YYYY-MM-DDTHH:MM", its seconds since the
 * epoch): the entries of an export come in time order, so most timestamps repeat the previous
 * one's minute, and comparing 16 bytes is cheaper than validating and converting them again
 * (fl_time_parse was 2% of a run, issue 15). */
static _Thread_local struct {
    char prefix[16];
    bool valid;
    int64_t secs;
} last_minute;

/* "YYYY-MM-DDTHH:MM" (T, t or a space) -> seconds since the epoch; false when invalid. */
static bool parse_minute(const char *s, size_t n, int64_t *secs)
{
    int64_t days;
    if (!parse_date(s, n, &days) || n < 16 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':')
        return false;
    unsigned h1 = digit(s[11]), h2 = digit(s[12]), m1 = digit(s[14]), m2 = digit(s[15]);
    if (h1 > 9 || h2 > 9 || m1 > 9 || m2 > 9 || h1 * 10 + h2 > 23 || m1 * 10 + m2 > 59)
        return false;
    *secs = days * 86400 + (int64_t)(h1 * 10 + h2) * 3600 + (int64_t)(m1 * 10 + m2) * 60;
    return true;
}

/* The last valid second this thread parsed ("YYYY-MM-DDTHH:MM:SS"): a busy service logs many
 * entries a second, and one compare of 19 bytes then stands for the whole date and time. */
static _Thread_local struct {
    char prefix[19];
    bool valid;
    int64_t secs;
} last_second;

int fl_time_parse(const char *s, size_t n, fl_time *out)
{
    int64_t whole;
    if (n >= 19 && last_second.valid && memcmp(s, last_second.prefix, 19) == 0) {
        whole = last_second.secs;
    } else {
        int64_t minute;
        if (n >= 16 && last_minute.valid && memcmp(s, last_minute.prefix, 16) == 0) {
            minute = last_minute.secs;
        } else {
            if (!parse_minute(s, n, &minute))
                return FL_EPARSE;
            memcpy(last_minute.prefix, s, 16); /* a valid minute is 16 bytes */
            last_minute.secs = minute;
            last_minute.valid = true;
        }
        if (n < 19 || s[16] != ':' || digit(s[17]) > 9 || digit(s[18]) > 9)
            return FL_EPARSE;
        int sec = (int)(digit(s[17]) * 10 + digit(s[18]));
        if (sec > 60) /* second 60 is a leap second */
            return FL_EPARSE;
        whole = minute + sec;
        memcpy(last_second.prefix, s, 19);
        last_second.secs = whole;
        last_second.valid = true;
    }
    size_t i = 19;
    int64_t usec = 0;
    if (i < n && s[i] == '.') {
        i++;
        /* microseconds: the first six digits, padded; further digits are read past, in one
         * pass over the digits (two were 1% of a run) */
        static const int64_t scale[] = {1000000, 100000, 10000, 1000, 100, 10, 1};
        int four;
        if (n - i >= 6 && (four = fl_digits4(s + i)) >= 0 && digit(s[i + 4]) <= 9 &&
            digit(s[i + 5]) <= 9) {
            /* the usual six or more digits: no loop */
            usec = (int64_t)four * 100 + digit(s[i + 4]) * 10 + digit(s[i + 5]);
            i += 6;
        } else {
            size_t from = i, six = FL_MIN(n, i + 6);
            unsigned d;
            while (i < six && (d = digit(s[i])) <= 9) {
                usec = usec * 10 + d;
                i++;
            }
            if (i == from)
                return FL_EPARSE;
            usec *= scale[i - from];
        }
        while (i < n && digit(s[i]) <= 9)
            i++;
    }
    int64_t offset = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
            digits(s, n, i + 4, 2, &om) || oh > 23 || om > 59)
            return FL_EPARSE;
        offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return FL_EPARSE;
    }
    if (i != n)
        return FL_EPARSE;
    int64_t secs = whole - offset;
    *out = secs * FL_USEC_PER_SEC + usec;
    /* 0 means "unknown" everywhere; the epoch itself (a real, if suspicious, timestamp) is
     * kept one microsecond later so that it is not silently lost. */
    if (*out == 0)
        *out = 1;
    return 0;
}

char *fl_time_format(fl_time t, bool with_frac, char *buf, size_t size)
{
    time_t secs = (time_t)(t >= 0 ? t / FL_USEC_PER_SEC : (t - 999999) / FL_USEC_PER_SEC);
    long usec = (long)(t - (int64_t)secs * FL_USEC_PER_SEC);
    struct tm tm;
    gmtime_r(&secs, &tm);
    if (with_frac)
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
    else
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

char *fl_time_clock(fl_time t, char *buf, size_t size)
{
    time_t secs = (time_t)(t / FL_USEC_PER_SEC);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, size, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

uint64_t fl_hash64(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

size_t fl_put_cut(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
    size_t k = FL_MIN(n, cap - 1 - *len);
    memcpy(out + *len, s, k);
    *len += k;
    out[*len] = '\0';
    return n;
}

size_t fl_put_http_line(char *out, size_t cap, size_t *len, int status, const char *method,
                        size_t nm, const char *path, size_t np)
{
    char num[24];
    size_t at = fl_int_digits(status, num), nn = 24 - at, full = 0;
    *len = 0;
    if (5 + nn + 1 + nm + 1 + np < cap) { /* fits (the usual case): copied, no cut to check */
        memcpy(out, "HTTP ", 5);
        memcpy(out + 5, num + at, nn);
        size_t n = 5 + nn;
        out[n++] = ' ';
        memcpy(out + n, method, nm);
        n += nm;
        out[n++] = ' ';
        memcpy(out + n, path, np);
        n += np;
        out[n] = '\0';
        *len = n;
        return n;
    }
    full += fl_put_cut(out, cap, len, "HTTP ", 5);
    full += fl_put_cut(out, cap, len, num + at, nn);
    full += fl_put_cut(out, cap, len, " ", 1);
    full += fl_put_cut(out, cap, len, method, nm);
    full += fl_put_cut(out, cap, len, " ", 1);
    full += fl_put_cut(out, cap, len, path, np);
    return full;
}

size_t fl_u64_digits(uint64_t u, char out[24])
{
    size_t at = 24;
    do
        out[--at] = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    return at;
}

size_t fl_int_digits(int v, char out[24])
{
    size_t at = fl_u64_digits(v < 0 ? 0u - (unsigned)v : (unsigned)v, out);
    if (v < 0)
        out[--at] = '-';
    return at;
}
