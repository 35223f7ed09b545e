/* The service call graph's raw material: which services served requests of the same trace.
 *
 * Cloud Run request logs carry `trace`; a request of A and the request it made to B share it.
 * Keeping every trace would grow with the input, so the aggregate keeps a bottom-k sample: the
 * GRAPH_KEEP traces with the smallest hash of their id. Which traces those are depends only on
 * the set of trace ids, never on the input order, thread count or shard merge order; the
 * table is cut back to exactly GRAPH_KEEP before analysis (agg_graph_settle), so the edges
 * read from it are the same for any order. Per trace, each service keeps its earliest request
 * (start and end = start + latency); past GRAPH_SVCS services a trace keeps the smallest
 * service hashes. */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#define GRAPH_MAX (2 * GRAPH_KEEP)   /* traces held before a prune */
#define GRAPH_SLOTS (4 * GRAPH_KEEP) /* open addressing, load <= 0.5 at GRAPH_MAX */
_Static_assert(GRAPH_MAX <= UINT16_MAX, "slot_at holds a trace's place in 16 bits");

#define PREFIX_MAX 128 /* longest trace prefix ("projects/P/traces/") remembered */
#define SVC_CACHE 16    /* service names whose hash is remembered */
#define SVC_NAME_MAX 64

/* Hashing every request's trace id byte by byte was a fifth of the aggregate's cost (issue 15).
 * Trace ids of one input mostly share their "projects/P/traces/" prefix, and FNV-1a is a fold
 * over the bytes, so the state after the prefix is remembered and hashing resumes from it: the
 * values are exactly fl_hash64's (summaries store them). Service hashes are remembered by name. */
typedef struct hash_memo {
    char prefix[PREFIX_MAX];
    size_t prefix_len; /* 0: nothing remembered */
    uint64_t prefix_h; /* the FNV-1a state after the prefix */
    char svc[SVC_CACHE][SVC_NAME_MAX];
    uint64_t svc_h[SVC_CACHE]; /* 0: slot empty */
} hash_memo;

/* The traces are kept densely, in the order they came, and found through a table of their
 * hashes (64 KiB) and places (16 KiB). The table used to hold the traces themselves: 0.9 MiB,
 * larger than this CPU's L2, cleared for every aggregate (a two-thread run makes one per
 * hand-over), walked whole by every merge and prune, and probed at a random place per kept
 * request. Now a probe reads 8 bytes of a table that stays in cache, and only the traces held
 * are written, cleared or walked (issue 15). */
struct agg_graph {
    uint64_t *slot_h;  /* GRAPH_SLOTS: a trace's hash, 0 for a free slot */
    uint16_t *slot_at; /* GRAPH_SLOTS: where that trace is in traces */
    agg_trace *traces; /* room for GRAPH_MAX; the first n are held */
    size_t n;
    uint64_t cutoff; /* traces hashing above this are not kept (UINT64_MAX: none cut yet) */
    hash_memo memo;
};

agg_graph *agg_graph_new(void)
{
    agg_graph *g = fl_calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    /* One block: hashes, places, traces. Only the hashes are cleared; the traces' pages are
     * first touched when a trace is written there, so a small input faults in few of them.
     * Cleared by writing, not fl_calloc: calloc's fresh pages map the shared zero page when a
     * probe first reads them, and the write after that replaces it with a TLB flush that, with
     * two threads, interrupts the other core (issue 15). */
    size_t table = GRAPH_SLOTS * (sizeof(uint64_t) + sizeof(uint16_t));
    char *block = fl_malloc(table + GRAPH_MAX * sizeof(agg_trace));
    if (!block) {
        fl_free(g);
        return NULL;
    }
    g->slot_h = (uint64_t *)block;
    g->slot_at = (uint16_t *)(block + GRAPH_SLOTS * sizeof(uint64_t));
    g->traces = (agg_trace *)(block + table);
    memset(g->slot_h, 0, GRAPH_SLOTS * sizeof(uint64_t));
    g->cutoff = UINT64_MAX;
    return g;
}

void agg_graph_free(agg_graph *g)
{
    if (!g)
        return;
    fl_free(g->slot_h);
    fl_free(g);
}

