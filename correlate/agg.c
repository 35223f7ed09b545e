/* fl_agg: per service x revision x minute counts, error groups and change events.
 *
 * Everything kept is order-independent: counts are sums, first/last seen are min/max, samples
 * are the earliest by (timestamp, insertId, message), field values count per value. That is
 * what makes fl_agg_merge of shards equal to one pass, and newest-first input equal to
 * oldest-first. The caps (groups, revisions, cells, field values) are the only places where
 * order can matter, and only once a cap is hit.
 *
 * Time cells are one minute wide until one series (a revision's traffic, or a group on a
 * revision) would hold more than AGG_SPAN_BUCKETS cells; then the width doubles (as often as
 * needed) and cells fold into aligned buckets floor(minute / width) * width. Aligned buckets
 * nest, so the width is the smallest that fits the set of (series, minute) pairs seen, and
 * folding twice equals folding once to the wider width: this too is order-independent, and a
 * long archive costs at most AGG_SPAN_BUCKETS cells per series. A single entry stamped years
 * away adds one cell, so it coarsens nothing; the analysis leaves it out of the window (see
 * agg_time.c, which finds such outliers). */
#include "route.h"
#include "agg_internal.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The cell index reads each cell's key in place (map.h). */
_Static_assert(offsetof(agg_cell, k) == 0, "agg_cell must start with its key");

#define SAMPLE_MESSAGE_MAX 1024
#define REV_KEY_MAX 512 /* "service\x1frevision", cut past it */
#define TEMPLATE_MAX 512
#define TEMPLATE_TEXT (TEMPLATE_MAX + 64)

/* Unmatched error messages repeat (one exception, thousands of times, its traceback lines
 * varying), and templating one cost about 10,000 instructions (issue 15). A template depends
 * only on the two spans fl_template_parts names, so the templates and fingerprints of the last
 * few span pairs are kept, keyed by the spans' text, compared in full. Longer spans are not
 * kept. */
#define TEMPLATE_MEMO_SLOTS 8
#define TEMPLATE_MEMO_KEY_MAX 4096

typedef struct agg_template_memo {
    char *key; /* the two spans, one after the other; NULL: slot free */
    size_t n[2];
    char fp[17];
    char text[TEMPLATE_TEXT];
} agg_template_memo;

/* Fingerprints of the short texts that name groups again and again: a rule's class id (each
 * entry it matches) and an unmatched 5xx request's text ("HTTP 503 GET /api/v1/cart/<id>").
 * Kept by text, compared in full; longer texts are not kept. fl_fingerprint hashes each byte
 * and prints 16 hex digits, a few hundred instructions an error entry (issue 15). */
#define FP_MEMO_SLOTS 8
#define FP_MEMO_TEXT 96

typedef struct agg_fp_memo {
    size_t n; /* 0: slot free */
    char text[FP_MEMO_TEXT];
    char fp[17];
} agg_fp_memo;

fl_agg *fl_agg_new(const fl_agg_opts *opts)
{
    fl_agg *a = fl_calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    if (opts)
        a->opts = *opts;
    /* A group costs about 7 KiB from aggregate to report (samples, template, its series in
     * the result and the JSON writer): 2,000 keeps a hostile input's report near 15 MiB. */
    if (!a->opts.max_groups)
        a->opts.max_groups = 2000;
    if (!a->opts.max_revisions)
        a->opts.max_revisions = 4096;
    if (!a->opts.max_buckets)
        a->opts.max_buckets = 100000;
    fl_strmap_init(&a->rev_index);
    fl_strmap_init(&a->group_index);
    fl_cellmap_init(&a->cell_index);
    fl_cellmap_init(&a->series_index);
    agg_time_init(&a->time);
    a->width = 1;
    return a;
}

static void sample_free(agg_sample *s)
{
    fl_free(s->service);
    fl_free(s->revision);
    fl_free(s->instance_id);
    fl_free(s->insert_id);
    fl_free(s->message);
    memset(s, 0, sizeof(*s));
}

static void rev_free(agg_rev *r)
{
    fl_free(r->service);
    fl_free(r->revision);
    fl_free(r->location);
    fl_free(r->commit_sha);
}

static void group_free(agg_group *g)
{
    fl_free(g->key);
    fl_free(g->class_id);
    fl_free(g->rule_id);
    fl_free(g->title);
    fl_free(g->fingerprint);
    fl_free(g->template_text);
    for (size_t i = 0; i < g->n_samples; i++)
        sample_free(&g->samples[i]);
    for (size_t i = 0; i < g->n_fields; i++) {
        fl_free(g->fields[i].name);
        fl_free(g->fields[i].value);
        fl_free(g->fields[i].cells);
    }
    fl_free(g->fields);
    fl_free(g->norev.cells);
    fl_free(g->capped.cells);
}

void fl_agg_free(fl_agg *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_revs; i++)
        rev_free(&a->revs[i]);
    fl_free(a->revs);
    for (size_t i = 0; i < a->n_groups; i++)
        group_free(&a->groups[i]);
    fl_free(a->groups);
    fl_free(a->cells);
    fl_free(a->changes);
    fl_free(a->change_set);
    fl_strmap_free(&a->rev_index);
    fl_strmap_free(&a->group_index);
    fl_cellmap_free(&a->cell_index);
    agg_graph_free(a->graph);
    for (size_t i = 0; a->tmemo && i < TEMPLATE_MEMO_SLOTS; i++)
        fl_free(a->tmemo[i].key);
    fl_free(a->tmemo);
    fl_free(a->fpmemo);
    fl_free(a->series);
    fl_cellmap_free(&a->series_index);
    agg_time_free(&a->time);
    fl_free(a);
}

uint64_t fl_agg_entries(const fl_agg *a)
{
    return a ? a->entries : 0;
}

/* Doubles *cap until need fits, but never past max (0: no limit) when need is within it. */
static int grow_max(void **v, size_t *cap, size_t need, size_t elem, size_t max)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    if (max && need <= max && ncap > max)
        ncap = max;
    void *p = fl_realloc(*v, ncap * elem);
    if (!p)
        return FL_ENOMEM;
    *v = p;
    *cap = ncap;
    return 0;
}

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    return grow_max(v, cap, need, elem, 0);
}

static char *dup_or_null(const char *s)
{
    return s ? fl_strdup(s) : NULL;
}

/* "service\x1frevision", cut at cap - 1 bytes as snprintf would; built by hand because this
 * runs for every entry and snprintf was 5% of a run's instructions (issue 15). */
static void rev_key(const char *service, const char *revision, char *out, size_t cap)
{
    size_t ns = strlen(service), nr = strlen(revision), at = FL_MIN(ns, cap - 1);
    memcpy(out, service, at);
    if (at < cap - 1)
        out[at++] = '\x1f';
    nr = FL_MIN(nr, cap - 1 - at);
    memcpy(out + at, revision, nr);
    out[at + nr] = '\0';
}

static long rev_new(fl_agg *a, const char *key, const char *service, const char *revision)
{
    if (grow((void **)&a->revs, &a->cap_revs, a->n_revs + 1, sizeof(agg_rev)))
        return FL_ENOMEM;
    agg_rev *r = &a->revs[a->n_revs];
    memset(r, 0, sizeof(*r));
    r->service = fl_strdup(service);
    r->revision = fl_strdup(revision);
    r->location = fl_strdup("");
    r->commit_sha = fl_strdup("");
    agg_rev_set_lengths(r);
    /* Only an uncut key finds nothing but this exact pair (see fl_agg_add). */
    r->graph_svc = strlen(key) < REV_KEY_MAX - 1 ? agg_graph_service_hash(service) : 0;
    if (!r->service || !r->revision || !r->location || !r->commit_sha ||
        fl_strmap_put(&a->rev_index, key, (uint32_t)a->n_revs)) {
        rev_free(r);
        return FL_ENOMEM;
    }
    return (long)a->n_revs++;
}

