/* Summary files: a written and re-read aggregate ranks exactly like the original (alone and
 * merged with other shards), every damaged or foreign file is refused with a message naming
 * it, and merged diagnostics come out in the order one pass reads the files. */
#include "summary.h"
#include "agg_internal.h"
#include "incidents.h"
#include "fl_test.h"

#include <stdlib.h>
#include <unistd.h>

static incident in;
static char dir[] = "/tmp/fl-summary-XXXXXX";

static char *analyze_json(const fl_agg *a)
{
    fl_result *r = NULL;
    if (fl_analyze(a, NULL, &r) != 0)
        return NULL;
    char *s = render_json(r);
    fl_result_free(r);
    return s;
}

static void write_summary(const char *path, const fl_agg *a, const fl_diag *d, uint32_t index,
                          uint32_t count)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fl_summary_meta m;
    memset(&m, 0, sizeof m);
    m.shard_index = index;
    m.shard_count = count;
    m.rules_digest = 42;
    /* what the gate recorded travels with the summary */
    snprintf(m.gate.project, sizeof m.gate.project, "shop-prod-%u", index);
    snprintf(m.gate.filter, sizeof m.gate.filter, "service checkout-*");
    m.gate.filtered_out = 10 + index;
    m.gate.duplicates = 3;
    m.gate.dedup_unchecked = 1;
    char err[256];
    CHECK_INT(fl_summary_write(f, a, d, &m, err, sizeof err), 0);
    fclose(f);
}

static fl_agg *read_back(const char *path, fl_diag *d, fl_summary_meta *m)
{
    fl_agg *a = NULL;
    char err[512] = "";
    int rc = fl_summary_read(path, &a, d, m, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(rc, 0);
    return a;
}

static void test_round_trip(void (*make)(incident *))
{
    make(&in);
    fl_agg *one = aggregate(&in);
    char path[64];
    snprintf(path, sizeof path, "%s/one.flsum", dir);
    fl_diag d, back;
    fl_diag_init(&d);
    fl_diag_init(&back);
    d.entries = 7;
    fl_diag_warn(&d, FL_WARN_MALFORMED, "logs/a.json", 3, "bad");
    write_summary(path, one, &d, 1, 4);

    fl_summary_meta m;
    fl_agg *loaded = read_back(path, &back, &m);
    CHECK_INT(m.shard_index, 1);
    CHECK_INT(m.shard_count, 4);
    CHECK(m.rules_digest == 42);
    CHECK_STR(m.gate.project, "shop-prod-1");
    CHECK_STR(m.gate.filter, "service checkout-*");
    CHECK_INT(m.gate.filtered_out, 11);
    CHECK_INT(m.gate.duplicates, 3);
    CHECK_INT(m.gate.dedup_unchecked, 1);
    CHECK_INT(back.entries, 7);
    CHECK_INT(back.malformed, 1);
    CHECK_INT(back.n_warnings, 1);
    fl_agg *merged = fl_agg_new(NULL);
    CHECK_INT(fl_agg_merge(merged, loaded), 0);
    char *a = analyze_json(one), *b = analyze_json(merged);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);

    /* Two shards through files equal the one pass. */
    size_t cut = in.n / 3;
    fl_agg *s1 = fl_agg_new(NULL), *s2 = fl_agg_new(NULL);
    feed(s1, &in, 0, cut, false);
    feed(s2, &in, cut, in.n, true);
    for (size_t i = 0; i < in.n_changes; i++)
        fl_agg_add_change(s1, &in.changes[i]);
    char p1[64], p2[64];
    snprintf(p1, sizeof p1, "%s/s1.flsum", dir);
    snprintf(p2, sizeof p2, "%s/s2.flsum", dir);
    write_summary(p1, s1, &d, 0, 2);
    write_summary(p2, s2, &d, 1, 2);
    fl_diag d1, d2;
    fl_diag_init(&d1);
    fl_diag_init(&d2);
    fl_agg *l2 = read_back(p2, &d2, &m), *l1 = read_back(p1, &d1, &m);
    fl_agg *total = fl_agg_new(NULL);
    CHECK_INT(fl_agg_merge(total, l2), 0);
    CHECK_INT(fl_agg_merge(total, l1), 0);
    a = analyze_json(one);
    b = analyze_json(total);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
    CHECK(fl_agg_entries(total) == fl_agg_entries(one));

    fl_agg *all[] = {one, loaded, merged, s1, s2, l1, l2, total};
    for (size_t i = 0; i < FL_ARRAY_LEN(all); i++)
        fl_agg_free(all[i]);
    fl_diag *ds[] = {&d, &back, &d1, &d2};
    for (size_t i = 0; i < FL_ARRAY_LEN(ds); i++)
        fl_diag_free(ds[i]);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    unsigned char *p = malloc(*len);
    CHECK(fread(p, 1, *len, f) == *len);
    fclose(f);
    return p;
}

