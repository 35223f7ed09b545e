/* The chunked NDJSON path of the parallel reader (issue 15): the reader thread hands out
 * chunks of whole lines (in place from a mapped file, or read/decompressed into the batch) and
 * fl_batch_parse cuts them; reassembly adds the line where each chunk starts. Whatever the
 * chunk boundaries cut through (records, CRLF pairs, blank lines, a line over record_max, a
 * last line without '\n'), the staged path must give what fl_reader_next gives: the same
 * entries with the same file:line, the same warnings in the same order. Checked mapped, with
 * read(2) (no_mmap) and through gzip, against expectations written here too. And a mapped
 * file that another process truncates while it is read gives a warning, not SIGBUS. */
#include "fl_test.h"
#include "ingest_test_util.h"

#define BUF_MAX ((size_t)1 << 30)
#define RECORD_MAX 2000

static bool no_mmap; /* read files with read(2) (fl_reader_opts.no_mmap) */

static void sign_entry(fl_buf *sig, const fl_entry *e)
{
    char line[512];
    snprintf(line, sizeof line, "%s %s:%llu\n", e->insert_id, e->src_file,
             (unsigned long long)e->src_line);
    MUST_OK(fl_buf_addstr(sig, line));
}

static void sign_diag(fl_buf *sig, const fl_diag *d)
{
    char line[1024];
    snprintf(line, sizeof line, "entries %llu malformed %llu oversize %llu bytes %llu files %llu\n",
             (unsigned long long)d->entries, (unsigned long long)d->malformed,
             (unsigned long long)d->oversize, (unsigned long long)d->bytes,
             (unsigned long long)d->files);
    MUST_OK(fl_buf_addstr(sig, line));
    for (size_t i = 0; i < d->n_warnings; i++) {
        snprintf(line, sizeof line, "%d %s:%llu %.200s\n", (int)d->warnings[i].kind,
                 d->warnings[i].file, (unsigned long long)d->warnings[i].line,
                 d->warnings[i].message);
        MUST_OK(fl_buf_addstr(sig, line));
    }
}

static char *read_serial(const char *path, fl_diag *d)
{
    const char *paths[] = {path};
    fl_reader_opts o = {0};
    o.record_max = RECORD_MAX;
    o.no_multiline = true;
    o.no_mmap = no_mmap;
    fl_reader *r = NULL;
    fl_buf sig;
    fl_buf_init(&sig, BUF_MAX);
    CHECK_INT(fl_reader_open(&r, paths, 1, &o, d), 0);
    fl_entry e;
    fl_entry_init(&e);
    while (r && fl_reader_next(r, &e) == 1)
        sign_entry(&sig, &e);
    fl_entry_free(&e);
    fl_reader_free(r);
    sign_diag(&sig, d);
    return fl_buf_detach(&sig);
}

static void sign_each(void *sig, const fl_entry *e)
{
    sign_entry(sig, e);
}

/* The staged path (tu_read_staged): fill / parse / reassemble, batches parsed out of order. */
static char *read_staged(const char *path, fl_diag *d, size_t *batches)
{
    const char *paths[] = {path};
    fl_reader_opts o = {0};
    o.record_max = RECORD_MAX;
    o.no_multiline = true;
    o.no_mmap = no_mmap;
    fl_reader *r = NULL;
    fl_buf sig;
    fl_buf_init(&sig, BUF_MAX);
    CHECK_INT(fl_reader_open(&r, paths, 1, &o, d), 0);
    long n = tu_read_staged(r, sign_each, &sig, NULL);
    CHECK(n >= 0);
    *batches = n > 0 ? (size_t)n : 0;
    fl_reader_free(r);
    sign_diag(&sig, d);
    return fl_buf_detach(&sig);
}

/* What the input holds, line by line, as this test wrote it. */
typedef struct expect {
    fl_buf entries; /* "ID FILE:LINE\n" */
    uint64_t malformed_line[8], oversize_line[8];
    int n_malformed, n_oversize;
} expect;

static void put(fl_buf *out, const char *s)
{
    MUST_OK(fl_buf_addstr(out, s));
}