/* rev_get past its hint: the index, then a new pair or the overflow pair. Kept apart so the
 * hinted path, taken by nearly every entry, is small enough to inline (issue 15). */
static __attribute__((noinline)) long rev_lookup(fl_agg *a, const char *service,
                                                 const char *revision, uint32_t *hint,
                                                 bool *folded)
{
    char key[REV_KEY_MAX];
    rev_key(service, revision, key, sizeof(key));
    *folded = false;
    long i = fl_strmap_get(&a->rev_index, key);
    if (i >= 0) {
        *hint = (uint32_t)i;
        *folded = a->revs[i].overflow;
        return i;
    }
    if (a->n_revs < a->opts.max_revisions)
        return rev_new(a, key, service, revision);
    *folded = true;
    rev_key(AGG_OTHER_SERVICE, AGG_OTHER_REVISION, key, sizeof(key));
    i = fl_strmap_get(&a->rev_index, key);
    if (i < 0 && (i = rev_new(a, key, AGG_OTHER_SERVICE, AGG_OTHER_REVISION)) >= 0)
        a->revs[i].overflow = true;
    return i;
}

/* Finds or creates the revision. Past the cap (max_revisions pairs) every new pair is counted
 * in one overflow pair, AGG_OTHER_SERVICE / AGG_OTHER_REVISION, which may exceed the cap by
 * one; *folded says so. Returns the index or FL_ENOMEM (never a cap code: a cap is not an
 * allocation failure). */
static inline long rev_get(fl_agg *a, const char *service, size_t ns, const char *revision,
                           size_t nr, bool *folded)
{
    /* First the pair this slot saw last (a hint: checked by name, so a stale one only misses);
     * the last bytes of a revision name tell revisions apart ("...-00042-xaz"). */
    uint64_t tail = 0;
    if (nr >= 8)
        memcpy(&tail, revision + nr - 8, 8); /* a fixed size: one load, not a call */
    else
        memcpy(&tail, revision, nr);
    uint32_t *hint = &a->rev_hint[((tail ^ nr) * UINT64_C(0x9e3779b97f4a7c15)) >> 58];
    const agg_rev *r = *hint < a->n_revs ? &a->revs[*hint] : NULL;
    if (r && r->revision_n == nr && r->service_n == ns &&
        fl_bytes_equal(r->revision, revision, nr) && fl_bytes_equal(r->service, service, ns)) {
        *folded = a->revs[*hint].overflow;
        return (long)*hint;
    }
    return rev_lookup(a, service, revision, hint, folded);
}

static __attribute__((noinline)) int set_str(char **dst, const char *s)
{
    if (strcmp(*dst, s) == 0)
        return 0; /* newest-first input offers the same text again with each earlier entry */
    char *n = fl_strdup(s);
    if (!n)
        return FL_ENOMEM;
    fl_free(*dst);
    *dst = n;
    return 0;
}

void agg_rev_set_lengths(agg_rev *r)
{
    r->service_n = r->service ? (uint32_t)strlen(r->service) : 0;
    r->revision_n = r->revision ? (uint32_t)strlen(r->revision) : 0;
    r->location_n = r->location ? (uint32_t)strlen(r->location) : 0;
}

/* Merges what one observation says about a revision: time span, and the location (nl bytes)
 * and commit_sha of its earliest observation that has them (ties: smallest value). */
static inline int rev_note(agg_rev *r, fl_time first, fl_time last, const char *location, size_t nl,
                           const char *sha, fl_time sha_ts)
{
    if (first && (!r->first_seen || first < r->first_seen))
        r->first_seen = first;
    if (last > r->last_seen)
        r->last_seen = last;
    /* Nearly always the location already kept: equal lengths and bytes say so, no call. */
    if (nl && !(nl == r->location_n && fl_bytes_equal(location, r->location, nl)) &&
        (!r->location[0] || strcmp(location, r->location) < 0)) {
        if (set_str(&r->location, location))
            return FL_ENOMEM;
        r->location_n = (uint32_t)nl;
    }
    if (sha[0] && (!r->commit_sha[0] || sha_ts < r->sha_ts ||
                   (sha_ts == r->sha_ts && strcmp(sha, r->commit_sha) < 0))) {
        if (set_str(&r->commit_sha, sha))
            return FL_ENOMEM;
        r->sha_ts = sha_ts;
    }
    return 0;
}

static void cell_add(agg_cell *c, const agg_cell *s)
{
    c->requests += s->requests;
    c->r5xx += s->r5xx;
    c->errors += s->errors;
    if (s->first_ts && (!c->first_ts || s->first_ts < c->first_ts))
        c->first_ts = s->first_ts;
}

/* The series counter of cell key k (found or added with n = 0); -1 when out of memory. */
static long series_get(agg_series **v, size_t *n, size_t *cap, fl_cellmap *idx,
                       const fl_cell_key *ck)
{
    fl_cell_key k;
    memset(&k, 0, sizeof(k));
    k.grp = ck->grp;
    k.rev = ck->rev;
    long i = fl_cellmap_get(idx, &k, *v, sizeof(agg_series));
    if (i >= 0)
        return i;
    if (grow((void **)v, cap, *n + 1, sizeof(agg_series)))
        return -1;
    (*v)[*n].k = k;
    (*v)[*n].n = 0;
    if (fl_cellmap_put(idx, (uint32_t)*n, *v, sizeof(agg_series)))
        return -1;
    return (long)(*n)++;
}

/* Recounts the cells of every series (after a fold or an expiry). On failure the old counts
 * stay: they can only be higher than the true ones, so the cap still holds. */
static int series_recount(fl_agg *a)
{
    agg_series *v = NULL;
    size_t n = 0, cap = 0;
    fl_cellmap idx;
    fl_cellmap_init(&idx);
    for (size_t i = 0; i < a->n_cells; i++) {
        long j = series_get(&v, &n, &cap, &idx, &a->cells[i].k);
        if (j < 0) {
            fl_free(v);
            fl_cellmap_free(&idx);
            return FL_ENOMEM;
        }
        v[j].n++;
    }
    fl_free(a->series);
    fl_cellmap_free(&a->series_index);
    a->series = v;
    a->n_series = n;
    a->cap_series = cap;
    a->series_index = idx;
    return 0;
}

static void fold_field_cells(fl_agg *a);

/* Re-keys every cell to buckets of w minutes (a multiple of the current width) and adds up
 * the cells that now share a bucket. Nothing changes when it fails. */
static int fold_cells(fl_agg *a, int64_t w)
{
    fl_cellmap idx;
    fl_cellmap_init(&idx);
    if (fl_cellmap_reserve(&idx, a->n_cells, a->cells, sizeof(agg_cell)))
        return FL_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < a->n_cells; i++) {
        agg_cell c = a->cells[i];
        c.k.minute = agg_bucket_start(c.k.minute, w);
        /* idx indexes the folded cells, cells[0, n): they sit before cell i */
        long j = fl_cellmap_get(&idx, &c.k, a->cells, sizeof(agg_cell));
        if (j >= 0) {
            cell_add(&a->cells[j], &c);
            continue;
        }
        a->cells[n] = c;
        fl_cellmap_put(&idx, (uint32_t)n++, a->cells, sizeof(agg_cell)); /* reserved */
    }
    fl_cellmap_free(&a->cell_index);
    a->cell_index = idx;
    a->n_cells = n;
    a->width = w;
    fold_field_cells(a);
    series_recount(a); /* a failure leaves counts that are too high: safe */
    return 0;
}

static int cell_find(fl_agg *a, int32_t grp, int32_t rev, int64_t minute, uint32_t *hint,
                     agg_cell **out);

