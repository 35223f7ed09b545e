/* Expands the input paths: directories are walked recursively in strcmp order, the way a
 * Cloud Logging sink lays files out (run.googleapis.com/stderr/2026/11/20/10:00:00_...json),
 * so the same tree always reads in the same order. Hidden entries (".name") are skipped. */
#include "ingest_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WALK_MAX_DEPTH 64

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
            fl_diag_warn(diag, FL_WARN_UNREADABLE, path, 0, "%s: %s", path, strerror(errno));
            fl_free(path);
        } else if (S_ISDIR(st.st_mode)) {
            int r = walk_dir(list, path, diag, depth + 1);
            fl_free(path);
            if (r == FL_ENOMEM)
                rc = r;
        } else if (S_ISREG(st.st_mode)) {
            if (list_push(list, path) < 0) {
                fl_free(path);
                rc = FL_ENOMEM;
            }
        } else {
            fl_free(path); /* sockets, fifos, devices inside a tree are not log files */
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
}
