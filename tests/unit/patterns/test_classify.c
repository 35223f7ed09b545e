/* Classification and templates: the severity gate, long messages, the prefilter against a
 * naive scan, thread safety, and template / fingerprint tables. */
#include "fl_config.h"
#include "fl_patterns_int.h"
#include "fl_test.h"
#include "route.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fl_rules *rules;

static const char *class_of(fl_matcher *m, const fl_entry *e)
{
    fl_match out;
    int rc = fl_classify(rules, m, e, &out);
    return rc == 1 ? out.rule->class_id : rc == 0 ? "-" : "error";
}

static void set_entry(fl_entry *e, int sev, fl_log_kind kind, const char *msg)
{
    fl_entry_clear(e);
    e->severity = sev;
    e->log_kind = kind;
    fl_entry_set(e, &e->message, msg, strlen(msg));
}

static void test_severity_gate(void)
{
    fl_matcher *m = fl_matcher_new(rules);
    fl_entry e;
    fl_entry_init(&e);
    const char *heap = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of "
                       "memory";
    set_entry(&e, FL_SEV_ERROR, FL_LOG_STDERR, heap);
    CHECK_STR(class_of(m, &e), "oom");
    set_entry(&e, FL_SEV_INFO, FL_LOG_STDOUT, heap);
    CHECK_STR(class_of(m, &e), "-");
    set_entry(&e, FL_SEV_DEBUG, FL_LOG_STDOUT, heap);
    CHECK_STR(class_of(m, &e), "-");
    /* any_severity rules still apply to INFO entries. */
    set_entry(&e, FL_SEV_INFO, FL_LOG_VARLOG_SYSTEM,
              "Memory limit of 1024 MiB exceeded with 1031 MiB used. Consider increasing the "
              "memory limit.");
    CHECK_STR(class_of(m, &e), "oom");
    set_entry(&e, FL_SEV_WARNING, FL_LOG_VARLOG_SYSTEM, "Container called exit(137).");
    CHECK_STR(class_of(m, &e), "startup_failure");
    set_entry(&e, FL_SEV_WARNING, FL_LOG_VARLOG_SYSTEM, "Container called exit(0).");
    CHECK_STR(class_of(m, &e), "-");
    /* DEFAULT severity on stderr is a candidate (fl_entry_maybe_error). */
    set_entry(&e, FL_SEV_DEFAULT, FL_LOG_STDERR,
              "redis.exceptions.TimeoutError: Timeout reading "
              "from socket");
    CHECK_STR(class_of(m, &e), "redis_timeout");
    /* An empty request log with a 5xx gets a synthesized subject; a 4xx does not. */
    fl_entry_clear(&e);
    e.log_kind = FL_LOG_REQUESTS;
    e.severity = FL_SEV_ERROR;
    e.http_status = 504;
    e.latency_s = 300.0;
    fl_entry_set(&e, &e.http_method, "POST", 4);
    CHECK_STR(class_of(m, &e), "request_timeout");
    fl_match out;
    CHECK_INT(fl_classify(rules, m, &e, &out), 1);
    CHECK_INT(out.n_fields, 1);
    CHECK_STR(out.fields[0].value, "300.000");
    e.http_status = 403;
    e.severity = FL_SEV_WARNING;
    CHECK_STR(class_of(m, &e), "-");
    CHECK_INT(fl_classify(NULL, m, &e, &out), FL_EINVAL);
    fl_entry_free(&e);
    fl_matcher_free(m);
}

