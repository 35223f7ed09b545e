/* Ownership helpers for fl_result: construction, freeing, names of enums. */
#include "fl_result.h"

#include <string.h>

static const char *const cause_names[] = {
    [FL_CAUSE_UNKNOWN] = "unknown",       [FL_CAUSE_DEPLOY] = "deploy",
    [FL_CAUSE_DEPENDENCY] = "dependency", [FL_CAUSE_LOAD] = "load",
    [FL_CAUSE_RESOURCE] = "resource",     [FL_CAUSE_PLATFORM] = "platform",
};

const char *fl_cause_kind_name(fl_cause_kind k)
{
    return (size_t)k < FL_ARRAY_LEN(cause_names) ? cause_names[k] : "unknown";
}

static const char *const change_names[] = {
    [FL_CHANGE_DEPLOY] = "deploy",
    [FL_CHANGE_CONFIG] = "config",
    [FL_CHANGE_TRAFFIC] = "traffic",
    [FL_CHANGE_SECRET] = "secret",
    [FL_CHANGE_REVISION_READY] = "revision_ready",
    [FL_CHANGE_INFERRED] = "inferred_deploy",
    [FL_CHANGE_FAILED] = "failed_change",
    [FL_CHANGE_EXTERNAL] = "external",
};

const char *fl_change_kind_name(fl_change_kind k)
{
    return (size_t)k < FL_ARRAY_LEN(change_names) ? change_names[k] : "external";
}

fl_result *fl_result_new(void)
{
    fl_result *r = fl_calloc(1, sizeof(*r));
    if (r) {
        r->bucket_seconds = 60;
        r->confidence_threshold = 0.5;
    }
    return r;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fl_free(v[i]);
    fl_free(v);
}

void fl_commit_range_clear(fl_commit_range *cr)
{
    fl_free(cr->prev_sha);
    fl_free(cr->bad_sha);
    fl_free(cr->compare_url);
    fl_free(cr->note);
    for (size_t j = 0; j < cr->n_suspects; j++) {
        fl_suspect *s = &cr->suspects[j];
        fl_free(s->sha);
        fl_free(s->subject);
        fl_free(s->author);
        free_strv(s->reasons, s->n_reasons);
    }
    fl_free(cr->suspects);
    memset(cr, 0, sizeof(*cr));
}

void fl_result_free(fl_result *r)
{
    if (!r)
        return;
    free_strv(r->input.truncated, r->input.n_truncated);
    for (size_t i = 0; i < r->input.n_warnings; i++) {
        fl_free(r->input.warnings[i].file);
        fl_free(r->input.warnings[i].message);
    }
    fl_free(r->input.warnings);
    for (size_t i = 0; i < r->n_changes; i++) {
        fl_change_out *c = &r->changes[i];
        fl_free(c->service);
        fl_free(c->revision);
        fl_free(c->actor);
        fl_free(c->description);
        fl_free(c->source);
        fl_free(c->commit_sha);
    }
    fl_free(r->changes);
    for (size_t i = 0; i < r->n_edges; i++) {
        fl_free(r->edges[i].caller);
        fl_free(r->edges[i].callee);
    }
    fl_free(r->edges);
    for (size_t i = 0; i < r->n_groups; i++) {
        fl_group *g = &r->groups[i];
        fl_free(g->key);
        fl_free(g->class_id);
        fl_free(g->rule_id);
        fl_free(g->title);
        fl_free(g->fingerprint);
        fl_free(g->template_text);
        fl_free(g->family);
        fl_free(g->family_template);
        fl_free(g->implies);
        for (size_t j = 0; j < g->n_by_revision; j++) {
            fl_free(g->by_revision[j].service);
            fl_free(g->by_revision[j].revision);
        }
        fl_free(g->by_revision);
        for (size_t j = 0; j < g->n_samples; j++) {
            fl_sample *s = &g->samples[j];
            fl_free(s->service);
            fl_free(s->revision);
            fl_free(s->instance_id);
            fl_free(s->insert_id);
            fl_free(s->message);
        }
        fl_free(g->samples);
        for (size_t j = 0; j < g->n_fields; j++) {
            fl_free(g->fields[j].name);
            fl_free(g->fields[j].value);
        }
        fl_free(g->fields);
        fl_free(g->series);
    }
    fl_free(r->groups);
    for (size_t i = 0; i < r->n_revisions; i++) {
        fl_revision *v = &r->revisions[i];
        fl_free(v->service);
        fl_free(v->revision);
        fl_free(v->commit_sha);
        fl_free(v->requests_series);
        fl_free(v->r5xx_series);
        fl_free(v->errors_series);
    }
    fl_free(r->revisions);
    for (size_t i = 0; i < r->n_causes; i++) {
        fl_cause *c = &r->causes[i];
        fl_free(c->service);
        fl_free(c->revision);
        fl_free(c->previous_revision);
        fl_free(c->error_class);
        fl_free(c->summary);
        for (size_t j = 0; j < c->n_parts; j++) {
            fl_free(c->parts[j].signal);
            fl_free(c->parts[j].detail);
        }
        fl_free(c->parts);
        free_strv(c->evidence, c->n_evidence);
        free_strv(c->actions, c->n_actions);
        fl_commit_range_clear(&c->commits);
    }
    fl_free(r->causes);
    fl_free(r);
}

int fl_result_set_input(fl_result *r, const fl_diag *d)
{
    fl_input_summary *in = &r->input;
    in->entries = d->entries;
    in->malformed = d->malformed;
    in->oversize = d->oversize;
    in->bytes = d->bytes;
    in->files = d->files;
    in->unreadable = d->unreadable;
    in->warnings_dropped = d->warnings_dropped;
    if (d->n_truncated) {
        in->truncated = fl_calloc(d->n_truncated, sizeof(char *));
        if (!in->truncated)
            return FL_ENOMEM;
        for (size_t i = 0; i < d->n_truncated; i++) {
            if (!(in->truncated[i] = fl_strdup(d->truncated[i])))
                return FL_ENOMEM;
            in->n_truncated++;
        }
    }
    if (d->n_warnings) {
        in->warnings = fl_calloc(d->n_warnings, sizeof(fl_warning));
        if (!in->warnings)
            return FL_ENOMEM;
        for (size_t i = 0; i < d->n_warnings; i++) {
            fl_warning *w = &in->warnings[i];
            w->kind = d->warnings[i].kind;
            w->line = d->warnings[i].line;
            w->file = fl_strdup(d->warnings[i].file);
            w->message = fl_strdup(d->warnings[i].message);
            in->n_warnings++;
            if (!w->file || !w->message)
                return FL_ENOMEM;
        }
    }
    return 0;
}
