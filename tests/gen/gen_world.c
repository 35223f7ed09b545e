/* The project model and its LogEntry rendering: services, revisions, instances, deploys and
 * the per-request simulation that writes request logs, application logs, platform lines and
 * audit entries. Entry shapes follow real exports (see /work/shared/samples/PROVENANCE.md). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"

/* ---- small helpers -------------------------------------------------------------------------- */

void gen_hex(gen_rng *r, char *out, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if ((i & 15) == 0)
            v = gen_next(r);
        out[i] = digits[v & 15];
        v >>= 4;
    }
    out[n] = '\0';
}

void gen_alnum(gen_rng *r, char *out, size_t n)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < n; i++)
        out[i] = chars[gen_below(r, 36)];
    out[n] = '\0';
}

static char *put_digits(char *p, uint32_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

char *gen_ts(int64_t ns, int digits, char *buf)
{
    time_t secs = (time_t)(ns / GEN_NS_PER_SEC);
    uint32_t frac = (uint32_t)(ns % GEN_NS_PER_SEC);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char *p = put_digits(buf, (uint32_t)(tm.tm_year + 1900), 4);
    *p++ = '-';
    p = put_digits(p, (uint32_t)tm.tm_mon + 1, 2);
    *p++ = '-';
    p = put_digits(p, (uint32_t)tm.tm_mday, 2);
    *p++ = 'T';
    p = put_digits(p, (uint32_t)tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, (uint32_t)tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, (uint32_t)tm.tm_sec, 2);
    *p++ = '.';
    p = digits == 9 ? put_digits(p, frac, 9) : put_digits(p, frac / 1000, 6);
    *p++ = 'Z';
    *p = '\0';
    return buf;
}

/* snprintf through a scratch buffer: no aliasing between fields of one struct, and a
 * truncated result is simply cut (names here are far below the limits). */
static void fmt_into(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fmt_into(char *dst, size_t n, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    size_t len = strlen(tmp);
    if (len >= n)
        len = n - 1;
    memcpy(dst, tmp, len);
    dst[len] = '\0';
}

static void uuid4(gen_rng *r, char *out)
{
    char h[33];
    gen_hex(r, h, 32);
    snprintf(out, 37, "%.8s-%.4s-4%.3s-a%.3s-%.12s", h, h + 8, h + 13, h + 17, h + 20);
}

char *gen_instance_id(const gen_world *w, uint64_t key, char *buf)
{
    gen_rng r = {key};
    size_t plen = strlen(w->inst_prefix);
    memcpy(buf, w->inst_prefix, plen);
    gen_hex(&r, buf + plen, (size_t)w->inst_len - plen);
    return buf;
}

/* ---- catalog -------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int lang;
    const char *noun;
} svc_catalog[] = {
    {"checkout-api", GEN_NODE, "cart"},        {"orders-api", GEN_PYTHON, "orders"},
    {"payments-worker", GEN_JAVA, "payments"}, {"inventory-svc", GEN_GO, "stock"},
    {"notifications", GEN_PYTHON, "messages"}, {"auth-gateway", GEN_NODE, "sessions"},
    {"catalog-api", GEN_JAVA, "products"},     {"search-api", GEN_PYTHON, "search"},
    {"billing-api", GEN_NODE, "invoices"},     {"profile-svc", GEN_GO, "profiles"},
};

static const struct {
    const char *name;
    const char *code;
} regions[] = {
    {"us-central1", "uc"},  {"europe-west1", "ew"},    {"us-east1", "ue"},
    {"europe-west4", "ez"}, {"asia-northeast1", "an"}, {"us-west1", "uw"},
};

static const char *const projects[] = {
    "acme-shop-prod", "northwind-prod",   "brightcart-prod",
    "helio-payments", "tessera-platform", "lumen-retail-prod",
};

static const char *const people[] = {
    "maria.gonzalez@%s.example.com",
    "dev.oncall@%s.example.com",
    "k.tanaka@%s.example.com",
    "sam.okafor@%s.example.com",
};

static const char *const user_agents[] = {
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.3.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "okhttp/4.12.0",
    "Go-http-client/2.0",
    "python-requests/2.32.3",
    "GoogleHC/1.0",
    "Google-Cloud-Scheduler",
};

static const char *const server_ips[] = {"216.239.32.53", "216.239.34.53", "216.239.36.53",
                                         "216.239.38.53"};

static const char *svc_noun(const char *name)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(svc_catalog); i++)
        if (strcmp(svc_catalog[i].name, name) == 0)
            return svc_catalog[i].noun;
    return "items";
}

/* ---- world ---------------------------------------------------------------------------------- */

void gen_world_init(gen_world *w, uint64_t seed, const char *salt, int minutes)
{
    memset(w, 0, sizeof(*w));
    w->seed = seed;
    w->rng.s = seed * UINT64_C(0x9e3779b97f4a7c15) + UINT64_C(0x5151f00d);
    if (salt)
        w->rng.s ^= fl_hash64(salt, strlen(salt), FL_HASH_SEED);
    gen_rng *r = &w->rng;
    const char *proj = GEN_PICK(r, projects);
    if (gen_chance(r, 0.5))
        snprintf(w->project, sizeof(w->project), "%s", proj);
    else
        snprintf(w->project, sizeof(w->project), "%s-%u", proj, 1000 + gen_below(r, 9000));
    snprintf(w->project_number, sizeof(w->project_number), "%u%08u", 1 + gen_below(r, 9),
             gen_below(r, 100000000));
    int ri = (int)gen_below(r, FL_ARRAY_LEN(regions));
    snprintf(w->region, sizeof(w->region), "%s", regions[ri].name);
    /* 2026-01-01T00:00:00Z plus up to ~300 days, at a random second of the day */
    int64_t base = INT64_C(1767225600) + (int64_t)gen_below(r, 300) * 86400 +
                   (int64_t)gen_below(r, 86400 - 7200);
    w->t0 = base * GEN_NS_PER_SEC + (int64_t)gen_below(r, 1000000) * 1000;
    w->t1 = w->t0 + (int64_t)minutes * GEN_NS_PER_MIN;
    static const int lens[] = {130, 136, 154, 156};
    w->inst_len = GEN_PICK(r, lens);
    w->inst_prefix[0] = '0';
    w->inst_prefix[1] = '0';
    gen_hex(r, w->inst_prefix + 2, 8);
    w->max_entries = 20u * 1000u * 1000u;
    w->chatter_p = 0.55;
}

void gen_world_free(gen_world *w)
{
    for (size_t i = 0; i < w->n_entries; i++)
        fl_free(w->entries[i].json);
    fl_free(w->entries);
    w->entries = NULL;
    w->n_entries = w->cap_entries = 0;
}

const char *gen_rev_name(const gen_world *w, int svc, int rev)
{
    return w->svcs[svc].revs[rev].name;
}

static const char *region_code(const gen_world *w)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(regions); i++)
        if (strcmp(regions[i].name, w->region) == 0)
            return regions[i].code;
    return "uc";
}

int gen_add_service(gen_world *w, const char *name, int lang, double rate)
{
    gen_rng *r = &w->rng;
    if (w->n_svcs >= GEN_MAX_SVCS)
        return -1;
    if (!name) {
        /* pick an unused catalog entry, starting at a random one */
        size_t start = gen_below(r, FL_ARRAY_LEN(svc_catalog));
        for (size_t k = 0; k < FL_ARRAY_LEN(svc_catalog) && !name; k++) {
            size_t i = (start + k) % FL_ARRAY_LEN(svc_catalog);
            bool used = false;
            for (int j = 0; j < w->n_svcs; j++)
                used |= strcmp(w->svcs[j].name, svc_catalog[i].name) == 0;
            if (!used && (lang < 0 || svc_catalog[i].lang == lang)) {
                name = svc_catalog[i].name;
                lang = svc_catalog[i].lang;
            }
        }
        if (!name)
            return -1;
    }
    if (lang < 0) {
        lang = GEN_NODE;
        for (size_t i = 0; i < FL_ARRAY_LEN(svc_catalog); i++)
            if (strcmp(svc_catalog[i].name, name) == 0)
                lang = svc_catalog[i].lang;
    }
    int idx = w->n_svcs++;
    gen_svc *s = &w->svcs[idx];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->lang = lang;
    s->style = (int)gen_below(r, 3);
    char h[11];
    gen_alnum(r, h, 10);
    snprintf(s->host, sizeof(s->host), "%s-%s-%s.a.run.app", name, h, region_code(w));
    snprintf(s->repo, sizeof(s->repo), "%s-docker.pkg.dev/%s/services/%s", w->region, w->project,
             name);
    if (gen_chance(r, 0.5))
        snprintf(s->sa, sizeof(s->sa), "%s@%s.iam.gserviceaccount.com", name, w->project);
    else
        snprintf(s->sa, sizeof(s->sa), "%s-compute@developer.gserviceaccount.com",
                 w->project_number);
    s->rate = rate > 0 ? rate * (0.7 + 0.6 * gen_unit(r)) : 40;
    s->cloud_build = gen_chance(r, 0.7);
    /* the revision serving when the window opens, created a while before it */
    int rev = gen_new_revision(w, idx, false);
    s->revs[rev].number = 3 + (int)gen_below(r, 300);
    char sfx[4];
    gen_alnum(r, sfx, 3);
    snprintf(s->revs[rev].name, sizeof(s->revs[rev].name), "%s-%05d-%s", name, s->revs[rev].number,
             sfx);
    s->revs[rev].created = w->t0 - (int64_t)gen_range(r, 2, 200) * 3600 * GEN_NS_PER_SEC;
    gen_set_traffic(w, idx, s->revs[rev].created, rev, 100, -1);
    return idx;
}