static void test_long_messages(void)
{
    fl_matcher *m = fl_matcher_new(rules);
    size_t cap = 64 * 1024;
    char *msg = malloc(cap);
    fl_match out;

    /* A Java trace whose root cause is the last "Caused by" line, 30 KiB in. */
    size_t n = (size_t)snprintf(msg, cap,
                                "Exception in thread \"main\" java.lang.RuntimeException"
                                ": startup failed\n");
    while (n < 30000)
        n += (size_t)snprintf(msg + n, cap - n, "\tat com.example.Svc.method(Svc.java:%zu)\n", n);
    n += (size_t)snprintf(msg + n, cap - n,
                          "Caused by: org.postgresql.util.PSQLException: "
                          "Connection to db:5432 refused. Check that the "
                          "hostname and port are correct\n\t... 42 more\n");
    CHECK_INT(fl_classify_text(rules, m, msg, n, &out), 1);
    CHECK_STR(out.rule ? out.rule->class_id : NULL, "db_unreachable");

    /* Past the 8 KiB head, text that is not the last exception line is not matched. */
    memset(msg, 'x', 20000);
    memcpy(msg + 10000, " ECONNREFUSED 10.0.0.1:6379 ", 28);
    CHECK_INT(fl_classify_text(rules, m, msg, 20000, &out), 0);
    memcpy(msg + 100, " ECONNREFUSED 10.0.0.1:6379 ", 28);
    CHECK_INT(fl_classify_text(rules, m, msg, 20000, &out), 1);
    CHECK_INT(fl_classify_text(rules, m, "", 0, &out), 0);
    free(msg);
    fl_matcher_free(m);
}

static void mark_seen(void *ctx, uint32_t r)
{
    ((bool *)ctx)[r] = true;
}

static void prefilter_vs_naive(bool simd)
{
    static const char *const words[] = {"he",           "she",     "his",     "hers",
                                        "error",        "rror",    "timeout", "out",
                                        "ECONNREFUSED", "refused", "a",       "aaa"};
    fl_pf_literal lits[FL_ARRAY_LEN(words)];
    char lower[FL_ARRAY_LEN(words)][32];
    for (size_t i = 0; i < FL_ARRAY_LEN(words); i++) {
        size_t k = 0;
        for (; words[i][k]; k++)
            lower[i][k] = (char)(words[i][k] | (words[i][k] >= 'A' && words[i][k] <= 'Z' ? 32 : 0));
        lower[i][k] = '\0';
        lits[i] = (fl_pf_literal){.text = lower[i], .regex = (uint32_t)i};
    }
    fl_prefilter *pf = NULL;
    CHECK_INT(fl_prefilter_build(&pf, lits, FL_ARRAY_LEN(lits)), 0);
    fl_prefilter_set_simd(pf, simd);
    if (simd && !fl_prefilter_simd(pf))
        fprintf(stderr, "note: no AVX2 here, only the portable prefilter scan is tested\n");
    srand(7);
    const char alphabet[] = "aehrsoutimEOTRNCFUD @[\xc9";
    int mismatches = 0;
    for (int round = 0; round < 4000; round++) {
        char text[128];
        size_t len = (size_t)(rand() % (round % 2 ? 24 : 120));
        for (size_t i = 0; i < len; i++)
            text[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
        text[len] = '\0';
        bool seen[FL_ARRAY_LEN(words)] = {false};
        fl_prefilter_scan(pf, text, len, mark_seen, seen);
        char folded[128];
        for (size_t i = 0; i <= len; i++)
            folded[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] + 32 : text[i]);
        for (size_t w = 0; w < FL_ARRAY_LEN(words); w++)
            mismatches += seen[w] != (strstr(folded, lower[w]) != NULL);
    }
    CHECK_INT(mismatches, 0);
    fl_prefilter_free(pf);
}

/* The prefilter must report exactly the literals a naive search finds, with the AVX2 scan
 * (where the CPU has it) and with the portable one, for texts shorter and longer than the
 * 16 bytes a vector step reads. */
static void test_prefilter_vs_naive(void)
{
    for (int simd = 1; simd >= 0; simd--)
        prefilter_vs_naive(simd);
}

/* Literals of 11 bytes and more: the scan tests one window in 8 (sparse), its first test
 * folding case by bit 5 alone ('@' and '`', '[' and '{' agree there). It must still report
 * exactly what a naive search finds, wherever a literal lies relative to the tested windows,
 * in any case, next to the characters that bit confuses, with repeated windows. */
