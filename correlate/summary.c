/* Summary files (docs/summary-format.md): the aggregate's contents, field by field, in
 * little-endian fixed-width integers and length-prefixed strings, between a header that names
 * the format version and a trailer that holds the body's length and FNV-1a-64 checksum.
 *
 * Reading builds a plain fl_agg whose vectors are filled but whose indexes are empty: it is
 * meant as the source of fl_agg_merge, which reads only the vectors, so the merged aggregate
 * is built by exactly the code that merges the threads of one pass. */
#include "summary.h"

#include "agg_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[8] = {'F', 'L', 'S', 'U', 'M', 'M', 'R', 'Y'};
static const char END_MAGIC[8] = {'F', 'L', 'S', 'U', 'M', 'E', 'N', 'D'};
#define HEADER_BYTES 12  /* magic + u32 version */
#define TRAILER_BYTES 24 /* end magic + u64 body length + u64 checksum */
/* A summary of the largest aggregate the caps allow is far below this; past it the file is
 * refused rather than read into memory. */
#define SUMMARY_MAX_BYTES (UINT64_C(4) << 30)
#define NULL_STR UINT32_MAX

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

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
        put_u32(w, NULL_STR);
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
    put_u32(w, a->has_span);
    put_i64(w, a->span_lo);
    put_i64(w, a->span_hi);

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
    put(&w, MAGIC, sizeof MAGIC);
    put_u32(&w, FL_SUMMARY_VERSION);
    put_tag(&w, "META");
    put_u32(&w, m->shard_index);
    put_u32(&w, m->shard_count);
    put_u64(&w, m->rules_digest);
    write_agg(&w, a);
    write_diag(&w, d);
    if (!w.rc) {
        uint64_t body = w.b.len;
        uint64_t sum = fl_hash64(w.b.data, w.b.len, FL_HASH_SEED);
        put(&w, END_MAGIC, sizeof END_MAGIC);
        put_u64(&w, body);
        put_u64(&w, sum);
    }
    int rc = w.rc;
    if (rc)
        set_err(errbuf, errlen, "building the summary: %s", fl_strerror(rc));
    else if (fwrite(w.b.data, 1, w.b.len, f) != w.b.len) {
        set_err(errbuf, errlen, "writing the summary: %s", strerror(errno));
        rc = FL_EIO;
    }
    fl_buf_free(&w.b);
    return rc;
}

/* ---- reading ---- */

typedef struct rd {
    const unsigned char *p, *end;
    bool bad; /* ran past the end or met an impossible value */
} rd;

static bool take(rd *r, void *out, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        memset(out, 0, n);
        return false;
    }
    memcpy(out, r->p, n);
    r->p += n;
    return true;
}

static uint32_t get_u32(rd *r)
{
    unsigned char x[4];
    take(r, x, 4);
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)x[i] << (8 * i);
    return v;
}

static uint64_t get_u64(rd *r)
{
    unsigned char x[8];
    take(r, x, 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)x[i] << (8 * i);
    return v;
}

static int64_t get_i64(rd *r)
{
    return (int64_t)get_u64(r);
}

/* A count of items of at least min_bytes each: more than the bytes left is damage. */
static size_t get_count(rd *r, bool wide, size_t min_bytes)
{
    uint64_t n = wide ? get_u64(r) : get_u32(r);
    if (r->bad || n > (uint64_t)(r->end - r->p) / min_bytes) {
        r->bad = true;
        return 0;
    }
    return (size_t)n;
}

/* A new string, or NULL (for a NULL string when null_ok; otherwise damage or no memory:
 * check r->bad, and *oom). */
static char *get_str(rd *r, bool null_ok, bool *oom)
{
    uint32_t n = get_u32(r);
    if (r->bad)
        return NULL;
    if (n == NULL_STR) {
        if (!null_ok)
            r->bad = true;
        return NULL;
    }
    if (n > (size_t)(r->end - r->p) || memchr(r->p, '\0', n)) {
        r->bad = true;
        return NULL;
    }
    char *s = fl_strndup((const char *)r->p, n);
    if (!s)
        *oom = true;
    r->p += n;
    return s;
}

/* Copies a string into a fixed array of an fl_change; too long is damage. */
static void get_fixed(rd *r, char *dst, size_t cap, bool *oom)
{
    char *s = get_str(r, false, oom);
    if (s && strlen(s) < cap)
        memcpy(dst, s, strlen(s) + 1);
    else if (s)
        r->bad = true;
    fl_free(s);
}

