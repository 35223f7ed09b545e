/* --shard I/N and its defaults from Cloud Run Jobs and Kubernetes Indexed Jobs. */
#include "cli_shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define SHARD_MAX 100000

void fl_shard_env_get(fl_shard_env *env)
{
    env->cloud_run_index = getenv("CLOUD_RUN_TASK_INDEX");
    env->cloud_run_count = getenv("CLOUD_RUN_TASK_COUNT");
    env->k8s_index = getenv("JOB_COMPLETION_INDEX");
}

/* A whole number in [0, max] and nothing else. */
static bool parse_uint(const char *s, long max, long *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > max)
        return false;
    *out = v;
    return true;
}

static int check(long i, long n, unsigned *index, unsigned *count, const char *what, char *errbuf,
                 size_t errlen)
{
    if (n < 1 || i >= n) {
        snprintf(errbuf, errlen, "%s: shard index %ld is not below the shard count %ld", what, i,
                 n);
        return -1;
    }
    *index = (unsigned)i;
    *count = (unsigned)n;
    return 0;
}

int fl_shard_resolve(const char *spec, int count, const fl_shard_env *env, unsigned *index,
                     unsigned *n, const char **from, char *errbuf, size_t errlen)
{
    long i, c;
    *index = *n = 0;
    *from = NULL;
    if (spec) {
        char a[32], b[32], extra;
        if (sscanf(spec, "%31[^/]/%31[^/]%c", a, b, &extra) != 2 || !parse_uint(a, SHARD_MAX, &i) ||
            !parse_uint(b, SHARD_MAX, &c)) {
            snprintf(errbuf, errlen, "--shard '%s': expected I/N, e.g. --shard 0/8", spec);
            return -1;
        }
        *from = "--shard";
        return check(i, c, index, n, "--shard", errbuf, errlen);
    }
    if (count > 0) {
        const char *idx = env->cloud_run_index ? env->cloud_run_index : env->k8s_index;
        const char *var = env->cloud_run_index ? "CLOUD_RUN_TASK_INDEX" : "JOB_COMPLETION_INDEX";
        if (!idx) {
            snprintf(errbuf, errlen,
                     "--shard-count %d: no shard index: set CLOUD_RUN_TASK_INDEX or "
                     "JOB_COMPLETION_INDEX, or give --shard I/N",
                     count);
            return -1;
        }
        if (!parse_uint(idx, SHARD_MAX, &i)) {
            snprintf(errbuf, errlen, "%s='%s' is not a shard index", var, idx);
            return -1;
        }
        *from = var;
        return check(i, count, index, n, var, errbuf, errlen);
    }
    if (env->cloud_run_index && env->cloud_run_count) {
        if (!parse_uint(env->cloud_run_index, SHARD_MAX, &i) ||
            !parse_uint(env->cloud_run_count, SHARD_MAX, &c)) {
            snprintf(errbuf, errlen,
                     "CLOUD_RUN_TASK_INDEX='%s' / CLOUD_RUN_TASK_COUNT='%s' are not a shard",
                     env->cloud_run_index, env->cloud_run_count);
            return -1;
        }
        *from = "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT";
        return check(i, c, index, n, *from, errbuf, errlen);
    }
    return 0;
}