static void test_prefilter_sparse_vs_naive(void)
{
    static const char *const words[] = {
        "connection refused", "errimagepull", "memory limit of ", "[ioredis] unhandled",
        "a@b`c{d}e[f]g",      "xxxxxxxxxxx",  "abcabcabcab",      "\xc9t\xe9 \xc9t\xe9 !!!"};
    fl_pf_literal lits[FL_ARRAY_LEN(words)];
    for (size_t i = 0; i < FL_ARRAY_LEN(words); i++)
        lits[i] = (fl_pf_literal){.text = words[i], .regex = (uint32_t)i};
    fl_prefilter *pf = NULL;
    CHECK_INT(fl_prefilter_build(&pf, lits, FL_ARRAY_LEN(lits)), 0);
    CHECK_INT((int)fl_prefilter_stride(pf), 8);
    srand(9);
    const char alphabet[] = "abcxXAB @`[{]}gG\xc9\xe9tT!";
    int mismatches = 0, found = 0;
    for (int round = 0; round < 6000; round++) {
        char text[200], folded[200];
        size_t len = (size_t)(rand() % (round % 3 ? 40 : 180));
        for (size_t i = 0; i < len; i++)
            text[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
        /* Plant a word (or the word with bit 5 of one byte flipped) at any offset. */
        const char *w = words[(size_t)rand() % FL_ARRAY_LEN(words)];
        size_t wn = strlen(w);
        if (wn <= len) {
            size_t at = (size_t)rand() % (len - wn + 1);
            for (size_t k = 0; k < wn; k++)
                text[at + k] = (char)(w[k] >= 'a' && w[k] <= 'z' && rand() % 2 ? w[k] - 32 : w[k]);
            if (rand() % 4 == 0)
                text[at + (size_t)rand() % wn] ^= 0x20;
        }
        text[len] = '\0';
        for (size_t i = 0; i <= len; i++)
            folded[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] + 32 : text[i]);
        bool seen[FL_ARRAY_LEN(words)] = {false};
        fl_prefilter_scan(pf, text, len, mark_seen, seen);
        for (size_t k = 0; k < FL_ARRAY_LEN(words); k++) {
            bool naive = strstr(folded, words[k]) != NULL;
            mismatches += seen[k] != naive;
            found += naive;
        }
    }
    CHECK_INT(mismatches, 0);
    CHECK(found > 1000);
    fl_prefilter_free(pf);

    /* The shipped any_severity rules' literals are long: their prefilter, which scans every
     * INFO line with a message, is sparse. The full set has 3-byte literals and is not. */
    CHECK(fl_prefilter_stride(rules->pf_any) > 1);
    CHECK_INT((int)fl_prefilter_stride(rules->pf), 1);
}

/* The subject of an empty 5xx request log is built by hand; it must read exactly as the
 * snprintf it replaced, cut the same way, for latencies of every size, near rounding ties
 * (0.0005, 2.0625 is a true tie) and negative zero. */
