/* Field values under a sliding window (tail --window): after fl_agg_expire each value's count
 * covers exactly the entries still in the window, as the group's count does, and values left
 * with nothing disappear. The same holds for an aggregate merged from shards, one read back
 * from a summary, and one whose time buckets were widened. */
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

/* One error of the class at ts with user_id = user and shard = shard. */
static void add_one(fl_agg *a, fl_time ts, const char *user, const char *shard)
{
    fl_entry e;
    fl_entry_init(&e);
    e.ts = ts;
    e.severity = FL_SEV_ERROR;
    e.log_kind = FL_LOG_STDERR;
    fl_entry_set(&e, &e.service, "orders", 6);
    fl_entry_set(&e, &e.revision, "orders-00007-abc", 16);
    fl_entry_set(&e, &e.message, "QueuePool limit reached", 23);
    fl_match m = {.rule = &rule, .n_fields = 2};
    strcpy(m.fields[0].name, "user_id");
    snprintf(m.fields[0].value, sizeof m.fields[0].value, "%s", user);
    strcpy(m.fields[1].name, "shard");
    snprintf(m.fields[1].value, sizeof m.fields[1].value, "%s", shard);
    CHECK_INT(fl_agg_add(a, &e, &m), 0);
    fl_entry_free(&e);
}

/* Ten minutes: user 42 once a minute throughout, user 7 twice a minute in minutes 0-2 only,
 * user 9 three times a minute in minutes 5-9; shard "a" in even minutes, "b" in odd ones.
 * Minutes [from, to), seconds into each minute vary so entries are not on the boundary. */
static void feed(fl_agg *a, int from, int to)
{
    for (int min = from; min < to; min++) {
        fl_time m = t0 + (fl_time)min * 60 * FL_USEC_PER_SEC;
        const char *shard = min % 2 ? "b" : "a";
        add_one(a, m + 5 * FL_USEC_PER_SEC, "42", shard);
        for (int k = 0; min <= 2 && k < 2; k++)
            add_one(a, m + (10 + k) * FL_USEC_PER_SEC, "7", shard);
        for (int k = 0; min >= 5 && k < 3; k++)
            add_one(a, m + (20 + k) * FL_USEC_PER_SEC, "9", shard);
    }
}

static const agg_group *the_group(const fl_agg *a)
{
    for (size_t i = 0; i < a->n_groups; i++)
        if (a->groups[i].class_id && strcmp(a->groups[i].class_id, rule.class_id) == 0)
            return &a->groups[i];
    return NULL;
}

/* The value's count, 0 when the group no longer has it. */
static uint64_t value_count(const fl_agg *a, const char *name, const char *value)
{
    const agg_group *g = the_group(a);
    for (size_t i = 0; g && i < g->n_fields; i++)
        if (strcmp(g->fields[i].name, name) == 0 && strcmp(g->fields[i].value, value) == 0) {
            CHECK(g->fields[i].count > 0); /* a value with nothing left is gone */
            return g->fields[i].count;
        }
    return 0;
}

static bool has_value(const fl_agg *a, const char *name, const char *value)
{
    const agg_group *g = the_group(a);
    for (size_t i = 0; g && i < g->n_fields; i++)
        if (strcmp(g->fields[i].name, name) == 0 && strcmp(g->fields[i].value, value) == 0)
            return true;
    return false;
}

/* Every name's values add up to the group's count (each entry has one value per name), and
 * the aggregate's count of field cells is the sum over the values. */
static void check_sums(const fl_agg *a, const char *what)
{
    const agg_group *g = the_group(a);
    CHECK(g != NULL);
    if (!g)
        return;
    uint64_t user = 0, shard = 0;
    size_t cells = 0;
    for (size_t i = 0; i < a->n_groups; i++)
        for (size_t j = 0; j < a->groups[i].n_fields; j++)
            cells += a->groups[i].fields[j].n_cells;
    for (size_t i = 0; i < g->n_fields; i++) {
        const agg_field *f = &g->fields[i];
        uint64_t in_cells = 0;
        for (uint32_t k = 0; k < f->n_cells; k++) {
            in_cells += f->cells[k].n;
            CHECK(k == 0 || f->cells[k].minute > f->cells[k - 1].minute);
            CHECK(f->cells[k].minute == agg_bucket_start(f->cells[k].minute, a->width));
        }
        CHECK_INT(in_cells, f->count);
        *(strcmp(f->name, "user_id") == 0 ? &user : &shard) += f->count;
    }
    if (user != g->count || shard != g->count)
        fprintf(stderr, "%s: user_id sums to %llu, shard to %llu, group count %llu\n", what,
                (unsigned long long)user, (unsigned long long)shard,
                (unsigned long long)g->count);
    CHECK_INT(user, g->count);
    CHECK_INT(shard, g->count);
    CHECK_INT(cells, a->n_fcells);
}

/* The window from minute 5 on: 42 five times, 7 gone, 9 fifteen times; shard a in minutes
 * 6 and 8 (4 + 4), b in 5, 7, 9 (4 + 4 + 4). */