static bool get_tag(rd *r, const char tag[4])
{
    char x[4];
    if (!take(r, x, 4) || memcmp(x, tag, 4) != 0)
        r->bad = true;
    return !r->bad;
}

static bool grow_to(void **v, size_t *cap, size_t n, size_t elem)
{
    if (!n)
        return true;
    void *p = fl_calloc(n, elem);
    if (!p)
        return false;
    *v = p;
    *cap = n;
    return true;
}

static int read_agg(rd *r, fl_agg *a)
{
    bool oom = false;
    if (!get_tag(r, "AGG "))
        return 0;
    a->opts.max_groups = get_u64(r);
    a->opts.max_revisions = get_u64(r);
    a->opts.max_buckets = get_u64(r);
    a->entries = get_u64(r);
    a->cells_dropped = get_u64(r);
    a->min_ts = get_i64(r);
    a->max_ts = get_i64(r);
    a->width = get_i64(r);
    a->has_span = get_u32(r) != 0;
    a->span_lo = get_i64(r);
    a->span_hi = get_i64(r);
    if (a->width < 1 || (a->width & (a->width - 1)) != 0)
        r->bad = true;

    if (!get_tag(r, "REVS"))
        return 0;
    size_t n = get_count(r, false, 4 * 4 + 3 * 8);
    if (!grow_to((void **)&a->revs, &a->cap_revs, n, sizeof(agg_rev)))
        return FL_ENOMEM;
    for (size_t i = 0; i < n && !r->bad && !oom; i++) {
        agg_rev *x = &a->revs[a->n_revs++];
        x->service = get_str(r, false, &oom);
        x->revision = get_str(r, false, &oom);
        x->location = get_str(r, false, &oom);
        x->commit_sha = get_str(r, false, &oom);
        x->first_seen = get_i64(r);
        x->last_seen = get_i64(r);
        x->sha_ts = get_i64(r);
    }

    if (!get_tag(r, "GRPS"))
        return oom ? FL_ENOMEM : 0;
    n = get_count(r, false, 6 * 4 + 8 * 5);
    if (!grow_to((void **)&a->groups, &a->cap_groups, n, sizeof(agg_group)))
        return FL_ENOMEM;
    for (size_t i = 0; i < n && !r->bad && !oom; i++) {
        agg_group *g = &a->groups[a->n_groups++];
        g->key = get_str(r, false, &oom);
        g->class_id = get_str(r, true, &oom);
        g->rule_id = get_str(r, true, &oom);
        g->title = get_str(r, false, &oom);
        g->fingerprint = get_str(r, false, &oom);
        g->template_text = get_str(r, false, &oom);
        g->implies = (int)get_u32(r);
        g->severity = (int)get_u32(r);
        g->rep_ts = get_i64(r);
        g->count = get_u64(r);
        g->first_seen = get_i64(r);
        g->last_seen = get_i64(r);
        size_t ns = get_count(r, false, 8 + 5 * 4);
        if (ns > FL_GROUP_MAX_SAMPLES)
            r->bad = true;
        for (size_t j = 0; j < ns && !r->bad && !oom; j++) {
            agg_sample *s = &g->samples[g->n_samples++];
            s->ts = get_i64(r);
            s->service = get_str(r, false, &oom);
            s->revision = get_str(r, false, &oom);
            s->instance_id = get_str(r, false, &oom);
            s->insert_id = get_str(r, false, &oom);
            s->message = get_str(r, false, &oom);
        }
        size_t nf = get_count(r, false, 2 * 4 + 8);
        if (nf > AGG_MAX_FIELD_VALUES)
            r->bad = true;
        if (!r->bad && !oom && nf && !(g->fields = fl_calloc(nf, sizeof(agg_field))))
            return FL_ENOMEM;
        for (size_t j = 0; j < nf && !r->bad && !oom; j++) {
            agg_field *f = &g->fields[g->n_fields++];
            f->name = get_str(r, false, &oom);
            f->value = get_str(r, false, &oom);
            f->count = get_u64(r);
        }
    }

    if (!get_tag(r, "CELL"))
        return oom ? FL_ENOMEM : 0;
    n = get_count(r, true, 2 * 4 + 5 * 8);
    if (!grow_to((void **)&a->cells, &a->cap_cells, n, sizeof(agg_cell)))
        return FL_ENOMEM;
    for (size_t i = 0; i < n && !r->bad; i++) {
        agg_cell *c = &a->cells[a->n_cells++];
        c->k.grp = (int32_t)get_u32(r);
        c->k.rev = (int32_t)get_u32(r);
        c->k.minute = get_i64(r);
        c->requests = get_u64(r);
        c->r5xx = get_u64(r);
        c->errors = get_u64(r);
        c->first_ts = get_i64(r);
        /* fl_agg_merge indexes the revisions and groups with these */
        if (c->k.rev < 0 || (size_t)c->k.rev >= a->n_revs || c->k.grp < -1 ||
            (c->k.grp >= 0 && (size_t)c->k.grp >= a->n_groups))
            r->bad = true;
    }

    if (!get_tag(r, "CHNG"))
        return oom ? FL_ENOMEM : 0;
    n = get_count(r, false, 8 + 4 + 6 * 4);
    if (!grow_to((void **)&a->changes, &a->cap_changes, n, sizeof(fl_change)))
        return FL_ENOMEM;
    for (size_t i = 0; i < n && !r->bad && !oom; i++) {
        fl_change *c = &a->changes[a->n_changes++];
        c->ts = get_i64(r);
        c->kind = (fl_change_kind)get_u32(r);
        if ((unsigned)c->kind > FL_CHANGE_EXTERNAL)
            r->bad = true;
        get_fixed(r, c->service, sizeof c->service, &oom);
        get_fixed(r, c->revision, sizeof c->revision, &oom);
        get_fixed(r, c->actor, sizeof c->actor, &oom);
        get_fixed(r, c->description, sizeof c->description, &oom);
        get_fixed(r, c->source, sizeof c->source, &oom);
        get_fixed(r, c->commit_sha, sizeof c->commit_sha, &oom);
    }
    return oom ? FL_ENOMEM : 0;
}