static void test_http_subject_as_printf(void)
{
    static const double fixed[] = {0,       -0.0,        0.0005,  0.0015,  2.0625, 0.0625,
                                   1.2345,  0.999999,    1e-7,    9.9995,  1e8,    123456789.123,
                                   1e9,     4.5e15,      1e300,   0.1235,  30.0,   0.00049999};
    const char *methods[] = {"GET", "", "PROPFIND-LONG-METHOD"};
    fl_entry e;
    fl_entry_init(&e);
    srand(3);
    int differ = 0;
    char url[700];
    memset(url, 'u', sizeof(url) - 1);
    url[sizeof(url) - 1] = '\0';
    memcpy(url, "https://x.run.app/api/v1/", 25);
    for (int round = 0; round < 20000; round++) {
        double lat = round < (int)FL_ARRAY_LEN(fixed) ? fixed[round]
                     : round % 3 == 0 ? (double)(rand() % 100000) / 1000 + 0.0005
                     : round % 3 == 1 ? (double)rand() / RAND_MAX * 100
                                      : (double)rand() * rand() / 1e3;
        if (round % 17 == 0)
            lat = -1;
        size_t url_len = (size_t)(round % 5 == 0 ? 600 : 25 + rand() % 40);
        fl_entry_clear(&e);
        e.log_kind = FL_LOG_REQUESTS;
        e.http_status = round % 7 == 0 ? 599 : 503;
        e.latency_s = lat;
        const char *method = methods[round % 3];
        fl_entry_set(&e, &e.http_method, method, strlen(method));
        fl_entry_set(&e, &e.http_url, url, url_len);
        size_t caps[] = {2, 9, 40, 600, 4096};
        size_t cap = caps[round % 5];
        char got[4096], want[4096 + 64];
        size_t n = fl_classify_subject(&e, got, cap);
        int w = snprintf(want, cap, "HTTP %d %s %.512s", e.http_status, method, e.http_url);
        if (w > 0 && (size_t)w < cap && lat >= 0)
            w += snprintf(want + w, cap - (size_t)w, " latency=%.3fs", lat);
        size_t wn = FL_MIN((size_t)w, cap - 1);
        want[wn] = '\0';
        if (n != wn || strcmp(got, want) != 0) {
            if (differ++ < 3)
                fprintf(stderr, "subject %zu '%s', want %zu '%s'\n", n, got, wn, want);
        }
    }
    CHECK_INT(differ, 0);
    fl_entry_free(&e);
}

/* fl_route_template as it was written with snprintf, the reference for the hand-built one. */
static void route_reference(const char *url, char *out, size_t cap)
{
    size_t len = 0;
    if (!cap)
        return;
    out[0] = '\0';
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (!p || !*p)
        p = "/";
    size_t end = strcspn(p, "?#");
    int segments = 0;
    for (size_t i = 0; i < end;) {
        if (p[i] == '/') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < end && p[j] != '/')
            j++;
        size_t n = j - i, digits = 0;
        for (size_t k = 0; k < n; k++)
            digits += p[i + k] >= '0' && p[i + k] <= '9';
        bool id = (digits && digits == n) || digits >= 3 || (n >= 16 && digits);
        int w = ++segments > FL_ROUTE_MAX_SEGMENTS ? snprintf(out + len, cap - len, "/...")
                : id ? snprintf(out + len, cap - len, "/<id>")
                     : snprintf(out + len, cap - len, "/%.*s", (int)n, p + i);
        if (w < 0 || (size_t)w >= cap - len) {
            out[len] = '\0';
            return;
        }
        len += (size_t)w;
        if (segments > FL_ROUTE_MAX_SEGMENTS)
            return;
        i = j;
    }
    if (!len)
        snprintf(out, cap, "/");
}

static void test_route_template_as_printf(void)
{
    static const char alphabet[] = "ab/c12?#:x-";
    static const size_t caps[] = {1, 2, 5, 6, 7, 13, 64, 512};
    srand(9);
    int differ = 0;
    for (int round = 0; round < 20000; round++) {
        char url[200];
        size_t len = 0;
        if (round % 2)
            len = (size_t)snprintf(url, sizeof(url), "https://h.run.app");
        size_t extra = (size_t)(rand() % 120);
        for (size_t i = 0; i < extra; i++)
            url[len++] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
        url[len] = '\0';
        size_t cap = caps[round % FL_ARRAY_LEN(caps)];
        char got[512], want[512];
        memset(got, 'G', sizeof(got));
        memset(want, 'G', sizeof(want));
        fl_route_template(url, got, cap);
        route_reference(url, want, cap);
        differ += strcmp(got, want) != 0;
    }
    CHECK_INT(differ, 0);
}