/* The cell of a series (grp -1: the revision's traffic) for the bucket holding minute. *out
 * is NULL when the cell cap is reached. A series that would pass AGG_SPAN_BUCKETS cells
 * doubles the width of all cells first. Consecutive entries of a series mostly land in the
 * same cell: the one the series used last is tried inline, the rest is cell_find's. */
static inline int cell_get(fl_agg *a, int32_t grp, int32_t rev, int64_t minute, agg_cell **out)
{
    uint32_t *hint = &a->cell_hint[((uint32_t)grp * 31u + (uint32_t)rev) % AGG_CELL_HINTS];
    int64_t m = agg_bucket_start(minute, a->width);
    if (*hint < a->n_cells && a->cells[*hint].k.minute == m && a->cells[*hint].k.rev == rev &&
        a->cells[*hint].k.grp == grp) {
        *out = &a->cells[*hint];
        return 0;
    }
    return cell_find(a, grp, rev, minute, hint, out);
}

static __attribute__((noinline)) int cell_find(fl_agg *a, int32_t grp, int32_t rev,
                                               int64_t minute, uint32_t *hint, agg_cell **out)
{
    fl_cell_key k;
    memset(&k, 0, sizeof(k));
    k.grp = grp;
    k.rev = rev;
    *out = NULL;
    long si;
    /* The hint again, as a fold may have moved the cells: cells are unique by key, so a cell
     * with this key is the one the index finds. */
    for (;;) {
        k.minute = agg_bucket_start(minute, a->width);
        if (*hint < a->n_cells && a->cells[*hint].k.minute == k.minute &&
            a->cells[*hint].k.rev == rev && a->cells[*hint].k.grp == grp) {
            *out = &a->cells[*hint];
            return 0;
        }
        long i = fl_cellmap_get(&a->cell_index, &k, a->cells, sizeof(agg_cell));
        if (i >= 0) {
            *hint = (uint32_t)i;
            *out = &a->cells[i];
            return 0;
        }
        si = series_get(&a->series, &a->n_series, &a->cap_series, &a->series_index, &k);
        if (si < 0)
            return FL_ENOMEM;
        if (a->series[si].n < AGG_SPAN_BUCKETS || a->width >= (INT64_C(1) << 40))
            break;
        if (fold_cells(a, a->width * 2))
            return FL_ENOMEM;
    }
    /* A last resort for many series at once; the per-series cap normally bounds cells first. */
    if (a->n_cells >= a->opts.max_buckets * 16) {
        a->cells_dropped++;
        return 0;
    }
    if (grow((void **)&a->cells, &a->cap_cells, a->n_cells + 1, sizeof(agg_cell)))
        return FL_ENOMEM;
    agg_cell *c = &a->cells[a->n_cells];
    memset(c, 0, sizeof(*c));
    c->k = k;
    if (fl_cellmap_put(&a->cell_index, (uint32_t)a->n_cells, a->cells, sizeof(agg_cell)))
        return FL_ENOMEM;
    *hint = (uint32_t)a->n_cells++;
    a->series[si].n++;
    *out = c;
    return 0;
}

static int64_t minute_of(fl_time t)
{
    return t >= 0 ? t / AGG_MINUTE : (t - AGG_MINUTE + 1) / AGG_MINUTE;
}

static int sample_cmp(fl_time ts, const char *insert_id, const char *msg, const agg_sample *s)
{
    if (ts != s->ts)
        return ts < s->ts ? -1 : 1;
    int c = strcmp(insert_id, s->insert_id);
    return c ? c : strcmp(msg, s->message);
}

/* A sample's copy of [s, s + n): the one of the sample that falls out when it holds the same
 * text (with newest-first input every entry replaces the last kept sample, mostly with the
 * same service, revision and instance), else a new one. */
static char *sample_str(const char *spare, const char *s, size_t n)
{
    if (spare && strncmp(spare, s, n) == 0 && spare[n] == '\0')
        return (char *)spare;
    return fl_strndup(s, n);
}

/* Frees the strings of s that are not also keep's (keep may be NULL). */
static void sample_free_unshared(agg_sample *s, const agg_sample *keep)
{
    char **mine[] = {&s->service, &s->revision, &s->instance_id, &s->insert_id, &s->message};
    const char *const theirs[] = {keep ? keep->service : NULL, keep ? keep->revision : NULL,
                                  keep ? keep->instance_id : NULL, keep ? keep->insert_id : NULL,
                                  keep ? keep->message : NULL};
    for (size_t i = 0; i < FL_ARRAY_LEN(mine); i++)
        if (*mine[i] != theirs[i])
            fl_free(*mine[i]);
    memset(s, 0, sizeof(*s));
}

/* Keeps the FL_GROUP_MAX_SAMPLES earliest samples, sorted. Nothing changes when it fails. */
static int sample_offer(agg_group *g, fl_time ts, const char *service, const char *revision,
                        const char *instance_id, const char *insert_id, const char *message)
{
    size_t pos = g->n_samples;
    while (pos > 0 && sample_cmp(ts, insert_id, message, &g->samples[pos - 1]) < 0)
        pos--;
    if (pos > 0 && sample_cmp(ts, insert_id, message, &g->samples[pos - 1]) == 0)
        return 0; /* the same entry seen through two shards */
    if (pos >= FL_GROUP_MAX_SAMPLES)
        return 0;
    agg_sample *out =
        g->n_samples == FL_GROUP_MAX_SAMPLES ? &g->samples[FL_GROUP_MAX_SAMPLES - 1] : NULL;
    agg_sample s = {
        ts,
        sample_str(out ? out->service : NULL, service, strlen(service)),
        sample_str(out ? out->revision : NULL, revision, strlen(revision)),
        sample_str(out ? out->instance_id : NULL, instance_id, strlen(instance_id)),
        sample_str(out ? out->insert_id : NULL, insert_id, strlen(insert_id)),
        sample_str(out ? out->message : NULL, message,
                   FL_MIN(strlen(message), (size_t)SAMPLE_MESSAGE_MAX))};
    if (!s.service || !s.revision || !s.instance_id || !s.insert_id || !s.message) {
        sample_free_unshared(&s, out);
        return FL_ENOMEM;
    }
    if (out) {
        sample_free_unshared(out, &s);
        g->n_samples--;
    }
    memmove(&g->samples[pos + 1], &g->samples[pos], (g->n_samples - pos) * sizeof(agg_sample));
    g->samples[pos] = s;
    g->n_samples++;
    return 0;
}

static uint64_t field_hash(const char *name, const char *value)
{
    uint64_t h = fl_hash64(name, strlen(name) + 1, FL_HASH_SEED);
    return fl_hash64(value, strlen(value), h);
}

static void field_free(agg_field *f)
{
    fl_free(f->name);
    fl_free(f->value);
    fl_free(f->cells);
}

static int fcell_add(fl_agg *a, agg_field *f, int64_t minute, uint64_t n);

/* Counts f's entries (its cells, and what has none) as values past the group's cap. */
static int cap_move(fl_agg *a, agg_group *g, const agg_field *f)
{
    g->capped.count += f->count;
    for (uint32_t k = 0; k < f->n_cells; k++)
        if (fcell_add(a, &g->capped, f->cells[k].minute, f->cells[k].n))
            return FL_ENOMEM;
    return 0;
}

/* The field of one (capture, value) pair, found or added with count 0; *out is NULL when the
 * cap leaves the pair out. Past AGG_MAX_FIELD_VALUES distinct pairs the group keeps the pairs
 * with the smallest hashes (a bottom-k sample): a pair that belongs to the final set has been
 * kept since its first sighting, so the kept set and its counts are the same whatever the
 * input order, thread count or shard merge order. */
