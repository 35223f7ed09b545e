/* The JSON report: the documented contract of docs/report-format.md. Keys are emitted in a
 * fixed order and numbers with a fixed precision so the same result always gives the same
 * bytes; nothing from the environment (clock, host) goes in. */
#include "fl_reports.h"

#include "fl_entry.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define FL_REPORT_JSON_VERSION 1

/* RFC 3339 UTC; microseconds only when the time has them; null when unknown. */
static json_t *time_json(fl_time t)
{
    char buf[40];
    if (t == 0)
        return json_null();
    return json_string(fl_time_format(t, t % FL_USEC_PER_SEC != 0, buf, sizeof buf));
}

static json_t *str_json(const char *s)
{
    return json_string(s ? s : "");
}

static json_t *nullable_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Scores and rates are rounded to 4 decimals so that the text is stable and short. */
static json_t *real_json(double v)
{
    if (!isfinite(v))
        return json_real(0);
    return json_real(round(v * 10000.0) / 10000.0);
}

static json_t *u64_json(uint64_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *series_json(const uint32_t *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; s && i < n; i++)
        json_array_append_new(a, json_integer(s[i]));
    return a;
}

static json_t *strv_json(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, str_json(v[i]));
    return a;
}

static json_t *input_json(const fl_input_summary *in)
{
    json_t *o = json_object();
    json_object_set_new(o, "entries", u64_json(in->entries));
    json_object_set_new(o, "malformed", u64_json(in->malformed));
    json_object_set_new(o, "oversize", u64_json(in->oversize));
    json_object_set_new(o, "bytes", u64_json(in->bytes));
    json_object_set_new(o, "files", u64_json(in->files));
    json_object_set_new(o, "unreadable", u64_json(in->unreadable));
    json_object_set_new(o, "truncated", strv_json(in->truncated, in->n_truncated));
    json_t *w = json_array();
    for (size_t i = 0; i < in->n_warnings; i++) {
        const fl_warning *x = &in->warnings[i];
        json_t *e = json_object();
        json_object_set_new(e, "file", str_json(x->file));
        json_object_set_new(e, "line", u64_json(x->line));
        json_object_set_new(e, "kind", json_string(fl_warn_kind_name(x->kind)));
        json_object_set_new(e, "message", str_json(x->message));
        json_array_append_new(w, e);
    }
    json_object_set_new(o, "warnings", w);
    json_object_set_new(o, "warnings_dropped", u64_json(in->warnings_dropped));
    return o;
}

static json_t *change_json(const fl_change_out *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "time", time_json(c->ts));
    json_object_set_new(o, "kind", json_string(fl_change_kind_name(c->kind)));
    json_object_set_new(o, "service", str_json(c->service));
    json_object_set_new(o, "revision", str_json(c->revision));
    json_object_set_new(o, "actor", str_json(c->actor));
    json_object_set_new(o, "description", str_json(c->description));
    json_object_set_new(o, "source", str_json(c->source));
    json_object_set_new(o, "commit_sha", str_json(c->commit_sha));
    return o;
}

