/* Core types: time parsing, capped buffers, entry storage, severities, diagnostics. */
#include "fl_base64.h"
#include "fl_common.h"
#include "fl_diag.h"
#include "fl_entry.h"
#include "fl_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void test_time(void)
{
    static const struct {
        const char *in;
        int rc;
        fl_time want;
    } cases[] = {
        /* the epoch is a real timestamp: kept 1 us later, since 0 means unknown */
        {"1970-01-01T00:00:00Z", 0, 1},
        {"1970-01-01T00:00:01Z", 0, FL_USEC_PER_SEC},
        /* what RFC 3339 rejects (issue 10): days that do not exist, offsets out of range */
        {"2026-02-30T10:00:00Z", FL_EPARSE, 0},
        {"2026-04-31T10:00:00Z", FL_EPARSE, 0},
        {"2026-02-29T10:00:00Z", FL_EPARSE, 0},
        {"2100-02-29T10:00:00Z", FL_EPARSE, 0},
        {"2028-02-29T10:00:00Z", 0, INT64_C(1835431200) * FL_USEC_PER_SEC},
        {"2000-02-29T00:00:00Z", 0, INT64_C(951782400) * FL_USEC_PER_SEC},
        {"2026-11-20T10:42:07+99:99", FL_EPARSE, 0},
        {"2026-11-20T10:42:07+24:00", FL_EPARSE, 0},
        {"2026-11-20T10:42:07-23:59", 0, INT64_C(1795257667) * FL_USEC_PER_SEC},
        {"2026-11-20T24:00:00Z", FL_EPARSE, 0},
        {"2016-12-31T23:59:60Z", 0, INT64_C(1483228800) * FL_USEC_PER_SEC},
        {"2026-11-20T10:42:07Z", 0, INT64_C(1795171327) * FL_USEC_PER_SEC},
        {"2026-11-20T10:42:07.123456789Z", 0, INT64_C(1795171327) * FL_USEC_PER_SEC + 123456},
        {"2026-11-20T10:42:07.5Z", 0, INT64_C(1795171327) * FL_USEC_PER_SEC + 500000},
        {"2026-11-20T11:42:07+01:00", 0, INT64_C(1795171327) * FL_USEC_PER_SEC},
        {"2025-09-16T00:42:53.575433+00:00", 0, INT64_C(1757983373575433)},
        {"2026-11-20 10:42:07Z", 0, INT64_C(1795171327) * FL_USEC_PER_SEC},
        {"2026-11-20T10:42:07", FL_EPARSE, 0},
        {"2026-13-20T10:42:07Z", FL_EPARSE, 0},
        {"2026-11-20T10:42:07.Z", FL_EPARSE, 0},
        {"garbage", FL_EPARSE, 0},
        {"", FL_EPARSE, 0},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        fl_time t = -1;
        int rc = fl_time_parse(cases[i].in, strlen(cases[i].in), &t);
        CHECK_INT(rc, cases[i].rc);
        if (rc == 0)
            CHECK_INT(t, cases[i].want);
    }
    /* Every length of fraction (digits past the sixth are dropped, not rounded). */
    static const char *const fracs[] = {"1", "12", "123", "1234", "12345", "123456", "1234567",
                                        "12345678", "123456789", "123456789999"};
    static const fl_time frac_us[] = {100000, 120000, 123000, 123400, 123450,
                                      123456, 123456, 123456, 123456, 123456};
    for (size_t i = 0; i < FL_ARRAY_LEN(fracs); i++) {
        char in[64];
        snprintf(in, sizeof in, "2026-11-20T10:42:07.%sZ", fracs[i]);
        fl_time t = -1;
        CHECK_INT(fl_time_parse(in, strlen(in), &t), 0);
        CHECK_INT(t, INT64_C(1795171327) * FL_USEC_PER_SEC + frac_us[i]);
    }
    /* fl_time_parse keeps the last minute it converted (issue 15): the same minute again,
     * times before 1970, a bad second or zone after a good minute, and a good minute after a
     * bad one must all come out as they do alone. */
    static const struct {
        const char *in;
        int rc;
        fl_time want;
    } seq[] = {
        {"1969-12-31T23:59:59Z", 0, -FL_USEC_PER_SEC},
        {"1969-12-31T23:59:58Z", 0, -2 * FL_USEC_PER_SEC},
        {"2026-11-20T10:42:07Z", 0, INT64_C(1795171327) * FL_USEC_PER_SEC},
        {"2026-11-20T25:42:07Z", FL_EPARSE, 0},
        {"2026-11-20T10:4x:07Z", FL_EPARSE, 0},
        {"2026-11-20", FL_EPARSE, 0},
        {"2026-11-20T10:42:07Z", 0, INT64_C(1795171327) * FL_USEC_PER_SEC},
        {"2026-02-30T10:42:07Z", FL_EPARSE, 0},
        {"2026-11-20T10:42:08Z", 0, INT64_C(1795171328) * FL_USEC_PER_SEC},
        {"2026-11-21T10:42:07Z", 0, INT64_C(1795257727) * FL_USEC_PER_SEC},
        {"2026-11-20T10:42:07.5+01:00", 0, INT64_C(1795167727) * FL_USEC_PER_SEC + 500000},
        {"2026-11-20T10:42", FL_EPARSE, 0},
        {"2026-11-20T10:42:6xZ", FL_EPARSE, 0},
        {"2026-11-20T10:42:61Z", FL_EPARSE, 0},
        {"2026-11-20T10:42:07+1:00", FL_EPARSE, 0},
        {"2026-11-20T10:42:59.999999Z", 0, INT64_C(1795171379) * FL_USEC_PER_SEC + 999999},
        {"2026-11-20T10:43:00Z", 0, INT64_C(1795171380) * FL_USEC_PER_SEC},
        {"2026-11-20T10:60:00Z", FL_EPARSE, 0},
        {"2026-11-20t10:43:00z", 0, INT64_C(1795171380) * FL_USEC_PER_SEC},
        {"2026-11-20T10:43:00Z", 0, INT64_C(1795171380) * FL_USEC_PER_SEC},
        /* ... and the last second (round four): the same second with another fraction or
         * zone, a bad fraction or tail after a good second, a good second after them */
        {"2026-11-20T10:43:00.25Z", 0, INT64_C(1795171380) * FL_USEC_PER_SEC + 250000},
        {"2026-11-20T10:43:00.123456789Z", 0, INT64_C(1795171380) * FL_USEC_PER_SEC + 123456},
        {"2026-11-20T10:43:00.1234567Z", 0, INT64_C(1795171380) * FL_USEC_PER_SEC + 123456},
        {"2026-11-20T10:43:00-00:30", 0, INT64_C(1795173180) * FL_USEC_PER_SEC},
        {"2026-11-20T10:43:00.Z", FL_EPARSE, 0},
        {"2026-11-20T10:43:00.12x4Z", FL_EPARSE, 0},
        {"2026-11-20T10:43:00.1234567x9Z", FL_EPARSE, 0},
        /* the bytes around the digits ('/' and ':') in the four-digit window and after it */
        {"2026-11-20T10:43:00.1/3456Z", FL_EPARSE, 0},
        {"2026-11-20T10:43:00.123:56Z", FL_EPARSE, 0},
        {"2026-11-20T10:43:00.12345:Z", FL_EPARSE, 0},
        {"2026-11-20T10:43:00.12345/Z", FL_EPARSE, 0},
        {"2026-11-20T10:43:00.9999990Z", 0, INT64_C(1795171380) * FL_USEC_PER_SEC + 999999},
        {"2026-11-20T10:43:00", FL_EPARSE, 0},
        {"2026-11-20T10:43:00ZZ", FL_EPARSE, 0},
        {"2026-11-20T10:43:01.000001Z", 0, INT64_C(1795171381) * FL_USEC_PER_SEC + 1},
        {"2026-11-20T10:43:00.000001Z", 0, INT64_C(1795171380) * FL_USEC_PER_SEC + 1},
        {"2026-11-21T10:43:00.000001Z", 0, INT64_C(1795257780) * FL_USEC_PER_SEC + 1},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(seq); i++) {
        fl_time t = -1;
        int rc = fl_time_parse(seq[i].in, strlen(seq[i].in), &t);
        CHECK_INT(rc, seq[i].rc);
        if (rc == 0)
            CHECK_INT(t, seq[i].want);
    }
    char buf[32];
    CHECK_STR(fl_time_format(INT64_C(1795171327) * FL_USEC_PER_SEC + 42, true, buf, sizeof buf),
              "2026-11-20T10:42:07.000042Z");
    CHECK_STR(fl_time_format(INT64_C(1795171327) * FL_USEC_PER_SEC, false, buf, sizeof buf),
              "2026-11-20T10:42:07Z");
    CHECK_STR(fl_time_clock(INT64_C(1795171327) * FL_USEC_PER_SEC, buf, sizeof buf), "10:42:07");
}