static int field_get(fl_agg *a, agg_group *g, const char *name, const char *value,
                     agg_field **out)
{
    uint64_t h = field_hash(name, value);
    size_t worst = 0;
    *out = NULL;
    for (size_t i = 0; i < g->n_fields; i++) {
        agg_field *f = &g->fields[i];
        if (f->hash == h && strcmp(f->name, name) == 0 && strcmp(f->value, value) == 0) {
            *out = f;
            return 0;
        }
        if (f->hash > g->fields[worst].hash)
            worst = i;
    }
    if (g->n_fields >= AGG_MAX_FIELD_VALUES && h >= g->fields[worst].hash)
        return 0;
    char *nn = fl_strdup(name), *nv = fl_strdup(value);
    agg_field *f = NULL;
    if (nn && nv && g->n_fields < AGG_MAX_FIELD_VALUES) {
        agg_field *nf = fl_realloc(g->fields, (g->n_fields + 1) * sizeof(agg_field));
        if (nf) {
            g->fields = nf;
            f = &g->fields[g->n_fields++];
        }
    } else if (nn && nv) {
        f = &g->fields[worst];
        a->n_fcells -= f->n_cells;
        if (cap_move(a, g, f)) {
            fl_free(nn);
            fl_free(nv);
            return FL_ENOMEM;
        }
        field_free(f);
    }
    if (!f) {
        fl_free(nn);
        fl_free(nv);
        return FL_ENOMEM;
    }
    memset(f, 0, sizeof(*f));
    f->name = nn;
    f->value = nv;
    f->hash = h;
    *out = f;
    return 0;
}

/* The first cell of f that starts at minute m or later. */
static size_t fcell_lower(const agg_field *f, int64_t m)
{
    size_t lo = 0, hi = f->n_cells;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->cells[mid].minute < m)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether f has a cell starting at minute m (a bucket start). */
static bool fcell_has(const agg_field *f, int64_t m)
{
    size_t lo = fcell_lower(f, m);
    return lo < f->n_cells && f->cells[lo].minute == m;
}

/* Adds n to the value's cell of the bucket holding minute. Past AGG_MAX_FIELD_CELLS the count
 * is only noted as dropped (the caller has added it to f->count already). */
static int fcell_add(fl_agg *a, agg_field *f, int64_t minute, uint64_t n)
{
    int64_t m = agg_bucket_start(minute, a->width);
    size_t lo, hi = f->n_cells;
    /* Entries mostly come in time order: the last cell, or a new one after it. */
    if (hi && f->cells[hi - 1].minute <= m)
        lo = f->cells[hi - 1].minute == m ? hi - 1 : hi;
    else
        lo = fcell_lower(f, m);
    if (lo < f->n_cells && f->cells[lo].minute == m) {
        f->cells[lo].n += n;
        return 0;
    }
    if (a->n_fcells >= AGG_MAX_FIELD_CELLS) {
        a->fcells_dropped += n;
        return 0;
    }
    if (f->n_cells == f->cap_cells) {
        uint32_t cap = f->cap_cells ? f->cap_cells * 2 : 4;
        agg_fcell *p = fl_realloc(f->cells, cap * sizeof(*p));
        if (!p)
            return FL_ENOMEM;
        f->cells = p;
        f->cap_cells = cap;
    }
    memmove(&f->cells[lo + 1], &f->cells[lo], (f->n_cells - lo) * sizeof(agg_fcell));
    f->cells[lo] = (agg_fcell){m, n};
    f->n_cells++;
    a->n_fcells++;
    return 0;
}

/* Counts n of a group's entries without service and revision in the bucket of minute. Their
 * series widens the buckets past AGG_SPAN_BUCKETS cells as a revision's does (cell_get), so a
 * long span of such entries costs no more cells than one of Cloud Run entries. */
static int norev_add(fl_agg *a, agg_group *g, int64_t minute, uint64_t n)
{
    while (g->norev.n_cells >= AGG_SPAN_BUCKETS && a->width < AGG_MAX_WIDTH &&
           !fcell_has(&g->norev, agg_bucket_start(minute, a->width)))
        if (fold_cells(a, a->width * 2))
            return FL_ENOMEM;
    return fcell_add(a, &g->norev, minute, n);
}

/* Re-buckets one value's cells to the aggregate's (new, wider) width, in place: the cells
 * stay ascending, and cells of one bucket are neighbours. Returns how many are left. */
static uint32_t fold_one(const fl_agg *a, agg_field *f)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < f->n_cells; k++) {
        int64_t m = agg_bucket_start(f->cells[k].minute, a->width);
        if (n && f->cells[n - 1].minute == m)
            f->cells[n - 1].n += f->cells[k].n;
        else
            f->cells[n++] = (agg_fcell){m, f->cells[k].n};
    }
    f->n_cells = n;
    return n;
}

/* Re-buckets every field value's cells, and every group's norev and capped cells. */
static void fold_field_cells(fl_agg *a)
{
    size_t total = 0;
    for (size_t i = 0; i < a->n_groups; i++) {
        for (size_t j = 0; j < a->groups[i].n_fields; j++)
            total += fold_one(a, &a->groups[i].fields[j]);
        total += fold_one(a, &a->groups[i].norev);
        total += fold_one(a, &a->groups[i].capped);
    }
    a->n_fcells = total;
}

/* Drops f's cells of buckets that end at or before minute cut; returns the sum of the rest. */
static uint64_t expire_cells(fl_agg *a, agg_field *f, int64_t cut)
{
    uint32_t k = 0;
    while (k < f->n_cells && f->cells[k].minute + a->width <= cut)
        k++;
    if (k) { /* cells is NULL while there are none */
        f->n_cells -= k;
        memmove(f->cells, f->cells + k, f->n_cells * sizeof(agg_fcell));
    }
    uint64_t left = 0;
    for (uint32_t i = 0; i < f->n_cells; i++)
        left += f->cells[i].n;
    a->n_fcells += f->n_cells;
    return left;
}

/* Each value's count becomes what is left in the window, and values left with nothing go. */
static void expire_fields(fl_agg *a, agg_group *g, int64_t cut)
{
    size_t nf = 0;
    for (size_t j = 0; j < g->n_fields; j++) {
        agg_field *f = &g->fields[j];
        f->count = expire_cells(a, f, cut);
        if (!f->count) {
            a->n_fcells -= f->n_cells;
            field_free(f);
            continue;
        }
        g->fields[nf++] = *f;
    }
    g->n_fields = nf;
}

/* Counts n entries of minute with one (capture, value) pair. */
static int field_add(fl_agg *a, agg_group *g, const char *name, const char *value, uint64_t n,
                     int64_t minute)
{
    agg_field *f;
    if (field_get(a, g, name, value, &f))
        return FL_ENOMEM;
    if (!f) {
        g->capped.count += n;
        f = &g->capped;
    } else {
        f->count += n;
    }
    return fcell_add(a, f, minute, n);
}

typedef struct group_proto {
    const char *key;
    const char *class_id;
    const char *rule_id;
    const char *title;
    const char *fingerprint;
    const char *template_text;
    int implies;
    int severity;
    fl_time ts; /* when this observation was made (0: unknown) */
} group_proto;

/* True when p should represent the group instead of what it has: the earliest observation
 * wins, then the smaller rule id, so the choice does not depend on arrival order. */
static bool rep_better(const agg_group *g, const group_proto *p)
{
    if (!p->ts || !g->rep_ts)
        return p->ts && !g->rep_ts;
    if (p->ts != g->rep_ts)
        return p->ts < g->rep_ts;
    return p->rule_id && g->rule_id && strcmp(p->rule_id, g->rule_id) < 0;
}