/* Every golden line as an INFO stdout entry (only any_severity rules may classify it, found
 * with their own prefilter) and as an ERROR: the same answer with the prefilter as without. */
static void test_any_severity_prefilter(void)
{
    fl_matcher *with = fl_matcher_new(rules), *without = fl_matcher_new(rules);
    fl_matcher_set_prefilter(without, false);
    fl_entry e;
    fl_entry_init(&e);
    DIR *d = opendir(FL_SOURCE_PATTERNS_DIR "/../../tests/data/rules");
    CHECK(d != NULL);
    int lines = 0, differ = 0, info_matched = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!strstr(de->d_name, ".txt"))
            continue;
        char path[1024], buf[8192];
        snprintf(path, sizeof(path), "%s/../../tests/data/rules/%s", FL_SOURCE_PATTERNS_DIR,
                 de->d_name);
        FILE *f = fopen(path, "r");
        while (f && fgets(buf, sizeof(buf), f)) {
            char *bar = strstr(buf, " | ");
            if (!bar || strncmp(buf, "source", 6) == 0)
                continue;
            char *msg = bar + 3;
            msg[strcspn(msg, "\n")] = '\0';
            for (int sev = 0; sev < 2; sev++) {
                set_entry(&e, sev ? FL_SEV_ERROR : FL_SEV_INFO, FL_LOG_STDOUT, msg);
                const char *a = class_of(with, &e), *b = class_of(without, &e);
                differ += strcmp(a, b) != 0;
                info_matched += !sev && strcmp(a, "-") != 0;
            }
            lines++;
        }
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    CHECK(lines > 100);
    CHECK(info_matched > 0); /* some golden lines are any_severity rules' */
    CHECK_INT(differ, 0);
    fl_entry_free(&e);
    fl_matcher_free(with);
    fl_matcher_free(without);
}

/* A corpus built from the golden lines' shapes plus healthy chatter. */
static const char *const corpus[] = {
    "GET /api/users/123 200 12ms",
    "Error: connect ECONNREFUSED 127.0.0.1:5432",
    "pymongo.errors.ServerSelectionTimeoutError: db:27017: timed out",
    "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00",
    "user 42 logged in",
    "AxiosError: Request failed with status code 401",
    "Error: 8 RESOURCE_EXHAUSTED: Quota exceeded.",
    "x509: certificate signed by unknown authority",
    "connection pool initialized (size=10)",
    "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted.')",
    "java.lang.OutOfMemoryError: Java heap space",
    "Error: 14 UNAVAILABLE: No connection established",
    "Processing job 8812 for tenant acme",
    "ZodError: invalid_type at DATABASE_URL",
};

typedef struct thread_arg {
    const char *answers[FL_ARRAY_LEN(corpus)][50];
    bool ok;
} thread_arg;

static void *classify_corpus(void *p)
{
    thread_arg *a = p;
    fl_matcher *m = fl_matcher_new(rules);
    a->ok = m != NULL;
    for (int round = 0; round < 50 && m; round++) {
        for (size_t i = 0; i < FL_ARRAY_LEN(corpus); i++) {
            fl_match out;
            int rc = fl_classify_text(rules, m, corpus[i], strlen(corpus[i]), &out);
            a->answers[i][round] = rc == 1 ? out.rule->id : "-";
        }
    }
    fl_matcher_free(m);
    return NULL;
}

