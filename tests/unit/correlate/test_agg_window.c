/* Group counts under a sliding window (tail --window) for entries that have neither service
 * nor revision (LogEntries of a VM, a job or a plain JSON logger, outside Cloud Run): after
 * fl_agg_expire a group counts exactly the entries still in the window, whether they carry a
 * revision or not. Before the fix the revision-less ones had no per-minute cells, so the first
 * expiry set their group's count to 0 (or to the revision part only). Checked for one pass, an
 * aggregate merged from shards, one read back from a summary and one with widened buckets. */
#include "summary.h"
#include "agg_internal.h"
#include "corr_helpers.h"
#include "fl_test.h"
#include "summary_trip.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const fl_rule_info rule = {.id = "db_pool_exhausted.python",
                                  .class_id = "db_pool_exhausted",
                                  .title = "Database connection pool exhausted",
                                  .severity = FL_SEV_ERROR,
                                  .implies = FL_IMPLIES_DEPENDENCY};

static fl_time t0;

static fl_time at(int minute, int second)
{
    return t0 + ((fl_time)minute * 60 + second) * FL_USEC_PER_SEC;
}

/* One error at ts: matched by the rule when classified, else an unmatched message; on the
 * Cloud Run revision orders-00007 when on_rev, else with no service and no revision. */
static void add_one(fl_agg *a, fl_time ts, bool classified, bool on_rev)
{
    fl_entry e;
    fl_entry_init(&e);
    e.ts = ts;
    e.severity = FL_SEV_ERROR;
    e.log_kind = FL_LOG_STDERR;
    if (on_rev) {
        fl_entry_set(&e, &e.service, "orders", 6);
        fl_entry_set(&e, &e.revision, "orders-00007-abc", 16);
    }
    const char *msg = classified ? "QueuePool limit reached" : "disk quota exceeded on /data";
    fl_entry_set(&e, &e.message, msg, strlen(msg));
    fl_match m = {.rule = &rule, .n_fields = 1};
    strcpy(m.fields[0].name, "user_id");
    strcpy(m.fields[0].value, on_rev ? "42" : "7");
    CHECK_INT(fl_agg_add(a, &e, classified ? &m : NULL), 0);
    fl_entry_free(&e);
}

/* Minutes [from, to): the classified group gets two revision-less errors and one on the
 * revision a minute, the unmatched group one revision-less error a minute. */
static void feed(fl_agg *a, int from, int to)
{
    for (int min = from; min < to; min++) {
        add_one(a, at(min, 5), true, false);
        add_one(a, at(min, 15), true, true);
        add_one(a, at(min, 25), true, false);
        add_one(a, at(min, 35), false, false);
    }
}

static const agg_group *group_of(const fl_agg *a, bool classified)
{
    for (size_t i = 0; i < a->n_groups; i++)
        if ((a->groups[i].class_id != NULL) == classified)
            return &a->groups[i];
    return NULL;
}

static uint64_t count_of(const fl_agg *a, bool classified)
{
    const agg_group *g = group_of(a, classified);
    return g ? g->count : 0;
}

/* The report agrees with the aggregate: the group's count is what is left in the window. */
static uint64_t reported(const fl_agg *a, bool classified)
{
    fl_result *r = NULL;
    uint64_t n = 0;
    CHECK_INT(fl_analyze(a, NULL, &r), 0);
    for (size_t i = 0; r && i < r->n_groups; i++)
        if ((r->groups[i].class_id != NULL) == classified)
            n = r->groups[i].count;
    fl_result_free(r);
    return n;
}

static void check_window(fl_agg *a, const char *what)
{
    /* Ten minutes fed: every entry counts before any expiry. */
    CHECK_INT(count_of(a, true), 30);
    CHECK_INT(count_of(a, false), 10);
    fl_agg_expire(a, at(5, 0)); /* minutes 5-9 stay */
    if (count_of(a, true) != 15 || count_of(a, false) != 5)
        fprintf(stderr, "%s: after the slide %llu and %llu, want 15 and 5\n", what,
                (unsigned long long)count_of(a, true), (unsigned long long)count_of(a, false));
    CHECK_INT(count_of(a, true), 15);
    CHECK_INT(count_of(a, false), 5);
    CHECK_INT(reported(a, true), 15);
    CHECK_INT(reported(a, false), 5);
    /* the field values expire with the group (revision-less entries have user_id 7) */
    const agg_group *g = group_of(a, true);
    for (size_t i = 0; g && i < g->n_fields; i++)
        CHECK_INT(g->fields[i].count, strcmp(g->fields[i].value, "7") == 0 ? 10 : 5);
    fl_agg_expire(a, at(8, 30)); /* minutes 8-9 stay */
    CHECK_INT(count_of(a, true), 6);
    CHECK_INT(count_of(a, false), 2);
    fl_agg_expire(a, at(11, 0)); /* past every entry: both groups go */
    CHECK(group_of(a, true) == NULL);
    CHECK(group_of(a, false) == NULL);
    CHECK_INT(a->n_fcells, 0);
}