static int set_rep(agg_group *g, const group_proto *p)
{
    char *rule = dup_or_null(p->rule_id), *title = fl_strdup(p->title);
    char *tmpl = fl_strdup(p->template_text);
    if ((p->rule_id && !rule) || !title || !tmpl) {
        fl_free(rule);
        fl_free(title);
        fl_free(tmpl);
        return FL_ENOMEM;
    }
    fl_free(g->rule_id);
    fl_free(g->title);
    fl_free(g->template_text);
    g->rule_id = rule;
    g->title = title;
    g->template_text = tmpl;
    g->implies = p->implies;
    g->severity = p->severity;
    g->rep_ts = p->ts;
    return 0;
}

static long group_get(fl_agg *a, const group_proto *p)
{
    long i = fl_strmap_get(&a->group_index, p->key);
    if (i >= 0) {
        if (rep_better(&a->groups[i], p) && set_rep(&a->groups[i], p))
            return FL_ENOMEM;
        return i;
    }
    if (a->n_groups >= a->opts.max_groups && !p->class_id) {
        /* Past the cap, unmatched templates share one overflow group. */
        static const group_proto overflow = {AGG_OVERFLOW_GROUP, NULL, NULL,
                                             "other unmatched errors (group cap reached)",
                                             "0000000000000000", "<other>", 0, FL_SEV_ERROR, 0};
        if (strcmp(p->key, overflow.key) != 0)
            return group_get(a, &overflow);
    }
    if (grow((void **)&a->groups, &a->cap_groups, a->n_groups + 1, sizeof(agg_group)))
        return FL_ENOMEM;
    agg_group *g = &a->groups[a->n_groups];
    memset(g, 0, sizeof(*g));
    g->key = fl_strdup(p->key);
    g->class_id = dup_or_null(p->class_id);
    g->rule_id = dup_or_null(p->rule_id);
    g->title = fl_strdup(p->title);
    g->fingerprint = fl_strdup(p->fingerprint);
    g->template_text = fl_strdup(p->template_text);
    g->implies = p->implies;
    g->severity = p->severity;
    g->rep_ts = p->ts;
    if (!g->key || !g->title || !g->fingerprint || !g->template_text ||
        (p->class_id && !g->class_id) || (p->rule_id && !g->rule_id) ||
        fl_strmap_put(&a->group_index, p->key, (uint32_t)a->n_groups)) {
        group_free(g);
        return FL_ENOMEM;
    }
    return (long)a->n_groups++;
}

/* Change events: at most AGG_MAX_CHANGES, the latest by (time, kind, service, revision,
 * source), so the set kept is the same for any input order or shard merge. Duplicates (the same
 * event through two sources or shards) are found through a set of 64-bit hashes; once full,
 * the vector is a min-heap on that order so the earliest is the one to give way. */
static uint64_t change_hash(const fl_change *c)
{
    uint64_t h = fl_hash64(&c->ts, sizeof(c->ts), FL_HASH_SEED);
    int kind = (int)c->kind;
    h = fl_hash64(&kind, sizeof(kind), h);
    h = fl_hash64(c->service, strlen(c->service) + 1, h);
    h = fl_hash64(c->revision, strlen(c->revision) + 1, h);
    h = fl_hash64(c->source, strlen(c->source) + 1, h);
    return h ? h : 1; /* 0 marks a free slot */
}

static int change_order(const fl_change *x, const fl_change *y)
{
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int c = strcmp(x->service, y->service);
    if (!c)
        c = strcmp(x->revision, y->revision);
    return c ? c : strcmp(x->source, y->source);
}

#define HASH_TOMB UINT64_MAX

static size_t chash_slot(const uint64_t *set, size_t cap, uint64_t h, bool for_insert)
{
    size_t i = (size_t)h & (cap - 1), tomb = SIZE_MAX;
    while (set[i] && set[i] != h) {
        if (set[i] == HASH_TOMB && tomb == SIZE_MAX)
            tomb = i;
        i = (i + 1) & (cap - 1);
    }
    return for_insert && !set[i] && tomb != SIZE_MAX ? tomb : i;
}

/* Rebuilds the hash set from the vector, at twice the room the vector can need. */
static int chash_rebuild(fl_agg *a, size_t need)
{
    size_t cap = 64;
    while (cap < need * 2)
        cap *= 2;
    uint64_t *set = fl_calloc(cap, sizeof(uint64_t));
    if (!set)
        return FL_ENOMEM;
    for (size_t i = 0; i < a->n_changes; i++) {
        uint64_t h = change_hash(&a->changes[i]);
        set[chash_slot(set, cap, h, true)] = h;
    }
    fl_free(a->change_set);
    a->change_set = set;
    a->cap_change_set = cap;
    a->change_set_used = a->n_changes;
    return 0;
}

/* Sifts v[i] down. A change is 720 bytes: the element waits in x while the smaller children
 * move up into the hole, one copy per level instead of a three-copy swap. */
static void heap_down(fl_change *v, size_t n, size_t i)
{
    fl_change x = v[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = l;
        if (l >= n)
            break;
        if (r < n && change_order(&v[r], &v[l]) < 0)
            m = r;
        if (change_order(&v[m], &x) >= 0)
            break;
        v[i] = v[m];
        i = m;
    }
    v[i] = x;
}

int fl_agg_add_change(fl_agg *a, const fl_change *c)
{
    size_t max = AGG_MAX_CHANGES;
    if ((a->change_set_used + 1) * 2 > a->cap_change_set &&
        chash_rebuild(a, FL_MIN(a->n_changes + 1, max) + 16))
        return FL_ENOMEM;
    uint64_t h = change_hash(c);
    size_t slot = chash_slot(a->change_set, a->cap_change_set, h, false);
    if (a->change_set[slot] == h)
        return 0; /* the same event seen twice */
    if (a->n_changes < max) {
        /* 20,000 x 720 bytes: doubling to 32,768 would waste 9 MB */
        if (grow_max((void **)&a->changes, &a->cap_changes, a->n_changes + 1, sizeof(fl_change),
                     max))
            return FL_ENOMEM;
        a->changes[a->n_changes++] = *c;
        if (a->n_changes == max) /* full from now on: the earliest at the root */
            for (size_t i = max / 2; i-- > 0;)
                heap_down(a->changes, max, i);
    } else {
        a->changes_dropped++;
        if (change_order(c, &a->changes[0]) <= 0)
            return 0; /* earlier than everything kept */
        uint64_t old = change_hash(&a->changes[0]);
        a->change_set[chash_slot(a->change_set, a->cap_change_set, old, false)] = HASH_TOMB;
        a->changes[0] = *c;
        heap_down(a->changes, max, 0);
    }
    slot = chash_slot(a->change_set, a->cap_change_set, h, true);
    if (!a->change_set[slot])
        a->change_set_used++;
    a->change_set[slot] = h;
    return 0;
}

/* The path of a request URL without scheme, host and query. */
static void note_time(fl_agg *a, fl_time t)
{
    if (!t)
        return;
    if (!a->min_ts || t < a->min_ts)
        a->min_ts = t;
    if (t > a->max_ts)
        a->max_ts = t;
}

/* snprintf(out, cap, "HTTP %d %s %s", status, method, path), by hand: it ran for every
 * unmatched 5xx request (issue 15). cap must exceed 16. */
static void http_text(char *out, size_t cap, int status, const char *method, const char *path)
{
    size_t len;
    fl_put_http_line(out, cap, &len, status, method, strlen(method), path, strlen(path));
}

/* fl_fingerprint of text[0, n), from the memo when it holds that text. A memo that cannot be
 * allocated is only not used. */
static void memo_fingerprint(fl_agg *a, const char *text, size_t n, char fp[17])
{
    agg_fp_memo *m = NULL;
    if (n && n < FP_MEMO_TEXT &&
        (a->fpmemo || (a->fpmemo = fl_calloc(FP_MEMO_SLOTS, sizeof(*a->fpmemo))))) {
        const unsigned char *p = (const unsigned char *)text;
        m = &a->fpmemo[(n ^ p[n - 1] ^ (size_t)p[n / 2] << 2) % FP_MEMO_SLOTS];
        if (m->n == n && memcmp(m->text, text, n) == 0) {
            memcpy(fp, m->fp, 17);
            return;
        }
    }
    fl_fingerprint(text, n, fp);
    if (m) {
        m->n = n;
        memcpy(m->text, text, n);
        memcpy(m->fp, fp, 17);
    }
}