static void test_buf(void)
{
    fl_buf b;
    fl_buf_init(&b, 10);
    CHECK_INT(fl_buf_addstr(&b, "hello"), 0);
    CHECK_INT(fl_buf_printf(&b, "%d", 1234), 0);
    CHECK_STR(b.data, "hello1234");
    /* Past the cap the content is freed (curl's dynbuf): never half a document. */
    CHECK_INT(fl_buf_addstr(&b, "xy"), FL_ETOOBIG); /* would be 11 > 10 */
    CHECK_INT(b.len, 0);
    CHECK(b.data == NULL);
    /* The emptied buffer can be used again. */
    CHECK_INT(fl_buf_addstr(&b, "hello1234"), 0);
    CHECK_INT(fl_buf_addc(&b, '!'), 0);
    CHECK_STR(b.data, "hello1234!");
    CHECK_INT(fl_buf_printf(&b, "%s", "0123456789"), FL_ETOOBIG);
    CHECK(b.data == NULL && b.len == 0);
    CHECK_INT(fl_buf_addstr(&b, "hello1234!"), 0);
    char *d = fl_buf_detach(&b);
    CHECK_STR(d, "hello1234!");
    CHECK(b.data == NULL && b.len == 0);
    fl_free(d);
    fl_buf_free(&b);
}