int gen_new_revision(gen_world *w, int svc, bool same_image)
{
    gen_rng *r = &w->rng;
    gen_svc *s = &w->svcs[svc];
    if (s->n_revs >= GEN_MAX_REVS)
        return s->n_revs - 1;
    int idx = s->n_revs++;
    gen_rev *v = &s->revs[idx];
    const gen_rev *prev = idx > 0 ? &s->revs[idx - 1] : NULL;
    memset(v, 0, sizeof(*v));
    v->number = prev ? prev->number + 1 : 1;
    char sfx[4];
    gen_alnum(r, sfx, 3);
    fmt_into(v->name, sizeof(v->name), "%s-%05d-%s", s->name, v->number, sfx);
    if (prev && same_image) {
        memcpy(v->commit, prev->commit, sizeof(v->commit));
        memcpy(v->image, prev->image, sizeof(v->image));
        memcpy(v->build_id, prev->build_id, sizeof(v->build_id));
    } else {
        gen_hex(r, v->commit, 40);
        fmt_into(v->image, sizeof(v->image), "%s:%s", s->repo, v->commit);
        uuid4(r, v->build_id);
    }
    v->memory_mib = prev ? prev->memory_mib : (gen_chance(r, 0.6) ? 512 : 1024);
    v->n_inst = 2 + (int)gen_below(r, 2);
    for (int i = 0; i < v->n_inst; i++)
        v->inst[i] = gen_next(r);
    return idx;
}

void gen_set_traffic(gen_world *w, int svc, int64_t t, int rev_a, int pct_a, int rev_b)
{
    gen_svc *s = &w->svcs[svc];
    if (s->n_traffic >= GEN_MAX_TRAFFIC)
        return;
    gen_traffic *tr = &s->traffic[s->n_traffic++];
    tr->t = t;
    tr->rev[0] = rev_a;
    tr->pct[0] = pct_a;
    tr->n = 1;
    if (rev_b >= 0 && pct_a < 100) {
        tr->rev[1] = rev_b;
        tr->pct[1] = 100 - pct_a;
        tr->n = 2;
    }
}

int gen_add_fault(gen_world *w, const gen_fault *f)
{
    if (w->n_faults >= GEN_MAX_FAULTS)
        return -1;
    w->faults[w->n_faults] = *f;
    return w->n_faults++;
}

static void add_crash(gen_world *w, int svc, int rev, int slot, int64_t t, int64_t dur, bool counts)
{
    if (w->n_crashes >= (int)FL_ARRAY_LEN(w->crashes))
        return;
    gen_crash *c = &w->crashes[w->n_crashes++];
    c->svc = svc;
    c->rev = rev;
    c->slot = slot;
    c->t = t;
    c->dur = dur;
    c->counts = counts;
}

/* Replaces the instance in `slot` from time t; returns the new key. */
static uint64_t replace_instance(gen_world *w, int svc, int rev, int slot, int64_t t)
{
    gen_rev *v = &w->svcs[svc].revs[rev];
    uint64_t key = gen_next(&w->rng);
    if (v->n_gens < (int)FL_ARRAY_LEN(v->gens)) {
        v->gens[v->n_gens].t = t;
        v->gens[v->n_gens].key = key;
        v->gens[v->n_gens].slot = slot;
        v->n_gens++;
    }
    return key;
}

static uint64_t instance_at(const gen_rev *v, int slot, int64_t t)
{
    uint64_t key = v->inst[slot];
    int64_t best = INT64_MIN;
    for (int i = 0; i < v->n_gens; i++)
        if (v->gens[i].slot == slot && v->gens[i].t <= t && v->gens[i].t >= best) {
            best = v->gens[i].t;
            key = v->gens[i].key;
        }
    return key;
}

static const gen_traffic *traffic_at(const gen_svc *s, int64_t t)
{
    const gen_traffic *best = &s->traffic[0];
    for (int i = 0; i < s->n_traffic; i++)
        if (s->traffic[i].t <= t && s->traffic[i].t >= best->t)
            best = &s->traffic[i];
    return best;
}

/* ---- entry assembly ------------------------------------------------------------------------- */

void gen_push(gen_world *w, int64_t ns, json_t *obj)
{
    if (!obj)
        return;
    if (w->n_entries >= w->max_entries) {
        json_decref(obj);
        return;
    }
    char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(16));
    json_decref(obj);
    if (!s)
        return;
    if (w->n_entries == w->cap_entries) {
        size_t cap = w->cap_entries ? w->cap_entries * 2 : 4096;
        gen_entry *n = fl_realloc(w->entries, cap * sizeof(*n));
        if (!n) {
            fl_free(s);
            return;
        }
        w->entries = n;
        w->cap_entries = cap;
    }
    w->entries[w->n_entries].ns = ns;
    w->entries[w->n_entries].seq = w->seq++;
    w->entries[w->n_entries].json = s;
    w->n_entries++;
}

static void mark_onset(gen_world *w, int64_t t)
{
    if (w->onset == 0 || t < w->onset)
        w->onset = t;
}

static json_t *resource_rev(const gen_world *w, int svc, int rev)
{
    const gen_svc *s = &w->svcs[svc];
    return json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "type", "cloud_run_revision", "labels",
                     "configuration_name", s->name, "location", w->region, "project_id", w->project,
                     "revision_name", rev >= 0 ? s->revs[rev].name : "", "service_name", s->name);
}

static json_t *resource_svc(const gen_world *w, int svc)
{
    json_t *res = resource_rev(w, svc, -1);
    json_object_set_new(json_object_get(res, "labels"), "configuration_name", json_string(""));
    return res;
}

static json_t *container_labels(const gen_world *w, int svc, int rev, uint64_t inst)
{
    const gen_svc *s = &w->svcs[svc];
    const gen_rev *v = &s->revs[rev];
    char id[168];
    gen_instance_id(w, inst, id);
    json_t *l = json_object();
    if (s->cloud_build) {
        json_object_set_new(l, "commit-sha", json_string(v->commit));
        json_object_set_new(l, "gcb-build-id", json_string(v->build_id));
    }
    json_object_set_new(l, "instanceId", json_string(id));
    if (s->cloud_build)
        json_object_set_new(l, "managed-by", json_string("gcp-cloud-build-deploy-cloud-run"));
    return l;
}

static void container_insert_id(gen_world *w, int64_t ns, char *out)
{
    char tail[9];
    gen_hex(&w->rng, tail, 8);
    snprintf(out, 32, "%08x%08x%s", (unsigned)(ns / GEN_NS_PER_SEC),
             (unsigned)((ns % GEN_NS_PER_SEC) / 1000 + gen_below(&w->rng, 5000)), tail);
}

static void audit_insert_id(gen_world *w, char *out)
{
    size_t n = 10 + gen_below(&w->rng, 3);
    size_t off = 0;
    if (gen_chance(&w->rng, 0.3))
        out[off++] = '-';
    gen_alnum(&w->rng, out + off, n);
}

static char *log_name(const gen_world *w, const char *id, char *buf, size_t n)
{
    snprintf(buf, n, "projects/%s/logs/%s", w->project, id);
    return buf;
}

/* A container log line (stdout, stderr or varlog/system). payload is a string (textPayload)
 * or an object (jsonPayload); severity NULL leaves it out, as Cloud Run does for plain lines. */