static json_t *group_json(const fl_group *g, size_t n_buckets)
{
    json_t *o = json_object();
    json_object_set_new(o, "key", str_json(g->key));
    json_object_set_new(o, "class", nullable_str(g->class_id));
    json_object_set_new(o, "rule", nullable_str(g->rule_id));
    json_object_set_new(o, "title", str_json(g->title));
    json_object_set_new(o, "fingerprint", str_json(g->fingerprint));
    json_object_set_new(o, "template", str_json(g->template_text));
    json_object_set_new(o, "family", nullable_str(g->family));
    json_object_set_new(o, "family_template", nullable_str(g->family_template));
    json_object_set_new(o, "implies", str_json(g->implies ? g->implies : "unknown"));
    json_object_set_new(o, "severity", json_string(fl_severity_name(g->severity)));
    json_object_set_new(o, "count", u64_json(g->count));
    json_object_set_new(o, "first_seen", time_json(g->first_seen));
    json_object_set_new(o, "last_seen", time_json(g->last_seen));
    json_t *br = json_array();
    for (size_t i = 0; i < g->n_by_revision; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "service", str_json(g->by_revision[i].service));
        json_object_set_new(e, "revision", str_json(g->by_revision[i].revision));
        json_object_set_new(e, "count", u64_json(g->by_revision[i].count));
        json_array_append_new(br, e);
    }
    json_object_set_new(o, "by_revision", br);
    json_t *samples = json_array();
    for (size_t i = 0; i < g->n_samples; i++) {
        const fl_sample *s = &g->samples[i];
        json_t *e = json_object();
        json_object_set_new(e, "time", time_json(s->ts));
        json_object_set_new(e, "service", str_json(s->service));
        json_object_set_new(e, "revision", str_json(s->revision));
        json_object_set_new(e, "instance", str_json(s->instance_id));
        json_object_set_new(e, "insert_id", str_json(s->insert_id));
        json_object_set_new(e, "message", str_json(s->message));
        json_array_append_new(samples, e);
    }
    json_object_set_new(o, "samples", samples);
    json_t *fields = json_array();
    for (size_t i = 0; i < g->n_fields; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", str_json(g->fields[i].name));
        json_object_set_new(e, "value", str_json(g->fields[i].value));
        json_object_set_new(e, "count", u64_json(g->fields[i].count));
        json_array_append_new(fields, e);
    }
    json_object_set_new(o, "fields", fields);
    json_object_set_new(o, "series", series_json(g->series, n_buckets));
    json_object_set_new(o, "chronic", json_boolean(g->chronic));
    return o;
}

static json_t *revision_json(const fl_revision *v, size_t n_buckets)
{
    json_t *o = json_object();
    json_object_set_new(o, "service", str_json(v->service));
    json_object_set_new(o, "revision", str_json(v->revision));
    json_object_set_new(o, "commit_sha", str_json(v->commit_sha));
    json_object_set_new(o, "first_seen", time_json(v->first_seen));
    json_object_set_new(o, "last_seen", time_json(v->last_seen));
    json_object_set_new(o, "requests", u64_json(v->requests));
    json_object_set_new(o, "requests_5xx", u64_json(v->requests_5xx));
    json_object_set_new(o, "errors", u64_json(v->errors));
    json_t *s = json_object();
    json_object_set_new(s, "requests", series_json(v->requests_series, n_buckets));
    json_object_set_new(s, "r5xx", series_json(v->r5xx_series, n_buckets));
    json_object_set_new(s, "errors", series_json(v->errors_series, n_buckets));
    json_object_set_new(o, "series", s);
    return o;
}

/* null when correlate/suspects did not describe this cause (not a deploy, or not run). */
static json_t *commit_range_json(const fl_commit_range *cr)
{
    if (!cr->bad_sha && !cr->note)
        return json_null();
    json_t *o = json_object();
    bool range = fl_commit_range_known(cr) && strcmp(cr->prev_sha, cr->bad_sha) != 0;
    json_object_set_new(o, "previous",
                        cr->prev_sha && cr->prev_sha[0] ? json_string(cr->prev_sha) : json_null());
    json_object_set_new(o, "bad",
                        cr->bad_sha && cr->bad_sha[0] ? json_string(cr->bad_sha) : json_null());
    if (range)
        json_object_set_new(
            o, "log", json_sprintf("git log --oneline %.12s..%.12s", cr->prev_sha, cr->bad_sha));
    else
        json_object_set_new(o, "log", json_null());
    json_object_set_new(o, "compare_url",
                        cr->compare_url && cr->compare_url[0] ? json_string(cr->compare_url)
                                                              : json_null());
    json_object_set_new(o, "searched", json_boolean(cr->searched));
    json_object_set_new(o, "commits", json_integer(cr->commits));
    json_object_set_new(o, "note", cr->note && cr->note[0] ? json_string(cr->note) : json_null());
    return o;
}

static json_t *suspects_json(const fl_commit_range *cr)
{
    json_t *a = json_array();
    for (size_t i = 0; i < cr->n_suspects; i++) {
        const fl_suspect *s = &cr->suspects[i];
        json_t *e = json_object();
        json_object_set_new(e, "sha", str_json(s->sha));
        json_object_set_new(e, "subject", str_json(s->subject));
        json_object_set_new(e, "author", str_json(s->author));
        json_object_set_new(e, "time", time_json(s->time));
        json_object_set_new(e, "score", real_json(s->score));
        json_object_set_new(e, "reasons", strv_json(s->reasons, s->n_reasons));
        json_array_append_new(a, e);
    }
    return a;
}

