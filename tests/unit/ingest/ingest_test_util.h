/* Helpers shared by the ingest unit tests: temp directories, writing fixtures (plain, gzip,
 * zstd, truncated), and reading a whole input through fl_reader. */
#ifndef INGEST_TEST_UTIL_H
#define INGEST_TEST_UTIL_H

#include "fl_ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#ifndef FL_INGEST_DATA
#define FL_INGEST_DATA "tests/data/ingest"
#endif

static char tu_dir[256];

static inline const char *tu_tmpdir(void)
{
    if (!tu_dir[0]) {
        snprintf(tu_dir, sizeof(tu_dir), "/tmp/fl_ingest_test_XXXXXX");
        if (!mkdtemp(tu_dir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return tu_dir;
}

static inline void tu_cleanup(void)
{
    if (tu_dir[0]) {
        char cmd[320];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tu_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cleanup of %s failed\n", tu_dir);
    }
}

/* Path of name inside the temp dir (static buffer rotation: 8 at a time). */
static inline const char *tu_path(const char *name)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 512, "%s/%s", tu_tmpdir(), name);
    return b;
}

static inline void tu_mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

static inline void tu_write(const char *path, const void *data, size_t n)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        tu_mkdirs(dir);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static inline void tu_write_str(const char *path, const char *s)
{
    tu_write(path, s, strlen(s));
}

/* gzip-compresses data into a malloc'ed buffer (*outlen bytes). */
static inline unsigned char *tu_gzip(const void *data, size_t n, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        exit(2);
    size_t cap = deflateBound(&z, n) + 64;
    unsigned char *out = malloc(cap);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        exit(2);
    *outlen = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static inline unsigned char *tu_zstd(const void *data, size_t n, size_t *outlen)
{
    size_t cap = ZSTD_compressBound(n);
    unsigned char *out = malloc(cap);
    size_t r = ZSTD_compress(out, cap, data, n, 3);
    if (ZSTD_isError(r))
        exit(2);
    *outlen = r;
    return out;
}

static inline char *tu_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (fread(buf, 1, (size_t)len, f) != (size_t)len)
        exit(2);
    buf[len] = '\0';
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* What reading an input produced: the messages (joined with '|') and lines, plus diag. */
typedef struct tu_result {
    int rc;
    size_t n;
    char messages[65536];
    char lines[4096];
    char inserts[8192];
} tu_result;

static inline void tu_append(char *dst, size_t cap, const char *s)
{
    size_t have = strlen(dst);
    if (have && have + 1 < cap) {
        dst[have++] = '|';
        dst[have] = '\0';
    }
    snprintf(dst + have, cap - have, "%s", s);
}

static inline tu_result *tu_read(const char *const *paths, size_t n, const fl_reader_opts *opts,
                                 fl_diag *d)
{
    static tu_result res;
    memset(&res, 0, sizeof(res));
    fl_reader *r;
    res.rc = fl_reader_open(&r, paths, n, opts, d);
    if (res.rc < 0)
        return &res;
    fl_entry e;
    fl_entry_init(&e);
    int rc;
    while ((rc = fl_reader_next(r, &e)) == 1) {
        char num[32];
        res.n++;
        tu_append(res.messages, sizeof(res.messages), e.message);
        snprintf(num, sizeof(num), "%llu", (unsigned long long)e.src_line);
        tu_append(res.lines, sizeof(res.lines), num);
        tu_append(res.inserts, sizeof(res.inserts), e.insert_id);
    }
    res.rc = rc;
    fl_entry_free(&e);
    fl_reader_free(r);
    return &res;
}

static inline tu_result *tu_read1(const char *path, fl_diag *d)
{
    const char *paths[] = {path};
    fl_reader_opts o = {0};
    o.no_multiline = true;
    return tu_read(paths, 1, &o, d);
}

/* True when some warning of this kind has a message containing needle. */
static inline int tu_has_warning(const fl_diag *d, fl_warn_kind k, const char *needle)
{
    for (size_t i = 0; i < d->n_warnings; i++)
        if (d->warnings[i].kind == k && strstr(d->warnings[i].message, needle))
            return 1;
    return 0;
}

static inline void tu_dump_warnings(const fl_diag *d)
{
    for (size_t i = 0; i < d->n_warnings; i++)
        fprintf(stderr, "  warning %s %s:%llu %s\n", fl_warn_kind_name(d->warnings[i].kind),
                d->warnings[i].file, (unsigned long long)d->warnings[i].line,
                d->warnings[i].message);
}

/* The staged reader path as the parallel pipeline drives it: fill AHEAD batches, parse them
 * last first (as workers would, out of order), reassemble them in input order, then the final
 * reassembly. each() sees every entry in order; *final_count (may be NULL) gets how many the
 * final reassembly gave. Returns the number of batches before it, or -1 when a stage failed
 * (r may be NULL: nothing to read). */
typedef void (*tu_entry_fn)(void *ctx, const fl_entry *e);

static inline long tu_read_staged(fl_reader *r, tu_entry_fn each, void *ctx, size_t *final_count)
{
    enum { AHEAD = 3 };
    fl_batch *b[AHEAD] = {0};
    long batches = 0;
    int last = 0;
    bool end = !r;
    if (final_count)
        *final_count = 0;
    for (int i = 0; i < AHEAD; i++)
        if (fl_batch_new(&b[i]) != 0)
            batches = -1;
    while (batches >= 0 && !end) {
        int got = 0;
        while (got < AHEAD) {
            int rc = fl_reader_fill(r, b[got]);
            if (rc < 0)
                batches = -1;
            if (rc <= 0) {
                last = got;
                end = true;
                break;
            }
            got++;
        }
        for (int i = got; i-- > 0;)
            if (fl_batch_parse(b[i]) != 0)
                batches = -1;
        for (int i = 0; i < got && batches >= 0; i++) {
            if (fl_reader_reassemble(r, b[i], false) != 0) {
                batches = -1;
                break;
            }
            for (size_t k = 0; k < fl_batch_count(b[i]); k++)
                each(ctx, fl_batch_entry(b[i], k));
            batches++;
        }
    }
    if (r && batches >= 0) {
        if (fl_reader_reassemble(r, b[last], true) != 0)
            batches = -1;
        else {
            for (size_t k = 0; k < fl_batch_count(b[last]); k++)
                each(ctx, fl_batch_entry(b[last], k));
            if (final_count)
                *final_count = fl_batch_count(b[last]);
        }
    }
    for (int i = 0; i < AHEAD; i++)
        fl_batch_free(b[i]);
    return batches;
}

/* Whether two signatures (serial and staged reading) are equal; if not, says where they part. */
static inline bool tu_same(const char *what, const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    size_t from = i > 200 ? i - 200 : 0;
    fprintf(stderr, "%s: differs at byte %zu\n  serial: %.400s\n  staged: %.400s\n", what, i,
            a + from, b + from);
    return false;
}

#endif
