/* The descriptive part of the result: change events, error groups and revisions, each with
 * its per-bucket series, sorted with total orders. */
#include "analyze_internal.h"
#include "evidence.h"
#include "score.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t bucket_of(const fl_result *res, int64_t minute)
{
    fl_time t = minute * AGG_MINUTE;
    int64_t b = (t - res->bucket_origin) / ((int64_t)res->bucket_seconds * FL_USEC_PER_SEC);
    if (b < 0)
        return 0;
    return (size_t)b < res->n_buckets ? (size_t)b : res->n_buckets - 1;
}

int an_out_changes(fl_result *res, const fl_change *v, size_t n)
{
    res->changes = fl_calloc(n + 1, sizeof(fl_change_out));
    if (!res->changes)
        return FL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        fl_change_out *o = &res->changes[res->n_changes++];
        o->ts = v[i].ts;
        o->kind = v[i].kind;
        o->service = fl_strdup(v[i].service);
        o->revision = fl_strdup(v[i].revision);
        o->actor = fl_strdup(v[i].actor);
        o->description = fl_strdup(v[i].description);
        o->source = fl_strdup(v[i].source);
        o->commit_sha = fl_strdup(v[i].commit_sha);
        if (!o->service || !o->revision || !o->actor || !o->description || !o->source ||
            !o->commit_sha)
            return FL_ENOMEM;
    }
    return 0;
}

static int revcount_cmp(const void *p, const void *q)
{
    const fl_rev_count *a = p, *b = q;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    int d = strcmp(a->service, b->service);
    return d ? d : strcmp(a->revision, b->revision);
}

static int group_out_cmp(const void *p, const void *q)
{
    const fl_group *a = p, *b = q;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->key, b->key);
}

static int field_out_cmp(const void *p, const void *q)
{
    const fl_field_value *a = p, *b = q;
    return strcmp(a->name, b->name);
}

int an_out_groups(const ctx *c, fl_result *res)
{
    const fl_agg *a = c->a;
    res->groups = fl_calloc(a->n_groups + 1, sizeof(fl_group));
    if (!res->groups)
        return FL_ENOMEM;
    for (size_t g = 0; g < a->n_groups; g++) {
        const agg_group *s = &a->groups[g];
        fl_group *o = &res->groups[res->n_groups++];
        o->key = fl_strdup(s->key);
        o->class_id = s->class_id ? fl_strdup(s->class_id) : NULL;
        o->rule_id = s->rule_id ? fl_strdup(s->rule_id) : NULL;
        char name[128];
        /* The rule's title says "from Cloud Run"; a 504 after seconds is the service's own. */
        o->title = fl_strdup(an_group_app_timeout(s) ? an_group_name(s, name, sizeof(name))
                                                     : s->title);
        o->fingerprint = fl_strdup(s->fingerprint);
        o->template_text = fl_strdup(s->template_text);
        o->implies = fl_strdup(fl_implies_name((fl_implies)s->implies));
        o->severity = s->severity;
        o->chronic = c->chronic && c->chronic[g];
        o->count = s->count;
        o->first_seen = s->first_seen;
        o->last_seen = s->last_seen;
        if (!o->key || !o->title || !o->fingerprint || !o->template_text || !o->implies)
            return FL_ENOMEM;
        o->by_revision = fl_calloc(c->gofs[g + 1] - c->gofs[g] + 1, sizeof(fl_rev_count));
        o->series = fl_calloc(res->n_buckets + 1, sizeof(uint32_t));
        o->samples = fl_calloc(FL_GROUP_MAX_SAMPLES, sizeof(fl_sample));
        o->fields = fl_calloc(s->n_fields + 1, sizeof(fl_field_value));
        if (!o->by_revision || !o->series || !o->samples || !o->fields)
            return FL_ENOMEM;
        for (size_t sl = c->gofs[g]; sl < c->gofs[g + 1]; sl++) {
            const an_grev *gr = &c->grev[sl];
            size_t r = gr->r;
            uint64_t k = 0;
            for (size_t i = 0; i < gr->n; i++) {
                k += gr->cells[i].errors;
                o->series[bucket_of(res, gr->cells[i].minute)] += (uint32_t)gr->cells[i].errors;
            }
            if (!k)
                continue;
            fl_rev_count *rc = &o->by_revision[o->n_by_revision++];
            rc->service = fl_strdup(c->revs[r].r->service);
            rc->revision = fl_strdup(c->revs[r].r->revision);
            rc->count = k;
            if (!rc->service || !rc->revision)
                return FL_ENOMEM;
        }
        qsort(o->by_revision, o->n_by_revision, sizeof(fl_rev_count), revcount_cmp);
        for (size_t i = 0; i < s->n_samples; i++) {
            const agg_sample *x = &s->samples[i];
            fl_sample *y = &o->samples[o->n_samples++];
            y->ts = x->ts;
            y->service = fl_strdup(x->service);
            y->revision = fl_strdup(x->revision);
            y->instance_id = fl_strdup(x->instance_id);
            y->insert_id = fl_strdup(x->insert_id);
            y->message = fl_strdup(x->message);
            if (!y->service || !y->revision || !y->instance_id || !y->insert_id || !y->message)
                return FL_ENOMEM;
        }
        for (size_t i = 0; i < s->n_fields; i++) {
            bool dup = false;
            for (size_t j = 0; j < o->n_fields; j++)
                dup |= strcmp(o->fields[j].name, s->fields[i].name) == 0;
            if (dup)
                continue;
            const agg_field *f = an_top_field(s, s->fields[i].name);
            fl_field_value *y = &o->fields[o->n_fields++];
            y->name = fl_strdup(f->name);
            y->value = fl_strdup(f->value);
            y->count = f->count;
            if (!y->name || !y->value)
                return FL_ENOMEM;
        }
        qsort(o->fields, o->n_fields, sizeof(fl_field_value), field_out_cmp);
    }
    qsort(res->groups, res->n_groups, sizeof(fl_group), group_out_cmp);
    return an_out_families(res);
}

