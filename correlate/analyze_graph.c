/* The service call graph, read from the logs themselves:
 *   - traces: in a sampled trace (graph.c), the request of service S was made by the service
 *     whose request encloses S's start (the latest such start); with no latency known, by the
 *     service whose request started first;
 *   - text: an error entry of A that names B's *.run.app host, B as a URL host or host:port, or
 *     B's name as a whole word (names of 8+ characters or with a dash, so "api" never matches
 *     prose) says A calls B.
 * Edges are kept per (caller, callee) in service-name order, so the graph is the same for any
 * input order. */
#include "analyze_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct an_edge {
    size_t a, b; /* caller, callee: indexes into svc_names */
    uint64_t traces, mentions;
} an_edge;

static int edge_cmp(const void *p, const void *q)
{
    const an_edge *x = p, *y = q;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    return x->b < y->b ? -1 : x->b > y->b;
}

/* Notes evidence for caller a -> callee b; edges_settle adds up the notes of one pair. */
static int edge_note(ctx *c, size_t a, size_t b, uint64_t traces, uint64_t mentions)
{
    if (c->n_edges == c->cap_edges) {
        size_t cap = c->cap_edges ? c->cap_edges * 2 : 64;
        an_edge *v = fl_realloc(c->edges, cap * sizeof(an_edge));
        if (!v)
            return FL_ENOMEM;
        c->edges = v;
        c->cap_edges = cap;
    }
    c->edges[c->n_edges++] = (an_edge){a, b, traces, mentions};
    return 0;
}

static void edges_settle(ctx *c)
{
    if (c->n_edges)
        qsort(c->edges, c->n_edges, sizeof(an_edge), edge_cmp);
    size_t k = 0;
    for (size_t i = 0; i < c->n_edges; i++) {
        if (k > 0 && edge_cmp(&c->edges[k - 1], &c->edges[i]) == 0) {
            c->edges[k - 1].traces += c->edges[i].traces;
            c->edges[k - 1].mentions += c->edges[i].mentions;
            continue;
        }
        c->edges[k++] = c->edges[i];
    }
    c->n_edges = k;
}

static int str_cmp(const void *p, const void *q)
{
    return strcmp(*(const char *const *)p, *(const char *const *)q);
}

static int trace_cmp(const void *p, const void *q)
{
    uint64_t a = (*(const agg_trace *const *)p)->h, b = (*(const agg_trace *const *)q)->h;
    return a < b ? -1 : a > b;
}

long an_service_index(const ctx *c, const char *service)
{
    const char **hit = bsearch(&service, c->svc_names, c->n_svcs, sizeof(char *), str_cmp);
    return hit ? (long)(hit - c->svc_names) : -1;
}

typedef struct collect {
    const agg_trace **v;
    size_t n;
} collect;

/* Every trace the table holds, single-service ones too: the sample is the GRAPH_KEEP smallest
 * hashes of all traces, and only that prefix is the same for any input order. */
static void collect_one(const agg_trace *t, void *arg)
{
    collect *cl = arg;
    cl->v[cl->n++] = t;
}

static long svc_of_hash(const ctx *c, uint64_t h)
{
    for (size_t i = 0; i < c->n_svcs; i++)
        if (c->svc_hash[i] == h)
            return (long)i;
    return -1;
}

/* Who made S's request in trace t: index into t->s, -1 when nobody. */
static long parent_in_trace(const ctx *c, const agg_trace *t, size_t s)
{
    const agg_trace_svc *me = &t->s[s];
    long best = -1;
    for (size_t o = 0; o < t->n; o++) {
        const agg_trace_svc *p = &t->s[o];
        if (o == s || p->start > me->start)
            continue;
        bool timed = p->end > p->start;
        if (timed && p->end < me->start)
            continue; /* finished before S started: a sibling, not the caller */
        if (p->start == me->start && p->end <= me->end)
            continue; /* same start: the longer request is the caller */
        if (best < 0) {
            best = (long)o;
            continue;
        }
        const agg_trace_svc *b = &t->s[best];
        if (p->start > b->start ||
            (p->start == b->start && svc_of_hash(c, p->svc) < svc_of_hash(c, b->svc)))
            best = (long)o;
    }
    return best;
}

static bool word_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '_';
}

/* Next to a bare name, these make it part of a path, a file or a dotted identifier
 * ("/app/accounts/db.py", "accounts.models"), not a service being named. */
static bool path_char(char ch)
{
    return ch == '/' || ch == '.' || ch == '\\' || ch == ':' || ch == '=';
}

/* Does the occurrence of a len-byte service name at p (not inside a word or after a dot) name
 * that service the way a caller's error would? */