static void test_entry(void)
{
    fl_entry e, c;
    fl_entry_init(&e);
    fl_entry_init(&c);
    CHECK_STR(e.service, "");
    CHECK_INT(e.severity, FL_SEV_DEFAULT);
    CHECK(e.latency_s < 0);
    /* Enough fields to force the storage to move several times: pointers must follow. */
    CHECK_INT(fl_entry_set(&e, &e.service, "checkout-api", 12), 0);
    char big[5000];
    memset(big, 'x', sizeof big);
    CHECK_INT(fl_entry_set(&e, &e.message, big, sizeof big), 0);
    CHECK_INT(fl_entry_set(&e, &e.revision, "checkout-api-00042-abc", 22), 0);
    CHECK_STR(e.service, "checkout-api");
    CHECK_STR(e.revision, "checkout-api-00042-abc");
    CHECK_INT(strlen(e.message), sizeof big);
    /* Setting a field from another field of the same entry survives a move. */
    CHECK_INT(fl_entry_set(&e, &e.audit_service, e.service, strlen(e.service)), 0);
    CHECK_STR(e.audit_service, "checkout-api");
    CHECK_INT(fl_entry_copy(&c, &e), 0);
    fl_entry_clear(&e);
    CHECK_STR(e.service, "");
    CHECK_STR(c.service, "checkout-api");
    CHECK_STR(c.revision, "checkout-api-00042-abc");
    CHECK(c.store != e.store);
    /* The cap holds. */
    char *huge = calloc(1, FL_ENTRY_MAX_STORE + 1);
    CHECK_INT(fl_entry_set(&e, &e.message, huge, FL_ENTRY_MAX_STORE + 1), FL_ETOOBIG);
    free(huge);
    fl_entry_free(&e);
    fl_entry_free(&c);
}

/* The length of every FL_KNOWN_* field, through the fast path, equals strlen. */
static void check_known(const fl_entry *e)
{
    const char *f[FL_KNOWN_COUNT] = {e->message,  e->service, e->revision, e->instance_id,
                                     e->location, e->project, e->trace};
    for (int k = 0; k < FL_KNOWN_COUNT; k++)
        CHECK_INT(fl_entry_len(e, (fl_known_field)k, f[k]), strlen(f[k]));
}

/* Noted lengths (issue 15: consumers compare by length, not strcmp): fl_entry_set notes them,
 * they follow the storage when it moves and into a copy, and a field assigned directly, or
 * cleared, is measured again rather than given a stale length. */