static int read_diag(rd *r, fl_diag *d)
{
    bool oom = false;
    if (!get_tag(r, "DIAG"))
        return 0;
    d->entries = get_u64(r);
    d->malformed = get_u64(r);
    d->oversize = get_u64(r);
    d->bytes = get_u64(r);
    d->files = get_u64(r);
    d->unreadable = get_u64(r);
    d->warnings_dropped = get_u64(r);
    size_t n = get_count(r, false, 4);
    if (n && !r->bad && !(d->truncated = fl_calloc(n, sizeof(char *))))
        return FL_ENOMEM;
    for (size_t i = 0; i < n && !r->bad && !oom; i++)
        if ((d->truncated[d->n_truncated] = get_str(r, false, &oom)))
            d->n_truncated++;
    n = get_count(r, false, 4 + 4 + 8 + 4);
    if (n > FL_DIAG_MAX_WARNINGS)
        r->bad = true;
    if (n && !r->bad && !oom && !(d->warnings = fl_calloc(n, sizeof(fl_warning))))
        return FL_ENOMEM;
    for (size_t i = 0; i < n && !r->bad && !oom; i++) {
        fl_warning *w = &d->warnings[d->n_warnings++];
        w->kind = (fl_warn_kind)get_u32(r);
        if ((unsigned)w->kind > FL_WARN_OTHER)
            r->bad = true;
        w->file = get_str(r, false, &oom);
        w->line = get_u64(r);
        w->message = get_str(r, false, &oom);
    }
    return oom ? FL_ENOMEM : 0;
}

/* Reads the whole file (summaries are small next to the logs they stand for). */
static int slurp(const char *path, unsigned char **data, size_t *len, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(errbuf, errlen, "%s: cannot open summary: %s", path, strerror(errno));
        return FL_ENOTFOUND;
    }
    fl_buf b;
    fl_buf_init(&b, (size_t)SUMMARY_MAX_BYTES);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = fl_buf_add(&b, chunk, n);
    if (!rc && ferror(f)) {
        set_err(errbuf, errlen, "%s: read error: %s", path, strerror(errno));
        rc = FL_ENOTFOUND;
    } else if (rc == FL_ETOOBIG) {
        set_err(errbuf, errlen, "%s: larger than any summary (%llu bytes): not a summary file",
                path, (unsigned long long)SUMMARY_MAX_BYTES);
        rc = FL_EPARSE;
    } else if (rc) {
        set_err(errbuf, errlen, "%s: %s", path, fl_strerror(rc));
    }
    fclose(f);
    if (rc) {
        fl_buf_free(&b);
        return rc;
    }
    *len = b.len;
    *data = (unsigned char *)fl_buf_detach(&b);
    return 0;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Checks header, version, trailer and checksum: 0, or FL_EPARSE with the reason. */