/* About 1.3 MB of lines of every length from 20 to ~1,300 bytes, so chunk boundaries (every
 * 256 KiB) fall inside records, between '\r' and '\n', on blank lines. Mixed in: blank and
 * whitespace-only lines, CRLF, indented records, invalid JSON, lines over RECORD_MAX (one
 * of 300 KB, longer than a chunk), and a last line without '\n'. */
static void make_input(fl_buf *out, expect *x, const char *path)
{
    char rec[4096];
    uint64_t line = 1;
    for (int i = 0; out->len < 1300 * 1024; i++, line++) {
        if (i % 101 == 7) {
            put(out, i % 2 ? "\n" : "  \t \r\n");
            continue;
        }
        if (i % 151 == 11 && x->n_malformed < 7) {
            put(out, "{\"insertId\": \"bad\", \n");
            x->malformed_line[x->n_malformed++] = line;
            continue;
        }
        if ((i == 300 || i == 1200) && x->n_oversize < 7) {
            size_t n = i == 300 ? 300 * 1024 : RECORD_MAX + 1;
            put(out, "{\"insertId\":\"big\",\"textPayload\":\"");
            for (size_t k = 0; k < n; k++)
                MUST_OK(fl_buf_addc(out, 'z'));
            put(out, "\"}\n");
            x->oversize_line[x->n_oversize++] = line;
            continue;
        }
        int pad = (i * 37) % 1300;
        snprintf(rec, sizeof rec, "%s{\"insertId\":\"r%d\",\"textPayload\":\"%.*s\"}%s",
                 i % 13 == 0 ? "   " : "", i, pad, (const char *)memset(rec + 2048, 'p', 1300),
                 i % 3 == 0 ? "\r\n" : "\n");
        put(out, rec);
        snprintf(rec, sizeof rec, "r%d %s:%llu\n", i, path, (unsigned long long)line);
        put(&x->entries, rec);
    }
    /* The last line has no '\n'. */
    snprintf(rec, sizeof rec, "{\"insertId\":\"last\"}");
    put(out, rec);
    snprintf(rec, sizeof rec, "last %s:%llu\n", path, (unsigned long long)line);
    put(&x->entries, rec);
}

/* The staged result holds exactly the entries and warnings the input was written with. */
static void check_expected(const char *sig, const expect *x, const char *path, const char *what)
{
    size_t n = x->entries.len;
    bool ok = strncmp(sig, x->entries.data, n) == 0 && strncmp(sig + n, "entries ", 8) == 0;
    for (int k = 0; k < x->n_malformed; k++) {
        char want[700];
        snprintf(want, sizeof want, "%d %s:%llu %s:%llu: ", (int)FL_WARN_MALFORMED, path,
                 (unsigned long long)x->malformed_line[k], path,
                 (unsigned long long)x->malformed_line[k]);
        ok = ok && strstr(sig, want);
    }
    for (int k = 0; k < x->n_oversize; k++) {
        char want[700];
        snprintf(want, sizeof want, "%d %s:%llu %s:%llu: record larger than %d bytes skipped",
                 (int)FL_WARN_OVERSIZE, path, (unsigned long long)x->oversize_line[k], path,
                 (unsigned long long)x->oversize_line[k], RECORD_MAX);
        ok = ok && strstr(sig, want);
    }
    if (!ok)
        fprintf(stderr, "%s: not what was written:\n%.3000s\n", what, sig + FL_MIN(n, strlen(sig)));
    CHECK(ok);
}

static void compare(const char *path, const char *what, const expect *x)
{
    fl_diag d1, d2;
    fl_diag_init(&d1);
    fl_diag_init(&d2);
    size_t batches = 0;
    char *a = read_serial(path, &d1);
    char *b = read_staged(path, &d2, &batches);
    CHECK(batches >= 4);
    CHECK(tu_same(what, a, b));
    if (x)
        check_expected(b, x, path, what);
    fl_free(a);
    fl_free(b);
    fl_diag_free(&d1);
    fl_diag_free(&d2);
}

