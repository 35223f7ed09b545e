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

#endif
