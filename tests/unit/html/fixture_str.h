/* Owned copies of strings for tests that build an fl_result by hand (fl_result_free frees
 * them). */
#ifndef FL_TEST_FIXTURE_STR_H
#define FL_TEST_FIXTURE_STR_H

#include "fl_common.h"

static inline char *fix_str(const char *s)
{
    return fl_strdup(s);
}

static inline char **fix_strv(size_t n, const char *const *v)
{
    char **d = fl_calloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        d[i] = fl_strdup(v[i]);
    return d;
}

#endif
