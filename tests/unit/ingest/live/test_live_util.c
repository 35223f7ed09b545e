/* The helpers behind every live source: de-duplication memory, line splitting, atomic
 * checkpoint writes and log rate limiting. */
#include <stdlib.h>
#include <unistd.h>

#include "fl_live.h"
#include "fl_test.h"

static void test_dedup(void)
{
    fl_dedup *d = NULL;
    CHECK_INT(fl_dedup_new(&d, 100), 0);
    CHECK(d != NULL);
    /* Every key is new once, a duplicate the second time. */
    for (uint64_t k = 0; k < 100; k++)
        CHECK(!fl_dedup_check_add(d, fl_hash64(&k, sizeof(k), FL_HASH_SEED)));
    for (uint64_t k = 0; k < 100; k++)
        CHECK(fl_dedup_check_add(d, fl_hash64(&k, sizeof(k), FL_HASH_SEED)));
    CHECK_INT(fl_dedup_count(d), 100);
    /* Past capacity the oldest keys are forgotten first, the newest kept. */
    for (uint64_t k = 100; k < 150; k++)
        CHECK(!fl_dedup_check_add(d, fl_hash64(&k, sizeof(k), FL_HASH_SEED)));
    CHECK_INT(fl_dedup_count(d), 100);
    int kept_new = 0, kept_old = 0;
    for (uint64_t k = 100; k < 150; k++)
        kept_new += fl_dedup_check_add(d, fl_hash64(&k, sizeof(k), FL_HASH_SEED));
    for (uint64_t k = 50; k < 100; k++)
        kept_old += fl_dedup_check_add(d, fl_hash64(&k, sizeof(k), FL_HASH_SEED));
    CHECK_INT(kept_new, 50);
    CHECK_INT(kept_old, 50);
    uint64_t zero = 0;
    CHECK(!fl_dedup_check_add(d, zero));
    CHECK(fl_dedup_check_add(d, zero));
    fl_dedup_free(d);
    fl_dedup_free(NULL);

    /* Heavy churn through a small table keeps every recent key findable. */
    CHECK_INT(fl_dedup_new(&d, 64), 0);
    for (uint64_t k = 1; k < 100000; k++) {
        CHECK(!fl_dedup_check_add(d, k * 7919));
        if (k > 10 && !fl_dedup_check_add(d, (k - 10) * 7919)) {
            CHECK(!"recent key forgotten");
            break;
        }
    }
    fl_dedup_free(d);
}

/* The tag remembers who delivered a key first (tail: the source, or the journal). */
static void test_dedup_tags(void)
{
    fl_dedup *d;
    CHECK_INT(fl_dedup_new(&d, 16), 0); /* the smallest capacity */
    uint64_t k = fl_hash64("ins-1", 5, FL_HASH_SEED);
    CHECK_INT(fl_dedup_check_add_tag(d, k, 3), -1);
    CHECK_INT(fl_dedup_check_add_tag(d, k, 7), 3); /* first seen with tag 3 */
    CHECK(fl_dedup_check_add(d, k));
    CHECK_INT(fl_dedup_check_add_tag(d, k ^ 5, 9), 3); /* the low bits are the tag's */
    /* Eviction forgets tagged keys like any other. */
    for (uint64_t i = 1; i <= 16; i++)
        CHECK_INT(fl_dedup_check_add_tag(d, i << 20, FL_DEDUP_TAG_MAX), -1);
    CHECK_INT(fl_dedup_check_add_tag(d, k, 1), -1);
    CHECK_INT(fl_dedup_check_add_tag(d, (uint64_t)16 << 20, 0), FL_DEDUP_TAG_MAX);
    CHECK_INT(fl_dedup_count(d), 16);
    fl_dedup_free(d);
}

struct line_sink {
    char lines[8][32];
    int n;
    int oversize;
};

static int on_line(void *arg, const char *line, size_t len, bool oversize)
{
    struct line_sink *s = arg;
    if (oversize) {
        s->oversize++;
        return 0;
    }
    if (s->n < 8)
        snprintf(s->lines[s->n++], 32, "%.*s", (int)len, line);
    return 0;
}