static void check_from_minute5(fl_agg *a, const char *what)
{
    fl_agg_expire(a, t0 + 5 * 60 * FL_USEC_PER_SEC);
    CHECK_INT(value_count(a, "user_id", "42"), 5);
    CHECK_INT(value_count(a, "user_id", "9"), 15);
    CHECK(!has_value(a, "user_id", "7"));
    CHECK_INT(value_count(a, "shard", "a"), 8);
    CHECK_INT(value_count(a, "shard", "b"), 12);
    check_sums(a, what);
    /* Sliding on to minute 8: 42 twice, 9 six times; shard a (minute 8) 4, b (minute 9) 4. */
    fl_agg_expire(a, t0 + 8 * 60 * FL_USEC_PER_SEC + 30 * FL_USEC_PER_SEC);
    CHECK_INT(value_count(a, "user_id", "42"), 2);
    CHECK_INT(value_count(a, "user_id", "9"), 6);
    CHECK_INT(value_count(a, "shard", "a"), 4);
    CHECK_INT(value_count(a, "shard", "b"), 4);
    check_sums(a, what);
    /* The report's groups[].fields: the top value of each name, with its windowed count. */
    fl_result *r = NULL;
    CHECK_INT(fl_analyze(a, NULL, &r), 0);
    for (size_t i = 0; r && i < r->n_groups; i++) {
        if (strcmp(r->groups[i].key, rule.class_id) != 0)
            continue;
        CHECK_INT(r->groups[i].count, 8);
        for (size_t j = 0; j < r->groups[i].n_fields; j++)
            if (strcmp(r->groups[i].fields[j].name, "user_id") == 0) {
                CHECK_STR(r->groups[i].fields[j].value, "9");
                CHECK_INT(r->groups[i].fields[j].count, 6);
            }
    }
    fl_result_free(r);
    /* Past every entry: the group goes, and its values with it. */
    fl_agg_expire(a, t0 + 11 * 60 * FL_USEC_PER_SEC);
    CHECK(the_group(a) == NULL);
    CHECK_INT(a->n_fcells, 0);
}

static void test_one_pass(void)
{
    fl_agg *a = fl_agg_new(NULL);
    feed(a, 0, 10);
    /* Before any expiry, counts are the whole input (what analyze reports). */
    CHECK_INT(value_count(a, "user_id", "42"), 10);
    CHECK_INT(value_count(a, "user_id", "7"), 6);
    CHECK_INT(value_count(a, "user_id", "9"), 15);
    check_sums(a, "one pass");
    check_from_minute5(a, "one pass");
    fl_agg_free(a);
}

static void test_merged_shards(void)
{
    fl_agg *s1 = fl_agg_new(NULL), *s2 = fl_agg_new(NULL), *m = fl_agg_new(NULL);
    feed(s2, 4, 10);
    feed(s1, 0, 4);
    CHECK_INT(fl_agg_merge(m, s2), 0);
    CHECK_INT(fl_agg_merge(m, s1), 0);
    check_sums(m, "merged");
    check_from_minute5(m, "merged");
    fl_agg_free(s1);
    fl_agg_free(s2);
    fl_agg_free(m);
}

/* Stage two of tail's Kafka pipeline builds its window from summaries: the value's minutes
 * must travel with it. */
static void test_summary_round_trip(void)
{
    fl_agg *a = fl_agg_new(NULL);
    feed(a, 0, 10);
    fl_agg *back = summary_trip(a), *m = fl_agg_new(NULL);
    if (back) {
        CHECK_INT(back->n_fcells, a->n_fcells);
        CHECK_INT(fl_agg_merge(m, back), 0);
        check_from_minute5(m, "from a summary");
    }
    fl_agg_free(m);
    fl_agg_free(back);
    fl_agg_free(a);
}

/* A series of more than AGG_SPAN_BUCKETS minutes doubles the bucket width: the values' cells
 * fold with the group's, and expiry still agrees with the group's count. */
static void test_wider_buckets(void)
{
    fl_agg *a = fl_agg_new(NULL);
    int n = AGG_SPAN_BUCKETS + 8;
    for (int min = 0; min < n; min++)
        add_one(a, t0 + (fl_time)min * 60 * FL_USEC_PER_SEC, min % 3 ? "42" : "7", "a");
    CHECK_INT(a->width, 2);
    check_sums(a, "wider buckets");
    /* Cut on a bucket boundary: minutes [n - 8, n) stay, 42 in those not divisible by 3. */
    fl_agg_expire(a, t0 + (fl_time)(n - 8) * 60 * FL_USEC_PER_SEC);
    uint64_t want42 = 0, want7 = 0;
    for (int min = n - 8; min < n; min++)
        *(min % 3 ? &want42 : &want7) += 1;
    CHECK_INT(value_count(a, "user_id", "42"), want42);
    CHECK_INT(value_count(a, "user_id", "7"), want7);
    check_sums(a, "wider buckets, expired");
    fl_agg_free(a);
}

int main(void)
{
    t0 = T("2026-03-02T10:00:00Z");
    test_one_pass();
    test_merged_shards();
    test_summary_round_trip();
    test_wider_buckets();
    return fl_test_done();
}