static bool names_at(const char *text, const char *p, size_t len, bool distinctive)
{
    const char *e = p + len;
    /* B-<hash>-<region>.a.run.app / B-<project number>.<region>.run.app */
    const char *host_end = e + strcspn(e, " \t\n\"'/,;)]}");
    const char *run = strstr(e, ".run.app");
    if (run && run < host_end)
        return true;
    bool url = p >= text + 3 && strncmp(p - 3, "://", 3) == 0;
    bool port = *e == ':' && isdigit((unsigned char)e[1]);
    if (url || port)
        return true;
    return distinctive && !word_char(*e) && !path_char(*e) && (p == text || !path_char(p[-1]));
}

static bool name_distinctive(const char *name, size_t len)
{
    return len >= 8 || memchr(name, '-', len);
}

/* Does text name service `name` the way a caller's error would? */
static bool text_names(const char *text, const char *name)
{
    size_t len = strlen(name);
    if (len < 3)
        return false;
    bool distinctive = name_distinctive(name, len);
    for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
        if (p > text && (word_char(p[-1]) || p[-1] == '.'))
            continue;
        if (names_at(text, p, len, distinctive))
            return true;
    }
    return false;
}

static bool word_name(const char *name)
{
    for (; *name; name++)
        if (!word_char(*name))
            return false;
    return true;
}

/* The first service name (sorted) not below the len bytes at p; c->n_svcs when none. */
static size_t name_lower_bound(const ctx *c, const char *p, size_t len)
{
    size_t lo = 0, hi = c->n_svcs;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        const char *s = c->svc_names[m];
        int d = strncmp(s, p, len);
        if (d < 0)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

typedef struct named_set {
    size_t *v; /* service indexes, possibly repeated */
    size_t n, cap;
    bool oom;
} named_set;

static void named_add(named_set *ns, size_t b)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        size_t *v = fl_realloc(ns->v, cap * sizeof(size_t));
        if (!v) {
            ns->oom = true;
            return;
        }
        ns->v = v;
        ns->cap = cap;
    }
    ns->v[ns->n++] = b;
}

/* Every service that text names (text_names true), into ns. Names made of word characters
 * only (every Cloud Run name) can only start a word, so each word's prefixes are looked up in
 * the sorted names: the cost follows the text, not the number of services, which a hostile
 * input can make thousands. Other names (the overflow pair's) are searched one by one. */
static void names_in_text(const ctx *c, const bool *plain, const char *text, named_set *ns)
{
    for (size_t b = 0; b < c->n_svcs; b++)
        if (!plain[b] && text_names(text, c->svc_names[b]))
            named_add(ns, b);
    for (const char *p = text; *p;) {
        if (!word_char(*p) || (p > text && (word_char(p[-1]) || p[-1] == '.'))) {
            p++;
            continue;
        }
        const char *q = p;
        while (word_char(*q))
            q++;
        /* names that are prefixes of the word [p, q), by growing prefix length */
        for (size_t len = 3; len <= (size_t)(q - p); len++) {
            size_t b = name_lower_bound(c, p, len);
            if (b == c->n_svcs || strncmp(c->svc_names[b], p, len) != 0)
                break; /* no name starts with these len bytes, so none with more */
            if (c->svc_names[b][len] == '\0' && plain[b] &&
                names_at(text, p, len, name_distinctive(p, len)))
                named_add(ns, b);
        }
        p = q;
    }
}