static void test_threads(void)
{
    static thread_arg one, two, solo;
    pthread_t t1, t2;
    classify_corpus(&solo);
    CHECK(pthread_create(&t1, NULL, classify_corpus, &one) == 0);
    CHECK(pthread_create(&t2, NULL, classify_corpus, &two) == 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK(one.ok && two.ok && solo.ok);
    int diff = 0;
    for (size_t i = 0; i < FL_ARRAY_LEN(corpus); i++)
        for (int r = 0; r < 50; r++)
            diff += strcmp(one.answers[i][r], solo.answers[i][0]) != 0 ||
                    strcmp(two.answers[i][r], solo.answers[i][0]) != 0;
    CHECK_INT(diff, 0);
    CHECK_STR(solo.answers[1][0], "db_unreachable.node");
    CHECK_STR(solo.answers[8][0], "-");
}

static void test_templates(void)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"user 12345 not found", "user <num> not found"},
        {"Order 9f1c2d3e-1a2b-4c3d-8e9f-0123456789ab failed after 3 retries",
         "Order <uuid> failed after <num> retries"},
        {"connect to 10.0.0.12:5432 failed", "connect to <ip>:<num> failed"},
        {"peer 2001:db8::100 reset the stream", "peer <ip> reset the stream"},
        {"cannot open \"/data/a.txt\": no such file", "cannot open <str>: no such file"},
        {"cannot open /var/lib/app/cache/x.db now", "cannot open <path> now"},
        {"mail to jane.doe@example.com bounced", "mail to <email> bounced"},
        {"request took 1532ms and 2.5s total", "request took <dur> and <dur> total"},
        {"GET https://api.example.com/v1/users/77?id=5&token=abc failed",
         "GET https://api.example.com/<path>?id=<val>&token=<val> failed"},
        {"object 0x7ffde4a2b3c0 freed twice", "object <num> freed twice"},
        {"commit deadbeef1234 not in tree", "commit <num> not in tree"},
        /* Loghub's measured causes of splits (issue 12): the sign of a number, hex vs decimal,
         * ctime and syslog dates, host names, restated quantities; and of one wrong merge: a
         * quoted request line swallowed as one string. */
        {"PacketResponder 0 for block blk_-6952295868487656571 terminating",
         "PacketResponder <num> for block blk_<num> terminating"},
        {"error -5 from driver, offset=+12, range 5-3", "error <num> from driver, offset=<num>, "
                                                        "range <num>-<num>"},
        {"vis=40000500 mask=c0000700 token=df0798e", "vis=<num> mask=<num> token=<num>"},
        {"connection from 1.2.3.4 () at Fri Jul  1 07:57:30 2005", "connection from <ip> () at "
                                                                   "<ts>"},
        {"Jun 17 07:07:00 sshd started; Mon Dec 7 2026; Jun 17", "<ts> sshd started; <ts>; Jun "
                                                                 "<num>"},
        {"tcpconn6.tencent.com:443 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS",
         "<host>:<num> open through proxy <host>:<num> HTTPS"},
        {"redis.internal:6379 down, db.example.com slow", "<host>:<num> down, <host> slow"},
        {"org.apache.hadoop.Foo and google.api_core.exceptions.X in os.path.join",
         "org.apache.hadoop.Foo and google.api_core.exceptions.X in os.path.join"},
        {"10.0.0.1 \"GET /v2/servers/detail?x=1 HTTP/1.1\" status: 200",
         "<ip> \"GET <path>?x=<num> HTTP/<num>\" status: <num>"},
        {"close, 1190 bytes (1.16 KB) sent, 815 bytes received",
         "close, <num> bytes sent, <num> bytes received"},
        {"  lots    of\t\tspace  ", "lots of space"},
        {"Prisma error P2024 on user_12345", "Prisma error P2024 on user_<num>"},
        {"session k743d1e1feb222eb6p expired", "session <id> expired"},
        {"Traceback (most recent call last):\n  File \"/app/x.py\", line 3, in <module>\n    f()\n"
         "ValueError: bad value 42",
         "Traceback (most recent call last): | ValueError: bad value <num>"},
        {"Error: boom 7\n    at f (/app/x.js:1:2)\n    at g (/app/y.js:3:4)", "Error: boom <num>"},
        {"revision api-00012-abc failed at 2026-11-20T10:42:07.123Z (10:42:08, 2026-11-21)",
         "revision api-<num>-abc failed at <ts> (<time>, <date>)"},
        {"{\"msg\":\"payment failed\",\"order\":123,\"user\": \"u-9\"}",
         "{\"msg\":<str>,\"order\":<num>,\"user\": <str>}"},
        {"", ""},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        char out[256];
        size_t n = fl_template(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        CHECK_STR(out, cases[i].out);
        CHECK_INT(n, strlen(cases[i].out));
    }

    /* Same error, different variables: one template. Different errors sharing their first
     * words: different templates. */
    static const char *const same[][2] = {
        {"payment 8812 for customer 77 declined by bank", "payment 91 for customer 3 declined by "
                                                          "bank"},
        {"timeout calling 10.0.0.1:8080 after 3000ms", "timeout calling 10.9.8.7:9090 after 12ms"},
        {"Deleting block blk_1781953582842324563 file /mnt/d/blk_1781953582842324563",
         "Deleting block blk_-8898274302731129139 file /mnt/d/blk_-8898274302731129139"},
        {"Traceback (most recent call last):\n  File \"a.py\", line 1\nKeyError: 'user_1'",
         "Traceback (most recent call last):\n  File \"b.py\", line 9\nKeyError: 'user_2'"},
    };
    static const char *const differ[][2] = {
        {"{\"error\":\"card declined\",\"order\":1}", "{\"reason\":\"card declined\",\"sku\":1}"},
        {"failed to process order: card declined", "failed to process order: inventory missing"},
        {"Traceback (most recent call last):\n  File \"a.py\", line 1\nKeyError: 'x'",
         "Traceback (most recent call last):\n  File \"a.py\", line 1\nValueError: 'x'"},
        {"10.0.0.1 \"GET /v2/servers HTTP/1.1\" status: 200",
         "10.0.0.1 \"POST /v2/servers HTTP/1.1\" status: 200"},
        {"Error in handler /api/orders: upstream returned garbage data", "Error in handler "
                                                                         "/api/orders: null "
                                                                         "pointer"},
    };
    char a[512], b[512], fa[17], fb[17];
    for (size_t i = 0; i < FL_ARRAY_LEN(same); i++) {
        size_t na = fl_template(same[i][0], strlen(same[i][0]), a, sizeof(a));
        size_t nb = fl_template(same[i][1], strlen(same[i][1]), b, sizeof(b));
        fl_fingerprint(a, na, fa);
        fl_fingerprint(b, nb, fb);
        CHECK_STR(fa, fb);
    }
    for (size_t i = 0; i < FL_ARRAY_LEN(differ); i++) {
        size_t na = fl_template(differ[i][0], strlen(differ[i][0]), a, sizeof(a));
        size_t nb = fl_template(differ[i][1], strlen(differ[i][1]), b, sizeof(b));
        fl_fingerprint(a, na, fa);
        fl_fingerprint(b, nb, fb);
        CHECK(strcmp(fa, fb) != 0);
    }

    /* Cut templates keep a hash of the rest: long lines differing only at the end differ. */
    char long1[3000], long2[3000], small1[64], small2[64];
    memset(long1, 'w', sizeof(long1) - 1);
    for (size_t i = 5; i < sizeof(long1) - 1; i += 6)
        long1[i] = ' ';
    long1[sizeof(long1) - 1] = '\0';
    memcpy(long2, long1, sizeof(long1));
    long2[sizeof(long2) - 3] = 'z';
    size_t n1 = fl_template(long1, strlen(long1), small1, sizeof(small1));
    size_t n2 = fl_template(long2, strlen(long2), small2, sizeof(small2));
    CHECK(n1 <= sizeof(small1) - 1 && n2 <= sizeof(small2) - 1);
    CHECK(strcmp(small1, small2) != 0);
    CHECK(strstr(small1, " ~") != NULL);

    /* Fingerprints are stable across runs and machines: FNV-1a 64 of the template. */
    fl_fingerprint("user <num> not found", 20, fa);
    CHECK_INT(strlen(fa), 16);
    CHECK_STR(fa, "5286d27842aab55d"); /* computed independently with Python */
    fl_fingerprint("", 0, fa);
    CHECK_STR(fa, "cbf29ce484222325");
}