static json_t *cause_json(const fl_cause *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "rank", json_integer(c->rank));
    json_object_set_new(o, "score", real_json(c->score));
    json_object_set_new(o, "kind", json_string(fl_cause_kind_name(c->kind)));
    json_object_set_new(o, "service", str_json(c->service));
    json_object_set_new(o, "revision", str_json(c->revision));
    json_object_set_new(o, "previous_revision", str_json(c->previous_revision));
    json_object_set_new(o, "error_class", str_json(c->error_class));
    json_object_set_new(o, "summary", str_json(c->summary));
    json_object_set_new(o, "onset", time_json(c->onset));
    json_object_set_new(o, "change_time", time_json(c->change_ts));
    json_t *parts = json_array();
    for (size_t i = 0; i < c->n_parts; i++) {
        const fl_score_part *p = &c->parts[i];
        json_t *e = json_object();
        json_object_set_new(e, "signal", str_json(p->signal));
        json_object_set_new(e, "weight", real_json(p->weight));
        json_object_set_new(e, "value", real_json(p->value));
        json_object_set_new(e, "contribution", real_json(p->contribution));
        json_object_set_new(e, "detail", str_json(p->detail));
        json_array_append_new(parts, e);
    }
    json_object_set_new(o, "score_breakdown", parts);
    json_object_set_new(o, "evidence", strv_json(c->evidence, c->n_evidence));
    json_object_set_new(o, "actions", strv_json(c->actions, c->n_actions));
    json_object_set_new(o, "commit_range", commit_range_json(&c->commits));
    json_object_set_new(o, "suspects", suspects_json(&c->commits));
    return o;
}

static json_t *result_json(const fl_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(FL_REPORT_JSON_VERSION));
    json_object_set_new(o, "generated_by", json_string("faultline"));
    json_object_set_new(o, "input", input_json(&r->input));
    json_t *w = json_object();
    json_object_set_new(w, "start", time_json(r->window_start));
    json_object_set_new(w, "end", time_json(r->window_end));
    json_object_set_new(w, "bucket_seconds", json_integer(r->bucket_seconds));
    json_object_set_new(w, "bucket_origin", time_json(r->bucket_origin));
    json_object_set_new(w, "buckets", json_integer((json_int_t)r->n_buckets));
    json_object_set_new(o, "window", w);
    json_object_set_new(o, "confident", json_boolean(r->confident));
    json_object_set_new(o, "threshold", real_json(r->confidence_threshold));
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_changes; i++)
        json_array_append_new(a, change_json(&r->changes[i]));
    json_object_set_new(o, "changes", a);
    a = json_array();
    for (size_t i = 0; i < r->n_groups; i++)
        json_array_append_new(a, group_json(&r->groups[i], r->n_buckets));
    json_object_set_new(o, "groups", a);
    a = json_array();
    for (size_t i = 0; i < r->n_revisions; i++)
        json_array_append_new(a, revision_json(&r->revisions[i], r->n_buckets));
    json_object_set_new(o, "revisions", a);
    a = json_array();
    for (size_t i = 0; i < r->n_edges; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "caller", str_json(r->edges[i].caller));
        json_object_set_new(e, "callee", str_json(r->edges[i].callee));
        json_object_set_new(e, "traces", u64_json(r->edges[i].traces));
        json_object_set_new(e, "mentions", u64_json(r->edges[i].mentions));
        json_array_append_new(a, e);
    }
    json_object_set_new(o, "call_graph", a);
    a = json_array();
    for (size_t i = 0; i < r->n_causes; i++)
        json_array_append_new(a, cause_json(&r->causes[i]));
    json_object_set_new(o, "causes", a);
    return o;
}

static int json_write(const fl_result *r, const fl_report_opts *opts, FILE *out)
{
    (void)opts;
    json_t *doc = result_json(r);
    if (!doc)
        return FL_ENOMEM;
    int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (rc != 0 || fputc('\n', out) == EOF)
        return FL_EIO;
    return 0;
}

const fl_report_format fl_report_json = {
    "json",
    "the documented machine-readable contract (docs/report-format.md)",
    json_write,
};
