/* Summary files, reading. The frame is checked first (header, version, end marker, checksum),
 * then every count against the bytes left and every index against what it indexes.
 *
 * Reading builds a plain fl_agg whose vectors are filled but whose indexes are empty: it is
 * meant as the source of fl_agg_merge, which reads only the vectors, so the merged aggregate
 * is built by exactly the code that merges the threads of one pass. */
#include "summary_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const unsigned char *p, *end;
    bool bad;        /* ran past the end or met an impossible value */
    const char *why; /* what was impossible, when known (the first one) */
    size_t why_at;   /* bytes before the value */
} rd;

/* Marks the value that ends at r->p (n bytes long) impossible, naming it in the message. */
static void refuse(rd *r, size_t n, const char *why)
{
    if (!r->bad) {
        r->why = why;
        r->why_at = n;
    }
    r->bad = true;
}

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
    if (n == SUMMARY_NULL_STR) {
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

/* A minute a timestamp (microseconds in an i64) can have: anything else is damage. Expiry and
 * analysis compute minute + width, which this range and the width bounds below keep inside
 * an int64. */
static bool minute_ok(int64_t m)
{
    return m >= INT64_MIN / AGG_MINUTE && m <= INT64_MAX / AGG_MINUTE;
}

/* A bucket width the aggregate (cell_get) or its time histogram (agg_time_add) can reach. */
static bool width_ok(int64_t w, int64_t max)
{
    return w >= 1 && w <= max && (w & (w - 1)) == 0;
}

/* A field value's (or a group's norev or capped) time cells, ascending (fl_agg_merge
 * re-buckets them). */
static int read_fcells(rd *r, fl_agg *a, agg_field *f)
{
    size_t nc = get_count(r, false, 16);
    if (nc > AGG_MAX_FIELD_CELLS - a->n_fcells)
        r->bad = true;
    if (!r->bad && nc && !(f->cells = fl_calloc(nc, sizeof(agg_fcell))))
        return FL_ENOMEM;
    for (size_t k = 0; k < nc && !r->bad; k++) {
        agg_fcell *c = &f->cells[f->n_cells++];
        c->minute = get_i64(r);
        c->n = get_u64(r);
        if (!minute_ok(c->minute))
            refuse(r, 16, "a field value's time cell has a minute no timestamp can have");
        else if (k && c->minute <= f->cells[k - 1].minute)
            refuse(r, 16, "a field value's time cells are not in ascending order");
    }
    f->cap_cells = f->n_cells;
    a->n_fcells += f->n_cells;
    return 0;
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

/* The call graph's trace sample, put back through the code that merges graphs. A writer
 * keeps at most GRAPH_KEEP traces, so more is damage. */
static int read_graph(rd *r, fl_agg *a)
{
    if (!get_tag(r, "GRPH"))
        return 0;
    size_t n = get_count(r, false, 8 + 4);
    if (n > GRAPH_KEEP)
        r->bad = true;
    for (size_t i = 0; i < n && !r->bad; i++) {
        agg_trace t = {0};
        t.h = get_u64(r);
        t.n = get_count(r, false, 3 * 8);
        if (!t.h || t.n > GRAPH_SVCS)
            r->bad = true;
        for (size_t k = 0; k < t.n && !r->bad; k++) {
            t.s[k].svc = get_u64(r);
            t.s[k].start = get_i64(r);
            t.s[k].end = get_i64(r);
            if (!t.s[k].svc || t.s[k].end < t.s[k].start)
                r->bad = true;
        }
        if (!r->bad && t.n && agg_graph_put_trace(&a->graph, &t))
            return FL_ENOMEM;
    }
    return 0;
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
    a->changes_dropped = get_u64(r);
    a->fcells_dropped = get_u64(r);
    if (!width_ok(a->width, AGG_MAX_WIDTH))
        refuse(r, 3 * 8, "the bucket width is not a power of two the aggregate can reach");

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
        x->overflow = get_u32(r) != 0;
        agg_rev_set_lengths(x);
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
        size_t nf = get_count(r, false, 3 * 4 + 8);
        if (nf > AGG_MAX_FIELD_VALUES)
            r->bad = true;
        if (!r->bad && !oom && nf && !(g->fields = fl_calloc(nf, sizeof(agg_field))))
            return FL_ENOMEM;
        for (size_t j = 0; j < nf && !r->bad && !oom; j++) {
            agg_field *f = &g->fields[g->n_fields++];
            f->name = get_str(r, false, &oom);
            f->value = get_str(r, false, &oom);
            f->count = get_u64(r);
            if (read_fcells(r, a, f))
                return FL_ENOMEM;
        }
        if (!r->bad && !oom && read_fcells(r, a, &g->norev))
            return FL_ENOMEM;
        g->capped.count = get_u64(r);
        if (!r->bad && !oom && read_fcells(r, a, &g->capped))
            return FL_ENOMEM;
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
            refuse(r, 2 * 4 + 5 * 8, "a time cell names a group or revision the file lacks");
        else if (!minute_ok(c->k.minute))
            refuse(r, 4 * 8 + 8, "a time cell has a minute no timestamp can have");
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

    if (oom || !get_tag(r, "TIME"))
        return oom ? FL_ENOMEM : 0;
    agg_time *t = &a->time;
    int64_t tw = get_i64(r);
    n = get_count(r, false, 16);
    if (!width_ok(tw, AGG_TIME_MAX_WIDTH) || n > AGG_TIME_BINS)
        refuse(r, 8 + 4, "the time histogram's bin width or size is impossible");
    for (size_t i = 0; i < n && !r->bad; i++) {
        int64_t minute = get_i64(r);
        uint64_t cnt = get_u64(r);
        if (!minute_ok(minute)) {
            refuse(r, 16, "a time histogram bin has a minute no timestamp can have");
            break;
        }
        /* agg_time_add re-bins at the width read, so the histogram is the one written */
        if (i == 0 && t->width < tw)
            t->width = tw;
        if (agg_time_add(t, minute * AGG_MINUTE, cnt, "-", 0))
            return FL_ENOMEM;
    }
    /* the extremes are taken again below with their file and line */
    for (size_t i = 0; i < t->n_lo; i++)
        fl_free(t->lo[i].file);
    for (size_t i = 0; i < t->n_hi; i++)
        fl_free(t->hi[i].file);
    t->n_lo = t->n_hi = 0;
    for (int side = 0; side < 2 && !r->bad; side++) {
        size_t m = get_count(r, false, 8 + 4 + 8);
        if (m > AGG_TIME_EXTREMES)
            r->bad = true;
        for (size_t i = 0; i < m && !r->bad && !oom; i++) {
            agg_extreme *x = side ? &t->hi[t->n_hi] : &t->lo[t->n_lo];
            x->ts = get_i64(r);
            x->file = get_str(r, false, &oom);
            x->line = get_u64(r);
            if (!x->file)
                break;
            if (side)
                t->n_hi++;
            else
                t->n_lo++;
        }
    }
    if (oom)
        return FL_ENOMEM;
    return read_graph(r, a);
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
        summary_err(errbuf, errlen, "%s: cannot open summary: %s", path, strerror(errno));
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
        summary_err(errbuf, errlen, "%s: read error: %s", path, strerror(errno));
        rc = FL_ENOTFOUND;
    } else if (rc == FL_ETOOBIG) {
        summary_err(errbuf, errlen, "%s: larger than any summary (%llu bytes): not a summary file",
                    path, (unsigned long long)SUMMARY_MAX_BYTES);
        rc = FL_EPARSE;
    } else if (rc) {
        summary_err(errbuf, errlen, "%s: %s", path, fl_strerror(rc));
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
    if (len < sizeof SUMMARY_MAGIC || memcmp(data, SUMMARY_MAGIC, sizeof SUMMARY_MAGIC) != 0) {
        summary_err(errbuf, errlen, "%s: not a faultline summary (no FLSUMMRY header)", path);
        return FL_EPARSE;
    }
    if (len < SUMMARY_HEADER_BYTES) {
        summary_err(errbuf, errlen, "%s: truncated summary (%zu bytes)", path, len);
        return FL_EPARSE;
    }
    uint32_t version = (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 |
                       (uint32_t)data[11] << 24;
    if (version != FL_SUMMARY_VERSION) {
        summary_err(errbuf, errlen,
                    "%s: summary format version %u, but this faultline reads version %d: write "
                    "the summaries and merge them with the same faultline release",
                    path, version, FL_SUMMARY_VERSION);
        return FL_EPARSE;
    }
    const unsigned char *t = data + len - SUMMARY_TRAILER_BYTES;
    if (len < SUMMARY_HEADER_BYTES + SUMMARY_TRAILER_BYTES ||
        memcmp(t, SUMMARY_END_MAGIC, sizeof SUMMARY_END_MAGIC) != 0 ||
        le64(t + 8) != len - SUMMARY_TRAILER_BYTES) {
        summary_err(errbuf, errlen,
                    "%s: truncated summary (%zu bytes, no end marker): was it copied completely?",
                    path, len);
        return FL_EPARSE;
    }
    if (fl_hash64(data, len - SUMMARY_TRAILER_BYTES, FL_HASH_SEED) != le64(t + 16)) {
        summary_err(errbuf, errlen, "%s: summary checksum mismatch: the file is damaged", path);
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
    rc = fl_summary_read_mem(path, data, len, agg, d, m, errbuf, errlen);
    fl_free(data);
    return rc;
}

int fl_summary_read_mem(const char *path, const void *bytes, size_t len, fl_agg **agg, fl_diag *d,
                        fl_summary_meta *m, char *errbuf, size_t errlen)
{
    const unsigned char *data = bytes;
    *agg = NULL;
    memset(m, 0, sizeof(*m));
    int rc = check_frame(path, data, len, errbuf, errlen);
    if (rc)
        return rc;
    m->checksum = le64(data + len - SUMMARY_TRAILER_BYTES + 16);
    rd r = {data + SUMMARY_HEADER_BYTES, data + len - SUMMARY_TRAILER_BYTES, false, NULL, 0};
    fl_agg *a = fl_agg_new(NULL);
    if (!a) {
        summary_err(errbuf, errlen, "%s: %s", path, fl_strerror(FL_ENOMEM));
        return FL_ENOMEM;
    }
    if (get_tag(&r, "META")) {
        m->shard_index = get_u32(&r);
        m->shard_count = get_u32(&r);
        m->rules_digest = get_u64(&r);
    }
    if (get_tag(&r, "GATE")) {
        bool oom = false;
        get_fixed(&r, m->gate.project, sizeof m->gate.project, &oom);
        get_fixed(&r, m->gate.filter, sizeof m->gate.filter, &oom);
        m->gate.filtered_out = get_u64(&r);
        m->gate.duplicates = get_u64(&r);
        m->gate.dedup_unchecked = get_u64(&r);
        if (oom)
            r.bad = true;
    }
    rc = read_agg(&r, a);
    if (!rc)
        rc = read_diag(&r, d);
    if (!rc && !r.bad && r.p != r.end)
        r.bad = true; /* bytes left over: the counts disagree with the data */
    if (!rc && r.bad && r.why) {
        /* The checksum matched, so the writer itself was broken or the file was forged. */
        summary_err(errbuf, errlen,
                    "%s: summary is inconsistent at byte %zu: %s; not written by a faultline "
                    "that reads version %d",
                    path, (size_t)(r.p - data) - r.why_at, r.why, FL_SUMMARY_VERSION);
        rc = FL_EPARSE;
    } else if (!rc && r.bad) {
        summary_err(errbuf, errlen,
                    "%s: summary is inconsistent at byte %zu: not written by a "
                    "faultline that reads version %d",
                    path, (size_t)(r.p - data), FL_SUMMARY_VERSION);
        rc = FL_EPARSE;
    } else if (rc) {
        summary_err(errbuf, errlen, "%s: %s", path, fl_strerror(rc));
    }
    if (rc) {
        fl_agg_free(a);
        return rc;
    }
    *agg = a;
    return 0;
}
