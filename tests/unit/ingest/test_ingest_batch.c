/* The parallel reading stages (fl_reader_fill / fl_batch_parse / fl_reader_reassemble) give
 * exactly what fl_reader_next gives: the same entries in the same order (stack traces that
 * straddle batch boundaries joined the same way), the same warnings in the same order with the
 * same file:line, the same counts. And the whole pipeline gives the same report JSON for 1 to
 * 4 threads on NDJSON, gcloud array, .gz and .zst input. */
#include "fl_pipeline.h"
#include "fl_reports.h"
#include "fl_test.h"
#include "ingest_test_util.h"

#define BUF_MAX ((size_t)1 << 30)
#define N_ROUNDS 700 /* ~2900 records: several batches of FL_BATCH_RECORDS */

static void add(fl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(fl_buf *b, const char *fmt, ...)
{
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    MUST_OK(fl_buf_addstr(b, line));
}

static void entry(fl_buf *b, int sec, int usec, const char *log, const char *inst, const char *sev,
                  const char *text)
{
    add(b,
        "{\"insertId\":\"i%d-%d\",\"timestamp\":\"2026-11-20T10:%02d:%02d.%06dZ\",\"logName\":"
        "\"projects/p/logs/run.googleapis.com%%2F%s\",\"resource\":{\"type\":"
        "\"cloud_run_revision\",\"labels\":{\"service_name\":\"api\",\"revision_name\":"
        "\"api-00001-abc\"}},\"labels\":{\"instanceId\":\"%s\"},\"severity\":\"%s\","
        "\"textPayload\":\"%s\"}",
        sec, usec, sec / 60 % 60, sec % 60, usec, log, inst, sev, text);
}

/* Entries oldest first, one per element of out (NUL-separated in *list, count returned):
 * requests, app lines, Python and Java traces (two instances interleaved), each round a
 * little different so that traces land on every position relative to batch boundaries. */
static size_t make_entries(fl_buf *list)
{
    size_t n = 0;
    fl_buf b;
    fl_buf_init(&b, BUF_MAX);
#define PUT()                                                                                      \
    do {                                                                                           \
        MUST_OK(fl_buf_add(list, b.data, b.len + 1));                                              \
        fl_buf_reset(&b);                                                                          \
        n++;                                                                                       \
    } while (0)
    for (int r = 0; r < N_ROUNDS; r++) {
        int sec = r * 2;
        for (int k = 0; k < r % 5; k++) {
            entry(&b, sec, k, "stdout", "inst-a", "INFO", "GET /api/v1/orders 200");
            PUT();
        }
        if (r % 3 == 0) {
            entry(&b, sec, 100, "stderr", "inst-a", "ERROR", "Traceback (most recent call last):");
            PUT();
            entry(&b, sec, 101, "stderr", "inst-a", "ERROR",
                  "  File \\\"/app/db.py\\\", line 12, in connect");
            PUT();
            entry(&b, sec, 102, "stderr", "inst-a", "ERROR",
                  "pymongo.errors.ServerSelectionTimeoutError: 10.0.0.5:27017: timed out");
            PUT();
        }
        if (r % 4 == 1) { /* two instances print their traces at the same time */
            entry(&b, sec, 200, "stderr", "inst-b", "ERROR",
                  "java.lang.IllegalStateException: pool exhausted");
            PUT();
            entry(&b, sec, 201, "stderr", "inst-c", "ERROR",
                  "java.lang.IllegalStateException: pool exhausted");
            PUT();
            entry(&b, sec, 202, "stderr", "inst-b", "ERROR", "\\tat com.x.Pool.get(Pool.java:42)");
            PUT();
            entry(&b, sec, 203, "stderr", "inst-c", "ERROR", "\\tat com.x.Pool.get(Pool.java:42)");
            PUT();
            entry(&b, sec, 204, "stderr", "inst-b", "ERROR", "\\tat com.x.Api.run(Api.java:7)");
            PUT();
        }
        entry(&b, sec + 1, 0, "requests", "inst-a", r % 7 == 0 ? "ERROR" : "INFO", "");
        PUT();
    }
#undef PUT
    fl_buf_free(&b);
    return n;
}

/* NDJSON with a few bad lines, blank lines and one oversize line mixed in. */
static void write_ndjson(const char *path, const fl_buf *list, size_t n, bool damage)
{
    fl_buf out;
    fl_buf_init(&out, BUF_MAX);
    const char *p = list->data;
    for (size_t i = 0; i < n; i++, p += strlen(p) + 1) {
        if (damage && i % 211 == 5)
            MUST_OK(fl_buf_addstr(&out, "{\"timestamp\": broken\n"));
        if (damage && i % 307 == 9)
            MUST_OK(fl_buf_addstr(&out, "\n   \n"));
        if (damage && i == 1500) {
            for (int k = 0; k < 6000; k++)
                MUST_OK(fl_buf_addc(&out, 'x'));
            MUST_OK(fl_buf_addc(&out, '\n'));
        }
        MUST_OK(fl_buf_addstr(&out, p));
        MUST_OK(fl_buf_addc(&out, '\n'));
    }
    tu_write(path, out.data, out.len);
    fl_buf_free(&out);
}

/* A gcloud array: newest first, one element per entry; with damage, some elements break the
 * grammar (the reader parses elements where they lie, and one that fails goes to a worker as
 * bytes: its warning must keep its place and line) and some need a repair. */
static void write_array(const char *path, const fl_buf *list, size_t n, bool damage)
{
    const char **v = calloc(n, sizeof(*v));
    const char *p = list->data;
    for (size_t i = 0; i < n; i++, p += strlen(p) + 1)
        v[i] = p;
    fl_buf out;
    fl_buf_init(&out, BUF_MAX);
    MUST_OK(fl_buf_addstr(&out, "[\n"));
    for (size_t i = n; i-- > 0;) {
        MUST_OK(fl_buf_addstr(&out, "  "));
        if (damage && i % 211 == 5)
            MUST_OK(fl_buf_addstr(&out, "{\"timestamp\" \"2026-03-28T01:36:35Z\"},\n  "));
        if (damage && i % 173 == 11)
            MUST_OK(fl_buf_addstr(&out, "{\"timestamp\": \"yesterday\", \"textPayload\": "
                                        "\"panic: runtime error\",\n    \"severity\": "
                                        "\"ERROR\"},\n  "));
        MUST_OK(fl_buf_addstr(&out, v[i]));
        MUST_OK(fl_buf_addstr(&out, i ? ",\n" : "\n"));
    }
    MUST_OK(fl_buf_addstr(&out, "]\n"));
    tu_write(path, out.data, out.len);
    fl_buf_free(&out);
    free(v);
}

static void write_compressed(const char *path, const char *from, bool zstd, size_t cut)
{
    size_t n, m;
    char *data = tu_read_file(from, &n);
    unsigned char *z = zstd ? tu_zstd(data, n, &m) : tu_gzip(data, n, &m);
    tu_write(path, z, cut && cut < m ? cut : m);
    free(z);
    free(data);
}

static void sign_entry(fl_buf *sig, const fl_entry *e)
{
    add(sig, "%lld|%d|%d|%s|%s|%s|%d|%s:%llu|%s\n", (long long)e->ts, e->severity, (int)e->log_kind,
        e->service, e->revision, e->instance_id, e->http_status, e->src_file,
        (unsigned long long)e->src_line, e->message);
}

static void sign_diag(fl_buf *sig, const fl_diag *d)
{
    add(sig, "entries %llu malformed %llu oversize %llu bytes %llu files %llu unreadable %llu "
             "truncated %zu dropped %llu\n",
        (unsigned long long)d->entries, (unsigned long long)d->malformed,
        (unsigned long long)d->oversize, (unsigned long long)d->bytes,
        (unsigned long long)d->files, (unsigned long long)d->unreadable, d->n_truncated,
        (unsigned long long)d->warnings_dropped);
    for (size_t i = 0; i < d->n_warnings; i++)
        add(sig, "%d %s:%llu %s\n", (int)d->warnings[i].kind, d->warnings[i].file,
            (unsigned long long)d->warnings[i].line, d->warnings[i].message);
}

/* What fl_reader_next gives. */
static char *read_serial(const char *const *paths, size_t n, const fl_reader_opts *o)
{
    fl_diag d;
    fl_diag_init(&d);
    fl_reader *r = NULL;
    fl_buf sig;
    fl_buf_init(&sig, BUF_MAX);
    CHECK_INT(fl_reader_open(&r, paths, n, o, &d), 0);
    fl_entry e;
    fl_entry_init(&e);
    int rc;
    while (r && (rc = fl_reader_next(r, &e)) == 1)
        sign_entry(&sig, &e);
    fl_entry_free(&e);
    fl_reader_free(r);
    sign_diag(&sig, &d);
    fl_diag_free(&d);
    return fl_buf_detach(&sig);
}

static void sign_each(void *sig, const fl_entry *e)
{
    sign_entry(sig, e);
}

/* The staged path (tu_read_staged), with batches parsed out of order (as parallel workers
 * would) and reassembled in order. */
static char *read_staged(const char *const *paths, size_t n, const fl_reader_opts *o)
{
    fl_diag d;
    fl_diag_init(&d);
    fl_reader *r = NULL;
    fl_buf sig;
    fl_buf_init(&sig, BUF_MAX);
    CHECK_INT(fl_reader_open(&r, paths, n, o, &d), 0);
    size_t final_count = 0;
    long batches = tu_read_staged(r, sign_each, &sig, &final_count);
    CHECK_INT(final_count <= 8 * 256, 1);
    CHECK(batches > 1);
    fl_reader_free(r);
    sign_diag(&sig, &d);
    fl_diag_free(&d);
    return fl_buf_detach(&sig);
}

static void test_stages(const char *const *paths, size_t n, const char *what)
{
    fl_reader_opts o = {4096, false, false, 0, 0, NULL, NULL, false};
    for (int variant = 0; variant < 3; variant++) {
        o.no_multiline = variant == 1;
        o.slow_json = variant == 2;
        char *a = read_serial(paths, n, &o);
        char *b = read_staged(paths, n, &o);
        char name[128];
        snprintf(name, sizeof name, "%s (variant %d)", what, variant);
        CHECK(tu_same(name, a, b));
        CHECK(strstr(a, "Traceback (most recent call last):\n  File") != NULL || o.no_multiline);
        fl_free(a);
        fl_free(b);
    }
}

static char *report_json(const char *const *paths, size_t n, int threads)
{
    fl_pipeline_opts o;
    memset(&o, 0, sizeof o);
    o.threads = threads;
    o.reader.record_max = 4096;
    fl_diag d;
    fl_diag_init(&d);
    fl_result *res = NULL;
    char err[512] = "";
    CHECK_INT(fl_pipeline_run(paths, n, &o, &d, &res, err, sizeof err), 0);
    char *text = NULL;
    size_t len = 0;
    if (res) {
        FILE *f = open_memstream(&text, &len);
        fl_report_opts ro = {true, false, 100, NULL, NULL};
        fl_report_write("json", res, &ro, f);
        fclose(f);
        fl_result_free(res);
    }
    fl_diag_free(&d);
    return text;
}

/* generated_by carries the version and time; everything else must match byte for byte. */
static void drop_generated_by(char *json)
{
    char *p = json ? strstr(json, "\"generated_by\"") : NULL;
    if (!p)
        return;
    char *q = strchr(p, '\n');
    if (q)
        memmove(p, q, strlen(q) + 1);
}

static void test_threads(const char *const *paths, size_t n, const char *what)
{
    char *first = report_json(paths, n, 1);
    drop_generated_by(first);
    CHECK(first && strstr(first, "\"causes\"") != NULL);
    for (int t = 2; t <= 4 && first; t++) {
        char *json = report_json(paths, n, t);
        drop_generated_by(json);
        char name[128];
        snprintf(name, sizeof name, "%s report, %d threads vs 1", what, t);
        CHECK(tu_same(name, first, json ? json : ""));
        free(json);
    }
    free(first);
}

/* The Nth allocation fails, for every N the staged path reaches on a small mixed input: it
 * ends with FL_ENOMEM or completes, never crashes, and (under ASan) never leaks. */
static void test_alloc_failure(const char *const *paths, size_t n)
{
    int completed = 0;
    for (long k = 0; k < 600; k++) {
        fl_diag d;
        fl_diag_init(&d);
        fl_alloc_fail_after(k);
        fl_reader *r = NULL;
        fl_batch *b = NULL;
        int rc = fl_reader_open(&r, paths, n, NULL, &d);
        if (rc == 0)
            rc = fl_batch_new(&b);
        while (rc == 0) {
            int got = fl_reader_fill(r, b);
            if (got < 0) {
                rc = got;
                break;
            }
            if ((rc = fl_batch_parse(b)) == 0)
                rc = fl_reader_reassemble(r, b, got == 0);
            if (got == 0)
                break;
        }
        fl_batch_free(b);
        fl_reader_free(r);
        fl_alloc_fail_after(-1);
        CHECK(rc == 0 || rc == FL_ENOMEM);
        completed += rc == 0;
        fl_diag_free(&d);
    }
    CHECK(completed > 0);
}

int main(void)
{
    fl_buf list;
    fl_buf_init(&list, BUF_MAX);
    size_t n = make_entries(&list);
    CHECK(n > 3 * FL_BATCH_RECORDS);

    const char *nd = strdup(tu_path("a.ndjson"));
    const char *clean = strdup(tu_path("clean.ndjson"));
    const char *arr = strdup(tu_path("b.json"));
    const char *bad_arr = strdup(tu_path("f.json"));
    const char *gz = strdup(tu_path("c.ndjson.gz"));
    const char *zst = strdup(tu_path("d.ndjson.zst"));
    const char *cut = strdup(tu_path("e.ndjson.gz"));
    write_ndjson(nd, &list, n, true);
    write_ndjson(clean, &list, n, false);
    write_array(arr, &list, n, false);
    write_array(bad_arr, &list, n, true);
    write_compressed(gz, clean, false, 0);
    write_compressed(zst, clean, true, 0);
    write_compressed(cut, nd, false, 20000); /* ends early: a truncation warning */

    const char *one[][1] = {{nd}, {arr}, {gz}, {zst}};
    const char *names[] = {"ndjson", "array", "gz", "zst"};
    for (int i = 0; i < 4; i++)
        test_stages(one[i], 1, names[i]);
    test_stages(&bad_arr, 1, "damaged array");
    const char *all[] = {nd, cut, arr, zst};
    test_stages(all, 4, "four inputs");

    const char *clean_sets[][1] = {{clean}, {arr}, {gz}, {zst}};
    for (int i = 0; i < 4; i++)
        test_threads(clean_sets[i], 1, names[i]);
    test_threads(all, 4, "four inputs");

    fl_buf few;
    fl_buf_init(&few, BUF_MAX);
    const char *p = list.data;
    for (size_t i = 0; i < 40; i++, p += strlen(p) + 1) {
        MUST_OK(fl_buf_addstr(&few, p));
        MUST_OK(fl_buf_addstr(&few, i % 13 == 3 ? "\nnot json\n" : "\n"));
    }
    const char *small = strdup(tu_path("small.ndjson")), *small_gz = strdup(tu_path("small.gz"));
    tu_write(small, few.data, few.len);
    write_compressed(small_gz, small, false, 0);
    const char *smalls[] = {small, small_gz};
    test_alloc_failure(smalls, 2);
    fl_buf_free(&few);
    free((void *)small);
    free((void *)small_gz);
    /* Every format holds the same entries: the same report. */
    char *a = report_json(clean_sets[0], 1, 2), *b = report_json(clean_sets[1], 1, 3);
    drop_generated_by(a);
    drop_generated_by(b);
    /* The input section names the file and counts bytes: compare the rest. */
    char *ia = a ? strstr(a, "\"input\"") : NULL, *ib = b ? strstr(b, "\"input\"") : NULL;
    char *wa = ia ? strstr(ia, "\"window\"") : NULL, *wb = ib ? strstr(ib, "\"window\"") : NULL;
    CHECK(wa && wb);
    if (wa && wb) {
        memmove(ia, wa, strlen(wa) + 1);
        memmove(ib, wb, strlen(wb) + 1);
        CHECK(tu_same("ndjson vs array report", a, b));
    }
    free(a);
    free(b);

    fl_buf_free(&list);
    free((void *)nd);
    free((void *)clean);
    free((void *)arr);
    free((void *)bad_arr);
    free((void *)gz);
    free((void *)zst);
    free((void *)cut);
    tu_cleanup();
    return fl_test_done();
}