static void expect_refused(const char *path, const unsigned char *data, size_t len,
                           const char *words)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    fl_agg *a = NULL;
    fl_diag d;
    fl_summary_meta m;
    char err[512] = "";
    fl_diag_init(&d);
    CHECK_INT(fl_summary_read(path, &a, &d, &m, err, sizeof err), FL_EPARSE);
    CHECK(a == NULL);
    CHECK(strstr(err, path) != NULL);
    if (!strstr(err, words)) {
        fprintf(stderr, "expected '%s' in: %s\n", words, err);
        CHECK(0);
    }
    fl_diag_free(&d);
}

static void test_refusals(void)
{
    char good[64], bad[64];
    snprintf(good, sizeof good, "%s/one.flsum", dir);
    snprintf(bad, sizeof bad, "%s/bad.flsum", dir);
    size_t len;
    unsigned char *p = slurp(good, &len);
    unsigned char *q = malloc(len);

    memcpy(q, p, len);
    q[8] = 99;
    expect_refused(bad, q, len, "format version 99");
    /* every single flipped byte of the body is caught by the checksum */
    for (size_t i = 12; i + 24 < len; i += 97) {
        memcpy(q, p, len);
        q[i] ^= 0x20;
        expect_refused(bad, q, len, "checksum mismatch");
    }
    for (size_t cut = 0; cut < len; cut += 131)
        expect_refused(bad, p, cut, cut < 8 ? "not a faultline summary" : "truncated");
    expect_refused(bad, (const unsigned char *)"[{\"a\":1}]\n", 10, "not a faultline summary");
    free(p);
    free(q);
}

/* Puts v (little-endian) at p and seals the file again with a valid checksum, as a writer
 * with a bug (or a forger) would: only the reader's own checks stand between the value and
 * the merge. */
static void patch_u64(unsigned char *q, size_t len, size_t at, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        q[at + (size_t)i] = (unsigned char)(v >> (8 * i));
    uint64_t sum = fl_hash64(q, len - 24, FL_HASH_SEED);
    for (int i = 0; i < 8; i++)
        q[len - 8 + (size_t)i] = (unsigned char)(sum >> (8 * i));
}

static size_t find_tag(const unsigned char *p, size_t len, const char *tag, size_t from)
{
    for (size_t i = from; i + 4 <= len; i++)
        if (memcmp(p + i, tag, 4) == 0)
            return i;
    CHECK(0);
    return 0;
}

/* Minutes and widths a summary may not claim: tail's expiry computes minute + width on them
 * (signed overflow, found by UBSan). Each is refused with a message naming the file and the
 * field; the largest minute a timestamp can have is still read, merged and expired. */
static void test_bad_minutes(void)
{
    char good[64], bad[64];
    snprintf(good, sizeof good, "%s/one.flsum", dir);
    snprintf(bad, sizeof bad, "%s/bad.flsum", dir);
    size_t len;
    unsigned char *p = slurp(good, &len);
    unsigned char *q = malloc(len);
    size_t cell = find_tag(p, len, "CELL", find_tag(p, len, "GRPS", 12));
    size_t minute = cell + 4 + 8 + 4 + 4; /* tag, count, then the first cell's grp and rev */
    size_t width = find_tag(p, len, "AGG ", 12) + 4 + 7 * 8;

    memcpy(q, p, len);
    patch_u64(q, len, minute, (uint64_t)INT64_MAX);
    expect_refused(bad, q, len, "a time cell has a minute no timestamp can have");
    memcpy(q, p, len);
    patch_u64(q, len, minute, (uint64_t)(INT64_MIN / AGG_MINUTE - 1));
    expect_refused(bad, q, len, "a time cell has a minute no timestamp can have");
    memcpy(q, p, len);
    patch_u64(q, len, width, UINT64_C(1) << 62);
    expect_refused(bad, q, len, "bucket width");

    /* The edge of the range: accepted, and expiry around it stays defined. */
    memcpy(q, p, len);
    patch_u64(q, len, minute, (uint64_t)(INT64_MAX / AGG_MINUTE));
    FILE *f = fopen(bad, "wb");
    fwrite(q, 1, len, f);
    fclose(f);
    fl_diag d;
    fl_summary_meta m;
    fl_diag_init(&d);
    fl_agg *a = read_back(bad, &d, &m), *total = fl_agg_new(NULL);
    CHECK_INT(fl_agg_merge(total, a), 0);
    fl_agg_expire(total, INT64_MAX - AGG_MINUTE);
    fl_agg_expire(total, INT64_MAX);
    CHECK_INT(total->n_cells, 0);
    fl_agg_free(a);
    fl_agg_free(total);
    fl_diag_free(&d);
    free(p);
    free(q);
}