static void test_entry_known_lengths(void)
{
    fl_entry e, c;
    fl_entry_init(&e);
    fl_entry_init(&c);
    check_known(&e);
    CHECK_INT(fl_entry_set(&e, &e.service, "checkout-api", 12), 0);
    CHECK(e.known_at[FL_KNOWN_SERVICE] == e.service); /* noted: no strlen for it */
    CHECK_INT(e.known_n[FL_KNOWN_SERVICE], 12);
    const char *before = e.store;
    char big[5000];
    memset(big, 'x', sizeof big);
    CHECK_INT(fl_entry_set(&e, &e.message, big, sizeof big), 0);
    CHECK(e.store != before || e.store_cap >= sizeof big); /* the storage grew */
    CHECK(e.known_at[FL_KNOWN_SERVICE] == e.service);      /* and the note followed it */
    CHECK(e.known_at[FL_KNOWN_MESSAGE] == e.message);
    CHECK_INT(fl_entry_len(&e, FL_KNOWN_MESSAGE, e.message), sizeof big);
    CHECK_INT(fl_entry_set(&e, &e.trace, "", 0), 0);
    CHECK(e.known_at[FL_KNOWN_TRACE] == e.trace);
    check_known(&e);
    /* A field assigned directly is measured: its old length is not reused. */
    e.service = "api";
    CHECK_INT(fl_entry_len(&e, FL_KNOWN_SERVICE, e.service), 3);
    /* Fields outside FL_KNOWN_* are stored as before. */
    CHECK_INT(fl_entry_set(&e, &e.http_url, "/x", 2), 0);
    CHECK_STR(e.http_url, "/x");
    CHECK_INT(fl_entry_set(&e, &e.revision, "checkout-api-00042-abc", 22), 0);
    CHECK_INT(fl_entry_copy(&c, &e), 0);
    CHECK(c.known_at[FL_KNOWN_REVISION] == c.revision);
    CHECK(c.known_at[FL_KNOWN_MESSAGE] == c.message);
    check_known(&c);
    /* Cleared: every note is forgotten, so the next entry in this storage is never given the
     * lengths of the last one (its fields land at the same addresses). */
    fl_entry_clear(&e);
    for (int k = 0; k < FL_KNOWN_COUNT; k++)
        CHECK(e.known_at[k] == NULL);
    check_known(&e);
    fl_entry_free(&e);
    fl_entry_free(&c);
}

/* fl_bytes_equal against memcmp for every length to 80 and a difference at every place (its
 * word loads overlap differently by length). */
static void test_bytes_equal(void)
{
    char a[96], b[96];
    int wrong = 0;
    for (size_t n = 0; n <= 80; n++) {
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = (char)('a' + i % 26);
        if (!fl_bytes_equal(a, b, n))
            wrong++;
        for (size_t d = 0; d < n; d++) {
            b[d] ^= 0x20;
            if (fl_bytes_equal(a, b, n))
                wrong++;
            b[d] ^= 0x20;
        }
    }
    CHECK_INT(wrong, 0);
}