static void test_one_pass(void)
{
    fl_agg *a = fl_agg_new(NULL);
    feed(a, 0, 10);
    check_window(a, "one pass");
    fl_agg_free(a);
}

static void test_merged_shards(void)
{
    fl_agg *s1 = fl_agg_new(NULL), *s2 = fl_agg_new(NULL), *m = fl_agg_new(NULL);
    feed(s2, 4, 10);
    feed(s1, 0, 4);
    CHECK_INT(fl_agg_merge(m, s2), 0);
    CHECK_INT(fl_agg_merge(m, s1), 0);
    check_window(m, "merged");
    fl_agg_free(s1);
    fl_agg_free(s2);
    fl_agg_free(m);
}

/* Stage two of tail's Kafka pipeline builds its window from summaries. */
static void test_summary_round_trip(void)
{
    fl_agg *a = fl_agg_new(NULL);
    feed(a, 0, 10);
    fl_agg *back = summary_trip(a), *m = fl_agg_new(NULL);
    if (back) {
        CHECK_INT(fl_agg_merge(m, back), 0);
        check_window(m, "from a summary");
    }
    fl_agg_free(m);
    fl_agg_free(back);
    fl_agg_free(a);
}

/* A revision-less group that spans more than AGG_SPAN_BUCKETS minutes: its cells fold with
 * the others when the width doubles, and expiry still counts what is left. */
static void test_wider_buckets(void)
{
    fl_agg *a = fl_agg_new(NULL);
    int n = AGG_SPAN_BUCKETS + 8;
    for (int min = 0; min < n; min++) {
        add_one(a, at(min, 0), false, false);
        add_one(a, at(min, 1), true, true); /* widens the buckets */
    }
    CHECK_INT(a->width, 2);
    fl_agg_expire(a, at(n - 8, 0)); /* on a bucket boundary: 8 minutes stay */
    CHECK_INT(count_of(a, false), 8);
    CHECK_INT(count_of(a, true), 8);
    fl_agg_free(a);
}

/* Only revision-less entries over more than AGG_SPAN_BUCKETS minutes: their series widens
 * the buckets itself, as a revision's would, so it stays within AGG_SPAN_BUCKETS cells; one
 * pass and two shards merged agree. */
static void test_norev_widens(void)
{
    fl_agg *a = fl_agg_new(NULL), *s1 = fl_agg_new(NULL), *s2 = fl_agg_new(NULL);
    fl_agg *m = fl_agg_new(NULL);
    int n = AGG_SPAN_BUCKETS + 8;
    for (int min = 0; min < n; min++) {
        add_one(a, at(min, 0), false, false);
        add_one(min % 2 ? s1 : s2, at(min, 0), false, false);
    }
    CHECK_INT(fl_agg_merge(m, s1), 0);
    CHECK_INT(fl_agg_merge(m, s2), 0);
    fl_agg *all[] = {a, m};
    for (size_t i = 0; i < FL_ARRAY_LEN(all); i++) {
        CHECK_INT(all[i]->width, 2);
        const agg_group *g = group_of(all[i], false);
        CHECK(g && g->norev.n_cells <= AGG_SPAN_BUCKETS);
        CHECK_INT(count_of(all[i], false), n);
        fl_agg_expire(all[i], at(n - 8, 0));
        CHECK_INT(count_of(all[i], false), 8);
    }
    fl_agg_free(a);
    fl_agg_free(s1);
    fl_agg_free(s2);
    fl_agg_free(m);
}

int main(void)
{
    t0 = T("2026-03-02T10:00:00Z");
    test_one_pass();
    test_merged_shards();
    test_summary_round_trip();
    test_wider_buckets();
    test_norev_widens();
    return fl_test_done();
}