/* Warnings of three shards, appended in a shuffled order, come out in walk order, the
 * duplicates every shard saw once, the unreadable count corrected. */
static void test_diag_order(void)
{
    fl_diag all, s[3];
    fl_diag_init(&all);
    for (int i = 0; i < 3; i++) {
        fl_diag_init(&s[i]);
        fl_diag_warn(&s[i], FL_WARN_UNREADABLE, "logs/locked", 0, "cannot open directory");
    }
    fl_diag_warn(&s[0], FL_WARN_MALFORMED, "logs/b.json", 9, "x");
    fl_diag_warn(&s[0], FL_WARN_TRUNCATED, "logs/b.json", 0, "cut");
    fl_diag_warn(&s[1], FL_WARN_MALFORMED, "logs/a/z.json", 2, "y");
    fl_diag_warn(&s[1], FL_WARN_MALFORMED, "logs/a/z.json", 1, "w");
    fl_diag_warn(&s[2], FL_WARN_OVERSIZE, "logs/a.json", 5, "z");
    CHECK_INT(fl_summary_diag_add(&all, &s[2]), 0);
    CHECK_INT(fl_summary_diag_add(&all, &s[0]), 0);
    CHECK_INT(fl_summary_diag_add(&all, &s[1]), 0);
    CHECK_INT(fl_summary_diag_finish(&all), 0);
    /* the walk visits directory logs/a before the file logs/a.json ('/' sorts as a
     * component end, not as the character before '.') */
    static const char *const want[] = {"logs/a/z.json", "logs/a/z.json", "logs/a.json",
                                       "logs/b.json",   "logs/b.json",   "logs/locked"};
    CHECK_INT(all.n_warnings, FL_ARRAY_LEN(want));
    for (size_t i = 0; i < all.n_warnings && i < FL_ARRAY_LEN(want); i++)
        CHECK_STR(all.warnings[i].file, want[i]);
    CHECK_INT(all.warnings[0].line, 1);
    CHECK_INT(all.warnings[4].line, 0);
    CHECK_INT(all.unreadable, 1);
    CHECK_INT(all.malformed, 3);
    CHECK_INT(all.n_truncated, 1);
    for (int i = 0; i < 3; i++)
        fl_diag_free(&s[i]);
    fl_diag_free(&all);

    /* Past FL_DIAG_MAX_WARNINGS the list is cut and the rest counted. */
    fl_diag big, part[2];
    fl_diag_init(&big);
    for (int k = 0; k < 2; k++) {
        fl_diag_init(&part[k]);
        for (int i = 0; i < FL_DIAG_MAX_WARNINGS + 30; i++)
            fl_diag_warn(&part[k], FL_WARN_MALFORMED, k ? "g.json" : "f.json", (uint64_t)i + 1,
                         "m");
    }
    CHECK_INT(fl_summary_diag_add(&big, &part[1]), 0);
    CHECK_INT(fl_summary_diag_add(&big, &part[0]), 0);
    CHECK_INT(fl_summary_diag_finish(&big), 0);
    CHECK_INT(big.n_warnings, FL_DIAG_MAX_WARNINGS);
    CHECK_INT(big.n_warnings + big.warnings_dropped, 2 * (FL_DIAG_MAX_WARNINGS + 30));
    /* the ones kept are one pass's first: all of f.json's, in line order */
    CHECK_STR(big.warnings[FL_DIAG_MAX_WARNINGS - 1].file, "f.json");
    CHECK_INT(big.warnings[FL_DIAG_MAX_WARNINGS - 1].line, FL_DIAG_MAX_WARNINGS);
    for (int k = 0; k < 2; k++)
        fl_diag_free(&part[k]);
    fl_diag_free(&big);
}

/* Sums what identifies the traces of a graph and their services, order-independently. */
static void trace_digest(const agg_trace *t, void *arg)
{
    uint64_t *sum = arg;
    uint64_t h = t->h * 31 + t->n;
    for (size_t k = 0; k < t->n; k++) /* services in any order */
        h += t->s[k].svc * ((uint64_t)t->s[k].start * 7 + (uint64_t)t->s[k].end);
    sum[0] += h;
    sum[1]++;
}

