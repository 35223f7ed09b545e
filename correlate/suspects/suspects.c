/* suspects: evidence from a cause's error group, and commits scored against it (suspects.h).
 *
 * A commit earns points for what ties it to the errors, each with a reason a person can check:
 *   - a line it added or removed contains a captured value (env var, host:port, pool name):
 *     the strongest sign, it names the exact thing the errors complain about;
 *   - a file it changed is in the errors' in-app stack frames (path suffix match);
 *   - a file it changed is where this class of error typically starts (config/schema files for
 *     schema_validation, pool settings for pool_exhausted, cache/memory code for oom).
 * The score is the sum, capped at 1. Commits without any reason are never suspects. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suspects.h"

#define W_VALUE 0.6      /* first captured value found in the commit's lines */
#define W_VALUE_MORE 0.1 /* each further (value, file) found */
#define W_FRAME 0.3      /* a changed file is in the stack trace by its name */
#define W_FRAME_DIR 0.1  /* each directory above the name that also matches */
#define W_FRAME_MAX 0.5
#define W_TYPICAL 0.15 /* a changed file is typical for the error class */
#define MAX_REASONS 3

/* Captures whose values are names worth finding in a diff. Numbers (limits, status codes) are
 * everywhere in code and would blame any commit. */
static const char *const searchable[] = {
    "env_var", "host", "host_port", "module", "pool_name", "argument", "model", "image", "role",
};

static bool worth_searching(const char *name, const char *value)
{
    bool known = false;
    for (size_t i = 0; i < FL_ARRAY_LEN(searchable); i++)
        known |= strcmp(name, searchable[i]) == 0;
    if (!known || strlen(value) < 4 || strlen(value) > 200)
        return false;
    for (const char *p = value; *p; p++)
        if (isalpha((unsigned char)*p))
            return true;
    return false;
}

static int add_value(fl_suspect_evidence *ev, const char *name, const char *value, size_t len)
{
    if (ev->n_values >= FL_SUSPECT_MAX_VALUES)
        return 0;
    for (size_t i = 0; i < ev->n_values; i++)
        if (strlen(ev->values[i].value) == len && strncmp(ev->values[i].value, value, len) == 0)
            return 0;
    if (!ev->values) {
        ev->values = fl_calloc(FL_SUSPECT_MAX_VALUES, sizeof(*ev->values));
        if (!ev->values)
            return FL_ENOMEM;
    }
    fl_suspect_value *v = &ev->values[ev->n_values];
    v->name = fl_strdup(name);
    v->value = fl_strndup(value, len);
    if (!v->name || !v->value) {
        fl_free(v->name);
        fl_free(v->value);
        return FL_ENOMEM;
    }
    ev->n_values++;
    return 0;
}

static int add_group(fl_suspect_evidence *ev, const fl_group *g)
{
    if (g->class_id && ev->n_classes < FL_SUSPECT_MAX_CLASSES) {
        bool seen = false;
        for (size_t i = 0; i < ev->n_classes; i++)
            seen |= strcmp(ev->classes[i], g->class_id) == 0;
        if (!seen)
            ev->classes[ev->n_classes++] = g->class_id;
    }
    int rc = 0;
    for (size_t i = 0; i < g->n_samples && !rc; i++)
        rc = fl_suspect_frames_from_text(g->samples[i].message, ev);
    for (size_t i = 0; i < g->n_fields && !rc; i++) {
        const fl_field_value *f = &g->fields[i];
        if (!worth_searching(f->name, f->value))
            continue;
        rc = add_value(ev, f->name, f->value, strlen(f->value));
        /* "redis-cache:6379" is often written as host and port apart in config */
        const char *colon = strrchr(f->value, ':');
        if (!rc && colon && strcmp(f->name, "host_port") == 0 && colon - f->value >= 4)
            rc = add_value(ev, "host", f->value, (size_t)(colon - f->value));
    }
    return rc;
}

/* Most of the group's errors are on this revision. */
static bool mostly_on(const fl_group *g, const char *service, const char *revision)
{
    for (size_t i = 0; i < g->n_by_revision; i++)
        if (!strcmp(g->by_revision[i].service, service) &&
            !strcmp(g->by_revision[i].revision, revision))
            return g->by_revision[i].count * 2 > g->count;
    return false;
}