static void test_lines(void)
{
    static const struct {
        const char *chunks[4];
        int n_lines;
        const char *last;
        int oversize;
        size_t pending;
    } cases[] = {
        {{"a\nb\n", NULL}, 2, "b", 0, 0},
        {{"ab", "c\nde", NULL}, 1, "abc", 0, 2},
        {{"x\r\n", NULL}, 1, "x", 0, 0},
        {{"0123456789ABCDEF\nok\n", NULL}, 1, "ok", 1, 0},
        {{"0123456789", "ABCDEFGH", "\nz\n", NULL}, 1, "z", 1, 0},
        {{"\n", NULL}, 1, "", 0, 0},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        fl_lines l;
        fl_lines_init(&l, 10);
        struct line_sink s = {0};
        for (int c = 0; cases[i].chunks[c]; c++)
            CHECK_INT(
                fl_lines_feed(&l, cases[i].chunks[c], strlen(cases[i].chunks[c]), on_line, &s), 0);
        CHECK_INT(s.n, cases[i].n_lines);
        CHECK_STR(s.lines[s.n - 1], cases[i].last);
        CHECK_INT(s.oversize, cases[i].oversize);
        CHECK_INT(l.pending, cases[i].pending);
        fl_lines_free(&l);
    }
}

static void test_objects(void)
{
    /* Whatever the layout, the same objects come out; junk lines come out whole. */
    static const struct {
        const char *chunks[4];
        int n;
        const char *first, *last;
        int oversize;
    } cases[] = {
        {{"{\"a\":1}\n{\"b\":2}\n", NULL}, 2, "{\"a\":1}", "{\"b\":2}", 0},
        {{"[\n  {\"a\": {\"x\": [1]}},\n  {\"b\": \"}\"}\n]\n", NULL},
         2,
         "{\"a\": {\"x\": [1]}}",
         "{\"b\": \"}\"}",
         0},
        {{"[{\"a\":\"q\\\"", "}\"},", "{\"c\":3}]", NULL}, 2, "{\"a\":\"q\\\"}\"}", "{\"c\":3}", 0},
        {{"{}{}", NULL}, 2, "{}", "{}", 0},
        {{"oops not json\n{\"a\":1}", NULL}, 2, "oops not json", "{\"a\":1}", 0},
        {{"{\"big\":\"0123456789012345678\"}\n{}", NULL}, 1, "{}", "{}", 1},
        /* A broken NDJSON line (cut inside a string) ends at its newline: the next line is
         * still a record of its own, as analyze reads it. */
        {{"{\"a\":\"cut\n{\"b\":", "2}\n", NULL}, 2, "{\"a\":\"cut", "{\"b\":2}", 0},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        fl_objects o;
        fl_objects_init(&o, 20);
        struct line_sink s = {0};
        for (int c = 0; cases[i].chunks[c]; c++)
            CHECK_INT(
                fl_objects_feed(&o, cases[i].chunks[c], strlen(cases[i].chunks[c]), on_line, &s),
                0);
        CHECK_INT(fl_objects_finish(&o, on_line, &s), 0);
        CHECK_INT(s.n, cases[i].n);
        CHECK_STR(s.lines[0], cases[i].first);
        CHECK_STR(s.lines[s.n - 1], cases[i].last);
        CHECK_INT(s.oversize, cases[i].oversize);
        fl_objects_free(&o);
    }
    /* A record cut off by the end of input is handed over (and will be malformed). */
    fl_objects o;
    fl_objects_init(&o, 100);
    struct line_sink s = {0};
    fl_objects_feed(&o, "{\"a\":", 6, on_line, &s);
    CHECK_INT(s.n, 0);
    fl_objects_finish(&o, on_line, &s);
    CHECK_INT(s.n, 1);
    CHECK_STR(s.lines[0], "{\"a\":");
    fl_objects_free(&o);
}

static void test_atomic_write(void)
{
    char dir[] = "/tmp/fl_live_util_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof(path), "%s/ckpt.json", dir);
    CHECK_INT(fl_write_atomic(path, "{\"a\":1}", 7), 0);
    CHECK_INT(fl_write_atomic(path, "{\"a\":2}", 7), 0);
    char *data;
    size_t len;
    CHECK_INT(fl_read_small_file(path, 1024, &data, &len), 0);
    CHECK_STR(data, "{\"a\":2}");
    fl_free(data);
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0); /* nothing left behind */
    CHECK_INT(fl_read_small_file(tmp, 1024, &data, &len), FL_ENOTFOUND);
    CHECK_INT(fl_write_atomic("/nonexistent-dir/x", "y", 1), FL_EIO);
    unlink(path);
    rmdir(dir);
}

static void test_ratelimit(void)
{
    fl_ratelimit r = {.period_ms = 1000};
    CHECK(fl_ratelimit_allow(&r, 5000));
    CHECK(!fl_ratelimit_allow(&r, 5500));
    CHECK(!fl_ratelimit_allow(&r, 5999));
    CHECK_INT(r.suppressed, 2);
    CHECK(fl_ratelimit_allow(&r, 6000));
}

int main(void)
{
    test_dedup();
    test_dedup_tags();
    test_lines();
    test_objects();
    test_atomic_write();
    test_ratelimit();
    return fl_test_done();
}
