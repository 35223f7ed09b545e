/* Summary files, writing (docs/summary-format.md): the aggregate's contents, field by field,
 * in little-endian fixed-width integers and length-prefixed strings, between a header that
 * names the format version and a trailer that holds the body's length and FNV-1a-64 checksum.
 * Reading is in summary_read.c, merging diagnostics in summary_diag.c. */
#include "summary_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- digest of the rules ---- */

static uint64_t hash_str(uint64_t h, const char *s)
{
    return fl_hash64(s, strlen(s) + 1, h);
}

uint64_t fl_summary_rules_digest(const fl_agg *a, const fl_rules *rules)
{
    /* Order-independent over the groups: a sum of per-class digests. */
    uint64_t sum = 0;
    for (size_t i = 0; i < a->n_groups; i++) {
        const char *cls = a->groups[i].class_id;
        if (!cls)
            continue;
        uint64_t h = hash_str(FL_HASH_SEED, cls);
        const fl_rule_info *r = rules ? fl_rules_find_class(rules, cls) : NULL;
        for (size_t j = 0; r && j < r->n_remediation; j++)
            h = hash_str(h, r->remediation[j]);
        sum += h;
    }
    return sum;
}

/* ---- writing ---- */

typedef struct wr {
    fl_buf b;
    int rc;
} wr;

static void put(wr *w, const void *p, size_t n)
{
    if (!w->rc)
        w->rc = fl_buf_add(&w->b, p, n);
}

static void put_u32(wr *w, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    put(w, x, 4);
}

static void put_u64(wr *w, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    put(w, x, 8);
}

static void put_i64(wr *w, int64_t v)
{
    put_u64(w, (uint64_t)v);
}

static void put_str(wr *w, const char *s)
{
    if (!s) {
        put_u32(w, SUMMARY_NULL_STR);
        return;
    }
    size_t n = strlen(s);
    put_u32(w, (uint32_t)n);
    put(w, s, n);
}

static void put_tag(wr *w, const char tag[4])
{
    put(w, tag, 4);
}

/* ---- the call graph's trace sample ---- */

typedef struct traces {
    const agg_trace **v;
    size_t n, cap;
    int rc;
} traces;

static void collect_trace(const agg_trace *t, void *arg)
{
    traces *ts = arg;
    if (ts->rc)
        return;
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? 2 * ts->cap : 256;
        const agg_trace **v = fl_realloc(ts->v, cap * sizeof(*v));
        if (!v) {
            ts->rc = FL_ENOMEM;
            return;
        }
        ts->v = v;
        ts->cap = cap;
    }
    ts->v[ts->n++] = t;
}

static int trace_cmp(const void *p, const void *q)
{
    uint64_t a = (*(const agg_trace *const *)p)->h, b = (*(const agg_trace *const *)q)->h;
    return a < b ? -1 : a > b;
}

/* The bottom-k itself (the GRAPH_KEEP smallest hashes, in hash order): what a merge keeps of
 * it, and a size that does not grow with the entries nor depend on the hash table's layout. */
static void write_graph(wr *w, const agg_graph *g)
{
    traces ts = {0};
    agg_graph_each(g, collect_trace, &ts);
    if (ts.rc) {
        if (!w->rc)
            w->rc = ts.rc;
        fl_free(ts.v);
        return;
    }
    if (ts.n)
        qsort(ts.v, ts.n, sizeof(*ts.v), trace_cmp);
    if (ts.n > GRAPH_KEEP)
        ts.n = GRAPH_KEEP;
    put_tag(w, "GRPH");
    put_u32(w, (uint32_t)ts.n);
    for (size_t i = 0; i < ts.n; i++) {
        const agg_trace *t = ts.v[i];
        put_u64(w, t->h);
        put_u32(w, (uint32_t)t->n);
        for (size_t k = 0; k < t->n; k++) {
            put_u64(w, t->s[k].svc);
            put_i64(w, t->s[k].start);
            put_i64(w, t->s[k].end);
        }
    }
    fl_free(ts.v);
}

