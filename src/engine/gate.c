/* The gate between reading and classifying: the user's filter and de-duplication. */
#include "fl_gate.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

/* A --since/--until bound: absolute, or back from the newest entry. */
typedef struct bound {
    const char *text; /* as the user gave it, NULL: none */
    bool relative;
    fl_time back;     /* relative: how far before the newest entry */
    fl_time at;       /* the resolved instant */
} bound;

struct fl_gate {
    fl_filter_spec spec;
    bound since, until;
    int min_severity; /* -1: none */
    bool filters;     /* any of the above: without, every entry passes (checked once) */
    fl_time newest;   /* first pass: newest entry passing the other filters */
    uint64_t filtered_out, duplicates, unchecked;
    char project[128]; /* the smallest project id admitted: the same for any input order */
    size_t project_len;
    /* The dedup set: key hashes, 0 marks a free slot. Grows by doubling up to the cap. */
    uint64_t *slots;
    size_t n_slots, n_keys;
};

int fl_duration_parse(const char *s, fl_time *usec)
{
    fl_time total = 0;
    const char *p = s;
    if (!s || !*s)
        return FL_EPARSE;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return FL_EPARSE;
        int64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p++ - '0');
            if (v > 1000000000)
                return FL_EPARSE;
        }
        int64_t unit;
        switch (*p++) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: return FL_EPARSE;
        }
        total += v * unit * FL_USEC_PER_SEC;
    }
    *usec = total;
    return 0;
}

/* RFC 3339, or a bare date (midnight UTC). */
static int parse_instant(const char *s, fl_time *t)
{
    size_t n = strlen(s);
    if (n == 10 && s[4] == '-' && s[7] == '-') {
        char buf[32];
        snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
        return fl_time_parse(buf, strlen(buf), t);
    }
    return fl_time_parse(s, n, t);
}

static int parse_bound(bound *b, const char *opt, const char *text, char *errbuf, size_t errlen)
{
    memset(b, 0, sizeof *b);
    if (!text)
        return 0;
    b->text = text;
    if (fl_duration_parse(text, &b->back) == 0) {
        b->relative = true;
        return 0;
    }
    if (parse_instant(text, &b->at) == 0)
        return 0;
    snprintf(errbuf, errlen,
             "%s: '%s' is neither an RFC 3339 time (2026-07-25T03:00:00Z) nor a duration back "
             "from the newest entry (30m, 2h, 7d)",
             opt, text);
    return FL_EINVAL;
}

int fl_gate_new(fl_gate **out, const fl_filter_spec *spec, char *errbuf, size_t errlen)
{
    *out = NULL;
    fl_gate *g = fl_calloc(1, sizeof *g);
    if (!g)
        return FL_ENOMEM;
    g->spec = *spec;
    g->min_severity = -1;
    int rc = parse_bound(&g->since, "--since", spec->since, errbuf, errlen);
    if (!rc)
        rc = parse_bound(&g->until, "--until", spec->until, errbuf, errlen);
    if (!rc && spec->min_severity) {
        g->min_severity = fl_severity_parse(spec->min_severity, strlen(spec->min_severity));
        if (g->min_severity < 0) {
            snprintf(errbuf, errlen,
                     "--min-severity: '%s' is not a severity (DEBUG, INFO, NOTICE, WARNING, "
                     "ERROR, CRITICAL, ALERT, EMERGENCY or 0..800)",
                     spec->min_severity);
            rc = FL_EINVAL;
        }
    }
    if (!rc && !g->since.relative && !g->until.relative && g->since.text && g->until.text &&
        g->since.at > g->until.at) {
        snprintf(errbuf, errlen, "--since %s is after --until %s: nothing would be left",
                 spec->since, spec->until);
        rc = FL_EINVAL;
    }
    if (rc) {
        fl_gate_free(g);
        return rc;
    }
    g->filters = g->spec.n_services || g->spec.n_revisions || g->min_severity >= 0 ||
                 g->since.text || g->until.text;
    *out = g;
    return 0;
}