static void mark_count(void *ctx, uint32_t r)
{
    ((uint32_t *)ctx)[r]++;
}

/* With the shipped rules' literals: the AVX2 scan reports the same (literal, regex) pairs, as
 * often, as the portable scan, on the corpus and on text spliced from corpus pieces. */
static void test_prefilter_simd_same(void)
{
    fl_prefilter *pf = rules->pf;
    CHECK(pf != NULL);
    if (!pf || !fl_prefilter_simd(pf))
        return; /* no AVX2: the portable scan is all there is */
    uint32_t *a = calloc(rules->n_regex + 1, sizeof(*a)), *b = calloc(rules->n_regex + 1, sizeof(*b));
    char text[2048];
    srand(5);
    int differ = 0;
    for (int round = 0; round < 3000; round++) {
        size_t len = 0;
        while (len < (size_t)(rand() % 1500)) {
            const char *piece = corpus[(size_t)rand() % FL_ARRAY_LEN(corpus)];
            size_t from = (size_t)rand() % (strlen(piece) + 1), n = strlen(piece) - from;
            n = FL_MIN(n, sizeof(text) - 1 - len);
            memcpy(text + len, piece + from, n);
            len += n;
            if (len < sizeof(text) - 1)
                text[len++] = " \n\xc3:"[rand() % 4];
        }
        memset(a, 0, (rules->n_regex + 1) * sizeof(*a));
        memset(b, 0, (rules->n_regex + 1) * sizeof(*b));
        fl_prefilter_scan(pf, text, len, mark_count, a);
        fl_prefilter_set_simd(pf, false);
        fl_prefilter_scan(pf, text, len, mark_count, b);
        fl_prefilter_set_simd(pf, true);
        differ += memcmp(a, b, (rules->n_regex + 1) * sizeof(*a)) != 0;
    }
    CHECK_INT(differ, 0);
    free(a);
    free(b);
}

