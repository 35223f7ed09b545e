/* Template families: which templates merge, which stay apart, and that the answer depends only
 * on the set of templates, never on their order. */
#include "fl_patterns.h"
#include "fl_test.h"

#include <stdlib.h>
#include <string.h>

static const char *key_of(const fl_families *f, const char *const *t, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i], s) == 0)
            return fl_families_key(f, i);
    return NULL;
}

static const char *const set[] = {
    /* a value position: merged into one family */
    "Receiving block <num> src: <path>",
    "Receiving block blk_<num> src: <path>",
    "<host>:<num> open through proxy <host>:<num> HTTPS",
    "<ip>:<num> open through proxy <host>:<num> HTTPS",
    /* two words at a position: different messages */
    "<host>:<num> open through proxy <host>:<num> SOCKS5",
    "session opened for user <num>",
    "session closed for user <num>",
    /* four or more words at one position: a value (user names, job names) */
    "login by user alice failed",
    "login by user bob failed",
    "login by user carol failed",
    "login by user dave failed",
    /* one-word messages stay apart unless every variant is a value */
    "running",
    "idle",
    "<num>",
    "<ip>",
    /* different lengths never merge */
    "Receiving block <num> src: <path> now",
};

static void test_merges(void)
{
    size_t n = FL_ARRAY_LEN(set);
    fl_families *f = NULL;
    CHECK_INT(fl_families_build(&f, set, n), 0);
    CHECK_STR(key_of(f, set, n, set[0]), key_of(f, set, n, set[1]));
    CHECK_STR(fl_families_template(f, 0), "Receiving block <*> src: <path>");
    CHECK_STR(key_of(f, set, n, set[2]), key_of(f, set, n, set[3]));
    CHECK(strcmp(key_of(f, set, n, set[2]), key_of(f, set, n, set[4])) != 0);
    CHECK(strcmp(key_of(f, set, n, set[5]), key_of(f, set, n, set[6])) != 0);
    CHECK_STR(key_of(f, set, n, set[7]), key_of(f, set, n, set[10]));
    CHECK_STR(fl_families_template(f, 8), "login by user <*> failed");
    CHECK(strcmp(key_of(f, set, n, "running"), key_of(f, set, n, "idle")) != 0);
    CHECK_STR(key_of(f, set, n, "<num>"), key_of(f, set, n, "<ip>"));
    CHECK(strcmp(key_of(f, set, n, set[0]), key_of(f, set, n, set[15])) != 0);
    /* a template alone is its own family, its text unchanged */
    CHECK_STR(fl_families_template(f, 5), set[5]);
    CHECK(strncmp(fl_families_key(f, 5), "fam:", 4) == 0 && strlen(fl_families_key(f, 5)) == 20);
    fl_families_free(f);
}

/* Any order of the same set (and duplicates) gives every template the same family. */
static void test_order_independent(void)
{
    size_t n = FL_ARRAY_LEN(set);
    fl_families *ref = NULL;
    CHECK_INT(fl_families_build(&ref, set, n), 0);
    const char *perm[2 * FL_ARRAY_LEN(set)];
    srand(7);
    int diff = 0;
    for (int round = 0; round < 200; round++) {
        size_t m = n + (size_t)(rand() % (int)n);
        for (size_t i = 0; i < m; i++)
            perm[i] = set[i < n ? i : (size_t)rand() % n];
        for (size_t i = m; i > 1; i--) {
            size_t j = (size_t)rand() % i;
            const char *t = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = t;
        }
        fl_families *f = NULL;
        CHECK_INT(fl_families_build(&f, perm, m), 0);
        for (size_t i = 0; f && i < m; i++) {
            const char *want = key_of(ref, set, n, perm[i]);
            diff += strcmp(fl_families_key(f, i), want) != 0;
            size_t k = 0;
            while (strcmp(set[k], perm[i]) != 0)
                k++;
            diff += strcmp(fl_families_template(f, i), fl_families_template(ref, k)) != 0;
        }
        fl_families_free(f);
    }
    CHECK_INT(diff, 0);
    fl_families_free(ref);
}

static void test_edges(void)
{
    fl_families *f = NULL;
    CHECK_INT(fl_families_build(&f, NULL, 0), 0);
    fl_families_free(f);
    static const char *const odd[] = {"", "   ", "a  b", "a b"};
    CHECK_INT(fl_families_build(&f, odd, 4), 0);
    CHECK_STR(fl_families_template(f, 0), "");
    CHECK_STR(fl_families_key(f, 2), fl_families_key(f, 3));
    CHECK(!fl_families_truncated(f));
    fl_families_free(f);
    fl_families_free(NULL);
}

int main(void)
{
    test_merges();
    test_order_independent();
    test_edges();
    return fl_test_done();
}
