/* Bench mode: a long, realistic stream produced fast enough (GB/s) that a multi-GB input can be
 * piped into faultline without storing it. A pool of entries is simulated once with the normal
 * world model (several services and revisions, two deploys, ~5% errors); the stream repeats
 * the pool with time moved forward by the pool's window each round, patching only the
 * "YYYY-MM-DDTHH:MM:SS" part of the two timestamps of each entry in a large output buffer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"

/* A busy project: ~130 requests/s over five services, so a GB covers about two hours and
 * 10 GB about a day, as in the archives of issue 4 (memory may grow with the time span). */
#define POOL_MINUTES 5
#define OUT_BUF (8u << 20)

typedef struct pool_entry {
    const char *text; /* rendered entry, without separator */
    uint32_t len;
    uint32_t ts_off;  /* offset of the timestamp value's first digit; UINT32_MAX: none */
    uint32_t rts_off; /* same for receiveTimestamp */
    int64_t ts_sec, rts_sec;
} pool_entry;

typedef struct pool {
    pool_entry *e;
    size_t n;
    char *arena;
    int64_t window_sec;
} pool;

/* Builds the world whose entries form the pool. */
static void bench_world(gen_world *w, uint64_t seed)
{
    gen_world_init(w, seed, "bench", POOL_MINUTES);
    /* proportions of issue 4: requests ~60%, app logs ~35%, errors ~5%; ~800-1000 bytes
     * an entry (the shortest real instanceId length, build labels on two services) */
    w->inst_len = 130;
    w->chatter_p = 0.75;
    for (int i = 0; i < 5; i++) {
        int svc = gen_add_service(w, NULL, -1, 1000);
        w->svcs[svc].cloud_build = i < 2;
    }
    /* steady low error rates of several classes, so error lines are ~5% of entries */
    static const int classes[] = {GEN_CLS_MONGO, GEN_CLS_POOL, GEN_CLS_REDIS, GEN_CLS_SCHEMA,
                                  GEN_CLS_UNMATCHED};
    for (int i = 0; i < 5; i++) {
        gen_fault f;
        memset(&f, 0, sizeof(f));
        f.svc = i;
        f.rev = -1;
        f.t0 = w->t0 - GEN_NS_PER_MIN;
        f.t1 = w->t1;
        f.p = 0.045;
        f.cls = classes[i];
        f.status = 500;
        snprintf(f.detail, sizeof(f.detail), "KV_REDIS_PASSWORD");
        gen_add_fault(w, &f);
    }
    gen_deploy(w, 0, w->t0 + 90 * GEN_NS_PER_SEC, false, 100);
    gen_deploy(w, 2, w->t0 + 210 * GEN_NS_PER_SEC, true, 100);
    gen_simulate(w);
    gen_sort(w);
}

static uint32_t find_value(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    return p ? (uint32_t)(p - s + strlen(key)) : UINT32_MAX;
}

static int64_t parse_sec(const char *s)
{
    fl_time t;
    const char *end = strchr(s, '"');
    if (!end || fl_time_parse(s, (size_t)(end - s), &t))
        return 0;
    return t / FL_USEC_PER_SEC;
}

static int pool_build(pool *p, uint64_t seed, bool array)
{
    gen_world *w = fl_calloc(1, sizeof(*w));
    if (!w)
        return FL_ENOMEM;
    bench_world(w, seed);
    /* a round lasts from the first to the last entry (a 504's log line comes 300 s after its
     * request), so consecutive rounds never overlap in time */
    p->window_sec = w->n_entries
                        ? (w->entries[w->n_entries - 1].ns - w->entries[0].ns) / GEN_NS_PER_SEC + 1
                        : 1;
    p->n = w->n_entries;
    p->e = fl_calloc(p->n ? p->n : 1, sizeof(pool_entry));
    fl_buf arena;
    fl_buf_init(&arena, (size_t)1 << 31);
    size_t *offs = fl_calloc(p->n ? p->n : 1, sizeof(size_t));
    if (!p->e || !offs) {
        fl_free(offs);
        gen_world_free(w);
        fl_free(w);
        return FL_ENOMEM;
    }
    const char *ts_key = array ? "\"timestamp\": \"" : "\"timestamp\":\"";
    const char *rts_key = array ? "\"receiveTimestamp\": \"" : "\"receiveTimestamp\":\"";
    for (size_t i = 0; i < p->n; i++) {
        /* entries are rendered oldest first; the array variant is emitted newest first */
        const char *src = w->entries[i].json;
        char *pretty = NULL;
        offs[i] = arena.len;
        if (array) {
            json_t *e = json_loads(src, 0, NULL);
            pretty = json_dumps(e, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(16));
            json_decref(e);
            fl_buf_addstr(&arena, "  ");
            for (const char *q = pretty; q && *q; q++) {
                fl_buf_addc(&arena, *q);
                if (*q == '\n')
                    fl_buf_addstr(&arena, "  ");
            }
            fl_free(pretty);
        } else {
            fl_buf_addstr(&arena, src);
        }
        fl_buf_addc(&arena, '\0');
    }
    p->arena = fl_buf_detach(&arena);
    for (size_t i = 0; i < p->n; i++) {
        pool_entry *e = &p->e[i];
        e->text = p->arena + offs[i];
        e->len = (uint32_t)strlen(e->text);
        /* the top-level timestamp is the first "timestamp" key at two-space depth in the
         * pretty form; in compact form payloads never use that exact key */
        e->ts_off = find_value(e->text, ts_key);
        if (array && e->ts_off != UINT32_MAX) {
            const char *q = strstr(e->text, "\n    \"timestamp\": \"");
            e->ts_off = q ? (uint32_t)(q - e->text) + 19 : UINT32_MAX;
        }
        e->rts_off = find_value(e->text, rts_key);
        e->ts_sec = e->ts_off != UINT32_MAX ? parse_sec(e->text + e->ts_off) : 0;
        e->rts_sec = e->rts_off != UINT32_MAX ? parse_sec(e->text + e->rts_off) : 0;
    }
    fl_free(offs);
    gen_world_free(w);
    fl_free(w);
    return 0;
}