/* The slot of hash h: the one holding it, else the free one where it would go. */
static size_t slot_of(const agg_graph *g, uint64_t h)
{
    size_t i = (size_t)(h & (GRAPH_SLOTS - 1));
    while (g->slot_h[i] && g->slot_h[i] != h)
        i = (i + 1) & (GRAPH_SLOTS - 1);
    return i;
}

/* The k-th smallest (0-based) of v[0, n), n > k; v is reordered. Quickselect (Hoare partition,
 * middle pivot): a prune needs only the cutoff, and a full sort of 4,096 hashes was half the
 * graph's cost (issue 15). Hashes in the table are distinct. */
static uint64_t kth_smallest(uint64_t *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint64_t pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                uint64_t t = v[i];
                v[i++] = v[j];
                v[j] = t;
                if (j == 0)
                    break;
                j--;
            }
        }
        /* now v[lo, j] <= pivot <= v[i, hi], and j < i */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

/* Keeps the `keep` smallest hashes and lowers the cutoff to the largest kept. */
static int prune(agg_graph *g, size_t keep)
{
    if (g->n <= keep)
        return 0;
    uint64_t *hs = fl_malloc(g->n * sizeof(uint64_t));
    if (!hs)
        return FL_ENOMEM;
    for (size_t i = 0; i < g->n; i++)
        hs[i] = g->traces[i].h;
    g->cutoff = kth_smallest(hs, g->n, keep - 1);
    fl_free(hs);
    /* The kept traces move down, in order; the table is built again for them. */
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++)
        if (g->traces[i].h <= g->cutoff)
            g->traces[k++] = g->traces[i];
    g->n = k;
    memset(g->slot_h, 0, GRAPH_SLOTS * sizeof(uint64_t));
    for (size_t i = 0; i < k; i++) {
        size_t j = slot_of(g, g->traces[i].h);
        g->slot_h[j] = g->traces[i].h;
        g->slot_at[j] = (uint16_t)i;
    }
    return 0;
}

/* Notes that service svc served a request of trace t from start to end. */
static void trace_note(agg_trace *t, uint64_t svc, fl_time start, fl_time end)
{
    for (size_t i = 0; i < t->n; i++) {
        agg_trace_svc *s = &t->s[i];
        if (s->svc != svc)
            continue;
        if (start < s->start || (start == s->start && end > s->end)) {
            s->start = start;
            s->end = end;
        }
        return;
    }
    size_t at = t->n;
    if (t->n == GRAPH_SVCS) {
        /* Full: the largest service hash gives way to a smaller one. */
        size_t max = 0;
        for (size_t i = 1; i < t->n; i++)
            if (t->s[i].svc > t->s[max].svc)
                max = i;
        if (svc > t->s[max].svc)
            return;
        at = max;
    } else {
        t->n++;
    }
    t->s[at] = (agg_trace_svc){svc, start, end};
}

/* graph_put past the cutoff test: a call of its own, so a request whose trace the sample does
 * not keep (nearly all, once it is full) returns early with a small frame (issue 15). */
static __attribute__((noinline)) int graph_keep(agg_graph *g, uint64_t h, uint64_t svc,
                                                fl_time start, fl_time end)
{
    size_t j = slot_of(g, h);
    agg_trace *t;
    if (g->slot_h[j]) {
        t = &g->traces[g->slot_at[j]];
    } else {
        g->slot_h[j] = h;
        g->slot_at[j] = (uint16_t)g->n;
        t = &g->traces[g->n++];
        t->h = h;
        t->n = 0;
    }
    trace_note(t, svc, start, end);
    if (g->n >= GRAPH_MAX)
        return prune(g, GRAPH_KEEP);
    return 0;
}

static inline int graph_put(agg_graph *g, uint64_t h, uint64_t svc, fl_time start, fl_time end)
{
    return h > g->cutoff ? 0 : graph_keep(g, h, svc, start, end);
}

uint64_t agg_graph_service_hash(const char *service)
{
    uint64_t h = fl_hash64(service, strlen(service), 0x5eed);
    return h ? h : 1;
}

/* fl_hash64 (FNV-1a) from state h over s[0, n): the same values, unrolled by eight. */
static uint64_t fnv_from(uint64_t h, const char *s, size_t n)
{
    const uint64_t prime = UINT64_C(0x100000001b3);
    const unsigned char *p = (const unsigned char *)s;
    for (; n >= 8; p += 8, n -= 8)
        for (int k = 0; k < 8; k++)
            h = (h ^ p[k]) * prime;
    for (; n; p++, n--)
        h = (h ^ *p) * prime;
    return h;
}

