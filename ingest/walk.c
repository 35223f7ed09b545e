/* Expands the input paths: directories are walked recursively in strcmp order, the way a
 * Cloud Logging sink lays files out (run.googleapis.com/stderr/2026/11/20/10:00:00_...json),
 * so the same tree always reads in the same order. Hidden entries (".name") are skipped.
 *
 * Symbolic links are followed on purpose (a sink copied with `gsutil rsync` or assembled from
 * links to several days is common), but each file and each directory is taken once, by
 * (device, inode): a link loop or a second name of something already taken is a warning
 * naming both paths, never a second read. Counts are therefore the same whatever links the
 * tree has. */
#include "ingest_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WALK_MAX_DEPTH 64

struct fl_file_seen {
    dev_t dev;
    ino_t ino;
    char *path; /* the name it was first taken under; NULL marks a free slot */
};

static size_t seen_slot(const fl_file_seen *set, size_t cap, dev_t dev, ino_t ino)
{
    uint64_t h = fl_hash64(&dev, sizeof(dev), FL_HASH_SEED);
    h = fl_hash64(&ino, sizeof(ino), h);
    size_t i = (size_t)h & (cap - 1);
    while (set[i].path && !(set[i].dev == dev && set[i].ino == ino))
        i = (i + 1) & (cap - 1);
    return i;
}

/* Takes (st_dev, st_ino) for path. Returns 1 when it is new, 0 when it was taken before (then
 * *first is the name it was taken under), FL_ENOMEM. */
static int seen_take(fl_pathlist *list, const struct stat *st, const char *path,
                     const char **first)
{
    if (list->cap_seen && list->n_seen * 2 < list->cap_seen) {
        size_t i = seen_slot(list->seen, list->cap_seen, st->st_dev, st->st_ino);
        if (list->seen[i].path) {
            *first = list->seen[i].path;
            return 0;
        }
    } else {
        size_t ncap = list->cap_seen ? list->cap_seen * 2 : 64;
        fl_file_seen *n = fl_calloc(ncap, sizeof(*n));
        if (!n)
            return FL_ENOMEM;
        for (size_t i = 0; i < list->cap_seen; i++)
            if (list->seen[i].path)
                n[seen_slot(n, ncap, list->seen[i].dev, list->seen[i].ino)] = list->seen[i];
        fl_free(list->seen);
        list->seen = n;
        list->cap_seen = ncap;
        return seen_take(list, st, path, first);
    }
    char *copy = fl_strdup(path);
    if (!copy)
        return FL_ENOMEM;
    size_t i = seen_slot(list->seen, list->cap_seen, st->st_dev, st->st_ino);
    list->seen[i].dev = st->st_dev;
    list->seen[i].ino = st->st_ino;
    list->seen[i].path = copy;
    list->n_seen++;
    return 1;
}

static int list_push(fl_pathlist *list, char *path)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        char **p = fl_realloc(list->paths, cap * sizeof(*p));
        if (!p)
            return FL_ENOMEM;
        list->paths = p;
        list->cap = cap;
    }
    list->paths[list->n++] = path;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] == '/';
    char *p = fl_malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    if (!slash)
        p[a++] = '/';
    memcpy(p + a, name, b + 1);
    return p;
}

/* Takes a file or directory once: 1 when it is new, 0 (with a warning) when the same
 * (device, inode) was already taken under another name, FL_ENOMEM. */
static int take(fl_pathlist *list, const struct stat *st, const char *path, fl_diag *diag)
{
    const char *first = NULL;
    int r = seen_take(list, st, path, &first);
    if (r == 0)
        fl_diag_warn(diag, FL_WARN_OTHER, path, 0,
                     "%s: same %s as %s (a symbolic link loop or a second name); read once",
                     path, S_ISDIR(st->st_mode) ? "directory" : "file", first);
    return r;
}

static int walk_dir(fl_pathlist *list, const char *dir, fl_diag *diag, int depth)
{
    if (depth > WALK_MAX_DEPTH) {
        fl_diag_warn(diag, FL_WARN_UNREADABLE, dir, 0, "%s: directory tree deeper than %d levels",
                     dir, WALK_MAX_DEPTH);
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fl_diag_warn(diag, FL_WARN_UNREADABLE, dir, 0, "%s: cannot open directory: %s", dir,
                     strerror(errno));
        return FL_ENOTFOUND;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and hidden files such as .DS_Store or editor temps */
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **p = fl_realloc(names, ncap * sizeof(*p));
            if (!p) {
                rc = FL_ENOMEM;
                break;
            }
            names = p;
            cap = ncap;
        }
        if (!(names[n] = fl_strdup(de->d_name))) {
            rc = FL_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char *path = rc == 0 ? join(dir, names[i]) : NULL;
        fl_free(names[i]);
        if (!path) {
            if (rc == 0)
                rc = FL_ENOMEM;
            continue;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            /* ELOOP: a link that points at itself; ENOENT: a dangling link */
            fl_diag_warn(diag, FL_WARN_UNREADABLE, path, 0, "%s: %s", path, strerror(errno));
            fl_free(path);
            continue;
        }
        int r = S_ISDIR(st.st_mode) || S_ISREG(st.st_mode) ? take(list, &st, path, diag) : 0;
        if (r == FL_ENOMEM)
            rc = r;
        if (r != 1) {
            fl_free(path); /* taken before; or sockets, fifos, devices: not log files */
        } else if (S_ISDIR(st.st_mode)) {
            r = walk_dir(list, path, diag, depth + 1);
            fl_free(path);
            if (r == FL_ENOMEM)
                rc = r;
        } else if (list_push(list, path) < 0) {
            fl_free(path);
            rc = FL_ENOMEM;
        }
    }
    fl_free(names);
    return rc;
}

int fl_walk_add(fl_pathlist *list, const char *path, fl_diag *diag)
{
    if (strcmp(path, "-") != 0) {
        struct stat st;
        if (stat(path, &st) != 0) {
            int err = errno;
            fl_diag_warn(diag, FL_WARN_UNREADABLE, path, 0, "%s: %s", path, strerror(err));
            return FL_ENOTFOUND;
        }
        int r = take(list, &st, path, diag);
        if (r <= 0)
            return r;
        if (S_ISDIR(st.st_mode))
            return walk_dir(list, path, diag, 0);
    }
    char *p = fl_strdup(path);
    if (!p)
        return FL_ENOMEM;
    if (list_push(list, p) < 0) {
        fl_free(p);
        return FL_ENOMEM;
    }
    return 0;
}

void fl_pathlist_free(fl_pathlist *list)
{
    for (size_t i = 0; i < list->n; i++)
        fl_free(list->paths[i]);
    fl_free(list->paths);
    list->paths = NULL;
    list->n = list->cap = 0;
    for (size_t i = 0; i < list->cap_seen; i++)
        fl_free(list->seen[i].path);
    fl_free(list->seen);
    list->seen = NULL;
    list->n_seen = list->cap_seen = 0;
}