static void emit_container(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns,
                           const char *log, json_t *payload, const char *severity,
                           const char *trace, const char *span, const char *error_group)
{
    char ts[40], rts[40], iid[32], ln[160];
    container_insert_id(w, ns, iid);
    json_t *e = json_object();
    if (json_is_string(payload))
        json_object_set_new(e, "textPayload", payload);
    else
        json_object_set_new(e, "jsonPayload", payload);
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(e, "resource", resource_rev(w, svc, rev));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, 6, ts)));
    if (severity)
        json_object_set_new(e, "severity", json_string(severity));
    json_t *labels = container_labels(w, svc, rev, inst);
    if (strcmp(log, "run.googleapis.com%2Fvarlog%2Fsystem") == 0) {
        json_object_del(labels, "commit-sha");
        json_object_del(labels, "gcb-build-id");
        json_object_del(labels, "managed-by");
        json_object_set_new(labels, "container_name", json_string("placeholder-1"));
    }
    json_object_set_new(e, "labels", labels);
    json_object_set_new(e, "logName", json_string(log_name(w, log, ln, sizeof(ln))));
    if (trace)
        json_object_set_new(e, "trace", json_string(trace));
    int64_t rns = ns + (int64_t)gen_range(&w->rng, 2000000, 900000000);
    json_object_set_new(e, "receiveTimestamp", json_string(gen_ts(rns, 9, rts)));
    if (span)
        json_object_set_new(e, "spanId", json_string(span));
    if (error_group)
        json_object_set_new(e, "errorGroups", json_pack("[{s:s}]", "id", error_group));
    gen_push(w, ns, e);
}

static void varlog(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *severity,
                   const char *text)
{
    emit_container(w, svc, rev, inst, ns, "run.googleapis.com%2Fvarlog%2Fsystem", json_string(text),
                   severity, NULL, NULL, NULL);
}

static void error_group_id(const gen_world *w, int svc, int cls, char *out)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t h = fl_hash64(w->svcs[svc].name, strlen(w->svcs[svc].name), (uint64_t)cls * 7919u);
    out[0] = 'C';
    for (int i = 1; i < 15; i++) {
        out[i] = b64[h & 63];
        h = (h >> 6) | (h << 58);
    }
    out[15] = '\0';
}

/* Application log line in the service's style. level: "info", "warn" or "error". */
static void emit_app(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *level,
                     const char *msg, const char *stack, const char *trace, const char *span)
{
    const gen_svc *s = &w->svcs[svc];
    bool err = strcmp(level, "error") == 0;
    /* console.error / print(file=sys.stderr) go to stderr; pino, zap and the Cloud Logging
     * JSON format write every level to stdout; Python's logging handler defaults to stderr */
    bool to_stderr = s->style == GEN_STYLE_TEXT   ? err || strcmp(level, "warn") == 0
                     : s->style == GEN_STYLE_JSON ? s->lang == GEN_PYTHON
                                                  : false;
    const char *log = to_stderr ? "run.googleapis.com%2Fstderr" : "run.googleapis.com%2Fstdout";
    if (s->style == GEN_STYLE_TEXT) {
        const char *text = stack ? stack : msg;
        if (s->lang == GEN_JAVA) {
            char ts[40], head[160];
            gen_ts(ns, 6, ts);
            snprintf(head, sizeof(head),
                     "%.10s %.12s %5s 1 --- [nio-8080-exec-%u] "
                     "c.a.%s.web.ApiController : ",
                     ts, ts + 11,
                     err                          ? "ERROR"
                     : strcmp(level, "warn") == 0 ? "WARN"
                                                  : "INFO",
                     1 + gen_below(&w->rng, 10), s->name[0] == 'c' ? "catalog" : "payments");
            fl_buf b;
            fl_buf_init(&b, 1 << 20);
            fl_buf_addstr(&b, head);
            fl_buf_addstr(&b, err ? "Request processing failed\n" : "");
            fl_buf_addstr(&b, text);
            emit_container(w, svc, rev, inst, ns, log, json_string(b.data), NULL, NULL, NULL, NULL);
            fl_buf_free(&b);
            return;
        }
        if (s->lang == GEN_GO) {
            char ts[40], line[64];
            gen_ts(ns, 6, ts);
            snprintf(line, sizeof(line), "%.4s/%.2s/%.2s %.8s ", ts, ts + 5, ts + 8, ts + 11);
            fl_buf b;
            fl_buf_init(&b, 1 << 20);
            fl_buf_addstr(&b, line);
            fl_buf_addstr(&b, text);
            emit_container(w, svc, rev, inst, ns, log, json_string(b.data), NULL, NULL, NULL, NULL);
            fl_buf_free(&b);
            return;
        }
        if (s->lang == GEN_PYTHON && stack && strchr(stack, '\n') && gen_chance(&w->rng, 0.5)) {
            /* Cloud Run splits an unstructured traceback into one entry per line */
            const char *p = stack;
            int64_t t = ns;
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                char *line = fl_strndup(p, n);
                emit_container(w, svc, rev, inst, t, log, json_string(line), NULL, NULL, NULL,
                               NULL);
                fl_free(line);
                t += (int64_t)gen_range(&w->rng, 3000, 60000);
                p = nl ? nl + 1 : p + n;
            }
            return;
        }
        char eg[16];
        bool grouped = err && stack && s->lang == GEN_PYTHON;
        if (grouped)
            error_group_id(w, svc, (int)(strlen(msg) % 7), eg);
        emit_container(w, svc, rev, inst, ns, log, json_string(text), grouped ? "ERROR" : NULL,
                       NULL, NULL, grouped ? eg : NULL);
        return;
    }
    json_t *p = json_object();
    const char *sev = NULL;
    if (s->style == GEN_STYLE_CLOUD) {
        /* "severity" and the trace fields are lifted out of the payload by Cloud Run */
        sev = err ? "ERROR" : strcmp(level, "warn") == 0 ? "WARNING" : "INFO";
        json_object_set_new(p, "message", json_string(stack ? stack : msg));
        if (s->lang == GEN_PYTHON)
            json_object_set_new(p, "logger", json_string("app.api"));
        else
            json_object_set_new(p, "component", json_string(s->name));
        emit_container(w, svc, rev, inst, ns, log, p, sev, trace, span, NULL);
        return;
    }
    switch (s->lang) {
    case GEN_NODE: {
        /* pino: numeric levels, epoch-ms time, the error under "err" */
        int lv = err ? 50 : strcmp(level, "warn") == 0 ? 40 : 30;
        json_object_set_new(p, "level", json_integer(lv));
        json_object_set_new(p, "time", json_integer(ns / 1000000));
        json_object_set_new(p, "pid", json_integer(1));
        json_object_set_new(p, "hostname", json_string("localhost"));
        if (stack) {
            const char *colon = strchr(msg, ':');
            char type[64];
            snprintf(type, sizeof(type), "%.*s", colon ? (int)(colon - msg) : 5,
                     colon ? msg : "Error");
            json_object_set_new(p, "err",
                                json_pack("{s:s, s:s, s:s}", "type", type, "message",
                                          colon ? colon + 2 : msg, "stack", stack));
        }
        json_object_set_new(p, "msg", json_string(msg));
        break;
    }
    case GEN_GO: {
        json_object_set_new(p, "level", json_string(err ? "error" : level));
        json_object_set_new(p, "ts", json_real((double)(ns / 1000000) / 1000.0));
        json_object_set_new(p, "caller", json_string("server/handler.go:88"));
        json_object_set_new(p, "msg", json_string(msg));
        if (stack && strcmp(stack, msg) != 0)
            json_object_set_new(p, "stacktrace", json_string(stack));
        break;
    }
    case GEN_JAVA: {
        char ts[40];
        json_object_set_new(p, "@timestamp", json_string(gen_ts(ns, 6, ts)));
        json_object_set_new(p, "level",
                            json_string(err                          ? "ERROR"
                                        : strcmp(level, "warn") == 0 ? "WARN"
                                                                     : "INFO"));
        json_object_set_new(p, "logger_name", json_string("com.acme.web.ApiController"));
        json_object_set_new(p, "thread_name", json_string("http-nio-8080-exec-3"));
        json_object_set_new(p, "message", json_string(msg));
        if (stack)
            json_object_set_new(p, "stack_trace", json_string(stack));
        break;
    }
    default: {
        json_object_set_new(p, "level", json_string(err ? "error" : level));
        json_object_set_new(p, "logger", json_string("app"));
        json_object_set_new(p, "message", json_string(msg));
        if (stack && strcmp(stack, msg) != 0)
            json_object_set_new(p, "exc_info", json_string(stack));
    }
    }
    emit_container(w, svc, rev, inst, ns, log, p, NULL, NULL, NULL, NULL);
}