/* The call graph's trace sample survives a summary: two shards written and merged hold the
 * same traces, services and times as the one pass, also past the sample's size. */
static void test_graph_round_trip(void)
{
    static const char *svcs[] = {"web-bff", "orders", "payments", "stock", "mail"};
    fl_agg *one = fl_agg_new(NULL), *part[2] = {fl_agg_new(NULL), fl_agg_new(NULL)};
    for (int i = 0; i < 3 * GRAPH_KEEP; i++) {
        char trace[48];
        snprintf(trace, sizeof trace, "projects/p/traces/%08x", (unsigned)i * 7919u);
        for (int k = 0; k < 1 + i % 5; k++) {
            fl_time ts = (fl_time)1700000000 * FL_USEC_PER_SEC + i * 1000 + k * 10;
            double lat = 0.001 * (k + 1);
            CHECK_INT(agg_graph_add(&one->graph, trace, svcs[k], ts, lat), 0);
            CHECK_INT(agg_graph_add(&part[(i + k) % 2]->graph, trace, svcs[k], ts, lat), 0);
        }
    }
    fl_diag d;
    fl_diag_init(&d);
    fl_agg *total = fl_agg_new(NULL);
    for (int k = 1; k >= 0; k--) {
        char path[64];
        snprintf(path, sizeof path, "%s/g%d.flsum", dir, k);
        write_summary(path, part[k], &d, (uint32_t)k, 2);
        fl_diag back;
        fl_diag_init(&back);
        fl_summary_meta m;
        fl_agg *loaded = read_back(path, &back, &m);
        CHECK(loaded && loaded->graph != NULL);
        CHECK_INT(fl_agg_merge(total, loaded), 0);
        fl_agg_free(loaded);
        fl_diag_free(&back);
    }
    CHECK_INT(agg_graph_settle(one->graph), 0);
    CHECK_INT(agg_graph_settle(total->graph), 0);
    uint64_t a[2] = {0, 0}, b[2] = {0, 0};
    agg_graph_each(one->graph, trace_digest, a);
    agg_graph_each(total->graph, trace_digest, b);
    CHECK_INT(a[1], GRAPH_KEEP);
    CHECK_INT(b[1], GRAPH_KEEP);
    CHECK(a[0] == b[0]);
    fl_agg *all[] = {one, part[0], part[1], total};
    for (size_t i = 0; i < FL_ARRAY_LEN(all); i++)
        fl_agg_free(all[i]);
    fl_diag_free(&d);
}

/* A field added to the aggregate must be written to summaries too, or merged reports lose it:
 * this fails first, naming the struct, so summary.c and docs/summary-format.md get updated
 * together with the new field (then update the size here). Sizes of x86-64 / LP64. The lookup
 * hints in fl_agg and agg_time (rev_hint, cell_hint, last), fl_agg's memos (tmemo, fpmemo),
 * agg_rev's graph_svc and name lengths (derived from its names when the pair is made or read
 * back) and the room agg_time's latest list moves in (hi_buf; hi is written) are not state:
 * summaries skip them. */
static void test_layout_unchanged(void)
{
#if UINTPTR_MAX == UINT64_MAX
    static const struct {
        const char *name;
        size_t size, expected;
    } t[] = {
        {"struct fl_agg", sizeof(struct fl_agg), 1552}, {"agg_rev", sizeof(agg_rev), 80},
        {"agg_group", sizeof(agg_group), 448},         {"agg_sample", sizeof(agg_sample), 48},
        {"agg_field", sizeof(agg_field), 48},          {"agg_cell", sizeof(agg_cell), 48},
        {"agg_fcell", sizeof(agg_fcell), 16},
        {"fl_change", sizeof(fl_change), 720},         {"fl_diag", sizeof(fl_diag), 128},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(t); i++) {
        if (t[i].size != t[i].expected)
            fprintf(stderr,
                    "%s changed size (%zu, was %zu): write its new fields in "
                    "correlate/summary.c and docs/summary-format.md, then update this test\n",
                    t[i].name, t[i].size, t[i].expected);
        CHECK(t[i].size == t[i].expected);
    }
#endif
}

int main(void)
{
    test_layout_unchanged();
    if (!mkdtemp(dir))
        return 2;
    test_round_trip(bad_deploy);
    test_round_trip(dependency_outage);
    test_round_trip(traffic_surge);
    test_graph_round_trip();
    test_refusals();
    test_bad_minutes();
    test_diag_order();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 2;
    return fl_test_done();
}