void fl_gate_free(fl_gate *g)
{
    if (!g)
        return;
    fl_free(g->slots);
    fl_free(g);
}

bool fl_gate_needs_newest(const fl_gate *g)
{
    return g && (g->since.relative || g->until.relative);
}

bool fl_gate_filters(const fl_gate *g)
{
    return g && (g->since.text || g->until.text || g->spec.n_services || g->spec.n_revisions ||
                 g->min_severity >= 0);
}

static bool any_glob(const char *const *globs, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (fnmatch(globs[i], s, 0) == 0)
            return true;
    return false;
}

static bool is_change_entry(const fl_entry *e)
{
    return e->log_kind == FL_LOG_AUDIT_ACTIVITY || e->log_kind == FL_LOG_AUDIT_SYSTEM_EVENT;
}

/* The filters that do not depend on time. Change events (audit entries) are kept whatever
 * their severity, so a severity filter does not hide the deploy that caused the errors; an
 * audit entry that names no service (a Secret Manager change) passes --service. */
static bool passes_attributes(const fl_gate *g, const fl_entry *e)
{
    if (g->spec.n_services && !(is_change_entry(e) && !e->service[0]) &&
        !any_glob(g->spec.services, g->spec.n_services, e->service))
        return false;
    if (g->spec.n_revisions && !(is_change_entry(e) && !e->revision[0]) &&
        !any_glob(g->spec.revisions, g->spec.n_revisions, e->revision))
        return false;
    if (g->min_severity >= 0 && !is_change_entry(e) && e->severity < g->min_severity)
        return false;
    return true;
}

void fl_gate_consider(fl_gate *g, const fl_entry *e)
{
    if (e->ts && passes_attributes(g, e) && e->ts > g->newest)
        g->newest = e->ts;
}

void fl_gate_resolve(fl_gate *g)
{
    if (g->since.relative)
        g->since.at = g->newest - g->since.back;
    if (g->until.relative)
        g->until.at = g->newest - g->until.back;
}

fl_time fl_gate_since_at(const fl_gate *g)
{
    return g && g->since.text ? g->since.at : INT64_MIN;
}

uint64_t fl_gate_dedup_key(const fl_entry *e)
{
    uint64_t h = fl_hash64(e->insert_id, strlen(e->insert_id), FL_HASH_SEED);
    h = fl_hash64(e->log_name, strlen(e->log_name), h);
    h = fl_hash64(&e->ts, sizeof e->ts, h);
    return h ? h : 1;
}

/* Doubles the set. Returns false when it may not grow (cap) or memory is short. */
static bool grow(fl_gate *g)
{
    size_t max = g->spec.dedup_max_slots ? g->spec.dedup_max_slots : FL_GATE_DEDUP_MAX_SLOTS;
    size_t n = g->n_slots ? g->n_slots * 2 : FL_MIN((size_t)4096, max);
    if (n > max || n == g->n_slots)
        return false;
    uint64_t *slots = fl_calloc(n, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < g->n_slots; i++) {
        uint64_t k = g->slots[i];
        if (!k)
            continue;
        size_t j = (size_t)k & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = k;
    }
    fl_free(g->slots);
    g->slots = slots;
    g->n_slots = n;
    return true;
}

/* True if e's key was seen before; otherwise remembers it (while there is room). Not inlined,
 * like the other paths an entry rarely takes, so fl_gate_admit's common path saves and
 * restores few registers (issue 15). */
static __attribute__((noinline)) bool seen_before(fl_gate *g, const fl_entry *e)
{
    uint64_t k = fl_gate_dedup_key(e);
    if (g->n_slots) {
        size_t j = (size_t)k & (g->n_slots - 1);
        while (g->slots[j]) {
            if (g->slots[j] == k)
                return true;
            j = (j + 1) & (g->n_slots - 1);
        }
    }
    /* Not seen: remember it, keeping the load at most three quarters. */
    if ((g->n_keys + 1) * 4 > g->n_slots * 3 && !grow(g)) {
        g->unchecked++;
        return false;
    }
    size_t j = (size_t)k & (g->n_slots - 1);
    while (g->slots[j])
        j = (j + 1) & (g->n_slots - 1);
    g->slots[j] = k;
    g->n_keys++;
    return false;
}

