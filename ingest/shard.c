/* --shard I/N: which input files one of N cooperating processes reads.
 *
 * A file belongs to shard FNV-1a-64(relative path) mod N, where the relative path is the
 * file's path below the input argument that named it (for a directory argument), or the
 * file's base name (for a file argument), or the object name below the prefix (gs://). The
 * hash sees only that string, so every runner, machine and working directory splits the same
 * tree the same way, and the N shards are disjoint and cover every file. */
#include "ingest_internal.h"

#include <string.h>

const char *fl_shard_relpath(const char *arg, const char *path)
{
    size_t n = strlen(arg);
    while (n > 1 && arg[n - 1] == '/')
        n--;
    if (strncmp(path, arg, n) == 0 && path[n] == '/')
        return path + n + 1;
    if (strcmp(path, arg) == 0) {
        const char *slash = strrchr(path, '/');
        return slash && slash[1] ? slash + 1 : path;
    }
    return path;
}

unsigned fl_shard_of(const char *relpath, unsigned count)
{
    if (count <= 1)
        return 0;
    return (unsigned)(fl_hash64(relpath, strlen(relpath), FL_HASH_SEED) % count);
}

void fl_shard_filter(fl_pathlist *list, size_t from, const char *arg, unsigned index,
                     unsigned count)
{
    if (count <= 1)
        return;
    size_t n = from;
    for (size_t i = from; i < list->n; i++) {
        char *p = list->paths[i];
        /* stdin is one stream that cannot be split: shard 0 reads it */
        bool mine = strcmp(p, "-") == 0 ? index == 0
                                        : fl_shard_of(fl_shard_relpath(arg, p), count) == index;
        if (mine)
            list->paths[n++] = p;
        else
            fl_free(p);
    }
    list->n = n;
}
