/* The project model (services, revisions, instances, traffic) and the assembly of container
 * log entries in each service's logging style. Change events are in gen_audit.c, the request
 * simulation in gen_sim.c. Shapes follow real exports (/work/shared/samples/PROVENANCE.md). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "gen_int.h"

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

void gen_fmt_into(char *dst, size_t n, const char *fmt, ...)
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

void gen_uuid4(gen_rng *r, char *out)
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

const char *gen_svc_noun(const char *name)
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
    /* a scenario is held in memory; larger inputs are what --bench is for */
    w->max_entries = 4u * 1000u * 1000u;
    w->max_bytes = (size_t)2 << 30;
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
    gen_fmt_into(v->name, sizeof(v->name), "%s-%05d-%s", s->name, v->number, sfx);
    if (prev && same_image) {
        memcpy(v->commit, prev->commit, sizeof(v->commit));
        memcpy(v->image, prev->image, sizeof(v->image));
        memcpy(v->build_id, prev->build_id, sizeof(v->build_id));
    } else {
        gen_hex(r, v->commit, 40);
        gen_fmt_into(v->image, sizeof(v->image), "%s:%s", s->repo, v->commit);
        gen_uuid4(r, v->build_id);
    }
    if (w->next_commit[0]) {
        /* pinned by a scenario (sample repository), after the draws so the stream is unchanged */
        memcpy(v->commit, w->next_commit, sizeof(v->commit));
        gen_fmt_into(v->image, sizeof(v->image), "%s:%s", s->repo, v->commit);
        w->next_commit[0] = '\0';
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

void gen_add_crash(gen_world *w, int svc, int rev, int slot, int64_t t, int64_t dur, bool counts)
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
uint64_t gen_replace_instance(gen_world *w, int svc, int rev, int slot, int64_t t)
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

uint64_t gen_instance_at(const gen_rev *v, int slot, int64_t t)
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

const gen_traffic *gen_traffic_at(const gen_svc *s, int64_t t)
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
    if (w->n_entries >= w->max_entries || w->bytes >= w->max_bytes) {
        w->capped = true;
        json_decref(obj);
        return;
    }
    char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(16));
    json_decref(obj);
    if (!s)
        return;
    w->bytes += strlen(s) + 1;
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

void gen_mark_onset(gen_world *w, int64_t t)
{
    if (w->onset == 0 || t < w->onset)
        w->onset = t;
}

json_t *gen_resource_rev(const gen_world *w, int svc, int rev)
{
    const gen_svc *s = &w->svcs[svc];
    return json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "type", "cloud_run_revision", "labels",
                     "configuration_name", s->name, "location", w->region, "project_id", w->project,
                     "revision_name", rev >= 0 ? s->revs[rev].name : "", "service_name", s->name);
}

json_t *gen_resource_svc(const gen_world *w, int svc)
{
    json_t *res = gen_resource_rev(w, svc, -1);
    json_object_set_new(json_object_get(res, "labels"), "configuration_name", json_string(""));
    return res;
}

json_t *gen_container_labels(const gen_world *w, int svc, int rev, uint64_t inst)
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

void gen_container_insert_id(gen_world *w, int64_t ns, char *out)
{
    char tail[9];
    gen_hex(&w->rng, tail, 8);
    snprintf(out, 32, "%08x%08x%s", (unsigned)(ns / GEN_NS_PER_SEC),
             (unsigned)((ns % GEN_NS_PER_SEC) / 1000 + gen_below(&w->rng, 5000)), tail);
}

void gen_audit_insert_id(gen_world *w, char *out)
{
    size_t n = 10 + gen_below(&w->rng, 3);
    size_t off = 0;
    if (gen_chance(&w->rng, 0.3))
        out[off++] = '-';
    gen_alnum(&w->rng, out + off, n);
}

char *gen_log_name(const gen_world *w, const char *id, char *buf, size_t n)
{
    snprintf(buf, n, "projects/%s/logs/%s", w->project, id);
    return buf;
}