/* fl_template of msg into text (TEMPLATE_TEXT bytes) and its fingerprint, from the memo when
 * the spans it depends on are those of a recent message. A memo that cannot be allocated is
 * only not used. */
static void message_template(fl_agg *a, const char *msg, size_t len, char *text, char fp[17])
{
    size_t off[2], n[2];
    fl_template_parts(msg, len, off, n);
    agg_template_memo *m = NULL;
    if (n[0] + n[1] <= TEMPLATE_MEMO_KEY_MAX && n[0] &&
        (a->tmemo || (a->tmemo = fl_calloc(TEMPLATE_MEMO_SLOTS, sizeof(*a->tmemo))))) {
        const unsigned char *p = (const unsigned char *)msg + off[0];
        size_t k = (n[0] ^ n[1] << 2 ^ p[0] ^ (size_t)p[n[0] - 1] << 3) % TEMPLATE_MEMO_SLOTS;
        m = &a->tmemo[k];
        if (m->key && m->n[0] == n[0] && m->n[1] == n[1] &&
            memcmp(m->key, msg + off[0], n[0]) == 0 &&
            memcmp(m->key + n[0], msg + off[1], n[1]) == 0) {
            memcpy(text, m->text, strlen(m->text) + 1);
            memcpy(fp, m->fp, 17);
            return;
        }
    }
    fl_template(msg, len, text, TEMPLATE_TEXT);
    fl_fingerprint(text, strlen(text), fp);
    if (!m)
        return;
    char *key = fl_realloc(m->key, n[0] + n[1] + 1);
    if (!key)
        return;
    memcpy(key, msg + off[0], n[0]);
    memcpy(key + n[0], msg + off[1], n[1]);
    m->key = key;
    m->n[0] = n[0];
    m->n[1] = n[1];
    memcpy(m->fp, fp, 17);
    memcpy(m->text, text, strlen(text) + 1);
}

/* fl_agg_add for an error entry: its group, sample, fields and cells. A call of its own, so
 * the path of the other entries (most of them) keeps a small frame (issue 15). */
static __attribute__((noinline)) int add_error(fl_agg *a, const fl_entry *e, const fl_match *match,
                                               bool matched, long ri, int64_t minute)
{
    agg_cell *c;
    group_proto p;
    memset(&p, 0, sizeof(p));
    p.ts = e->ts;
    char key[64], fp[17], text[TEMPLATE_TEXT];
    if (matched) {
        p.key = match->rule->class_id;
        p.class_id = match->rule->class_id;
        p.rule_id = match->rule->id;
        p.title = match->rule->title;
        p.implies = match->rule->implies;
        p.severity = match->rule->severity;
        memo_fingerprint(a, p.key, strlen(p.key), fp);
        p.fingerprint = fp;
        p.template_text = match->rule->title;
    } else {
        if (e->message[0]) {
            message_template(a, e->message, fl_entry_len(e, FL_KNOWN_MESSAGE, e->message), text,
                             fp);
        } else {
            char path[TEMPLATE_MAX];
            /* The endpoint that fails: /api/v1/cart/<id> (route.c masks the ids). */
            fl_route_template(e->http_url, path, sizeof(path));
            http_text(text, sizeof(text), e->http_status, e->http_method[0] ? e->http_method : "-",
                      path);
            memo_fingerprint(a, text, strlen(text), fp);
        }
        memcpy(key, "fp:", 3);
        memcpy(key + 3, fp, sizeof(fp)); /* "fp:" and 16 hex digits fit key[64] */
        p.key = key;
        p.title = text;
        p.fingerprint = fp;
        p.template_text = text;
        p.implies = FL_IMPLIES_UNKNOWN;
        p.severity = e->severity >= FL_SEV_ERROR ? e->severity : FL_SEV_ERROR;
    }
    long gi = group_get(a, &p);
    if (gi < 0)
        return (int)gi;
    agg_group *g = &a->groups[gi];
    g->count++;
    if (e->ts && (!g->first_seen || e->ts < g->first_seen))
        g->first_seen = e->ts;
    if (e->ts > g->last_seen)
        g->last_seen = e->ts;
    /* This entry's own template, not the group's (which depends on what came first). */
    const char *msg = e->message[0] ? e->message : p.template_text;
    if (sample_offer(g, e->ts, e->service, e->revision, e->instance_id, e->insert_id, msg))
        return FL_ENOMEM;
    if (matched)
        for (size_t i = 0; i < match->n_fields; i++)
            if (field_add(a, g, match->fields[i].name, match->fields[i].value, 1, minute))
                return FL_ENOMEM;
    if (ri >= 0) {
        if (cell_get(a, (int32_t)gi, (int32_t)ri, minute, &c))
            return FL_ENOMEM;
        if (c) {
            c->errors++;
            if (!c->first_ts || e->ts < c->first_ts)
                c->first_ts = e->ts;
        }
    } else if (norev_add(a, g, minute, 1)) {
        return FL_ENOMEM;
    }
    return 0;
}

int fl_agg_add(fl_agg *a, const fl_entry *e, const fl_match *match)
{
    a->entries++;
    note_time(a, e->ts);
    int64_t minute = minute_of(e->ts);
    if (e->ts &&
        agg_time_add_entry(&a->time, e->ts, minute, e->src_file ? e->src_file : "-", e->src_line))
        return FL_ENOMEM;
    fl_change ch;
    /* Only audit records can be changes (fl_change_from_entry's own first test): no call for
     * the rest. */
    bool may_change = e->log_kind == FL_LOG_AUDIT_SYSTEM_EVENT ||
                      e->log_kind == FL_LOG_AUDIT_ACTIVITY || e->audit_method[0];
    if (may_change && fl_change_from_entry(e, &ch)) {
        int rc = fl_agg_add_change(a, &ch);
        /* "Ready ... False for Revision X with message: Image '...' not found." is also the
         * revision's crash reason, and may be the only one when it never started. */
        if (rc || ch.kind != FL_CHANGE_FAILED || strcmp(ch.source, "system_event") != 0 ||
            !match || !match->rule || !ch.revision[0])
            return rc;
    } else if (e->log_kind == FL_LOG_AUDIT_ACTIVITY || e->log_kind == FL_LOG_AUDIT_SYSTEM_EVENT ||
        e->log_kind == FL_LOG_AUDIT_DATA_ACCESS)
        return 0; /* audit records that are not changes are neither traffic nor app errors */

    bool request = e->log_kind == FL_LOG_REQUESTS || (e->http_status > 0 && !e->message[0]);
    bool is5xx = request && e->http_status >= 500;
    bool matched = match && match->rule;
    bool error = matched || e->severity >= FL_SEV_ERROR || is5xx;

    long ri = -1;
    if (e->service[0] || e->revision[0]) {
        bool folded;
        ri = rev_get(a, e->service, fl_entry_len(e, FL_KNOWN_SERVICE, e->service), e->revision,
                     fl_entry_len(e, FL_KNOWN_REVISION, e->revision), &folded);
        if (ri < 0)
            return (int)ri;
        /* The overflow pair keeps its time span but no location or commit of one member. */
        if (rev_note(&a->revs[ri], e->ts, e->ts, folded ? "" : e->location,
                     folded ? 0 : fl_entry_len(e, FL_KNOWN_LOCATION, e->location),
                     folded ? "" : e->commit_sha, e->ts))
            return FL_ENOMEM;
    }
    if (request && e->trace[0] && e->service[0] && e->ts) {
        /* The pair found is this entry's service (unless folded, or its key was cut), whose
         * hash it keeps: no lookup by name for every request (issue 15). */
        const agg_rev *r = ri >= 0 && !a->revs[ri].overflow ? &a->revs[ri] : NULL;
        if (r && r->graph_svc ? agg_graph_add_hashed(&a->graph, e->trace,
                                                     fl_entry_len(e, FL_KNOWN_TRACE, e->trace),
                                                     r->graph_svc, e->ts, e->latency_s)
                              : agg_graph_add(&a->graph, e->trace, e->service, e->ts, e->latency_s))
            return FL_ENOMEM;
    }
    agg_cell *c;
    /* Entries without a timestamp go to minute 0, which no bucket width moves. */
    if (ri >= 0 && (request || error)) {
        if (cell_get(a, -1, (int32_t)ri, minute, &c))
            return FL_ENOMEM;
        if (c) {
            c->requests += request;
            c->r5xx += is5xx;
            c->errors += error;
        }
    }
    if (!error)
        return 0;
    return add_error(a, e, match, matched, ri, minute);
}