static bool passes_filter(const fl_gate *g, const fl_entry *e)
{
    return !g->filters ||
           (passes_attributes(g, e) && !(g->since.text && e->ts < g->since.at) &&
            !(g->until.text && e->ts > g->until.at));
}

void fl_gate_count_duplicate(fl_gate *g, const fl_entry *e)
{
    if (!g)
        return;
    if (passes_filter(g, e))
        g->duplicates++;
    else
        g->filtered_out++;
}

/* e's project (pn bytes), when it is not the one kept: kept if it is smaller. */
static __attribute__((noinline)) void offer_project(fl_gate *g, const fl_entry *e, size_t pn)
{
    if ((!g->project[0] || strcmp(e->project, g->project) < 0) && pn < sizeof g->project) {
        memcpy(g->project, e->project, pn + 1);
        g->project_len = pn;
    }
}

static __attribute__((noinline)) bool filtered_out(fl_gate *g, const fl_entry *e)
{
    if (passes_filter(g, e))
        return false;
    g->filtered_out++;
    return true;
}

bool fl_gate_admit(fl_gate *g, const fl_entry *e)
{
    if (!g)
        return true;
    if (g->filters && filtered_out(g, e))
        return false;
    if (!g->spec.no_dedup && e->insert_id[0] && seen_before(g, e)) {
        g->duplicates++;
        return false;
    }
    /* Usually the project already kept: its length and bytes say so without a call. */
    size_t pn = fl_entry_len(e, FL_KNOWN_PROJECT, e->project);
    if (pn && !(pn == g->project_len && fl_bytes_equal(e->project, g->project, pn)))
        offer_project(g, e, pn);
    return true;
}

static void describe_bound(fl_buf *b, const char *name, const bound *bd)
{
    char t[32];
    if (!bd->text)
        return;
    if (fl_buf_printf(b, "%s%s %s", b->len ? ", " : "", name,
                      fl_time_format(bd->at, false, t, sizeof t)))
        b->max = 0; /* cut: fl_gate_annotate says so */
    if (bd->relative && fl_buf_printf(b, " (%s before the newest entry)", bd->text))
        b->max = 0;
}

static void describe_globs(fl_buf *b, const char *name, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fl_buf_printf(b, "%s%s%s", i ? " " : (b->len ? ", " : ""), i ? "" : name, v[i]))
            b->max = 0;
}

const char *fl_gate_tmpdir(const fl_gate *g)
{
    return g->spec.tmpdir && g->spec.tmpdir[0] ? g->spec.tmpdir : "/tmp";
}

void fl_gate_annotate(const fl_gate *g, fl_input_summary *in)
{
    in->filter[0] = '\0';
    if (!g)
        return;
    in->filtered_out = g->filtered_out;
    in->duplicates = g->duplicates;
    in->dedup_unchecked = g->unchecked;
    snprintf(in->project, sizeof in->project, "%s", g->project);
    if (!fl_gate_filters(g))
        return;
    fl_buf b;
    fl_buf_init(&b, sizeof in->filter * 4);
    describe_bound(&b, "since", &g->since);
    describe_bound(&b, "until", &g->until);
    describe_globs(&b, "service ", g->spec.services, g->spec.n_services);
    describe_globs(&b, "revision ", g->spec.revisions, g->spec.n_revisions);
    if (g->min_severity >= 0 &&
        fl_buf_printf(&b, "%sseverity >= %s", b.len ? ", " : "", fl_severity_name(g->min_severity)))
        b.max = 0;
    if (b.data) {
        size_t n = FL_MIN(b.len, sizeof in->filter - 1);
        memcpy(in->filter, b.data, n);
        in->filter[n] = '\0';
        /* capped (or an append failed, max 0): say so rather than cut a glob silently */
        if ((n < b.len || !b.max) && n >= 3)
            memcpy(in->filter + n - 3, "...", 3);
    }
    fl_buf_free(&b);
}