static int check_frame(const char *path, const unsigned char *data, size_t len, char *errbuf,
                       size_t errlen)
{
    if (len < sizeof MAGIC || memcmp(data, MAGIC, sizeof MAGIC) != 0) {
        set_err(errbuf, errlen, "%s: not a faultline summary (no FLSUMMRY header)", path);
        return FL_EPARSE;
    }
    if (len < HEADER_BYTES) {
        set_err(errbuf, errlen, "%s: truncated summary (%zu bytes)", path, len);
        return FL_EPARSE;
    }
    uint32_t version = (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 |
                       (uint32_t)data[11] << 24;
    if (version != FL_SUMMARY_VERSION) {
        set_err(errbuf, errlen,
                "%s: summary format version %u, but this faultline reads version %d: write "
                "the summaries and merge them with the same faultline release",
                path, version, FL_SUMMARY_VERSION);
        return FL_EPARSE;
    }
    const unsigned char *t = data + len - TRAILER_BYTES;
    if (len < HEADER_BYTES + TRAILER_BYTES || memcmp(t, END_MAGIC, sizeof END_MAGIC) != 0 ||
        le64(t + 8) != len - TRAILER_BYTES) {
        set_err(errbuf, errlen,
                "%s: truncated summary (%zu bytes, no end marker): was it copied completely?", path,
                len);
        return FL_EPARSE;
    }
    if (fl_hash64(data, len - TRAILER_BYTES, FL_HASH_SEED) != le64(t + 16)) {
        set_err(errbuf, errlen, "%s: summary checksum mismatch: the file is damaged", path);
        return FL_EPARSE;
    }
    return 0;
}

int fl_summary_read(const char *path, fl_agg **agg, fl_diag *d, fl_summary_meta *m, char *errbuf,
                    size_t errlen)
{
    unsigned char *data = NULL;
    size_t len = 0;
    *agg = NULL;
    memset(m, 0, sizeof(*m));
    int rc = slurp(path, &data, &len, errbuf, errlen);
    if (rc)
        return rc;
    if ((rc = check_frame(path, data, len, errbuf, errlen)) != 0) {
        fl_free(data);
        return rc;
    }
    m->checksum = le64(data + len - TRAILER_BYTES + 16);
    rd r = {data + HEADER_BYTES, data + len - TRAILER_BYTES, false};
    fl_agg *a = fl_agg_new(NULL);
    if (!a) {
        fl_free(data);
        set_err(errbuf, errlen, "%s: %s", path, fl_strerror(FL_ENOMEM));
        return FL_ENOMEM;
    }
    if (get_tag(&r, "META")) {
        m->shard_index = get_u32(&r);
        m->shard_count = get_u32(&r);
        m->rules_digest = get_u64(&r);
    }
    rc = read_agg(&r, a);
    if (!rc)
        rc = read_diag(&r, d);
    if (!rc && !r.bad && r.p != r.end)
        r.bad = true; /* bytes left over: the counts disagree with the data */
    if (!rc && r.bad) {
        /* The checksum matched, so the writer itself was broken or the file was forged. */
        set_err(errbuf, errlen,
                "%s: summary is inconsistent at byte %zu: not written by a "
                "faultline that reads version %d",
                path, (size_t)(r.p - data), FL_SUMMARY_VERSION);
        rc = FL_EPARSE;
    } else if (rc) {
        set_err(errbuf, errlen, "%s: %s", path, fl_strerror(rc));
    }
    fl_free(data);
    if (rc) {
        fl_agg_free(a);
        return rc;
    }
    *agg = a;
    return 0;
}

/* ---- diagnostics of several summaries ---- */

int fl_summary_diag_add(fl_diag *dst, const fl_diag *src)
{
    dst->entries += src->entries;
    dst->malformed += src->malformed;
    dst->oversize += src->oversize;
    dst->bytes += src->bytes;
    dst->files += src->files;
    dst->unreadable += src->unreadable;
    dst->warnings_dropped += src->warnings_dropped;
    if (src->n_truncated) {
        char **t = fl_realloc(dst->truncated, (dst->n_truncated + src->n_truncated) * sizeof(*t));
        if (!t)
            return FL_ENOMEM;
        dst->truncated = t;
        for (size_t i = 0; i < src->n_truncated; i++) {
            if (!(t[dst->n_truncated] = fl_strdup(src->truncated[i])))
                return FL_ENOMEM;
            dst->n_truncated++;
        }
    }
    if (src->n_warnings) {
        fl_warning *w = fl_realloc(dst->warnings, (dst->n_warnings + src->n_warnings) * sizeof(*w));
        if (!w)
            return FL_ENOMEM;
        dst->warnings = w;
        for (size_t i = 0; i < src->n_warnings; i++) {
            fl_warning *x = &w[dst->n_warnings];
            *x = src->warnings[i];
            x->file = fl_strdup(src->warnings[i].file);
            x->message = fl_strdup(src->warnings[i].message);
            if (!x->file || !x->message) {
                fl_free(x->file);
                fl_free(x->message);
                return FL_ENOMEM;
            }
            dst->n_warnings++;
        }
    }
    return 0;
}

/* Path order of the directory walk: component by component, each in strcmp order, so that
 * "a/b/c.json" (inside directory "a/b") comes before "a/b.json" just as the walk visits it. */
static int path_cmp(const char *x, const char *y)
{
    for (;;) {
        size_t nx = strcspn(x, "/"), ny = strcspn(y, "/");
        size_t n = FL_MIN(nx, ny);
        int c = memcmp(x, y, n);
        if (c)
            return c;
        if (nx != ny)
            return nx < ny ? -1 : 1;
        if (!x[nx] || !y[ny])
            return (x[nx] != 0) - (y[ny] != 0);
        x += nx + 1;
        y += ny + 1;
    }
}

typedef struct wkey {
    fl_warning w;
    size_t seq;
} wkey;

static int wkey_cmp(const void *pa, const void *pb)
{
    const wkey *a = pa, *b = pb;
    int c = path_cmp(a->w.file, b->w.file);
    if (c)
        return c;
    /* line 0 speaks of the file as a whole (unreadable, truncated at the end): last */
    uint64_t la = a->w.line ? a->w.line : UINT64_MAX, lb = b->w.line ? b->w.line : UINT64_MAX;
    if (la != lb)
        return la < lb ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int str_cmp(const void *pa, const void *pb)
{
    return path_cmp(*(char *const *)pa, *(char *const *)pb);
}

static bool same_warning(const fl_warning *a, const fl_warning *b)
{
    return a->kind == b->kind && a->line == b->line && strcmp(a->file, b->file) == 0 &&
           strcmp(a->message, b->message) == 0;
}

int fl_summary_diag_finish(fl_diag *d)
{
    if (d->n_truncated > 1) {
        qsort(d->truncated, d->n_truncated, sizeof(char *), str_cmp);
        size_t n = 1;
        for (size_t i = 1; i < d->n_truncated; i++) {
            if (strcmp(d->truncated[i], d->truncated[n - 1]) == 0)
                fl_free(d->truncated[i]);
            else
                d->truncated[n++] = d->truncated[i];
        }
        d->n_truncated = n;
    }
    if (!d->n_warnings)
        return 0;
    wkey *k = fl_calloc(d->n_warnings, sizeof(*k));
    if (!k)
        return FL_ENOMEM;
    for (size_t i = 0; i < d->n_warnings; i++)
        k[i] = (wkey){d->warnings[i], i};
    qsort(k, d->n_warnings, sizeof(*k), wkey_cmp);
    size_t n = 0, start = 0; /* start: first kept warning of the current (file, line) run */
    for (size_t i = 0; i < d->n_warnings; i++) {
        bool dup = false;
        if (n > start && strcmp(d->warnings[start].file, k[i].w.file) == 0 &&
            d->warnings[start].line == k[i].w.line) {
            for (size_t j = start; j < n && !dup; j++)
                dup = same_warning(&d->warnings[j], &k[i].w);
        } else {
            start = n;
        }
        if (dup) {
            /* one problem every shard saw: counted once, as one pass counts it */
            if (k[i].w.kind == FL_WARN_UNREADABLE && d->unreadable)
                d->unreadable--;
            fl_free(k[i].w.file);
            fl_free(k[i].w.message);
            continue;
        }
        d->warnings[n++] = k[i].w;
    }
    fl_free(k);
    for (size_t i = FL_DIAG_MAX_WARNINGS; i < n; i++) {
        fl_free(d->warnings[i].file);
        fl_free(d->warnings[i].message);
        d->warnings_dropped++;
    }
    d->n_warnings = FL_MIN(n, (size_t)FL_DIAG_MAX_WARNINGS);
    return 0;
}