int fl_suspect_evidence_build(const fl_result *r, const fl_cause *c, fl_suspect_evidence *ev)
{
    memset(ev, 0, sizeof(*ev));
    const fl_group *own = NULL;
    for (size_t i = 0; i < r->n_groups && !own; i++)
        if (c->error_class && strcmp(r->groups[i].key, c->error_class) == 0)
            own = &r->groups[i];
    int rc = own ? add_group(ev, own) : 0;
    for (size_t i = 0; i < r->n_groups && !rc; i++)
        if (&r->groups[i] != own && c->revision && c->revision[0] &&
            mostly_on(&r->groups[i], c->service, c->revision))
            rc = add_group(ev, &r->groups[i]);
    if (rc)
        fl_suspect_evidence_free(ev);
    return rc;
}

void fl_suspect_evidence_free(fl_suspect_evidence *ev)
{
    for (size_t i = 0; i < ev->n_frames; i++)
        fl_free(ev->frames[i]);
    fl_free(ev->frames);
    for (size_t i = 0; i < ev->n_values; i++) {
        fl_free(ev->values[i].name);
        fl_free(ev->values[i].value);
    }
    fl_free(ev->values);
    memset(ev, 0, sizeof(*ev));
}

/* value occurs in text as a whole token: not inside a longer identifier (KV_REDIS_PASSWORD must
 * not match KV_REDIS_PASSWORD_OLD). */
static bool contains_token(const char *text, const char *value)
{
    size_t n = strlen(value);
    for (const char *p = strstr(text, value); p; p = strstr(p + 1, value)) {
        bool left = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool right = !(isalnum((unsigned char)p[n]) || p[n] == '_');
        if (left && right)
            return true;
    }
    return false;
}

/* A reason with the weight it adds; the strongest are shown first. */
typedef struct reason {
    double weight;
    char text[320];
} reason;

typedef struct scored {
    size_t commit; /* index in the walk: newer first */
    double score;
    reason reasons[MAX_REASONS];
    size_t n_reasons;
} scored;

static void add_reason(scored *s, double weight, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_reason(scored *s, double weight, const char *fmt, ...)
{
    s->score += weight;
    /* keep the MAX_REASONS strongest; on equal weight the first found stays */
    size_t at = s->n_reasons;
    while (at > 0 && s->reasons[at - 1].weight < weight)
        at--;
    if (at >= MAX_REASONS)
        return;
    size_t n = FL_MIN(s->n_reasons, (size_t)MAX_REASONS - 1);
    memmove(&s->reasons[at + 1], &s->reasons[at], (n - at) * sizeof(reason));
    s->reasons[at].weight = weight;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reasons[at].text, sizeof(s->reasons[at].text), fmt, ap);
    va_end(ap);
    if (s->n_reasons < MAX_REASONS)
        s->n_reasons++;
}

static void score_values(const fl_commit *c, const fl_suspect_evidence *ev, scored *s)
{
    bool first = true;
    for (size_t v = 0; v < ev->n_values; v++) {
        const char *value = ev->values[v].value;
        for (size_t f = 0; f < c->n_files; f++) {
            bool added = false, removed = false;
            for (size_t l = 0; l < c->n_lines; l++) {
                const fl_commit_line *ln = &c->lines[l];
                if (ln->file != f || !contains_token(ln->text, value))
                    continue;
                added |= ln->added;
                removed |= !ln->added;
            }
            if (!added && !removed)
                continue;
            const char *verb = added && removed ? "changed" : added ? "added" : "removed";
            const char *prep = added && removed ? "in" : added ? "to" : "from";
            add_reason(s, first ? W_VALUE : W_VALUE_MORE, "%s `%s` %s %s", verb, value, prep,
                       c->files[f].path);
            first = false;
        }
    }
}