static int rev_out_cmp(const void *p, const void *q)
{
    const fl_revision *a = p, *b = q;
    int d = strcmp(a->service, b->service);
    if (d)
        return d;
    if (a->first_seen != b->first_seen)
        return a->first_seen < b->first_seen ? -1 : 1;
    return strcmp(a->revision, b->revision);
}

int an_out_revisions(const ctx *c, fl_result *res)
{
    res->revisions = fl_calloc(c->n_revs + 1, sizeof(fl_revision));
    if (!res->revisions)
        return FL_ENOMEM;
    for (size_t r = 0; r < c->n_revs; r++) {
        const rev_view *v = &c->revs[r];
        fl_revision *o = &res->revisions[res->n_revisions++];
        o->service = fl_strdup(v->r->service);
        o->revision = fl_strdup(v->r->revision);
        o->commit_sha = fl_strdup(v->r->commit_sha);
        o->first_seen = v->r->first_seen;
        o->last_seen = v->r->last_seen;
        o->requests = v->requests;
        o->requests_5xx = v->r5xx;
        o->errors = v->errors;
        o->requests_series = fl_calloc(res->n_buckets + 1, sizeof(uint32_t));
        o->r5xx_series = fl_calloc(res->n_buckets + 1, sizeof(uint32_t));
        o->errors_series = fl_calloc(res->n_buckets + 1, sizeof(uint32_t));
        if (!o->service || !o->revision || !o->commit_sha || !o->requests_series ||
            !o->r5xx_series || !o->errors_series)
            return FL_ENOMEM;
        for (size_t i = 0; i < v->n; i++) {
            size_t b = bucket_of(res, v->cells[i].minute);
            o->requests_series[b] += (uint32_t)v->cells[i].requests;
            o->r5xx_series[b] += (uint32_t)v->cells[i].r5xx;
            o->errors_series[b] += (uint32_t)v->cells[i].errors;
        }
    }
    qsort(res->revisions, res->n_revisions, sizeof(fl_revision), rev_out_cmp);
    return 0;
}

