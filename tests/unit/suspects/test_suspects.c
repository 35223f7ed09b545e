/* correlate/suspects, the pure part: stack frames, path matching, typical files, scoring over
 * hand-built commits, remote URLs. No repository, no libgit2. */
#include "fl_test.h"
#include "suspects.h"

/* --- stack frames ---------------------------------------------------------------------------- */

typedef struct frames_case {
    const char *text;
    const char *want[4]; /* in order; NULL-terminated */
} frames_case;

static const frames_case frames_cases[] = {
    /* Node: in-app frames kept, node_modules and node internals dropped */
    {"TypeError: x is undefined\n    at priceCart (/app/dist/lib/pricing.js:3:58)\n"
     "    at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)\n"
     "    at /app/dist/routes/checkout.js:12:9\n"
     "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
     {"app/dist/lib/pricing.js", "app/dist/routes/checkout.js", NULL}},
    /* Python */
    {"Traceback (most recent call last):\n  File \"/app/worker.py\", line 88, in build\n"
     "  File \"/usr/local/lib/python3.12/site-packages/numpy/core/numeric.py\", line 9, in zeros\n"
     "MemoryError",
     {"app/worker.py", NULL}},
    /* Java: the package gives the directories; the JDK's own frames are dropped */
    {"java.lang.NullPointerException\n\tat com.acme.cart.CartService.total(CartService.java:42)\n"
     "\tat java.base/java.lang.Thread.run(Thread.java:833)",
     {"com/acme/cart/CartService.java", NULL}},
    /* Go: module cache and GOROOT are libraries */
    {"panic: runtime error\n\ngoroutine 1 [running]:\nmain.handler()\n"
     "\t/app/internal/cart/cart.go:42 +0x1d\n"
     "net/http.HandlerFunc.ServeHTTP()\n\t/usr/local/go/src/net/http/server.go:2136 +0x29\n"
     "github.com/x/y.F()\n\t/go/pkg/mod/github.com/x/y@v1.2.3/y.go:10 +0x5",
     {"app/internal/cart/cart.go", NULL}},
    /* a file name without a line number is not a frame; duplicates collapse */
    {"loading config.ts failed at /app/src/a.ts:1:1 and /app/src/a.ts:1:1", {"app/src/a.ts", NULL}},
    {"no frames here, just a URL https://example.com/x.js", {NULL}},
};

static void test_frames(void)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(frames_cases); i++) {
        const frames_case *fc = &frames_cases[i];
        fl_suspect_evidence ev = {0};
        CHECK_INT(fl_suspect_frames_from_text(fc->text, &ev), 0);
        size_t want = 0;
        while (fc->want[want])
            want++;
        CHECK_INT(ev.n_frames, want);
        for (size_t j = 0; j < want && j < ev.n_frames; j++)
            CHECK_STR(ev.frames[j], fc->want[j]);
        fl_suspect_evidence_free(&ev);
    }
}

/* --- path matching and typical files --------------------------------------------------------- */

static void test_path_match(void)
{
    CHECK_INT(fl_suspect_path_match("app/dist/lib/pricing.js", "src/lib/pricing.ts"), 2);
    CHECK_INT(fl_suspect_path_match("app/src/lib/pricing.ts", "src/lib/pricing.ts"), 3);
    /* compiled output (dist/) stands where the source (src/) was */
    CHECK_INT(fl_suspect_path_match("app/dist/lib/pricing.js", "app/src/lib/pricing.ts"), 3);
    CHECK_INT(fl_suspect_path_match("app/worker.py", "worker.py"), 1);
    CHECK_INT(fl_suspect_path_match("app/worker.py", "jobs/worker.py"), 1);
    CHECK_INT(fl_suspect_path_match("app/dist/lib/pricing.js", "src/lib/price.ts"), 0);
    /* same stem, different languages: not the same file */
    CHECK_INT(fl_suspect_path_match("app/worker.py", "src/worker.ts"), 0);
    CHECK_INT(fl_suspect_path_match("com/acme/cart/CartService.java",
                                    "src/main/java/com/acme/cart/CartService.java"),
              4);

    CHECK(fl_suspect_typical_file("schema_validation", "packages/shared-env/src/server.ts"));
    CHECK(fl_suspect_typical_file("schema_validation", "deploy/service.yaml"));
    CHECK(fl_suspect_typical_file("schema_validation", "src/config/index.ts"));
    CHECK(!fl_suspect_typical_file("schema_validation", "src/routes/inventory.ts"));
    CHECK(fl_suspect_typical_file("pool_exhausted", "src/db/pool.ts"));
    CHECK(fl_suspect_typical_file("pool_exhausted", "config/database.yml"));
    CHECK(!fl_suspect_typical_file("pool_exhausted", "src/feedback/form.ts")); /* not "db" */
    CHECK(fl_suspect_typical_file("oom", "src/cache/lru.ts"));
    CHECK(!fl_suspect_typical_file("oom", "README.md"));
    CHECK(!fl_suspect_typical_file("no_such_class", "src/env.ts"));
    CHECK(!fl_suspect_typical_file(NULL, "src/env.ts"));
}