/* The error a request fails with, in the service's words. */
static void emit_error(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, int cls,
                       int variant, const char *detail, const char *trace, const char *span)
{
    const gen_svc *s = &w->svcs[svc];
    fl_buf sum, full;
    fl_buf_init(&sum, 1 << 16);
    fl_buf_init(&full, 1 << 16);
    gen_rng copy = w->rng; /* summary and full text share random details */
    gen_error_summary(&copy, &sum, s->lang, cls, variant, detail);
    gen_error_text(&w->rng, &full, s->lang, cls, variant, detail);
    emit_app(w, svc, rev, inst, ns, "error", sum.data, full.data, trace, span);
    fl_buf_free(&sum);
    fl_buf_free(&full);
}

static void startup_lines(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns)
{
    fl_buf b;
    fl_buf_init(&b, 4096);
    for (int i = 0;; i++) {
        fl_buf_reset(&b);
        if (!gen_startup_line(&w->rng, &b, &w->svcs[svc], i))
            break;
        ns += (int64_t)gen_range(&w->rng, 20, 900) * 1000000;
        emit_app(w, svc, rev, inst, ns, "info", b.data, NULL, NULL, NULL);
    }
    fl_buf_free(&b);
}

static void instance_start(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns,
                           const char *reason)
{
    char text[320];
    if (strcmp(reason, "DEPLOYMENT_ROLLOUT") == 0)
        snprintf(text, sizeof(text),
                 "Starting new instance. Reason: DEPLOYMENT_ROLLOUT - Instance "
                 "started due to traffic shifting between revisions due to "
                 "deployment, traffic split adjustment, or deployment health "
                 "check.");
    else
        snprintf(text, sizeof(text),
                 "Starting new instance. Reason: AUTOSCALING - Instance "
                 "started due to configured scaling factors (e.g. CPU "
                 "utilization, request throughput, etc.) or no existing "
                 "capacity for current traffic.");
    varlog(w, svc, rev, inst, ns, "INFO", text);
    startup_lines(w, svc, rev, inst, ns + (int64_t)gen_range(&w->rng, 300, 2500) * 1000000);
    snprintf(text, sizeof(text),
             "Default STARTUP TCP probe succeeded after 1 attempt for "
             "container \"placeholder-1\" on port 8080.");
    varlog(w, svc, rev, inst, ns + (int64_t)gen_range(&w->rng, 2600, 6000) * 1000000, "INFO", text);
}

/* ---- audit entries -------------------------------------------------------------------------- */

static json_t *request_metadata(gen_world *w, int64_t ns, bool gcloud)
{
    char ts[40], ip[48];
    snprintf(ip, sizeof(ip), "%u.%u.%u.%u", 34 + gen_below(&w->rng, 2), gen_below(&w->rng, 255),
             gen_below(&w->rng, 255), 1 + gen_below(&w->rng, 250));
    char inv[33];
    gen_hex(&w->rng, inv, 32);
    char ua[400];
    if (gcloud)
        snprintf(ua, sizeof(ua),
                 "google-cloud-sdk gcloud/546.0.0 command/gcloud.run.deploy "
                 "invocation-id/%s environment/GCE environment-version/None "
                 "client-os/LINUX client-os-ver/5.10.0 client-pltf-arch/x86_64 "
                 "interactive/False from-script/True python/3.12.8 term/ "
                 "(Linux 5.10.0-32-cloud-amd64),gzip(gfe)",
                 inv);
    else
        snprintf(ua, sizeof(ua),
                 "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/"
                 "537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36,"
                 "gzip(gfe),gzip(gfe)");
    return json_pack("{s:s, s:s, s:{}, s:{s:s, s:{}}}", "callerIp", ip, "callerSuppliedUserAgent",
                     ua, "destinationAttributes", "requestAttributes", "time",
                     gen_ts(ns + 150000000, 6, ts), "auth");
}

static json_t *traffic_json(const gen_world *w, int svc, int rev_a, int pct_a, int rev_b,
                            bool latest, bool with_names)
{
    const gen_svc *s = &w->svcs[svc];
    if (latest && rev_b < 0) {
        if (with_names)
            return json_pack("[{s:s, s:i, s:b}]", "revisionName", s->revs[rev_a].name, "percent",
                             100, "latestRevision", 1);
        return json_pack("[{s:b, s:i}]", "latestRevision", 1, "percent", 100);
    }
    json_t *a = json_array();
    json_array_append_new(
        a, json_pack("{s:s, s:i}", "revisionName", s->revs[rev_a].name, "percent", pct_a));
    if (rev_b >= 0)
        json_array_append_new(a, json_pack("{s:s, s:i, s:s}", "revisionName", s->revs[rev_b].name,
                                           "percent", 100 - pct_a, "tag", "canary"));
    return a;
}

static json_t *container_spec(const gen_world *w, int svc, int rev, bool with_secret)
{
    const gen_svc *s = &w->svcs[svc];
    const gen_rev *v = &s->revs[rev];
    char mem[16];
    snprintf(mem, sizeof(mem), "%dMi", v->memory_mib);
    json_t *env = json_array();
    json_array_append_new(env, json_pack("{s:s, s:s}", "name", "NODE_ENV", "value", "production"));
    json_array_append_new(env, json_pack("{s:s, s:s}", "name", "LOG_LEVEL", "value", "info"));
    static const char *const secrets[][2] = {{"KV_REDIS_PASSWORD", "kv-redis-password"},
                                             {"DATABASE_URL", "database-url"}};
    for (size_t i = 0; i < FL_ARRAY_LEN(secrets); i++) {
        if (strcmp(v->dropped_env, secrets[i][0]) == 0 || (!with_secret && i > 0))
            continue;
        json_array_append_new(env, json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", secrets[i][0],
                                             "valueFrom", "secretKeyRef", "key", "latest", "name",
                                             secrets[i][1]));
    }
    return json_pack("[{s:s, s:s, s:o, s:[{s:s, s:i}], s:{s:{s:s, s:s}}}]", "image", v->image,
                     "name", "placeholder-1", "env", env, "ports", "name", "http1", "containerPort",
                     8080, "resources", "limits", "cpu", "1000m", "memory", mem);
}

/* ReplaceService (v1) or UpdateService (v2) audit record. new_rev < 0 with failure != 0: a
 * rejected call. traffic: rev_a gets pct_a, rev_b the rest. */
