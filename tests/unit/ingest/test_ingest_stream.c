/* Streams: plain, gzip, zstd (chosen by magic bytes, not the name), concatenated gzip members,
 * truncated and corrupt compressed files (data before the damage still read), stdin. */
#include "fl_test.h"
#include "ingest_test_util.h"

#include <fcntl.h>

#define N_ENTRIES 20000 /* ~2.4 MB: several 1 MiB reads, so records cross chunk boundaries */

static char *payload;
static size_t payload_len;

static void make_payload(void)
{
    size_t cap = (size_t)N_ENTRIES * 160;
    payload = malloc(cap);
    payload_len = 0;
    for (int i = 0; i < N_ENTRIES; i++)
        payload_len += (size_t)snprintf(
            payload + payload_len, cap - payload_len,
            "{\"insertId\":\"id%d\",\"textPayload\":\"message number %d\",\"severity\":\"INFO\","
            "\"timestamp\":\"2026-11-20T10:00:%02d.%06dZ\"}\n",
            i, i, i % 60, i);
}

/* Checks that the entries read are exactly the first n of the payload, in order. */
static void check_prefix(const char *path, size_t want_min, size_t want_max, fl_diag *d,
                         size_t *got)
{
    fl_reader *r;
    const char *paths[] = {path};
    fl_reader_opts o = {0};
    o.no_multiline = true;
    CHECK_INT(fl_reader_open(&r, paths, 1, &o, d), 0);
    fl_entry e;
    fl_entry_init(&e);
    size_t n = 0;
    bool in_order = true;
    while (fl_reader_next(r, &e) == 1) {
        char want[32];
        snprintf(want, sizeof(want), "id%zu", n);
        /* Past want_min a corrupt stream may have produced garbage before its check failed. */
        if (n < want_min && (strcmp(e.insert_id, want) != 0 || e.src_line != n + 1))
            in_order = false;
        n++;
    }
    CHECK(in_order);
    if (n < want_min || n > want_max)
        fprintf(stderr, "%s: read %zu entries, expected %zu..%zu\n", path, n, want_min, want_max);
    CHECK(n >= want_min && n <= want_max);
    fl_entry_free(&e);
    fl_reader_free(r);
    *got = n;
}