/* --- scoring -----------------------------------------------------------------------------------
 */

static fl_commit_file files_bad[] = {{"deploy/service.yaml", NULL, 'M'}};
static fl_commit_line lines_bad[] = {
    {0, false, "            - name: KV_REDIS_PASSWORD"},
    {0, true, "            # the password is in the URL now"},
};
static fl_commit_file files_near[] = {{"src/env.ts", NULL, 'M'}};
static fl_commit_line lines_near[] = {
    /* a longer identifier must not count as the value */
    {0, true, "  KV_REDIS_PASSWORD_OLD: z.string().optional(),"},
};
static fl_commit_file files_docs[] = {{"README.md", NULL, 'M'}};
static fl_commit_line lines_docs[] = {{0, true, "Set KV_REDIS_URL before starting."}};
static fl_commit_file files_stack[] = {{"src/lib/pricing.ts", "src/lib/price.ts", 'R'}};
static fl_commit_file files_merge[] = {{"deploy/service.yaml", NULL, 'M'}};

static fl_commit commits[] = {
    /* newest first, as the walk returns them */
    {"1111111111111111111111111111111111111111", "docs", "Dev", 5, false, files_docs, 1, lines_docs,
     1, false},
    {"2222222222222222222222222222222222222222", "env: optional old name", "Dev", 4, false,
     files_near, 1, lines_near, 1, false},
    {"3333333333333333333333333333333333333333", "Merge", "Dev", 3, true, files_merge, 1, NULL, 0,
     false},
    {"4444444444444444444444444444444444444444", "deploy: drop the password", "Dev", 2, false,
     files_bad, 1, lines_bad, 2, false},
    {"5555555555555555555555555555555555555555", "pricing: rename", "Dev", 1, false, files_stack, 1,
     NULL, 0, false},
};

static void free_suspects(fl_suspect *s, size_t n)
{
    fl_commit_range cr = {.suspects = s, .n_suspects = n};
    fl_commit_range_clear(&cr);
}

static void test_score(void)
{
    char *frames[] = {"app/dist/lib/pricing.js"};
    fl_suspect_value values[] = {{"env_var", "KV_REDIS_PASSWORD"}};
    fl_suspect_evidence ev = {.classes = {"schema_validation"},
                              .n_classes = 1,
                              .frames = frames,
                              .n_frames = 1,
                              .values = values,
                              .n_values = 1};
    fl_suspect *out = NULL;
    size_t n = 0;
    CHECK_INT(fl_suspects_score(commits, FL_ARRAY_LEN(commits), &ev, 5, &out, &n), 0);
    /* bad (value 0.6 + typical 0.15), stack (renamed file in the trace 0.4), env.ts (typical
     * only); docs and the merge are never suspects */
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(out[0].sha, commits[3].sha);
        CHECK(out[0].score > 0.74 && out[0].score < 0.76);
        CHECK_INT(out[0].n_reasons, 2);
        CHECK_STR(out[0].reasons[0], "removed `KV_REDIS_PASSWORD` from deploy/service.yaml");
        CHECK_STR(out[0].reasons[1],
                  "changed deploy/service.yaml, where `schema_validation` errors typically start");
        CHECK_STR(out[1].sha, commits[4].sha);
        CHECK_STR(out[1].reasons[0], "renamed src/lib/price.ts to src/lib/pricing.ts, in the stack "
                                     "trace (app/dist/lib/pricing.js)");
        CHECK_STR(out[2].sha, commits[1].sha);
        CHECK_INT(out[2].n_reasons, 1);
    }
    free_suspects(out, n);

    /* at most max, and the order does not depend on anything but the input */
    CHECK_INT(fl_suspects_score(commits, FL_ARRAY_LEN(commits), &ev, 1, &out, &n), 0);
    CHECK_INT(n, 1);
    CHECK_STR(out[0].sha, commits[3].sha);
    free_suspects(out, n);

    /* no evidence at all: nobody is blamed */
    fl_suspect_evidence none = {0};
    CHECK_INT(fl_suspects_score(commits, FL_ARRAY_LEN(commits), &none, 5, &out, &n), 0);
    CHECK_INT(n, 0);
    CHECK(out == NULL);

    /* equal scores: the newer commit first */
    fl_commit twins[] = {commits[1], commits[1]};
    memcpy(twins[1].sha, "0000000000000000000000000000000000000000", 41);
    CHECK_INT(fl_suspects_score(twins, 2, &ev, 5, &out, &n), 0);
    CHECK_INT(n, 2);
    if (n == 2)
        CHECK_STR(out[0].sha, commits[1].sha);
    free_suspects(out, n);
}

