/* Which shard of the inputs this process reads: --shard I/N, or the index a job runner
 * gives each of its tasks. Only the CLI reads the environment; the reader gets two numbers. */
#ifndef FL_CLI_SHARD_H
#define FL_CLI_SHARD_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fl_shard_env {
    const char *cloud_run_index; /* CLOUD_RUN_TASK_INDEX (Cloud Run Jobs) */
    const char *cloud_run_count; /* CLOUD_RUN_TASK_COUNT */
    const char *k8s_index;       /* JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs) */
} fl_shard_env;

/* The three variables from the process environment. */
void fl_shard_env_get(fl_shard_env *env);

/* Resolves the shard. In order: --shard I/N (spec); --shard-count N (count > 0) with the
 * index from CLOUD_RUN_TASK_INDEX or JOB_COMPLETION_INDEX; CLOUD_RUN_TASK_INDEX with
 * CLOUD_RUN_TASK_COUNT; otherwise no sharding (*n = 0). *from says where it came from, for the
 * user ("--shard", "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT", ...). Returns 0, or -1 with a
 * message for the user in errbuf. */
int fl_shard_resolve(const char *spec, int count, const fl_shard_env *env, unsigned *index,
                     unsigned *n, const char **from, char *errbuf, size_t errlen);

#endif
