#include "fl_diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fl_diag_init(fl_diag *d)
{
    memset(d, 0, sizeof(*d));
    pthread_mutex_init(&d->lock, NULL);
}

void fl_diag_free(fl_diag *d)
{
    for (size_t i = 0; i < d->n_truncated; i++)
        fl_free(d->truncated[i]);
    fl_free(d->truncated);
    for (size_t i = 0; i < d->n_warnings; i++) {
        fl_free(d->warnings[i].file);
        fl_free(d->warnings[i].message);
    }
    fl_free(d->warnings);
    pthread_mutex_destroy(&d->lock);
}

const char *fl_warn_kind_name(fl_warn_kind k)
{
    switch (k) {
    case FL_WARN_MALFORMED:
        return "malformed";
    case FL_WARN_OVERSIZE:
        return "oversize";
    case FL_WARN_TRUNCATED:
        return "truncated";
    case FL_WARN_UNREADABLE:
        return "unreadable";
    case FL_WARN_OTHER:
        break;
    }
    return "other";
}

void fl_diag_warn(fl_diag *d, fl_warn_kind kind, const char *file, uint64_t line, const char *fmt,
                  ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&d->lock);
    switch (kind) {
    case FL_WARN_MALFORMED:
        d->malformed++;
        break;
    case FL_WARN_OVERSIZE:
        d->oversize++;
        break;
    case FL_WARN_UNREADABLE:
        d->unreadable++;
        break;
    case FL_WARN_TRUNCATED: {
        char **t = fl_realloc(d->truncated, (d->n_truncated + 1) * sizeof(*t));
        if (t) {
            d->truncated = t;
            if ((t[d->n_truncated] = fl_strdup(file ? file : "-")))
                d->n_truncated++;
        }
        break;
    }
    case FL_WARN_OTHER:
        break;
    }
    if (d->n_warnings >= FL_DIAG_MAX_WARNINGS) {
        d->warnings_dropped++;
        pthread_mutex_unlock(&d->lock);
        return;
    }
    fl_warning *w = fl_realloc(d->warnings, (d->n_warnings + 1) * sizeof(*w));
    if (!w) {
        d->warnings_dropped++;
        pthread_mutex_unlock(&d->lock);
        return;
    }
    d->warnings = w;
    w = &d->warnings[d->n_warnings];
    w->kind = kind;
    w->file = fl_strdup(file ? file : "-");
    w->line = line;
    w->message = fl_strdup(msg);
    if (w->file && w->message) {
        d->n_warnings++;
    } else {
        fl_free(w->file);
        fl_free(w->message);
        d->warnings_dropped++;
    }
    pthread_mutex_unlock(&d->lock);
}

int fl_diag_exit_status(const fl_diag *d)
{
    if (d->entries == 0 && (d->unreadable > 0 || d->n_truncated > 0 || d->malformed > 0))
        return 2;
    if (d->unreadable || d->n_truncated || d->malformed || d->oversize)
        return 3;
    return 0;
}