static void emit_service_audit(gen_world *w, int svc, int64_t ns, int new_rev, int rev_a, int pct_a,
                               int rev_b, int failure, bool config_change, bool create)
{
    gen_rng *r = &w->rng;
    const gen_svc *s = &w->svcs[svc];
    char ts[40], rts[40], iid[24], ln[160], who[96], res[160], op[40], name[200];
    bool v2 = failure == 0 && !create && gen_chance(r, 0.2);
    bool gcloud = gen_chance(r, 0.7);
    bool named = v2 || create || gen_chance(r, 0.7);
    int rev = new_rev >= 0 ? new_rev : rev_a;
    audit_insert_id(w, iid);
    if (s->cloud_build && gcloud && gen_chance(r, 0.6))
        snprintf(who, sizeof(who), "%s@cloudbuild.gserviceaccount.com", w->project_number);
    else
        snprintf(who, sizeof(who), GEN_PICK(r, people), w->project);
    uuid4(r, op);

    json_t *pp = json_object();
    json_object_set_new(pp, "@type",
                        json_string("type.googleapis.com/google.cloud.audit.AuditLog"));
    if (failure == 3)
        json_object_set_new(
            pp, "status",
            json_pack(
                "{s:i, s:s}", "code", 3, "message",
                "spec.template.spec.containers[0].resources.limits.memory: Invalid value specified "
                "for "
                "memory. For the specified value, maximum CPU may not exceed 1 and memory must be "
                "specified with a unit suffix such as Mi or Gi."));
    else if (failure == 10) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Conflict for resource '%s': version '%llu' was specified but "
                 "current version is '%llu'.",
                 s->name, (unsigned long long)(ns / 1000 - 3600000000LL),
                 (unsigned long long)(ns / 1000 - 60000000LL));
        json_object_set_new(pp, "status", json_pack("{s:i, s:s}", "code", 10, "message", msg));
    }
    json_object_set_new(pp, "authenticationInfo", json_pack("{s:s}", "principalEmail", who));
    json_object_set_new(pp, "requestMetadata", request_metadata(w, ns, gcloud));
    json_object_set_new(pp, "serviceName", json_string("run.googleapis.com"));
    json_object_set_new(pp, "methodName",
                        json_string(v2       ? "google.cloud.run.v2.Services.UpdateService"
                                    : create ? "google.cloud.run.v1.Services.CreateService"
                                             : "google.cloud.run.v1.Services.ReplaceService"));
    if (v2)
        snprintf(res, sizeof(res), "projects/%s/locations/%s/services/%s", w->project, w->region,
                 s->name);
    else
        snprintf(res, sizeof(res), "namespaces/%s/services/%s", w->project, s->name);
    json_object_set_new(pp, "authorizationInfo",
                        json_pack("[{s:b, s:s, s:s, s:s, s:{}}]", "granted", 1, "permission",
                                  create ? "run.services.create" : "run.services.update",
                                  "permissionType", "ADMIN_WRITE", "resource", res,
                                  "resourceAttributes"));
    json_object_set_new(pp, "resourceName", json_string(res));
    bool latest = rev_b < 0 && pct_a == 100 && new_rev >= 0 && rev_a == new_rev;
    json_t *containers = container_spec(w, svc, rev, config_change || gen_chance(r, 0.3));
    if (v2) {
        char revpath[320];
        snprintf(name, sizeof(name), "projects/%s/locations/%s/services/%s", w->project, w->region,
                 s->name);
        json_t *traffic =
            latest
                ? json_pack("[{s:s, s:i}]", "type", "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST",
                            "percent", 100)
                : json_pack("[{s:s, s:s, s:i}]", "type", "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
                            "revision", s->revs[rev_a].name, "percent", pct_a);
        json_object_set_new(
            pp, "request",
            json_pack("{s:s, s:{s:s, s:{s:s, s:s, s:O}, s:O}}", "@type",
                      "type.googleapis.com/google.cloud.run.v2.UpdateServiceRequest", "service",
                      "name", name, "template", "revision", s->revs[rev].name, "serviceAccount",
                      s->sa, "containers", containers, "traffic", traffic));
        snprintf(revpath, sizeof(revpath), "%s/revisions/%s", name, s->revs[rev].name);
        char opname[200];
        snprintf(opname, sizeof(opname), "projects/%s/locations/%s/operations/%s", w->project,
                 w->region, op);
        json_object_set_new(pp, "response",
                            json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:o}}", "@type",
                                      "type.googleapis.com/google.longrunning.Operation", "name",
                                      opname, "metadata", "@type",
                                      "type.googleapis.com/google.cloud.run.v2.Service", "name",
                                      name, "latestCreatedRevision", revpath, "uri", s->host,
                                      "traffic", traffic));
        json_decref(containers);
    } else {
        json_t *tmeta =
            json_pack("{s:{s:s, s:s}, s:{s:s}}", "annotations", "autoscaling.knative.dev/maxScale",
                      "20", "run.googleapis.com/client-name", gcloud ? "gcloud" : "cloud-console",
                      "labels", "run.googleapis.com/startupProbeType", "Default");
        if (named)
            json_object_set_new(tmeta, "name", json_string(s->revs[rev].name));
        json_t *spec = json_pack("{s:{s:o, s:{s:i, s:i, s:s, s:o}}, s:o}", "template", "metadata",
                                 tmeta, "spec", "containerConcurrency", 80, "timeoutSeconds", 300,
                                 "serviceAccountName", s->sa, "containers", containers, "traffic",
                                 traffic_json(w, svc, rev_a, pct_a, rev_b, latest, false));
        json_t *labels = json_pack("{s:s}", "cloud.googleapis.com/location", w->region);
        if (s->cloud_build)
            json_object_set_new(labels, "managed-by",
                                json_string("gcp-cloud-build-deploy-cloud-run"));
        snprintf(name, sizeof(name), "namespaces/%s/services/%s", w->project, s->name);
        json_t *meta = json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "name", s->name, "namespace",
                                 w->project_number, "labels", labels, "annotations",
                                 "run.googleapis.com/operation-id", op,
                                 "serving.knative.dev/lastModifier", who);
        json_t *svcobj = json_pack("{s:s, s:s, s:O, s:O}", "apiVersion", "serving.knative.dev/v1",
                                   "kind", "Service", "metadata", meta, "spec", spec);
        if (create) {
            char parent[100];
            snprintf(parent, sizeof(parent), "namespaces/%s", w->project);
            json_object_set_new(
                pp, "request",
                json_pack("{s:s, s:s, s:o}", "@type",
                          "type.googleapis.com/google.cloud.run.v1.CreateServiceRequest", "parent",
                          parent, "service", svcobj));
        } else {
            json_object_set_new(
                pp, "request",
                json_pack("{s:s, s:s, s:s, s:o}", "@type",
                          "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest", "name",
                          name, "region", w->region, "service", svcobj));
        }
        if (failure == 0) {
            char url[200];
            snprintf(url, sizeof(url), "https://%s", s->host);
            json_t *resp = json_pack("{s:s, s:s, s:s, s:O, s:O}", "@type",
                                     "type.googleapis.com/google.cloud.run.v1.Service",
                                     "apiVersion", "serving.knative.dev/v1", "kind", "Service",
                                     "metadata", meta, "spec", spec);
            json_object_set_new(
                resp, "status",
                json_pack("{s:i, s:[{s:s, s:s}], s:s, s:s, s:o, s:s}", "observedGeneration",
                          create ? 1 : 100 + s->revs[rev].number, "conditions", "type", "Ready",
                          "status", "Unknown", "latestCreatedRevisionName", s->revs[rev].name,
                          "latestReadyRevisionName",
                          s->revs[rev_a == rev && rev > 0 ? rev - 1 : rev_a].name, "traffic",
                          traffic_json(w, svc, rev_a, pct_a, rev_b, latest, true), "url", url));
            json_object_set_new(pp, "response", resp);
        }
        json_decref(meta);
        json_decref(spec);
    }
    json_object_set_new(pp, "resourceLocation",
                        json_pack("{s:[s]}", "currentLocations", w->region));

    json_t *e = json_object();
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(
        e, "logName",
        json_string(log_name(w, "cloudaudit.googleapis.com%2Factivity", ln, sizeof(ln))));
    json_object_set_new(e, "protoPayload", pp);
    json_object_set_new(
        e, "receiveTimestamp",
        json_string(gen_ts(ns + (int64_t)gen_range(r, 100, 1500) * 1000000, 9, rts)));
    json_object_set_new(e, "resource", resource_svc(w, svc));
    json_object_set_new(e, "severity", json_string(failure ? "ERROR" : "NOTICE"));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, gen_chance(r, 0.5) ? 9 : 6, ts)));
    gen_push(w, ns, e);
}

static void emit_system_event(gen_world *w, int svc, int rev, int64_t ns, const char *message)
{
    const gen_svc *s = &w->svcs[svc];
    char ts[40], rts[40], iid[24], ln[160], res[160];
    audit_insert_id(w, iid);
    if (rev >= 0)
        snprintf(res, sizeof(res), "namespaces/%s/revisions/%s", w->project, s->revs[rev].name);
    else
        snprintf(res, sizeof(res), "namespaces/%s/services/%s", w->project, s->name);
    json_t *pp = json_pack("{s:s, s:{s:s}, s:s, s:s, s:s}", "@type",
                           "type.googleapis.com/google.cloud.audit.AuditLog", "status", "message",
                           message, "serviceName", "run.googleapis.com", "methodName",
                           "google.cloud.run.v1.Services.ReplaceService", "resourceName", res);
    json_t *e = json_object();
    json_object_set_new(e, "protoPayload", pp);
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(e, "resource", rev >= 0 ? resource_rev(w, svc, rev) : resource_svc(w, svc));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, 6, ts)));
    json_object_set_new(e, "severity", json_string("INFO"));
    json_object_set_new(
        e, "logName",
        json_string(log_name(w, "cloudaudit.googleapis.com%2Fsystem_event", ln, sizeof(ln))));
    json_object_set_new(
        e, "receiveTimestamp",
        json_string(gen_ts(ns + (int64_t)gen_range(&w->rng, 200, 2000) * 1000000, 9, rts)));
    gen_push(w, ns, e);
}