static void test_severity(void)
{
    CHECK_INT(fl_severity_parse("ERROR", 5), FL_SEV_ERROR);
    CHECK_INT(fl_severity_parse("warn", 4), FL_SEV_WARNING);
    CHECK_INT(fl_severity_parse("500", 3), 500);
    CHECK_INT(fl_severity_parse("bogus", 5), -1);
    CHECK_STR(fl_severity_name(550), "ERROR");
    CHECK_STR(fl_severity_name(0), "DEFAULT");
    /* Every name, any case; near misses are not names (issue 15: matched by length). */
    static const struct {
        const char *in;
        int want;
    } sev[] = {
        {"DEFAULT", FL_SEV_DEFAULT},     {"debug", FL_SEV_DEBUG},       {"Trace", FL_SEV_DEBUG},
        {"INFO", FL_SEV_INFO},           {"notice", FL_SEV_NOTICE},     {"WARNING", FL_SEV_WARNING},
        {"Warn", FL_SEV_WARNING},        {"error", FL_SEV_ERROR},       {"err", FL_SEV_ERROR},
        {"CRITICAL", FL_SEV_CRITICAL},   {"fatal", FL_SEV_CRITICAL},    {"ALERT", FL_SEV_ALERT},
        {"emergency", FL_SEV_EMERGENCY}, {"panic", FL_SEV_EMERGENCY},   {"0", 0},
        {"800", 800},                    {"ER", -1},                    {"ERRO", -1},
        {"ERRORS", -1},                  {"WARNINGS", -1},              {"EMERGENCYX", -1},
        {"INF0", -1},                    {"error ", -1},                {"", -1},
        {"-1", -1},                      {"5x", -1},                    {"\xc9RROR", -1},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(sev); i++)
        CHECK_INT(fl_severity_parse(sev[i].in, strlen(sev[i].in)), sev[i].want);
    /* Round four matches whole words of a name at once: every name with every byte in turn
     * replaced by each of the 256 values must come out as strncasecmp over the table says
     * (case folding of letters only: "INF\x0f" or "\xc9RROR" is no name). */
    static const struct {
        const char *name;
        int sev;
    } names[] = {
        {"DEFAULT", FL_SEV_DEFAULT},     {"DEBUG", FL_SEV_DEBUG},     {"TRACE", FL_SEV_DEBUG},
        {"INFO", FL_SEV_INFO},           {"NOTICE", FL_SEV_NOTICE},   {"WARNING", FL_SEV_WARNING},
        {"WARN", FL_SEV_WARNING},        {"ERROR", FL_SEV_ERROR},     {"ERR", FL_SEV_ERROR},
        {"CRITICAL", FL_SEV_CRITICAL},   {"FATAL", FL_SEV_CRITICAL},  {"ALERT", FL_SEV_ALERT},
        {"EMERGENCY", FL_SEV_EMERGENCY}, {"PANIC", FL_SEV_EMERGENCY},
    };
    int wrong = 0;
    for (size_t i = 0; i < FL_ARRAY_LEN(names); i++) {
        size_t n = strlen(names[i].name);
        for (size_t at = 0; at < n; at++)
            for (int c = 0; c < 256; c++) {
                char v[16];
                memcpy(v, names[i].name, n);
                v[at] = (char)c;
                int want = -1;
                if (c >= '0' && c <= '9' && at == 0)
                    continue; /* a number: not what this checks */
                for (size_t k = 0; k < FL_ARRAY_LEN(names) && want < 0; k++)
                    if (strlen(names[k].name) == n && strncasecmp(v, names[k].name, n) == 0)
                        want = names[k].sev;
                wrong += fl_severity_parse(v, n) != want;
            }
    }
    CHECK_INT(wrong, 0);
    /* Every logName suffix in both spellings; anything else is OTHER. */
    static const struct {
        const char *suffix;
        fl_log_kind want;
    } kinds[] = {
        {"run.googleapis.com%2Frequests", FL_LOG_REQUESTS},
        {"run.googleapis.com/requests", FL_LOG_REQUESTS},
        {"run.googleapis.com%2Fstdout", FL_LOG_STDOUT},
        {"run.googleapis.com/stdout", FL_LOG_STDOUT},
        {"run.googleapis.com%2Fstderr", FL_LOG_STDERR},
        {"run.googleapis.com/stderr", FL_LOG_STDERR},
        {"run.googleapis.com%2Fvarlog%2Fsystem", FL_LOG_VARLOG_SYSTEM},
        {"run.googleapis.com/varlog/system", FL_LOG_VARLOG_SYSTEM},
        {"cloudaudit.googleapis.com%2Factivity", FL_LOG_AUDIT_ACTIVITY},
        {"cloudaudit.googleapis.com/activity", FL_LOG_AUDIT_ACTIVITY},
        {"cloudaudit.googleapis.com%2Fsystem_event", FL_LOG_AUDIT_SYSTEM_EVENT},
        {"cloudaudit.googleapis.com/system_event", FL_LOG_AUDIT_SYSTEM_EVENT},
        {"cloudaudit.googleapis.com%2Fdata_access", FL_LOG_AUDIT_DATA_ACCESS},
        {"cloudaudit.googleapis.com/data_access", FL_LOG_AUDIT_DATA_ACCESS},
        {"cloudfunctions.googleapis.com%2Fcloud-functions", FL_LOG_STDOUT},
        {"cloudfunctions.googleapis.com/cloud-functions", FL_LOG_STDOUT},
        {"stdout", FL_LOG_STDOUT},
        {"stderr", FL_LOG_STDERR},
        {"run.googleapis.com%2Frequest", FL_LOG_OTHER},
        {"run.googleapis.com%2Fstdouts", FL_LOG_OTHER},
        {"run.googleapis.com%2Fsystem", FL_LOG_OTHER},
        {"cloudaudit.googleapis.com%2Fpolicy", FL_LOG_OTHER},
        {"my-app", FL_LOG_OTHER},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(kinds); i++) {
        char ln[128];
        snprintf(ln, sizeof ln, "projects/p/logs/%s", kinds[i].suffix);
        CHECK_INT(fl_log_kind_from_name(ln, strlen(ln)), kinds[i].want);
        /* the suffix alone counts too (but "/logs/stdout" needs its "/logs/"); a part of it
         * never does */
        const char *s = kinds[i].suffix;
        size_t n = strlen(s);
        bool bare = strcmp(s, "stdout") == 0 || strcmp(s, "stderr") == 0;
        CHECK_INT(fl_log_kind_from_name(s, n), bare ? FL_LOG_OTHER : kinds[i].want);
        CHECK_INT(fl_log_kind_from_name(s + 1, n - 1), FL_LOG_OTHER);
        if (kinds[i].want != FL_LOG_OTHER)
            CHECK_INT(fl_log_kind_from_name(s, n - 1), FL_LOG_OTHER);
    }
    CHECK_INT(fl_log_kind_from_name("", 0), FL_LOG_OTHER);
    CHECK_INT(fl_log_kind_from_name("s", 1), FL_LOG_OTHER);
}