int fl_agg_merge(fl_agg *dst, const fl_agg *src)
{
    dst->entries += src->entries;
    dst->cells_dropped += src->cells_dropped;
    dst->fcells_dropped += src->fcells_dropped;
    dst->changes_dropped += src->changes_dropped;
    note_time(dst, src->min_ts);
    note_time(dst, src->max_ts);
    long *rmap = fl_calloc(src->n_revs + 1, sizeof(long));
    long *gmap = fl_calloc(src->n_groups + 1, sizeof(long));
    int rc = FL_ENOMEM;
    if (!rmap || !gmap)
        goto out;
    /* Both sides in buckets of the wider width; cell_get widens further if a series of the
     * union needs it. */
    if (src->width > dst->width && fold_cells(dst, src->width))
        goto out;
    if (agg_graph_merge(&dst->graph, src->graph) || agg_time_merge(&dst->time, &src->time))
        goto out;
    for (size_t i = 0; i < src->n_revs; i++) {
        const agg_rev *s = &src->revs[i];
        bool folded;
        rmap[i] = s->overflow ? rev_get(dst, AGG_OTHER_SERVICE, strlen(AGG_OTHER_SERVICE),
                                        AGG_OTHER_REVISION, strlen(AGG_OTHER_REVISION), &folded)
                              : rev_get(dst, s->service, strlen(s->service), s->revision,
                                        strlen(s->revision), &folded);
        if (rmap[i] < 0)
            goto out;
        if (s->overflow && !dst->revs[rmap[i]].overflow)
            dst->revs[rmap[i]].overflow = folded = true;
        if (rev_note(&dst->revs[rmap[i]], s->first_seen, s->last_seen, folded ? "" : s->location,
                     folded ? 0 : strlen(s->location), folded ? "" : s->commit_sha, s->sha_ts))
            goto out;
    }
    for (size_t i = 0; i < src->n_groups; i++) {
        const agg_group *s = &src->groups[i];
        group_proto p = {s->key,         s->class_id,          s->rule_id,
                         s->title,       s->fingerprint,       s->template_text,
                         s->implies,     s->severity,          s->rep_ts};
        gmap[i] = group_get(dst, &p);
        if (gmap[i] < 0)
            goto out;
        agg_group *g = &dst->groups[gmap[i]];
        g->count += s->count;
        if (s->first_seen && (!g->first_seen || s->first_seen < g->first_seen))
            g->first_seen = s->first_seen;
        if (s->last_seen > g->last_seen)
            g->last_seen = s->last_seen;
        for (size_t j = 0; j < s->n_samples; j++) {
            const agg_sample *x = &s->samples[j];
            if (sample_offer(g, x->ts, x->service, x->revision, x->instance_id, x->insert_id,
                             x->message))
                goto out;
        }
        for (size_t j = 0; j < s->n_fields; j++) {
            const agg_field *sf = &s->fields[j];
            agg_field *f;
            if (field_get(dst, g, sf->name, sf->value, &f))
                goto out;
            if (!f) {
                if (cap_move(dst, g, sf))
                    goto out;
                continue;
            }
            f->count += sf->count;
            for (uint32_t k = 0; k < sf->n_cells; k++)
                if (fcell_add(dst, f, sf->cells[k].minute, sf->cells[k].n))
                    goto out;
        }
        for (uint32_t k = 0; k < s->norev.n_cells; k++)
            if (norev_add(dst, g, s->norev.cells[k].minute, s->norev.cells[k].n))
                goto out;
        if (cap_move(dst, g, &s->capped))
            goto out;
    }
    for (size_t i = 0; i < src->n_cells; i++) {
        const agg_cell *s = &src->cells[i];
        long r = rmap[s->k.rev];
        long gi = s->k.grp < 0 ? -1 : gmap[s->k.grp];
        if (r < 0)
            continue;
        agg_cell *c;
        if (cell_get(dst, (int32_t)gi, (int32_t)r, s->k.minute, &c))
            goto out;
        if (c)
            cell_add(c, s);
    }
    for (size_t i = 0; i < src->n_changes; i++)
        if (fl_agg_add_change(dst, &src->changes[i]))
            goto out;
    rc = 0;
out:
    fl_free(rmap);
    fl_free(gmap);
    return rc;
}

/* Rebuilds the index maps after vectors were compacted. */
static int reindex(fl_agg *a)
{
    fl_strmap_free(&a->rev_index);
    fl_strmap_free(&a->group_index);
    fl_cellmap_free(&a->cell_index);
    char key[REV_KEY_MAX];
    for (size_t i = 0; i < a->n_revs; i++) {
        rev_key(a->revs[i].service, a->revs[i].revision, key, sizeof(key));
        if (fl_strmap_put(&a->rev_index, key, (uint32_t)i))
            return FL_ENOMEM;
    }
    for (size_t i = 0; i < a->n_groups; i++)
        if (fl_strmap_put(&a->group_index, a->groups[i].key, (uint32_t)i))
            return FL_ENOMEM;
    for (size_t i = 0; i < a->n_cells; i++)
        if (fl_cellmap_put(&a->cell_index, (uint32_t)i, a->cells, sizeof(agg_cell)))
            return FL_ENOMEM;
    return 0;
}