/* A container log line (stdout, stderr or varlog/system). payload is a string (textPayload)
 * or an object (jsonPayload); severity NULL leaves it out, as Cloud Run does for plain lines. */
void gen_emit_container(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *log,
                        json_t *payload, const char *severity, const char *trace, const char *span,
                        const char *error_group)
{
    char ts[40], rts[40], iid[32], ln[160];
    gen_container_insert_id(w, ns, iid);
    json_t *e = json_object();
    if (json_is_string(payload))
        json_object_set_new(e, "textPayload", payload);
    else
        json_object_set_new(e, "jsonPayload", payload);
    json_object_set_new(e, "insertId", json_string(iid));
    json_object_set_new(e, "resource", gen_resource_rev(w, svc, rev));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, 6, ts)));
    if (severity)
        json_object_set_new(e, "severity", json_string(severity));
    json_t *labels = gen_container_labels(w, svc, rev, inst);
    if (strcmp(log, "run.googleapis.com%2Fvarlog%2Fsystem") == 0) {
        json_object_del(labels, "commit-sha");
        json_object_del(labels, "gcb-build-id");
        json_object_del(labels, "managed-by");
        json_object_set_new(labels, "container_name", json_string("placeholder-1"));
    }
    json_object_set_new(e, "labels", labels);
    json_object_set_new(e, "logName", json_string(gen_log_name(w, log, ln, sizeof(ln))));
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

void gen_varlog(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *severity,
                const char *text)
{
    gen_emit_container(w, svc, rev, inst, ns, "run.googleapis.com%2Fvarlog%2Fsystem",
                       json_string(text), severity, NULL, NULL, NULL);
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
void gen_emit_app(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *level,
                  const char *msg, const char *stack, const char *trace, const char *span)
{
    const gen_svc *s = &w->svcs[svc];
    if (s->logger != GEN_LOG_STYLE) {
        gen_emit_logger(w, svc, rev, inst, ns, level, msg, stack, trace, span);
        return;
    }
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
            gen_emit_container(w, svc, rev, inst, ns, log, json_string(b.data), NULL, NULL, NULL,
                               NULL);
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
            gen_emit_container(w, svc, rev, inst, ns, log, json_string(b.data), NULL, NULL, NULL,
                               NULL);
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
                gen_emit_container(w, svc, rev, inst, t, log, json_string(line), NULL, NULL, NULL,
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
        gen_emit_container(w, svc, rev, inst, ns, log, json_string(text), grouped ? "ERROR" : NULL,
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
        gen_emit_container(w, svc, rev, inst, ns, log, p, sev, trace, span, NULL);
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
    gen_emit_container(w, svc, rev, inst, ns, log, p, NULL, NULL, NULL, NULL);
}

/* The error a request fails with, in the service's words. */
void gen_emit_error(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, int cls, int variant,
                    const char *detail, const char *trace, const char *span)
{
    const gen_svc *s = &w->svcs[svc];
    fl_buf sum, full;
    fl_buf_init(&sum, 1 << 16);
    fl_buf_init(&full, 1 << 16);
    gen_rng copy = w->rng; /* summary and full text share random details */
    gen_error_summary(&copy, &sum, s->lang, cls, variant, detail);
    gen_error_text(&w->rng, &full, s->lang, cls, variant, detail);
    gen_emit_app(w, svc, rev, inst, ns, "error", sum.data, full.data, trace, span);
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
        gen_emit_app(w, svc, rev, inst, ns, "info", b.data, NULL, NULL, NULL);
    }
    fl_buf_free(&b);
}

void gen_instance_start(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns,
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
    gen_varlog(w, svc, rev, inst, ns, "INFO", text);
    startup_lines(w, svc, rev, inst, ns + (int64_t)gen_range(&w->rng, 300, 2500) * 1000000);
    snprintf(text, sizeof(text),
             "Default STARTUP TCP probe succeeded after 1 attempt for "
             "container \"placeholder-1\" on port 8080.");
    gen_varlog(w, svc, rev, inst, ns + (int64_t)gen_range(&w->rng, 2600, 6000) * 1000000, "INFO",
               text);
}