static int deploy(gen_world *w, int svc, int64_t t, bool config_only, int pct_new,
                  const char *drop_env)
{
    gen_rng *r = &w->rng;
    gen_svc *s = &w->svcs[svc];
    int old = s->n_traffic ? s->traffic[s->n_traffic - 1].rev[0] : 0;
    int rev = gen_new_revision(w, svc, config_only);
    s->revs[rev].created = t;
    if (drop_env)
        snprintf(s->revs[rev].dropped_env, sizeof(s->revs[rev].dropped_env), "%s", drop_env);
    if (pct_new >= 100)
        emit_service_audit(w, svc, t, rev, rev, 100, -1, 0, config_only, false);
    else
        emit_service_audit(w, svc, t, rev, old, 100 - pct_new, pct_new > 0 ? rev : -1, 0,
                           config_only, false);
    /* instances come up, then Ready, then traffic moves */
    int64_t up = t + (int64_t)gen_range(r, 4000, 12000) * 1000000;
    for (int i = 0; i < s->revs[rev].n_inst; i++)
        instance_start(w, svc, rev, s->revs[rev].inst[i],
                       up + i * (int64_t)gen_range(r, 50, 900) * 1000000, "DEPLOYMENT_ROLLOUT");
    int64_t ready = up + (int64_t)gen_range(r, 3000, 9000) * 1000000;
    char msg[300];
    int secs = (int)((ready - t) / GEN_NS_PER_SEC);
    snprintf(msg, sizeof(msg),
             "Ready condition status changed to True for Revision %s with "
             "message: Deploying revision succeeded in %d.%02us.",
             s->revs[rev].name, secs, gen_below(r, 100));
    emit_system_event(w, svc, rev, ready, msg);
    snprintf(msg, sizeof(msg), "Ready condition status changed to True for Service %s.", s->name);
    emit_system_event(w, svc, -1, ready + (int64_t)gen_range(r, 20, 400) * 1000000, msg);
    if (pct_new >= 100)
        gen_set_traffic(w, svc, ready, rev, 100, -1);
    else if (pct_new > 0)
        gen_set_traffic(w, svc, ready, old, 100 - pct_new, rev);
    return rev;
}

int gen_deploy(gen_world *w, int svc, int64_t t, bool config_only, int pct_new)
{
    return deploy(w, svc, t, config_only, pct_new, NULL);
}

int gen_deploy_drop_env(gen_world *w, int svc, int64_t t, int pct_new, const char *drop_env)
{
    return deploy(w, svc, t, true, pct_new, drop_env);
}

void gen_scale_out(gen_world *w, int svc, int64_t t, int n)
{
    gen_svc *s = &w->svcs[svc];
    int rev = traffic_at(s, t)->rev[0];
    gen_rev *v = &s->revs[rev];
    for (int i = 0; i < n && v->n_inst < GEN_MAX_INST; i++) {
        int slot = v->n_inst++;
        int64_t at = t + (int64_t)gen_range(&w->rng, 1000, 40000) * 1000000;
        v->inst[slot] = gen_next(&w->rng);
        v->slot_from[slot] = at;
        instance_start(w, svc, rev, v->inst[slot], at - 3 * GEN_NS_PER_SEC, "AUTOSCALING");
    }
}

int gen_create_service(gen_world *w, const char *name, int lang, double rate, int64_t t)
{
    gen_rng *r = &w->rng;
    int svc = gen_add_service(w, name, lang, rate);
    if (svc < 0)
        return -1;
    gen_svc *s = &w->svcs[svc];
    gen_rev *v = &s->revs[0];
    char sfx[4];
    gen_alnum(r, sfx, 3);
    v->number = 1;
    fmt_into(v->name, sizeof(v->name), "%s-00001-%s", s->name, sfx);
    v->created = t;
    s->born = t;
    emit_service_audit(w, svc, t, 0, 0, 100, -1, 0, false, true);
    int64_t up = t + (int64_t)gen_range(r, 5000, 15000) * 1000000;
    for (int i = 0; i < v->n_inst; i++)
        instance_start(w, svc, 0, v->inst[i], up + i * (int64_t)gen_range(r, 50, 900) * 1000000,
                       "DEPLOYMENT_ROLLOUT");
    int64_t ready = up + (int64_t)gen_range(r, 3000, 9000) * 1000000;
    char msg[300];
    snprintf(msg, sizeof(msg),
             "Ready condition status changed to True for Revision %s with "
             "message: Deploying revision succeeded in %d.%02us.",
             v->name, (int)((ready - t) / GEN_NS_PER_SEC), gen_below(r, 100));
    emit_system_event(w, svc, 0, ready, msg);
    s->traffic[0].t = ready;
    s->born = ready;
    return svc;
}

void gen_traffic_update(gen_world *w, int svc, int64_t t, int rev_a, int pct_a, int rev_b)
{
    emit_service_audit(w, svc, t, rev_b >= 0 ? rev_b : rev_a, rev_a, pct_a, rev_b, 0, false, false);
    gen_set_traffic(w, svc, t + (int64_t)gen_range(&w->rng, 2000, 6000) * 1000000, rev_a, pct_a,
                    rev_b);
}

void gen_failed_deploy(gen_world *w, int svc, int64_t t)
{
    const gen_svc *s = &w->svcs[svc];
    int cur = s->n_traffic ? s->traffic[s->n_traffic - 1].rev[0] : 0;
    emit_service_audit(w, svc, t, -1, cur, 100, -1, gen_chance(&w->rng, 0.5) ? 3 : 10, false,
                       false);
}

void gen_add_secret_version(gen_world *w, const char *secret, int64_t ns)
{
    gen_rng *r = &w->rng;
    char ts[40], rts[40], iid[24], ln[160], who[96], parent[160], res[160], ver[200];
    audit_insert_id(w, iid);
    snprintf(who, sizeof(who), GEN_PICK(r, people), w->project);
    snprintf(parent, sizeof(parent), "projects/%s/secrets/%s", w->project, secret);
    snprintf(res, sizeof(res), "projects/%s/secrets/%s", w->project_number, secret);
    snprintf(ver, sizeof(ver), "%s/versions/%u", res, 2 + gen_below(r, 12));
    json_t *pp = json_object();
    json_object_set_new(pp, "@type",
                        json_string("type.googleapis.com/google.cloud.audit.AuditLog"));
    json_object_set_new(pp, "authenticationInfo", json_pack("{s:s}", "principalEmail", who));
    json_object_set_new(pp, "requestMetadata", request_metadata(w, ns, true));
    json_object_set_new(pp, "serviceName", json_string("secretmanager.googleapis.com"));
    json_object_set_new(
        pp, "methodName",
        json_string("google.cloud.secretmanager.v1.SecretManagerService.AddSecretVersion"));
    json_object_set_new(pp, "authorizationInfo",
                        json_pack("[{s:s, s:s, s:b, s:{}}]", "resource", parent, "permission",
                                  "secretmanager.versions.add", "granted", 1,
                                  "resourceAttributes"));
    json_object_set_new(pp, "resourceName", json_string(res));
    json_object_set_new(
        pp, "request",
        json_pack("{s:s, s:s}", "@type",
                  "type.googleapis.com/google.cloud.secretmanager.v1.AddSecretVersionRequest",
                  "parent", parent));
    json_object_set_new(pp, "response",
                        json_pack("{s:s, s:s, s:s, s:s}", "@type",
                                  "type.googleapis.com/google.cloud.secretmanager.v1.SecretVersion",
                                  "name", ver, "state", "ENABLED", "createTime",
                                  gen_ts(ns + 80000000, 6, ts)));
    json_t *e = json_object();
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(
        e, "logName",
        json_string(log_name(w, "cloudaudit.googleapis.com%2Factivity", ln, sizeof(ln))));
    json_object_set_new(e, "protoPayload", pp);
    json_object_set_new(
        e, "receiveTimestamp",
        json_string(gen_ts(ns + (int64_t)gen_range(r, 100, 900) * 1000000, 9, rts)));
    json_object_set_new(
        e, "resource",
        json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "audited_resource", "labels", "method",
                  "google.cloud.secretmanager.v1.SecretManagerService.AddSecretVersion",
                  "project_id", w->project, "service", "secretmanager.googleapis.com"));
    json_object_set_new(e, "severity", json_string("NOTICE"));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, 6, ts)));
    gen_push(w, ns, e);
}

/* ---- crashes -------------------------------------------------------------------------------- */