/* fl_hash64 of the trace id, seed 0x7ace, resumed after a remembered prefix when it matches. */
static uint64_t trace_hash(hash_memo *m, const char *trace, size_t n)
{
    if (m->prefix_len && n >= m->prefix_len && memcmp(trace, m->prefix, m->prefix_len) == 0)
        return fnv_from(m->prefix_h, trace + m->prefix_len, n - m->prefix_len);
    const char *slash = memrchr(trace, '/', n);
    size_t pl = slash ? (size_t)(slash - trace) + 1 : 0;
    if (pl >= PREFIX_MAX)
        pl = 0;
    uint64_t h = fl_hash64(trace, pl, 0x7ace);
    if (pl) {
        memcpy(m->prefix, trace, pl);
        m->prefix_len = pl;
        m->prefix_h = h;
    }
    return fnv_from(h, trace + pl, n - pl);
}

static uint64_t service_hash(hash_memo *m, const char *service)
{
    size_t n = strlen(service);
    /* The slot from the length and the first and last eight bytes: length and last byte alone
     * gave 4 slots that missed one lookup in six with five services. */
    uint64_t x = n, y = 0;
    if (n >= 8) {
        memcpy(&x, service, 8);
        memcpy(&y, service + n - 8, 8);
    } else {
        memcpy(&y, service, n);
    }
    size_t k = (size_t)(((x ^ (y << 7 | y >> 57) ^ n) * UINT64_C(0x9e3779b97f4a7c15)) >> 60) %
               SVC_CACHE;
    if (m->svc_h[k] && strcmp(m->svc[k], service) == 0)
        return m->svc_h[k];
    uint64_t h = agg_graph_service_hash(service);
    if (n < SVC_NAME_MAX) {
        memcpy(m->svc[k], service, n + 1);
        m->svc_h[k] = h;
    }
    return h;
}

int agg_graph_add(agg_graph **gp, const char *trace, const char *service, fl_time ts,
                  double latency_s)
{
    if (!trace[0] || !service[0] || !ts)
        return 0;
    if (!*gp && !(*gp = agg_graph_new()))
        return FL_ENOMEM;
    return agg_graph_add_hashed(gp, trace, strlen(trace), service_hash(&(*gp)->memo, service), ts,
                                latency_s);
}

int agg_graph_add_hashed(agg_graph **gp, const char *trace, size_t trace_len, uint64_t service_hash,
                         fl_time ts, double latency_s)
{
    if (!trace_len || !ts)
        return 0;
    if (!*gp && !(*gp = agg_graph_new()))
        return FL_ENOMEM;
    uint64_t h = trace_hash(&(*gp)->memo, trace, trace_len);
    h = h ? h : 1;
    if (h > (*gp)->cutoff)
        return 0;
    fl_time end = ts + (latency_s > 0 ? (fl_time)(latency_s * FL_USEC_PER_SEC) : 0);
    return graph_keep(*gp, h, service_hash, ts, end);
}

int agg_graph_merge(agg_graph **dst, const agg_graph *src)
{
    if (!src)
        return 0;
    if (!*dst && !(*dst = agg_graph_new()))
        return FL_ENOMEM;
    for (size_t i = 0; i < src->n; i++) {
        const agg_trace *t = &src->traces[i];
        for (size_t k = 0; k < t->n; k++)
            if (graph_put(*dst, t->h, t->s[k].svc, t->s[k].start, t->s[k].end))
                return FL_ENOMEM;
    }
    return 0;
}

int agg_graph_put_trace(agg_graph **gp, const agg_trace *t)
{
    if (!*gp && !(*gp = agg_graph_new()))
        return FL_ENOMEM;
    for (size_t k = 0; k < t->n; k++)
        if (graph_put(*gp, t->h, t->s[k].svc, t->s[k].start, t->s[k].end))
            return FL_ENOMEM;
    return 0;
}

int agg_graph_settle(agg_graph *g)
{
    return g ? prune(g, GRAPH_KEEP) : 0;
}

void agg_graph_each(const agg_graph *g, void (*fn)(const agg_trace *t, void *arg), void *arg)
{
    for (size_t i = 0; g && i < g->n; i++)
        fn(&g->traces[i], arg);
}