static void test_plain_and_compressed(void)
{
    size_t gzn, zn, got;
    unsigned char *gz = tu_gzip(payload, payload_len, &gzn);
    unsigned char *zs = tu_zstd(payload, payload_len, &zn);
    /* Names deliberately lie: detection is by content. */
    tu_write(tu_path("plain.gz"), payload, payload_len);
    tu_write(tu_path("gzip.json"), gz, gzn);
    tu_write(tu_path("zstd.json.gz"), zs, zn);
    const char *names[] = {"plain.gz", "gzip.json", "zstd.json.gz"};
    for (size_t i = 0; i < 3; i++) {
        fl_diag d;
        fl_diag_init(&d);
        check_prefix(tu_path(names[i]), N_ENTRIES, N_ENTRIES, &d, &got);
        CHECK_INT(d.entries, N_ENTRIES);
        CHECK_INT(d.bytes, payload_len);
        CHECK_INT(d.files, 1);
        CHECK_INT(d.n_truncated, 0);
        CHECK_INT(d.n_warnings, 0);
        fl_diag_free(&d);
    }

    /* Concatenated gzip members (cat a.gz b.gz): both halves are read. */
    size_t half = payload_len / 2;
    while (payload[half - 1] != '\n')
        half++;
    size_t n1, n2;
    unsigned char *g1 = tu_gzip(payload, half, &n1);
    unsigned char *g2 = tu_gzip(payload + half, payload_len - half, &n2);
    unsigned char *cat = malloc(n1 + n2);
    memcpy(cat, g1, n1);
    memcpy(cat + n1, g2, n2);
    tu_write(tu_path("concat.gz"), cat, n1 + n2);
    fl_diag d;
    fl_diag_init(&d);
    check_prefix(tu_path("concat.gz"), N_ENTRIES, N_ENTRIES, &d, &got);
    CHECK_INT(d.bytes, payload_len);
    CHECK_INT(d.n_truncated, 0);
    fl_diag_free(&d);

    /* Truncated: cut the compressed file in the middle. What came before is read, the file is
     * reported as truncated, and the partial last line is not counted as malformed. */
    const struct {
        const char *name;
        unsigned char *data;
        size_t len;
    } cut[] = {{"cut.gz", gz, gzn * 6 / 10}, {"cut.zst", zs, zn * 6 / 10}};
    for (size_t i = 0; i < 2; i++) {
        tu_write(tu_path(cut[i].name), cut[i].data, cut[i].len);
        fl_diag_init(&d);
        check_prefix(tu_path(cut[i].name), N_ENTRIES / 4, N_ENTRIES - 1, &d, &got);
        CHECK_INT(d.n_truncated, 1);
        CHECK_INT(d.malformed, 0);
        CHECK_INT(d.entries, got);
        CHECK(tu_has_warning(&d, FL_WARN_TRUNCATED, "truncated"));
        CHECK(tu_has_warning(&d, FL_WARN_TRUNCATED, "bytes decoded"));
        CHECK_INT(fl_diag_exit_status(&d), 3);
        fl_diag_free(&d);
    }

    /* Corrupt: bytes overwritten in the middle. Reading stops where the damage is detected
     * and what was decoded before it is kept. gzip only notices at the member's CRC, so the
     * garbage decoded in between shows up as malformed lines (and crowds the warning list:
     * the truncated list is the record). */
    unsigned char *bad = malloc(gzn);
    memcpy(bad, gz, gzn);
    memset(bad + gzn / 2, 0xA5, 64);
    tu_write(tu_path("corrupt.gz"), bad, gzn);
    fl_diag_init(&d);
    check_prefix(tu_path("corrupt.gz"), N_ENTRIES / 3, N_ENTRIES, &d, &got);
    CHECK_INT(d.n_truncated, 1);
    CHECK(d.n_truncated == 1 && strstr(d.truncated[0], "corrupt.gz") != NULL);
    CHECK(d.malformed > 0);
    fl_diag_free(&d);
    free(bad);

    bad = malloc(zn);
    memcpy(bad, zs, zn);
    memset(bad + zn / 2, 0xA5, 64);
    tu_write(tu_path("corrupt.zst"), bad, zn);
    fl_diag_init(&d);
    check_prefix(tu_path("corrupt.zst"), N_ENTRIES / 4, N_ENTRIES - 1, &d, &got);
    CHECK_INT(d.malformed, 0);
    CHECK_INT(d.n_truncated, 1);
    CHECK(tu_has_warning(&d, FL_WARN_TRUNCATED, "corrupt zstd"));
    fl_diag_free(&d);
    free(bad);

    /* Trailing garbage after a complete gzip member: every entry is read, and the bytes that
     * could not be read make the input partial (issue 10). */
    unsigned char *tail = malloc(gzn + 8);
    memcpy(tail, gz, gzn);
    memcpy(tail + gzn, "GARBAGE!", 8);
    tu_write(tu_path("tail.gz"), tail, gzn + 8);
    fl_diag_init(&d);
    check_prefix(tu_path("tail.gz"), N_ENTRIES, N_ENTRIES, &d, &got);
    CHECK_INT(d.n_truncated, 1);
    CHECK(tu_has_warning(&d, FL_WARN_TRUNCATED, "not gzip data"));
    fl_diag_free(&d);
    free(tail);

    free(gz);
    free(zs);
    free(g1);
    free(g2);
    free(cat);
}

static void test_stdin(void)
{
    size_t zn, got;
    unsigned char *zs = tu_zstd(payload, payload_len, &zn);
    tu_write(tu_path("stdin.zst"), zs, zn);
    free(zs);
    int saved = dup(STDIN_FILENO);
    int fd = open(tu_path("stdin.zst"), O_RDONLY);
    CHECK(fd >= 0 && dup2(fd, STDIN_FILENO) >= 0);
    close(fd);
    fl_diag d;
    fl_diag_init(&d);
    check_prefix("-", N_ENTRIES, N_ENTRIES, &d, &got);
    CHECK_INT(d.bytes, payload_len);
    fl_diag_free(&d);
    dup2(saved, STDIN_FILENO);
    close(saved);
}

static void test_unreadable(void)
{
    fl_diag d;
    fl_diag_init(&d);
    fl_reader *r;
    const char *none[] = {tu_path("does-not-exist.json")};
    CHECK_INT(fl_reader_open(&r, none, 1, NULL, &d), FL_ENOTFOUND);
    CHECK_INT(d.unreadable, 1);
    CHECK(tu_has_warning(&d, FL_WARN_UNREADABLE, "does-not-exist.json"));
    fl_diag_free(&d);

    /* One good input is enough to go on; the bad one is reported. */
    fl_diag_init(&d);
    const char *mixed[] = {tu_path("missing.json"), tu_path("plain.gz")};
    tu_result *res = tu_read(mixed, 2, NULL, &d);
    CHECK_INT(res->rc, 0);
    CHECK_INT(res->n, N_ENTRIES);
    CHECK_INT(d.unreadable, 1);
    CHECK_INT(fl_diag_exit_status(&d), 3);
    fl_diag_free(&d);
}

int main(void)
{
    make_payload();
    test_plain_and_compressed();
    test_stdin();
    test_unreadable();
    free(payload);
    if (!getenv("KEEP"))
        tu_cleanup();
    return fl_test_done();
}
