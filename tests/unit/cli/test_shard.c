/* Which shard a process reads: --shard, --shard-count with a job runner's index, Cloud Run
 * Jobs' variables, and the split itself (FNV-1a-64 of the relative path, mod N). */
#include "cli_shard.h"
#include "fl_ingest.h"
#include "fl_test.h"

typedef struct row {
    const char *spec;
    int count;
    fl_shard_env env;
    int ok;
    unsigned index, n;
    const char *from; /* or the word the error must contain */
} row;

static const row rows[] = {
    {NULL, 0, {NULL, NULL, NULL}, 1, 0, 0, NULL},
    {"3/8", 0, {NULL, NULL, NULL}, 1, 3, 8, "--shard"},
    {"0/1", 0, {"2", "4", NULL}, 1, 0, 1, "--shard"}, /* the flag wins over the job */
    {NULL, 0, {"2", "4", NULL}, 1, 2, 4, "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT"},
    {NULL, 0, {NULL, NULL, "5"}, 1, 0, 0, NULL}, /* Kubernetes gives no count by itself */
    {NULL, 6, {NULL, NULL, "5"}, 1, 5, 6, "JOB_COMPLETION_INDEX"},
    {NULL, 6, {"1", "6", "5"}, 1, 1, 6, "CLOUD_RUN_TASK_INDEX"},
    {NULL, 6, {NULL, NULL, "6"}, 0, 0, 0, "JOB_COMPLETION_INDEX"},
    {NULL, 6, {NULL, NULL, NULL}, 0, 0, 0, "no shard index"},
    {NULL, 0, {"4", "4", NULL}, 0, 0, 0, "CLOUD_RUN_TASK_INDEX"},
    {NULL, 0, {"x", "4", NULL}, 0, 0, 0, "CLOUD_RUN_TASK_INDEX"},
    {"8/8", 0, {NULL, NULL, NULL}, 0, 0, 0, "--shard"},
    {"1/0", 0, {NULL, NULL, NULL}, 0, 0, 0, "--shard"},
    {"-1/2", 0, {NULL, NULL, NULL}, 0, 0, 0, "--shard"},
    {"1/2/3", 0, {NULL, NULL, NULL}, 0, 0, 0, "--shard"},
    {"2", 0, {NULL, NULL, NULL}, 0, 0, 0, "--shard"},
    {" 1/2", 0, {NULL, NULL, NULL}, 0, 0, 0, "--shard"},
};

static void test_resolve(void)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(rows); i++) {
        const row *r = &rows[i];
        unsigned index = 99, n = 99;
        const char *from = NULL;
        char err[256] = "";
        int rc = fl_shard_resolve(r->spec, r->count, &r->env, &index, &n, &from, err, sizeof err);
        if ((rc == 0) != r->ok)
            fprintf(stderr, "row %zu: rc %d (%s)\n", i, rc, err);
        CHECK((rc == 0) == r->ok);
        if (r->ok) {
            CHECK_INT(index, r->index);
            CHECK_INT(n, r->n);
            if (r->from)
                CHECK_STR(from, r->from);
            else
                CHECK(from == NULL);
        } else {
            CHECK(strstr(err, r->from) != NULL);
        }
    }
}

static void test_split(void)
{
    /* FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector) */
    CHECK_INT(fl_shard_of("a", 1000), 0xaf63dc4c8601ec8cULL % 1000);
    CHECK_INT(fl_shard_of("anything", 1), 0);
    CHECK_STR(fl_shard_relpath("logs", "logs/run/a.json"), "run/a.json");
    CHECK_STR(fl_shard_relpath("logs/", "logs/run/a.json"), "run/a.json");
    CHECK_STR(fl_shard_relpath("logs//", "logs/run/a.json"), "run/a.json");
    CHECK_STR(fl_shard_relpath("/data/x.json", "/data/x.json"), "x.json");
    CHECK_STR(fl_shard_relpath("gs://b/logs", "gs://b/logs/2026/a.json"), "2026/a.json");
    CHECK_STR(fl_shard_relpath("gs://b/lo", "gs://b/logs/a.json"), "gs://b/logs/a.json");
    /* every shard count splits a set of names into disjoint parts that cover it */
    for (unsigned n = 1; n <= 8; n++) {
        unsigned seen[8] = {0};
        char name[32];
        for (int i = 0; i < 400; i++) {
            snprintf(name, sizeof name, "stderr/%02d/%d.json", i % 24, i);
            unsigned s = fl_shard_of(name, n);
            CHECK(s < n);
            if (s < 8)
                seen[s]++;
        }
        for (unsigned s = 0; s < n; s++)
            CHECK(seen[s] > 0); /* 400 names leave no shard empty */
    }
}

int main(void)
{
    test_resolve();
    test_split();
    return fl_test_done();
}
