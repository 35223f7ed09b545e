/* Loading --allow-list files (see allow_list.h). */
#include "allow_list.h"

#include "fl_common.h"
#include "fl_reports.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_allow_list_load(fl_allow_list *al, const char *cmd, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "faultline %s: --allow-list %s: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *s = line, *e = line + len;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (s == e || *s == '#')
            continue;
        if ((size_t)(e - s) > FL_ALLOW_VALUE_MAX || al->n >= FL_ALLOW_MAX) {
            fprintf(stderr, "faultline %s: %s:%zu: skipped (%s)\n", cmd, path, lineno,
                    al->n >= FL_ALLOW_MAX ? "more than 4096 values" : "longer than 256 bytes");
            continue;
        }
        *e = '\0';
        char why[200];
        int check = fl_redact_allow_check(s, why, sizeof why);
        if (check != FL_ALLOW_OK) {
            fprintf(stderr, "faultline %s: %s:%zu: warning: %s\n", cmd, path, lineno, why);
            if (check == FL_ALLOW_REFUSED)
                continue;
        }
        char **v = fl_realloc(al->v, (al->n + 1) * sizeof(*v));
        char *copy = v ? fl_strndup(s, (size_t)(e - s)) : NULL;
        if (v)
            al->v = v;
        if (!copy) {
            fprintf(stderr, "faultline %s: out of memory\n", cmd);
            rc = -1;
            break;
        }
        al->v[al->n++] = copy;
    }
    if (!rc && ferror(f)) {
        fprintf(stderr, "faultline %s: --allow-list %s: read error\n", cmd, path);
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

void fl_allow_list_free(fl_allow_list *al)
{
    if (!al)
        return;
    for (size_t i = 0; i < al->n; i++)
        fl_free(al->v[i]);
    fl_free(al->v);
    al->v = NULL;
    al->n = 0;
}