static void write_agg(wr *w, const fl_agg *a)
{
    put_tag(w, "AGG ");
    put_u64(w, a->opts.max_groups);
    put_u64(w, a->opts.max_revisions);
    put_u64(w, a->opts.max_buckets);
    put_u64(w, a->entries);
    put_u64(w, a->cells_dropped);
    put_i64(w, a->min_ts);
    put_i64(w, a->max_ts);
    put_i64(w, a->width);
    put_u64(w, a->changes_dropped);
    put_u64(w, a->fcells_dropped);

    put_tag(w, "REVS");
    put_u32(w, (uint32_t)a->n_revs);
    for (size_t i = 0; i < a->n_revs; i++) {
        const agg_rev *r = &a->revs[i];
        put_str(w, r->service);
        put_str(w, r->revision);
        put_str(w, r->location);
        put_str(w, r->commit_sha);
        put_i64(w, r->first_seen);
        put_i64(w, r->last_seen);
        put_i64(w, r->sha_ts);
        put_u32(w, r->overflow);
    }

    put_tag(w, "GRPS");
    put_u32(w, (uint32_t)a->n_groups);
    for (size_t i = 0; i < a->n_groups; i++) {
        const agg_group *g = &a->groups[i];
        put_str(w, g->key);
        put_str(w, g->class_id);
        put_str(w, g->rule_id);
        put_str(w, g->title);
        put_str(w, g->fingerprint);
        put_str(w, g->template_text);
        put_u32(w, (uint32_t)g->implies);
        put_u32(w, (uint32_t)g->severity);
        put_i64(w, g->rep_ts);
        put_u64(w, g->count);
        put_i64(w, g->first_seen);
        put_i64(w, g->last_seen);
        put_u32(w, (uint32_t)g->n_samples);
        for (size_t j = 0; j < g->n_samples; j++) {
            const agg_sample *s = &g->samples[j];
            put_i64(w, s->ts);
            put_str(w, s->service);
            put_str(w, s->revision);
            put_str(w, s->instance_id);
            put_str(w, s->insert_id);
            put_str(w, s->message);
        }
        put_u32(w, (uint32_t)g->n_fields);
        for (size_t j = 0; j < g->n_fields; j++) {
            put_str(w, g->fields[j].name);
            put_str(w, g->fields[j].value);
            put_u64(w, g->fields[j].count);
            put_u32(w, g->fields[j].n_cells);
            for (uint32_t k = 0; k < g->fields[j].n_cells; k++) {
                put_i64(w, g->fields[j].cells[k].minute);
                put_u64(w, g->fields[j].cells[k].n);
            }
        }
        put_u32(w, g->norev.n_cells);
        for (uint32_t k = 0; k < g->norev.n_cells; k++) {
            put_i64(w, g->norev.cells[k].minute);
            put_u64(w, g->norev.cells[k].n);
        }
        put_u64(w, g->capped.count);
        put_u32(w, g->capped.n_cells);
        for (uint32_t k = 0; k < g->capped.n_cells; k++) {
            put_i64(w, g->capped.cells[k].minute);
            put_u64(w, g->capped.cells[k].n);
        }
    }

    put_tag(w, "CELL");
    put_u64(w, a->n_cells);
    for (size_t i = 0; i < a->n_cells; i++) {
        const agg_cell *c = &a->cells[i];
        put_u32(w, (uint32_t)c->k.grp);
        put_u32(w, (uint32_t)c->k.rev);
        put_i64(w, c->k.minute);
        put_u64(w, c->requests);
        put_u64(w, c->r5xx);
        put_u64(w, c->errors);
        put_i64(w, c->first_ts);
    }

    put_tag(w, "CHNG");
    put_u32(w, (uint32_t)a->n_changes);
    for (size_t i = 0; i < a->n_changes; i++) {
        const fl_change *c = &a->changes[i];
        put_i64(w, c->ts);
        put_u32(w, (uint32_t)c->kind);
        put_str(w, c->service);
        put_str(w, c->revision);
        put_str(w, c->actor);
        put_str(w, c->description);
        put_str(w, c->source);
        put_str(w, c->commit_sha);
    }

    /* The time histogram behind outlier detection (agg_time.c). */
    const agg_time *t = &a->time;
    put_tag(w, "TIME");
    put_i64(w, t->width);
    put_u32(w, (uint32_t)t->n_bins);
    for (size_t i = 0; i < t->n_bins; i++) {
        put_i64(w, t->bins[i].k.minute);
        put_u64(w, t->bins[i].n);
    }
    for (int side = 0; side < 2; side++) {
        const agg_extreme *v = side ? t->hi : t->lo;
        size_t n = side ? t->n_hi : t->n_lo;
        put_u32(w, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            put_i64(w, v[i].ts);
            put_str(w, v[i].file);
            put_u64(w, v[i].line);
        }
    }

    write_graph(w, a->graph);
}

static void write_diag(wr *w, const fl_diag *d)
{
    put_tag(w, "DIAG");
    put_u64(w, d->entries);
    put_u64(w, d->malformed);
    put_u64(w, d->oversize);
    put_u64(w, d->bytes);
    put_u64(w, d->files);
    put_u64(w, d->unreadable);
    put_u64(w, d->warnings_dropped);
    put_u32(w, (uint32_t)d->n_truncated);
    for (size_t i = 0; i < d->n_truncated; i++)
        put_str(w, d->truncated[i]);
    put_u32(w, (uint32_t)d->n_warnings);
    for (size_t i = 0; i < d->n_warnings; i++) {
        const fl_warning *x = &d->warnings[i];
        put_u32(w, (uint32_t)x->kind);
        put_str(w, x->file);
        put_u64(w, x->line);
        put_str(w, x->message);
    }
}

int fl_summary_write(FILE *f, const fl_agg *a, const fl_diag *d, const fl_summary_meta *m,
                     char *errbuf, size_t errlen)
{
    wr w;
    memset(&w, 0, sizeof w);
    fl_buf_init(&w.b, (size_t)SUMMARY_MAX_BYTES);
    put(&w, SUMMARY_MAGIC, sizeof SUMMARY_MAGIC);
    put_u32(&w, FL_SUMMARY_VERSION);
    put_tag(&w, "META");
    put_u32(&w, m->shard_index);
    put_u32(&w, m->shard_count);
    put_u64(&w, m->rules_digest);
    put_tag(&w, "GATE");
    put_str(&w, m->gate.project);
    put_str(&w, m->gate.filter);
    put_u64(&w, m->gate.filtered_out);
    put_u64(&w, m->gate.duplicates);
    put_u64(&w, m->gate.dedup_unchecked);
    write_agg(&w, a);
    write_diag(&w, d);
    if (!w.rc) {
        uint64_t body = w.b.len;
        uint64_t sum = fl_hash64(w.b.data, w.b.len, FL_HASH_SEED);
        put(&w, SUMMARY_END_MAGIC, sizeof SUMMARY_END_MAGIC);
        put_u64(&w, body);
        put_u64(&w, sum);
    }
    int rc = w.rc;
    if (rc)
        summary_err(errbuf, errlen, "building the summary: %s", fl_strerror(rc));
    else if (fwrite(w.b.data, 1, w.b.len, f) != w.b.len) {
        summary_err(errbuf, errlen, "writing the summary: %s", strerror(errno));
        rc = FL_EIO;
    }
    fl_buf_free(&w.b);
    return rc;
}