/* Random text made of the characters the maskers care about: no crash, no overrun, output
 * within the cap and NUL-terminated, deterministic. ASan/UBSan builds make this meaningful. */
static void test_random_text(void)
{
    static const char alphabet[] = "\"'`/:.@-_?&=#0123456789abcdefxyzABCDEF \n\t\\()[]<>~%+,";
    static const size_t caps[] = {1, 2, 17, 33, 64, 512};
    fl_matcher *m = fl_matcher_new(rules);
    srand(11);
    int bad = 0;
    for (int round = 0; round < 20000; round++) {
        char in[400], out[512], again[512];
        size_t len = (size_t)(rand() % (int)sizeof(in));
        for (size_t i = 0; i < len; i++)
            in[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
        size_t cap = caps[round % FL_ARRAY_LEN(caps)];
        size_t n = fl_template(in, len, out, cap);
        size_t n2 = fl_template(in, len, again, cap);
        bad += n >= cap || out[n] != '\0' || strlen(out) != n || n != n2 || strcmp(out, again) != 0;
        fl_match match;
        bad += fl_classify_text(rules, m, in, len, &match) < 0;
    }
    CHECK_INT(bad, 0);
    fl_matcher_free(m);
}

int main(void)
{
    char err[512];
    const char *dirs[] = {FL_SOURCE_PATTERNS_DIR};
    if (fl_rules_load(&rules, dirs, 1, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    test_severity_gate();
    test_http_subject_as_printf();
    test_route_template_as_printf();
    test_any_severity_prefilter();
    test_long_messages();
    test_prefilter_vs_naive();
    test_prefilter_sparse_vs_naive();
    test_prefilter_simd_same();
    test_threads();
    test_templates();
    test_random_text();
    fl_rules_free(rules);
    return fl_test_done();
}
