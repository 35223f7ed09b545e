/* A minimal table-test harness: CHECK records a failure with file:line and keeps going;
 * fl_test_done() prints "N passed, N failed" and returns the exit status. */
#ifndef FL_TEST_H
#define FL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fl_test_passed, fl_test_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            fl_test_passed++;                                                                      \
        } else {                                                                                   \
            fl_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *fl_a_ = (a), *fl_b_ = (b);                                                     \
        if (fl_a_ && fl_b_ && strcmp(fl_a_, fl_b_) == 0) {                                         \
            fl_test_passed++;                                                                      \
        } else {                                                                                   \
            fl_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,      \
                    fl_a_ ? fl_a_ : "(null)", fl_b_ ? fl_b_ : "(null)");                           \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long fl_a_ = (long long)(a), fl_b_ = (long long)(b);                                  \
        if (fl_a_ == fl_b_) {                                                                      \
            fl_test_passed++;                                                                      \
        } else {                                                                                   \
            fl_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, fl_a_,   \
                    fl_b_);                                                                        \
        }                                                                                          \
    } while (0)

static inline int fl_test_done(void)
{
    printf("%d passed, %d failed\n", fl_test_passed, fl_test_failed);
    return fl_test_failed ? 1 : 0;
}

/* For setup steps whose result the compiler insists be used (fl_buf appends): abort the test
 * binary on failure, since nothing after it would mean anything. */
#define MUST_OK(x)                                                                                 \
    do {                                                                                           \
        if ((x) != 0) {                                                                            \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #x);                         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The whole of dir/name (name alone when dir is NULL), NUL-terminated, its length in *len when
 * len is not NULL; NULL (and a message) when it cannot be read. The caller frees it. */
static inline char *fl_test_read_file(const char *dir, const char *name, size_t *len)
{
    char path[8192];
    if (snprintf(path, sizeof(path), "%s%s%s", dir ? dir : "", dir ? "/" : "", name) >=
        (int)sizeof(path)) {
        fprintf(stderr, "path too long: %s\n", name);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    char *s = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)n + 1)) != NULL &&
        fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) {
        s[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return s;
}

#endif