void gen_oom_series(gen_world *w, int svc, int rev, int64_t t_first, int64_t every_ns)
{
    gen_rng *r = &w->rng;
    gen_svc *s = &w->svcs[svc];
    gen_rev *v = &s->revs[rev];
    /* the leak: resident memory climbs from the rollout to the first kill */
    int64_t from = v->created > w->t0 ? v->created : w->t0;
    for (int64_t t = from + 30 * GEN_NS_PER_SEC; t < t_first;
         t += (int64_t)gen_range(r, 50, 110) * GEN_NS_PER_SEC) {
        double f = (double)(t - from) / (double)(t_first - from);
        int slot = (int)gen_below(r, (uint32_t)v->n_inst);
        char line[120];
        snprintf(line, sizeof(line), "memory usage: rss=%dMiB limit=%dMiB",
                 (int)(v->memory_mib * (0.35 + 0.6 * f)) + (int)gen_below(r, 12), v->memory_mib);
        emit_app(w, svc, rev, instance_at(v, slot, t), t, "info", line, NULL, NULL, NULL);
    }
    for (int64_t t = t_first; t < w->t1;
         t += every_ns / 2 + (int64_t)(gen_unit(r) * (double)every_ns)) {
        int slot = (int)gen_below(r, (uint32_t)v->n_inst);
        uint64_t inst = instance_at(v, slot, t);
        int64_t at = t;
        mark_onset(w, t);
        char text[400];
        snprintf(text, sizeof(text), "memory usage high: rss=%dMiB limit=%dMiB",
                 v->memory_mib - 20 - (int)gen_below(r, 40), v->memory_mib);
        emit_app(w, svc, rev, inst, at - (int64_t)gen_range(r, 5, 50) * GEN_NS_PER_SEC, "warn",
                 text, NULL, NULL, NULL);
        if (s->lang == GEN_NODE && gen_chance(r, 0.6)) {
            /* V8 prints its last GCs and the fatal line to stderr, one entry per line */
            static const char *const lines[] = {
                "",
                "<--- Last few GCs --->",
                "",
                "[1:0x6a3c2e0]  %u ms: Mark-Compact %u.1 (%u.6) -> %u.7 (%u.1) MB, 912.45 / 0.00 ms"
                "  (average mu = 0.121, current mu = 0.034) allocation failure; scavenge might not "
                "succeed",
                "",
                "<--- JS stacktrace --->",
                "",
                "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
            };
            unsigned heap = (unsigned)v->memory_mib - 30;
            for (size_t i = 0; i < FL_ARRAY_LEN(lines); i++) {
                snprintf(text, sizeof(text), lines[i], 100000 + gen_below(r, 900000), heap,
                         heap + 28, heap - 3, heap + 29);
                if (text[0])
                    emit_container(w, svc, rev, inst, at + (int64_t)i * 1000,
                                   "run.googleapis.com%2Fstderr", json_string(text), NULL, NULL,
                                   NULL, NULL);
            }
        } else if (s->lang != GEN_NODE && gen_chance(r, 0.4)) {
            fl_buf b;
            fl_buf_init(&b, 1 << 16);
            gen_error_text(r, &b, s->lang, GEN_CLS_OOM, 0, NULL);
            emit_app(w, svc, rev, inst, at, "error", b.data, b.data, NULL, NULL);
            fl_buf_free(&b);
        }
        int used = v->memory_mib + 3 + (int)gen_below(r, 40);
        snprintf(text, sizeof(text),
                 "Memory limit of %d MiB exceeded with %d MiB used. Consider "
                 "increasing the memory limit, see https://cloud.google.com/run/docs/configuring/"
                 "memory-limits",
                 v->memory_mib, used);
        varlog(w, svc, rev, inst, at + 20000000, "ERROR", text);
        varlog(w, svc, rev, inst, at + 60000000, "WARNING", "Container terminated on signal 9.");
        int64_t dur = (int64_t)gen_range(r, 3, 9) * GEN_NS_PER_SEC;
        add_crash(w, svc, rev, slot, at, dur, true);
        uint64_t fresh = replace_instance(w, svc, rev, slot, at + dur);
        instance_start(w, svc, rev, fresh, at + dur, "AUTOSCALING");
    }
}

void gen_startup_crash(gen_world *w, int svc, int rev, int64_t t, const gen_fault *f)
{
    gen_rng *r = &w->rng;
    gen_rev *v = &w->svcs[svc].revs[rev];
    int slot = (int)gen_below(r, (uint32_t)v->n_inst);
    uint64_t inst = instance_at(v, slot, t);
    if (f->counts)
        mark_onset(w, t);
    emit_error(w, svc, rev, inst, t, f->cls, f->variant, f->detail, NULL, NULL);
    varlog(w, svc, rev, inst, t + 150000000, "WARNING", "Container called exit(1).");
    int64_t dur = (int64_t)gen_range(r, 2, 6) * GEN_NS_PER_SEC;
    add_crash(w, svc, rev, slot, t, dur, f->counts);
    uint64_t fresh = replace_instance(w, svc, rev, slot, t + dur);
    instance_start(w, svc, rev, fresh, t + dur, "AUTOSCALING");
}

/* ---- requests ------------------------------------------------------------------------------- */

typedef struct request {
    const char *method;
    char path[128];
    int status;
    int64_t latency_ns;
    bool health;
} request;

static void pick_route(gen_rng *r, const gen_svc *s, request *q)
{
    const char *noun = svc_noun(s->name);
    uint32_t x = gen_below(r, 100);
    q->health = false;
    if (x < 45) {
        q->method = "GET";
        snprintf(q->path, sizeof(q->path), "/api/v1/%s/%u", noun, 1000 + gen_below(r, 90000));
    } else if (x < 63) {
        q->method = "GET";
        snprintf(q->path, sizeof(q->path), "/api/v1/%s?page=%u&limit=20", noun,
                 1 + gen_below(r, 12));
    } else if (x < 83) {
        q->method = "POST";
        snprintf(q->path, sizeof(q->path), "/api/v1/%s", noun);
    } else if (x < 90) {
        q->method = gen_chance(r, 0.5) ? "PUT" : "DELETE";
        snprintf(q->path, sizeof(q->path), "/api/v1/%s/%u", noun, 1000 + gen_below(r, 90000));
    } else {
        q->method = "GET";
        snprintf(q->path, sizeof(q->path), "%s", gen_chance(r, 0.7) ? "/healthz" : "/readyz");
        q->health = true;
    }
}

static int64_t ok_latency(gen_rng *r)
{
    double u = gen_unit(r);
    double ms = 4.0 + 60.0 * u * u * u * 6.0 + gen_unit(r) * 25.0;
    return (int64_t)(ms * 1e6) + (int64_t)gen_below(r, 1000000);
}

static void emit_request(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns,
                         const request *q, const char *trace, const char *span, const char *text)
{
    gen_rng *r = &w->rng;
    const gen_svc *s = &w->svcs[svc];
    char ts[40], rts[40], iid[32], ln[160], lat[40], url[256], ip[48], rsz[16], qsz[16];
    container_insert_id(w, ns, iid);
    snprintf(lat, sizeof(lat), "%lld.%09llds", (long long)(q->latency_ns / GEN_NS_PER_SEC),
             (long long)(q->latency_ns % GEN_NS_PER_SEC));
    snprintf(url, sizeof(url), "https://%s%s", s->host, q->path);
    if (q->health)
        snprintf(ip, sizeof(ip), "35.191.%u.%u", gen_below(r, 255), 1 + gen_below(r, 250));
    else
        snprintf(ip, sizeof(ip), "%u.%u.%u.%u", 23 + gen_below(r, 180), gen_below(r, 255),
                 gen_below(r, 255), 1 + gen_below(r, 250));
    snprintf(qsz, sizeof(qsz), "%u",
             (strcmp(q->method, "POST") == 0 ? 900 : 320) + gen_below(r, 600));
    snprintf(rsz, sizeof(rsz), "%u",
             q->status >= 500 ? 120 + gen_below(r, 200) : 200 + gen_below(r, 6000));
    const char *ua = q->health ? "GoogleHC/1.0" : GEN_PICK(r, user_agents);
    json_t *hr =
        json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "requestMethod", q->method,
                  "requestUrl", url, "requestSize", qsz, "status", q->status, "responseSize", rsz,
                  "userAgent", ua, "remoteIp", ip, "serverIp", GEN_PICK(r, server_ips), "latency",
                  lat, "protocol", gen_chance(r, 0.75) ? "HTTP/1.1" : "HTTP/2");
    json_t *e = json_object();
    if (text)
        json_object_set_new(e, "textPayload", json_string(text));
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(e, "httpRequest", hr);
    json_object_set_new(e, "resource", resource_rev(w, svc, rev));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, 6, ts)));
    json_object_set_new(e, "severity",
                        json_string(q->status >= 500   ? "ERROR"
                                    : q->status >= 400 ? "WARNING"
                                                       : "INFO"));
    json_object_set_new(e, "labels", container_labels(w, svc, rev, inst));
    json_object_set_new(e, "logName",
                        json_string(log_name(w, "run.googleapis.com%2Frequests", ln, sizeof(ln))));
    json_object_set_new(e, "trace", json_string(trace));
    int64_t rns = ns + q->latency_ns + (int64_t)gen_range(r, 5000000, 400000000);
    json_object_set_new(e, "receiveTimestamp", json_string(gen_ts(rns, 9, rts)));
    json_object_set_new(e, "spanId", json_string(span));
    if (gen_chance(r, 0.3))
        json_object_set_new(e, "traceSampled", json_true());
    gen_push(w, ns, e);
}