static int size_pair_cmp(const void *p, const void *q)
{
    const size_t *x = p, *y = q;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Text: a group's samples, each against every other service; the caller is the service the
 * sample came from (a class-keyed group spans services, so the group as a whole says nothing
 * about who wrote the text). Each (caller, callee) pair a group's samples show counts the
 * group's errors in the caller once. */
static int add_mentions(ctx *c)
{
    size_t n = c->n_svcs;
    int rc = FL_ENOMEM;
    bool *plain = fl_calloc(n + 1, sizeof(bool));
    named_set names = {0}, pairs = {0};
    if (!plain)
        goto out;
    for (size_t b = 0; b < n; b++)
        plain[b] = word_name(c->svc_names[b]);
    for (size_t g = 0; g < c->a->n_groups; g++) {
        const agg_group *grp = &c->a->groups[g];
        pairs.n = 0;
        for (size_t k = 0; k < grp->n_samples; k++) {
            long a = an_service_index(c, grp->samples[k].service);
            if (a < 0)
                continue;
            names.n = 0;
            names_in_text(c, plain, grp->samples[k].message, &names);
            for (size_t i = 0; i < names.n; i++)
                if (names.v[i] != (size_t)a) {
                    named_add(&pairs, (size_t)a);
                    named_add(&pairs, names.v[i]);
                }
        }
        if (names.oom || pairs.oom)
            goto out;
        if (pairs.n)
            qsort(pairs.v, pairs.n / 2, 2 * sizeof(size_t), size_pair_cmp);
        for (size_t i = 0; i < pairs.n; i += 2) {
            size_t a = pairs.v[i], b = pairs.v[i + 1];
            if (i > 0 && a == pairs.v[i - 2] && b == pairs.v[i - 1])
                continue;
            if (edge_note(c, a, b, 0,
                          an_grp_sum_service(c, g, c->svc_names[a], INT64_MIN, INT64_MAX, NULL)))
                goto out;
        }
    }
    rc = 0;
out:
    fl_free(plain);
    fl_free(names.v);
    fl_free(pairs.v);
    return rc;
}

int an_build_graph(ctx *c)
{
    /* Services: every one with a revision in the aggregate, sorted by name. */
    c->svc_names = fl_calloc(c->n_revs + 1, sizeof(char *));
    if (!c->svc_names)
        return FL_ENOMEM;
    for (size_t r = 0; r < c->n_revs; r++) {
        const char *s = c->revs[r].r->service;
        if (s[0] && (c->n_svcs == 0 || strcmp(c->svc_names[c->n_svcs - 1], s) != 0))
            c->svc_names[c->n_svcs++] = s; /* revs are in service order */
    }
    size_t n = c->n_svcs;
    c->svc_hash = fl_calloc(n + 1, sizeof(uint64_t));
    if (!c->svc_hash)
        return FL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        c->svc_hash[i] = agg_graph_service_hash(c->svc_names[i]);

    /* Traces: the GRAPH_KEEP smallest hashes only, whatever the table still holds. */
    collect cl = {fl_calloc(4 * GRAPH_KEEP + 1, sizeof(agg_trace *)), 0};
    if (!cl.v)
        return FL_ENOMEM;
    agg_graph_each(c->a->graph, collect_one, &cl);
    qsort(cl.v, cl.n, sizeof(*cl.v), trace_cmp);
    for (size_t i = 0; i < cl.n && i < GRAPH_KEEP; i++) {
        const agg_trace *t = cl.v[i];
        for (size_t s = 0; t->n >= 2 && s < t->n; s++) {
            long p = parent_in_trace(c, t, s);
            long a = p >= 0 ? svc_of_hash(c, t->s[p].svc) : -1, b = svc_of_hash(c, t->s[s].svc);
            if (a >= 0 && b >= 0 && a != b && edge_note(c, (size_t)a, (size_t)b, 1, 0)) {
                fl_free(cl.v);
                return FL_ENOMEM;
            }
        }
    }
    fl_free(cl.v);
    int rc = add_mentions(c);
    edges_settle(c);
    return rc;
}

static bool edge_kept(const an_edge *e)
{
    return e->traces >= 1 || e->mentions >= 2;
}

bool an_calls(const ctx *c, const char *caller, const char *callee)
{
    long a = an_service_index(c, caller), b = an_service_index(c, callee);
    if (a < 0 || b < 0 || a == b)
        return false;
    if (!c->n_edges)
        return false;
    an_edge key = {(size_t)a, (size_t)b, 0, 0};
    const an_edge *e = bsearch(&key, c->edges, c->n_edges, sizeof(an_edge), edge_cmp);
    return e && edge_kept(e);
}

int an_out_graph(const ctx *c, fl_result *res)
{
    res->edges = fl_calloc(c->n_edges + 1, sizeof(fl_call_edge));
    if (!res->edges)
        return FL_ENOMEM;
    for (size_t i = 0; i < c->n_edges; i++) { /* (caller, callee) order, as sorted */
        const an_edge *x = &c->edges[i];
        if (!edge_kept(x))
            continue;
        fl_call_edge *e = &res->edges[res->n_edges++];
        e->caller = fl_strdup(c->svc_names[x->a]);
        e->callee = fl_strdup(c->svc_names[x->b]);
        e->traces = x->traces;
        e->mentions = x->mentions;
        if (!e->caller || !e->callee)
            return FL_ENOMEM;
    }
    return 0;
}

void an_free_graph(ctx *c)
{
    fl_free(c->svc_names);
    fl_free(c->svc_hash);
    fl_free(c->edges);
}

double an_callee_fit(const ctx *c, const agg_group *g, const char *callee)
{
    (void)c;
    static const char *const call_classes[] = {"upstream_timeout", "connection_refused",
                                               "grpc_unavailable", "request_timeout"};
    bool named = false;
    for (size_t k = 0; !named && k < g->n_samples; k++)
        named = strcmp(g->samples[k].service, callee) != 0 &&
                text_names(g->samples[k].message, callee);
    if (named)
        return 1;
    if (!g->class_id)
        return 0.6;
    for (size_t i = 0; i < FL_ARRAY_LEN(call_classes); i++)
        if (strcmp(g->class_id, call_classes[i]) == 0)
            return 1;
    return 0;
}