static void pool_free(pool *p)
{
    fl_free(p->e);
    fl_free(p->arena);
}

/* Writes "YYYY-MM-DDTHH:MM:SS" for sec into dst (19 bytes), caching the last second. */
typedef struct ts_cache {
    int64_t sec;
    char text[24];
} ts_cache;

static void put_time(ts_cache *c, int64_t sec, char *dst)
{
    if (sec != c->sec) {
        time_t t = (time_t)sec;
        char full[40];
        gen_ts((int64_t)t * GEN_NS_PER_SEC, 6, full);
        memcpy(c->text, full, 19);
        c->sec = sec;
    }
    memcpy(dst, c->text, 19);
}

static int flush(int fd, char *buf, size_t *len)
{
    size_t off = 0;
    while (off < *len) {
        ssize_t k = write(fd, buf + off, *len - off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return FL_EIO;
        }
        off += (size_t)k;
    }
    *len = 0;
    return 0;
}

int gen_bench(uint64_t seed, uint64_t bytes, uint64_t max_entries, bool array, int fd)
{
    pool p;
    memset(&p, 0, sizeof(p));
    int rc = pool_build(&p, seed, array);
    if (rc)
        return rc;
    char *out = fl_malloc(OUT_BUF);
    if (!out || p.n == 0) {
        pool_free(&p);
        fl_free(out);
        return out ? 0 : FL_ENOMEM;
    }
    size_t len = 0;
    ts_cache c1 = {-1, {0}}, c2 = {-1, {0}};

    /* How many entries fit: the output never exceeds `bytes`. */
    uint64_t total = array ? 4 : 0, count = 0; /* "[\n" ... "\n]\n" */
    while (!max_entries || count < max_entries) {
        const pool_entry *e = &p.e[count % p.n];
        uint64_t add = (uint64_t)e->len + (array ? (count ? 2 : 0) : 1);
        if (total + add > bytes)
            break;
        total += add;
        count++;
    }
    if (array) {
        memcpy(out, count ? "[\n" : "[]\n", count ? 2 : 3);
        len = count ? 2 : 3;
    }
    for (uint64_t k = 0; k < count && !rc; k++) {
        uint64_t idx = array ? count - 1 - k : k; /* gcloud lists newest first */
        const pool_entry *e = &p.e[idx % p.n];
        int64_t shift = (int64_t)(idx / p.n) * p.window_sec;
        if (len + e->len + 4 > OUT_BUF && (rc = flush(fd, out, &len)))
            break;
        char *dst = out + len;
        memcpy(dst, e->text, e->len);
        if (shift) {
            if (e->ts_off != UINT32_MAX)
                put_time(&c1, e->ts_sec + shift, dst + e->ts_off);
            if (e->rts_off != UINT32_MAX)
                put_time(&c2, e->rts_sec + shift, dst + e->rts_off);
        }
        len += e->len;
        if (array) {
            if (k + 1 < count) {
                out[len++] = ',';
                out[len++] = '\n';
            } else {
                memcpy(out + len, "\n]\n", 3);
                len += 3;
            }
        } else {
            out[len++] = '\n';
        }
    }
    if (!rc)
        rc = flush(fd, out, &len);
    fl_free(out);
    pool_free(&p);
    return rc;
}