static void test_alloc_failure(void)
{
    fl_alloc_fail_after(0);
    CHECK(fl_malloc(10) == NULL);
    fl_buf b;
    fl_buf_init(&b, 100);
    CHECK_INT(fl_buf_addstr(&b, "x"), FL_ENOMEM);
    fl_alloc_fail_after(-1);
    void *p = fl_malloc(10);
    CHECK(p != NULL);
    fl_free(p);
}

static void test_diag(void)
{
    fl_diag d;
    fl_diag_init(&d);
    fl_diag_warn(&d, FL_WARN_MALFORMED, "a.json", 7, "unexpected token near '%s'", "}");
    fl_diag_warn(&d, FL_WARN_TRUNCATED, "b.json.gz", 0, "stream ends early");
    CHECK_INT(d.malformed, 1);
    CHECK_INT(d.n_truncated, 1);
    CHECK_STR(d.truncated[0], "b.json.gz");
    CHECK_INT(d.n_warnings, 2);
    CHECK_STR(d.warnings[0].file, "a.json");
    CHECK_INT(d.warnings[0].line, 7);
    d.entries = 10;
    CHECK_INT(fl_diag_exit_status(&d), 3);
    for (int i = 0; i < FL_DIAG_MAX_WARNINGS + 5; i++)
        fl_diag_warn(&d, FL_WARN_OVERSIZE, "c", (uint64_t)i, "big");
    CHECK_INT(d.n_warnings, FL_DIAG_MAX_WARNINGS);
    CHECK_INT(d.warnings_dropped, 7);
    CHECK_INT(d.oversize, FL_DIAG_MAX_WARNINGS + 5);
    fl_diag_free(&d);
    CHECK_STR(fl_strerror(FL_ETOOBIG), "size limit exceeded");
    CHECK_STR(fl_errname(FL_EPARSE), "PARSE");
}

/* RFC 4648 section 10 vectors, both alphabets, optional padding, and what is not base64. */
static void test_base64(void)
{
    static const char *const vec[][3] = {
        {"", "", ""},         {"f", "Zg==", "Zg"},         {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"}, {"foob", "Zm9vYg==", "Zm9vYg"}, {"fooba", "Zm9vYmE=", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy", "Zm9vYmFy"}, {"\xfb\xff", "+/8=", "-_8"},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(vec); i++) {
        const char *raw = vec[i][0];
        size_t n = strlen(raw);
        char *s = fl_base64_encode(raw, n);
        CHECK_STR(s, vec[i][1]);
        fl_free(s);
        s = fl_base64url_encode(raw, n);
        CHECK_STR(s, vec[i][2]);
        fl_free(s);
        unsigned char out[16];
        for (int k = 1; k <= 2; k++) {
            long m = fl_base64_decode(vec[i][k], strlen(vec[i][k]), out);
            CHECK_INT(m, (long)n);
            CHECK(m == (long)n && memcmp(out, raw, n) == 0);
        }
    }
    unsigned char out[16];
    CHECK_INT(fl_base64_decode("Zm9v YmFy", 9, out), FL_EPARSE); /* no whitespace */
    CHECK_INT(fl_base64_decode("Zm9*", 4, out), FL_EPARSE);
    CHECK_INT(fl_base64_decode("Z", 1, out), FL_EPARSE);
    CHECK_INT(fl_base64_decode("Zg=a", 4, out), FL_EPARSE); /* padding only at the end */
}

int main(void)
{
    test_base64();
    test_time();
    test_buf();
    test_entry();
    test_entry_known_lengths();
    test_bytes_equal();
    test_severity();
    test_alloc_failure();
    test_diag();
    return fl_test_done();
}