void fl_agg_expire(fl_agg *a, fl_time t)
{
    int64_t cut = minute_of(t);
    long *gmap = fl_calloc(a->n_groups + 1, sizeof(long));
    long *rmap = fl_calloc(a->n_revs + 1, sizeof(long));
    uint64_t *gcount = fl_calloc(a->n_groups + 1, sizeof(uint64_t));
    if (!gmap || !rmap || !gcount)
        goto out;
    /* Group counts become what is left in the window. */
    for (size_t i = 0; i < a->n_cells; i++)
        if (a->cells[i].k.grp >= 0 && a->cells[i].k.minute + a->width > cut)
            gcount[a->cells[i].k.grp] += a->cells[i].errors;
    size_t ng = 0;
    a->n_fcells = 0; /* recounted over the groups that stay */
    for (size_t i = 0; i < a->n_groups; i++) {
        agg_group *g = &a->groups[i];
        if (g->last_seen < t) {
            group_free(g);
            gmap[i] = -1;
            continue;
        }
        /* what is left on revisions, and what is left without one */
        g->count = gcount[i] + expire_cells(a, &g->norev, cut);
        g->capped.count = expire_cells(a, &g->capped, cut);
        expire_fields(a, g, cut);
        if (g->first_seen < t)
            g->first_seen = t;
        size_t ns = 0;
        for (size_t j = 0; j < g->n_samples; j++) {
            if (g->samples[j].ts < t)
                sample_free(&g->samples[j]);
            else
                g->samples[ns++] = g->samples[j];
        }
        g->n_samples = ns;
        gmap[i] = (long)ng;
        a->groups[ng++] = *g;
    }
    a->n_groups = ng;
    size_t nr = 0;
    for (size_t i = 0; i < a->n_revs; i++) {
        agg_rev *r = &a->revs[i];
        if (r->last_seen < t) {
            rev_free(r);
            rmap[i] = -1;
            continue;
        }
        rmap[i] = (long)nr;
        a->revs[nr++] = *r;
    }
    a->n_revs = nr;
    size_t nc = 0;
    for (size_t i = 0; i < a->n_cells; i++) {
        agg_cell c = a->cells[i];
        if (c.k.minute + a->width <= cut || rmap[c.k.rev] < 0 || (c.k.grp >= 0 && gmap[c.k.grp] < 0))
            continue;
        c.k.rev = (int32_t)rmap[c.k.rev];
        if (c.k.grp >= 0)
            c.k.grp = (int32_t)gmap[c.k.grp];
        a->cells[nc++] = c;
    }
    a->n_cells = nc;
    size_t nch = 0;
    for (size_t i = 0; i < a->n_changes; i++)
        if (a->changes[i].ts >= t)
            a->changes[nch++] = a->changes[i];
    a->n_changes = nch;
    if (nch == AGG_MAX_CHANGES)
        for (size_t i = nch / 2; i-- > 0;)
            heap_down(a->changes, nch, i);
    chash_rebuild(a, FL_MIN(nch + 1, (size_t)AGG_MAX_CHANGES) + 16); /* failure: rebuilt later */
    if (a->min_ts < t)
        a->min_ts = t;
    agg_time_expire(&a->time, t);
    /* A width already reached is kept (folded cells cannot be split again). */
    reindex(a);
    series_recount(a);
out:
    fl_free(gmap);
    fl_free(rmap);
    fl_free(gcount);
}

/* Names each outlier the aggregate kept with its file and line, and counts the rest. */
static void warn_outliers(const fl_agg *a, fl_diag *d)
{
    agg_fence f;
    agg_time_fence(&a->time, &f);
    if (!f.cut_lo && !f.cut_hi)
        return;
    char t0[32], t1[32], ts[32];
    fl_time_format(f.first, false, t0, sizeof(t0));
    fl_time_format(f.last, false, t1, sizeof(t1));
    uint64_t named = 0;
    for (int side = 0; side < 2; side++) {
        const agg_extreme *v = side ? a->time.hi : a->time.lo;
        size_t n = side ? a->time.n_hi : a->time.n_lo;
        for (size_t i = 0; i < n && agg_time_outside(&a->time, &f, v[i].ts); i++) {
            if (side && v[i].ts < f.first)
                break; /* an early outlier also among the latest entries: named already */
            named++;
            fl_diag_warn(d, FL_WARN_OTHER, v[i].file, v[i].line,
                         "%s:%" PRIu64 ": timestamp %s is far from the rest of the input (%s to "
                         "%s); the entry is counted but left out of the analysis window",
                         v[i].file, v[i].line, fl_time_format(v[i].ts, false, ts, sizeof(ts)),
                         t0, t1);
        }
    }
    if (f.out_lo + f.out_hi > named)
        fl_diag_warn(d, FL_WARN_OTHER, "-", 0,
                     "%" PRIu64 " more entries with timestamps far from the rest of the input "
                     "(%s to %s) are left out of the analysis window",
                     f.out_lo + f.out_hi - named, t0, t1);
}

/* One warning for the groups with more distinct captured values than they keep, naming the
 * one with the most values left out (then the smaller name: the same for any input order). */
static void warn_field_cap(const fl_agg *a, fl_diag *d)
{
    uint64_t left_out = 0;
    size_t groups = 0;
    const agg_group *most = NULL;
    for (size_t i = 0; i < a->n_groups; i++) {
        const agg_group *g = &a->groups[i];
        if (!g->capped.count)
            continue;
        left_out += g->capped.count;
        groups++;
        if (!most || g->capped.count > most->capped.count ||
            (g->capped.count == most->capped.count &&
             strcmp(agg_group_name(g), agg_group_name(most)) < 0))
            most = g;
    }
    if (most)
        fl_diag_warn(d, FL_WARN_OTHER, "-", 0,
                     "more than %d distinct captured field values in %zu error group%s: %" PRIu64
                     " captured values past the cap are not kept (%" PRIu64 " in %s); "
                     "groups[].fields names the most frequent of the %d values each group keeps "
                     "(a sample by hash), which may not be the most frequent of all",
                     AGG_MAX_FIELD_VALUES, groups, groups == 1 ? "" : "s", left_out,
                     most->capped.count, agg_group_name(most), AGG_MAX_FIELD_VALUES);
}

void fl_agg_warn_caps(const fl_agg *a, fl_diag *d)
{
    warn_outliers(a, d);
    uint64_t requests = 0, errors = 0;
    long other = -1;
    for (size_t i = 0; i < a->n_revs; i++)
        if (a->revs[i].overflow)
            other = (long)i;
    for (size_t i = 0; other >= 0 && i < a->n_cells; i++)
        if (a->cells[i].k.rev == other && a->cells[i].k.grp < 0) {
            requests += a->cells[i].requests;
            errors += a->cells[i].errors;
        }
    if (other >= 0)
        fl_diag_warn(d, FL_WARN_OTHER, "-", 0,
                     "more than %zu service x revision pairs: the rest are counted together as "
                     "%s / %s (%" PRIu64 " requests, %" PRIu64 " errors)",
                     a->opts.max_revisions, AGG_OTHER_SERVICE, AGG_OTHER_REVISION, requests,
                     errors);
    long g = fl_strmap_get(&a->group_index, AGG_OVERFLOW_GROUP);
    if (g >= 0)
        fl_diag_warn(d, FL_WARN_OTHER, "-", 0,
                     "more than %zu error groups: %" PRIu64 " errors with other unmatched "
                     "messages are counted as one group",
                     a->opts.max_groups, a->groups[g].count);
    if (a->changes_dropped)
        fl_diag_warn(d, FL_WARN_OTHER, "-", 0,
                     "more than %d change events: the latest %d are kept, %" PRIu64
                     " earlier ones are left out",
                     AGG_MAX_CHANGES, AGG_MAX_CHANGES, a->changes_dropped);
    warn_field_cap(a, d);
    if (a->cells_dropped)
        fl_diag_warn(d, FL_WARN_OTHER, "-", 0,
                     "more than %zu time cells: %" PRIu64 " counts past the cap are left out of the "
                     "per-minute series",
                     a->opts.max_buckets * 16, a->cells_dropped);
    if (a->fcells_dropped)
        fl_diag_warn(d, FL_WARN_OTHER, "-", 0,
                     "more than %" PRIu64 " time cells of field values and of entries without "
                     "a revision: %" PRIu64 " of their counts are kept without their minute, "
                     "and a sliding window (tail) drops them at its next step",
                     (uint64_t)AGG_MAX_FIELD_CELLS, a->fcells_dropped);
}

int64_t agg_view_width(const fl_agg *a, int64_t m_lo, int64_t m_hi)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < a->n_cells; i++) {
        int64_t m = a->cells[i].k.minute;
        if (m == 0 || m + a->width <= m_lo || m > m_hi)
            continue; /* minute 0 holds the entries without a timestamp */
        lo = FL_MIN(lo, m);
        hi = FL_MAX(hi, m);
    }
    int64_t w = a->width > 0 ? a->width : 1;
    while (lo <= hi && w < (INT64_C(1) << 50) &&
           (agg_bucket_start(hi, w) - agg_bucket_start(lo, w)) / w + 1 > AGG_SPAN_BUCKETS)
        w *= 2;
    return w;
}