static void score_frames(const fl_commit *c, const fl_suspect_evidence *ev, scored *s)
{
    double total = 0;
    for (size_t f = 0; f < c->n_files; f++) {
        const fl_commit_file *cf = &c->files[f];
        int best = 0;
        size_t best_frame = 0;
        for (size_t i = 0; i < ev->n_frames; i++) {
            int m = fl_suspect_path_match(ev->frames[i], cf->path);
            if (cf->old_path)
                m = FL_MAX(m, fl_suspect_path_match(ev->frames[i], cf->old_path));
            if (m > best) {
                best = m;
                best_frame = i;
            }
        }
        if (!best)
            continue;
        double w = FL_MIN(W_FRAME + W_FRAME_DIR * (best - 1), W_FRAME_MAX - total);
        if (w <= 0)
            break;
        total += w;
        if (cf->old_path)
            add_reason(s, w, "renamed %s to %s, in the stack trace (%s)", cf->old_path, cf->path,
                       ev->frames[best_frame]);
        else
            add_reason(s, w, "%s %s, in the stack trace (%s)",
                       cf->status == 'D'   ? "deleted"
                       : cf->status == 'A' ? "added"
                                           : "changed",
                       cf->path, ev->frames[best_frame]);
    }
}

static void score_typical(const fl_commit *c, const fl_suspect_evidence *ev, scored *s)
{
    for (size_t k = 0; k < ev->n_classes; k++)
        for (size_t f = 0; f < c->n_files; f++) {
            if (!fl_suspect_typical_file(ev->classes[k], c->files[f].path))
                continue;
            add_reason(s, W_TYPICAL, "changed %s, where `%s` errors typically start",
                       c->files[f].path, ev->classes[k]);
            return; /* once per commit: a config sweep is not more suspect for touching ten */
        }
}

static int by_score(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->commit < y->commit ? -1 : x->commit > y->commit;
}

static int to_suspect(const fl_commit *c, const scored *s, fl_suspect *o)
{
    o->sha = fl_strdup(c->sha);
    o->subject = fl_strdup(c->subject ? c->subject : "");
    o->author = fl_strdup(c->author ? c->author : "");
    o->time = c->time;
    /* rounded so the JSON is the same on every machine */
    o->score = (double)(long)(FL_MIN(s->score, 1.0) * 1000 + 0.5) / 1000;
    o->reasons = fl_calloc(s->n_reasons ? s->n_reasons : 1, sizeof(char *));
    if (!o->sha || !o->subject || !o->author || !o->reasons)
        return FL_ENOMEM;
    for (size_t i = 0; i < s->n_reasons; i++) {
        o->reasons[i] = fl_strdup(s->reasons[i].text);
        if (!o->reasons[i])
            return FL_ENOMEM;
        o->n_reasons++;
    }
    return 0;
}

static void free_suspect(fl_suspect *o)
{
    fl_free(o->sha);
    fl_free(o->subject);
    fl_free(o->author);
    for (size_t i = 0; i < o->n_reasons; i++)
        fl_free(o->reasons[i]);
    fl_free(o->reasons);
}

int fl_suspects_score(const fl_commit *commits, size_t n, const fl_suspect_evidence *ev, size_t max,
                      fl_suspect **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (!n || !max)
        return 0;
    scored *all = fl_calloc(n, sizeof(*all));
    if (!all)
        return FL_ENOMEM;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (commits[i].merge)
            continue; /* its changes are scored in the commits it merged */
        scored *s = &all[kept];
        memset(s, 0, sizeof(*s));
        s->commit = i;
        score_values(&commits[i], ev, s);
        score_frames(&commits[i], ev, s);
        score_typical(&commits[i], ev, s);
        if (s->score > 0)
            kept++;
    }
    qsort(all, kept, sizeof(*all), by_score);
    size_t shown = FL_MIN(kept, max);
    int rc = 0;
    if (shown) {
        *out = fl_calloc(shown, sizeof(fl_suspect));
        if (!*out)
            rc = FL_ENOMEM;
        for (size_t i = 0; !rc && i < shown; i++) {
            rc = to_suspect(&commits[all[i].commit], &all[i], &(*out)[i]);
            *n_out = i + 1;
        }
        if (rc) {
            for (size_t i = 0; *out && i < *n_out; i++)
                free_suspect(&(*out)[i]);
            fl_free(*out);
            *out = NULL;
            *n_out = 0;
        }
    }
    fl_free(all);
    return rc;
}