/* Evidence comes from the cause's group and the other groups mostly on the bad revision. */
static void test_evidence(void)
{
    fl_rev_count on_bad = {"svc", "svc-2", 10};
    fl_rev_count on_old = {"svc", "svc-1", 10};
    fl_field_value fields[] = {{"env_var", "KV_REDIS_PASSWORD", 10},
                               {"pool_size", "20", 3}, /* a number: not searched */
                               {"host_port", "redis-cache:6379", 2}};
    fl_sample sample = {0, "svc", "svc-2", "i", "x", "boom\n    at f (/app/src/a.js:1:2)"};
    fl_group groups[] = {
        {.key = "fp:1", .count = 10, .by_revision = &on_bad, .n_by_revision = 1},
        {.key = "schema_validation",
         .class_id = "schema_validation",
         .count = 10,
         .by_revision = &on_bad,
         .n_by_revision = 1,
         .fields = fields,
         .n_fields = 3,
         .samples = &sample,
         .n_samples = 1},
        {.key = "oom", .class_id = "oom", .count = 10, .by_revision = &on_old, .n_by_revision = 1},
    };
    fl_result r = {.groups = groups, .n_groups = 3};
    fl_cause c = {
        .kind = FL_CAUSE_DEPLOY, .service = "svc", .revision = "svc-2", .error_class = "fp:1"};
    fl_suspect_evidence ev;
    CHECK_INT(fl_suspect_evidence_build(&r, &c, &ev), 0);
    CHECK_INT(ev.n_classes, 1);
    CHECK_STR(ev.classes[0], "schema_validation");
    CHECK_INT(ev.n_values, 3);
    if (ev.n_values == 3) {
        CHECK_STR(ev.values[0].value, "KV_REDIS_PASSWORD");
        CHECK_STR(ev.values[1].value, "redis-cache:6379");
        CHECK_STR(ev.values[2].value, "redis-cache");
    }
    CHECK_INT(ev.n_frames, 1);
    fl_suspect_evidence_free(&ev);
}

/* --- URLs --------------------------------------------------------------------------------------
 */

static void test_urls(void)
{
    static const char *const web[][2] = {
        {"git@github.com:acme/shop.git", "https://github.com/acme/shop"},
        {"https://github.com/acme/shop.git", "https://github.com/acme/shop"},
        {"https://github.com/acme/shop/", "https://github.com/acme/shop"},
        {"https://user:ghp_secret@github.com/acme/shop.git", "https://github.com/acme/shop"},
        {"ssh://git@gitlab.example.com:2222/team/shop.git", "https://gitlab.example.com/team/shop"},
        {"/srv/git/shop.git", ""},
        {"file:///srv/git/shop.git", ""},
        {"", ""},
    };
    char buf[256];
    for (size_t i = 0; i < FL_ARRAY_LEN(web); i++) {
        fl_suspect_web_url(web[i][0], buf, sizeof buf);
        CHECK_STR(buf, web[i][1]);
    }
    fl_suspect_compare_url("https://github.com/acme/shop", "aaa", "bbb", buf, sizeof buf);
    CHECK_STR(buf, "https://github.com/acme/shop/compare/aaa...bbb");
    fl_suspect_compare_url("https://gitlab.com/acme/shop", "aaa", "bbb", buf, sizeof buf);
    CHECK_STR(buf, "https://gitlab.com/acme/shop/-/compare/aaa...bbb");
    fl_suspect_compare_url("https://bitbucket.org/acme/shop", "aaa", "bbb", buf, sizeof buf);
    CHECK_STR(buf, "https://bitbucket.org/acme/shop/branches/compare/bbb%0Daaa");
    fl_suspect_compare_url("", "aaa", "bbb", buf, sizeof buf);
    CHECK_STR(buf, "");
}

int main(void)
{
    test_frames();
    test_path_match();
    test_score();
    test_evidence();
    test_urls();
    return fl_test_done();
}