static void test_boundaries(void)
{
    const char *plain = strdup(tu_path("lines.ndjson")), *gz = strdup(tu_path("lines.ndjson.gz"));
    fl_buf in;
    fl_buf_init(&in, BUF_MAX);
    expect x, xg;
    memset(&x, 0, sizeof x);
    memset(&xg, 0, sizeof xg);
    fl_buf_init(&x.entries, BUF_MAX);
    fl_buf_init(&xg.entries, BUF_MAX);
    make_input(&in, &x, plain);
    tu_write(plain, in.data, in.len);
    fl_buf_reset(&in);
    make_input(&in, &xg, gz);
    size_t zn;
    unsigned char *z = tu_gzip(in.data, in.len, &zn);
    tu_write(gz, z, zn);
    free(z);
    CHECK_INT(x.n_malformed, 7);
    CHECK_INT(x.n_oversize, 2);

    compare(plain, "mapped", &x);
    no_mmap = true;
    compare(plain, "read(2)", &x);
    no_mmap = false;
    compare(gz, "gzip", &xg);

    fl_buf_free(&in);
    fl_buf_free(&x.entries);
    fl_buf_free(&xg.entries);
    free((void *)plain);
    free((void *)gz);
}

/* Thousands of short records per chunk: a batch grows past FL_BATCH_RECORDS and back. */
static void test_short_lines(void)
{
    const char *path = strdup(tu_path("short.ndjson"));
    fl_buf in;
    fl_buf_init(&in, BUF_MAX);
    char rec[64];
    for (int i = 0; in.len < 1200 * 1024; i++) {
        snprintf(rec, sizeof rec, i % 1000 == 999 ? "nope\n" : "{\"insertId\":\"%d\"}\n", i);
        put(&in, rec);
    }
    tu_write(path, in.data, in.len);
    compare(path, "short lines", NULL);
    no_mmap = true;
    compare(path, "short lines, read(2)", NULL);
    no_mmap = false;
    fl_buf_free(&in);
    free((void *)path);
}

/* Another process truncates a mapped file while it is read: the run goes on and says so. */
static void test_truncated_while_read(void)
{
    const char *path = strdup(tu_path("shrinks.ndjson"));
    fl_buf in;
    fl_buf_init(&in, BUF_MAX);
    char rec[128];
    for (int i = 0; in.len < 4 << 20; i++) {
        snprintf(rec, sizeof rec, "{\"insertId\":\"%d\",\"textPayload\":\"%080d\"}\n", i, i);
        put(&in, rec);
    }
    const char *paths[] = {path};
    fl_reader_opts o = {0};
    o.no_multiline = true;
    for (int staged = 0; staged < 2; staged++) {
        tu_write(path, in.data, in.len);
        fl_diag d;
        fl_diag_init(&d);
        fl_reader *r = NULL;
        CHECK_INT(fl_reader_open(&r, paths, 1, &o, &d), 0);
        size_t n = 0;
        if (!staged) {
            fl_entry e;
            fl_entry_init(&e);
            while (fl_reader_next(r, &e) == 1)
                if (++n == 100)
                    CHECK_INT(truncate(path, 1 << 20), 0);
            fl_entry_free(&e);
        } else {
            fl_batch *b;
            CHECK_INT(fl_batch_new(&b), 0);
            int got;
            while ((got = fl_reader_fill(r, b)) > 0) {
                if (n++ == 1)
                    CHECK_INT(truncate(path, 1 << 20), 0);
                CHECK_INT(fl_batch_parse(b), 0);
                CHECK_INT(fl_reader_reassemble(r, b, false), 0);
            }
            CHECK_INT(fl_reader_reassemble(r, b, true), 0);
            fl_batch_free(b);
        }
        fl_reader_free(r);
        CHECK(tu_has_warning(&d, FL_WARN_TRUNCATED, "shrank while it was read"));
        CHECK(d.entries < (4 << 20) / 100 && d.entries >= 1000);
        CHECK_INT(fl_diag_exit_status(&d), 3);
        fl_diag_free(&d);
    }
    fl_buf_free(&in);
    free((void *)path);
}

int main(void)
{
    test_boundaries();
    test_short_lines();
    test_truncated_while_read();
    tu_cleanup();
    return fl_test_done();
}