static const gen_fault *fault_for(gen_world *w, int svc, int rev, int64_t t)
{
    for (int i = 0; i < w->n_faults; i++) {
        const gen_fault *f = &w->faults[i];
        if (f->svc != svc || (f->rev >= 0 && f->rev != rev) || t < f->t0 || t >= f->t1)
            continue;
        double p = f->p;
        if (f->ramp_ns > 0 && t - f->t0 < f->ramp_ns)
            p *= (double)(t - f->t0) / (double)f->ramp_ns;
        if (gen_chance(&w->rng, p))
            return f;
    }
    return NULL;
}

static const gen_crash *crash_for(const gen_world *w, int svc, int rev, int slot, int64_t t)
{
    for (int i = 0; i < w->n_crashes; i++) {
        const gen_crash *c = &w->crashes[i];
        if (c->svc == svc && c->rev == rev && c->slot == slot && t >= c->t && t < c->t + c->dur)
            return c;
    }
    return NULL;
}

static int64_t fault_latency(gen_rng *r, int cls)
{
    switch (cls) {
    case GEN_CLS_POOL:
        return (gen_chance(r, 0.7) ? 30000 : (int64_t)gen_range(r, 5000, 30000)) * 1000000 +
               (int64_t)gen_below(r, 90000000);
    case GEN_CLS_MONGO:
        return (gen_chance(r, 0.6) ? 30000 : (int64_t)gen_range(r, 10000, 30000)) * 1000000 +
               (int64_t)gen_below(r, 200000000);
    case GEN_CLS_REDIS:
        return (int64_t)gen_range(r, 1000, 5000) * 1000000;
    case GEN_CLS_UPSTREAM:
        return (int64_t)gen_range(r, 10000, 10100) * 1000000;
    default:
        return (int64_t)gen_range(r, 2, 120) * 1000000 + (int64_t)gen_below(r, 1000000);
    }
}

static void one_request(gen_world *w, int svc, int64_t t)
{
    gen_rng *r = &w->rng;
    gen_svc *s = &w->svcs[svc];
    const gen_traffic *tr = traffic_at(s, t);
    int rev = tr->rev[0];
    if (tr->n == 2 && (int)gen_below(r, 100) >= tr->pct[0])
        rev = tr->rev[1];
    gen_rev *v = &s->revs[rev];
    int slot = (int)gen_below(r, (uint32_t)v->n_inst);
    while (slot > 0 && v->slot_from[slot] > t)
        slot--;
    uint64_t inst = instance_at(v, slot, t);
    request q;
    pick_route(r, s, &q);
    q.status = q.method[0] == 'P' && q.method[1] == 'O' ? 201 : 200;
    q.latency_ns = ok_latency(r);
    char trace[128], tid[33], span[17];
    gen_hex(r, tid, 32);
    gen_hex(r, span, 16);
    snprintf(trace, sizeof(trace), "projects/%s/traces/%s", w->project, tid);

    const gen_crash *c = crash_for(w, svc, rev, slot, t);
    if (c) {
        q.status = 503;
        q.latency_ns = (int64_t)gen_range(r, 10, 3000) * 1000000;
        if (c->counts)
            mark_onset(w, t);
        emit_request(w, svc, rev, inst, t, &q, trace, span,
                     "The request failed because either the HTTP response was malformed or "
                     "connection to the instance had an error. Additional troubleshooting "
                     "documentation can be found at: https://cloud.google.com/run/docs/"
                     "troubleshooting#malformed-response-or-connection-error");
        return;
    }
    const gen_fault *f = q.health ? NULL : fault_for(w, svc, rev, t);
    if (f) {
        q.status = f->status;
        q.latency_ns = fault_latency(r, f->cls);
        if (f->counts)
            mark_onset(w, t);
        emit_request(w, svc, rev, inst, t, &q, trace, span, NULL);
        emit_error(w, svc, rev, inst, t + q.latency_ns - (int64_t)gen_range(r, 100000, 2000000),
                   f->cls, f->variant, f->detail, trace, span);
        return;
    }
    /* background noise */
    uint32_t x = q.health ? 1000 : gen_below(r, 10000);
    const char *text = NULL;
    int noise_cls = GEN_CLS_NONE;
    if (x < 180) {
        q.status = 404;
        if (x < 60) {
            static const char *const probes[] = {"/favicon.ico", "/wp-login.php", "/.env",
                                                 "/robots.txt", "/admin/config.php"};
            q.method = "GET";
            snprintf(q.path, sizeof(q.path), "%s", GEN_PICK(r, probes));
        }
    } else if (x < 260) {
        q.status = gen_chance(r, 0.5) ? 401 : 400;
    } else if (x < 290) {
        q.status = 499;
        q.latency_ns = (int64_t)gen_range(r, 1000, 30000) * 1000000;
    } else if (!w->quiet_noise && x < 296) {
        q.status = 504;
        q.latency_ns = 299 * GEN_NS_PER_SEC + (int64_t)gen_range(r, 900000000, 999999999);
        text = "The request has been terminated because it has reached the maximum request "
               "timeout. To change this limit, see https://cloud.google.com/run/docs/configuring/"
               "request-timeout";
    } else if (!w->quiet_noise && x < 306) {
        q.status = 502;
        noise_cls = GEN_CLS_UPSTREAM;
        q.latency_ns = fault_latency(r, GEN_CLS_UPSTREAM);
    }
    emit_request(w, svc, rev, inst, t, &q, trace, span, text);
    if (noise_cls != GEN_CLS_NONE) {
        emit_error(w, svc, rev, inst, t + q.latency_ns - 500000, noise_cls, 0, NULL, trace, span);
        return;
    }
    if (!q.health && gen_chance(r, w->chatter_p)) {
        fl_buf b;
        fl_buf_init(&b, 4096);
        gen_chatter(r, &b, s, q.method, q.path, q.status, (int)(q.latency_ns / 1000000));
        emit_app(w, svc, rev, inst, t + q.latency_ns - (int64_t)gen_range(r, 100000, 900000),
                 q.status >= 400 ? "warn" : "info", b.data, NULL, trace, span);
        fl_buf_free(&b);
    }
}

void gen_simulate(gen_world *w)
{
    gen_rng *r = &w->rng;
    for (int si = 0; si < w->n_svcs; si++) {
        gen_svc *s = &w->svcs[si];
        int64_t t = s->born > w->t0 ? s->born : w->t0;
        int64_t minute_end = w->t0;
        double wobble = 1.0;
        while (t < w->t1) {
            if (t >= minute_end) {
                wobble = 0.8 + 0.4 * gen_unit(r);
                minute_end += GEN_NS_PER_MIN;
            }
            double rate = s->rate * wobble;
            if (s->surge_t && t >= s->surge_t) {
                double ramp = (double)(t - s->surge_t) / (double)(90 * GEN_NS_PER_SEC);
                rate *= 1.0 + (s->surge_mult - 1.0) * (ramp > 1.0 ? 1.0 : ramp);
            }
            double mean_ns = 60e9 / (rate > 0.01 ? rate : 0.01);
            double gap = -log(1.0 - gen_unit(r)) * mean_ns;
            t += (int64_t)gap + 1;
            if (t >= w->t1)
                break;
            one_request(w, si, t);
        }
    }
}

static int entry_cmp(const void *a, const void *b)
{
    const gen_entry *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void gen_sort(gen_world *w)
{
    qsort(w->entries, w->n_entries, sizeof(gen_entry), entry_cmp);
}
