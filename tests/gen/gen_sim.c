/* The simulation: requests arriving at each service, routed by the traffic split to a revision
 * and an instance, failing when a fault or a dead instance says so, each with its request log
 * and application lines; plus OOM kills and startup crashes. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "gen_int.h"

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
        gen_emit_app(w, svc, rev, gen_instance_at(v, slot, t), t, "info", line, NULL, NULL, NULL);
    }
    for (int64_t t = t_first; t < w->t1;
         t += every_ns / 2 + (int64_t)(gen_unit(r) * (double)every_ns)) {
        int slot = (int)gen_below(r, (uint32_t)v->n_inst);
        uint64_t inst = gen_instance_at(v, slot, t);
        int64_t at = t;
        gen_mark_onset(w, t);
        char text[400];
        snprintf(text, sizeof(text), "memory usage high: rss=%dMiB limit=%dMiB",
                 v->memory_mib - 20 - (int)gen_below(r, 40), v->memory_mib);
        gen_emit_app(w, svc, rev, inst, at - (int64_t)gen_range(r, 5, 50) * GEN_NS_PER_SEC, "warn",
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
                    gen_emit_container(w, svc, rev, inst, at + (int64_t)i * 1000,
                                       "run.googleapis.com%2Fstderr", json_string(text), NULL, NULL,
                                       NULL, NULL);
            }
        } else if (s->lang != GEN_NODE && gen_chance(r, 0.4)) {
            fl_buf b;
            fl_buf_init(&b, 1 << 16);
            gen_error_text(r, &b, s->lang, GEN_CLS_OOM, 0, NULL);
            gen_emit_app(w, svc, rev, inst, at, "error", b.data, b.data, NULL, NULL);
            fl_buf_free(&b);
        }
        int used = v->memory_mib + 3 + (int)gen_below(r, 40);
        snprintf(text, sizeof(text),
                 "Memory limit of %d MiB exceeded with %d MiB used. Consider "
                 "increasing the memory limit, see https://cloud.google.com/run/docs/configuring/"
                 "memory-limits",
                 v->memory_mib, used);
        gen_varlog(w, svc, rev, inst, at + 20000000, "ERROR", text);
        gen_varlog(w, svc, rev, inst, at + 60000000, "WARNING",
                   "Container terminated on signal 9.");
        int64_t dur = (int64_t)gen_range(r, 3, 9) * GEN_NS_PER_SEC;
        gen_add_crash(w, svc, rev, slot, at, dur, true);
        uint64_t fresh = gen_replace_instance(w, svc, rev, slot, at + dur);
        gen_instance_start(w, svc, rev, fresh, at + dur, "AUTOSCALING");
    }
}

void gen_startup_crash(gen_world *w, int svc, int rev, int64_t t, const gen_fault *f)
{
    gen_rng *r = &w->rng;
    gen_rev *v = &w->svcs[svc].revs[rev];
    int slot = (int)gen_below(r, (uint32_t)v->n_inst);
    uint64_t inst = gen_instance_at(v, slot, t);
    if (f->counts)
        gen_mark_onset(w, t);
    gen_emit_error(w, svc, rev, inst, t, f->cls, f->variant, f->detail, NULL, NULL);
    gen_varlog(w, svc, rev, inst, t + 150000000, "WARNING", "Container called exit(1).");
    int64_t dur = (int64_t)gen_range(r, 2, 6) * GEN_NS_PER_SEC;
    gen_add_crash(w, svc, rev, slot, t, dur, f->counts);
    uint64_t fresh = gen_replace_instance(w, svc, rev, slot, t + dur);
    gen_instance_start(w, svc, rev, fresh, t + dur, "AUTOSCALING");
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
    const char *noun = gen_svc_noun(s->name);
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
    gen_container_insert_id(w, ns, iid);
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
    json_object_set_new(e, "resource", gen_resource_rev(w, svc, rev));
    json_object_set_new(e, "timestamp", json_string(gen_ts(ns, 6, ts)));
    json_object_set_new(e, "severity",
                        json_string(q->status >= 500   ? "ERROR"
                                    : q->status >= 400 ? "WARNING"
                                                       : "INFO"));
    json_object_set_new(e, "labels", gen_container_labels(w, svc, rev, inst));
    json_object_set_new(
        e, "logName",
        json_string(gen_log_name(w, "run.googleapis.com%2Frequests", ln, sizeof(ln))));
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

/* The error a scenario-file fault logs: its own wording in the service's logger. */
static void emit_fault_error(gen_world *w, const gen_fault *f, int svc, int rev, uint64_t inst,
                             int64_t ns, const char *trace, const char *span)
{
    fl_buf msg, text;
    fl_buf_init(&msg, 1 << 16);
    fl_buf_init(&text, 1 << 16);
    gen_fault_text(w, f, svc, &msg, &text);
    gen_emit_app(w, svc, rev, inst, ns, "error", msg.data ? msg.data : "", text.data, trace, span);
    fl_buf_free(&msg);
    fl_buf_free(&text);
}

/* A caller's error after its callee failed or was too slow: the caller's own wording. */
static void emit_caller_error(gen_world *w, int svc, int callee, int rev, uint64_t inst,
                              int64_t ns, const char *trace, const char *span)
{
    gen_svc *s = &w->svcs[svc];
    gen_fault f;
    memset(&f, 0, sizeof(f));
    f.svc = svc;
    f.texts = s->caller_errors;
    f.msgs = s->caller_msgs;
    f.variant = (int)(fl_hash64(s->name, strlen(s->name), w->seed) % 7);
    int save = s->callees[0];
    s->callees[0] = callee; /* {callee_host} names the callee that failed */
    emit_fault_error(w, &f, svc, rev, inst, ns, trace, span);
    s->callees[0] = save;
}

/* One request to svc at t (depth > 0: made by a caller with this trace). Writes its request log
 * and application lines; returns the status and the latency it took. */
static int serve(gen_world *w, int svc, int64_t t, const char *caller_trace, int depth,
                 int64_t *latency_out)
{
    gen_rng *r = &w->rng;
    gen_svc *s = &w->svcs[svc];
    const gen_traffic *tr = gen_traffic_at(s, t);
    int rev = tr->rev[0];
    if (tr->n == 2 && (int)gen_below(r, 100) >= tr->pct[0])
        rev = tr->rev[1];
    gen_rev *v = &s->revs[rev];
    int slot = (int)gen_below(r, (uint32_t)v->n_inst);
    while (slot > 0 && v->slot_from[slot] > t)
        slot--;
    uint64_t inst = gen_instance_at(v, slot, t);
    request q;
    pick_route(r, s, &q);
    if (depth > 0)
        q.health = false;
    q.status = q.method[0] == 'P' && q.method[1] == 'O' ? 201 : 200;
    q.latency_ns = ok_latency(r);
    char trace[128], tid[33], span[17];
    gen_hex(r, tid, 32);
    gen_hex(r, span, 16);
    if (caller_trace)
        snprintf(trace, sizeof(trace), "%s", caller_trace);
    else
        snprintf(trace, sizeof(trace), "projects/%s/traces/%s", w->project, tid);

    const gen_crash *c = crash_for(w, svc, rev, slot, t);
    if (c) {
        q.status = 503;
        q.latency_ns = (int64_t)gen_range(r, 10, 3000) * 1000000;
        if (c->counts)
            gen_mark_onset(w, t);
        emit_request(w, svc, rev, inst, t, &q, trace, span,
                     "The request failed because either the HTTP response was malformed or "
                     "connection to the instance had an error. Additional troubleshooting "
                     "documentation can be found at: https://cloud.google.com/run/docs/"
                     "troubleshooting#malformed-response-or-connection-error");
        *latency_out = q.latency_ns;
        return q.status;
    }
    const gen_fault *f = q.health ? NULL : fault_for(w, svc, rev, t);
    if (f) {
        q.status = f->n_statuses ? f->statuses[gen_below(r, (uint32_t)f->n_statuses)] : f->status;
        q.latency_ns = f->lat_hi_ns > 0 ? (int64_t)gen_range(r, f->lat_lo_ns, f->lat_hi_ns)
                                        : fault_latency(r, f->cls);
        if (f->counts)
            gen_mark_onset(w, t);
        emit_request(w, svc, rev, inst, t, &q, trace, span, NULL);
        int64_t at = t + q.latency_ns - (int64_t)gen_range(r, 100000, 2000000);
        if (q.status >= 400 || f->texts) {
            if (f->texts)
                emit_fault_error(w, f, svc, rev, inst, at, trace, span);
            else
                gen_emit_error(w, svc, rev, inst, at, f->cls, f->variant, f->detail, trace, span);
        }
        *latency_out = q.latency_ns;
        return q.status;
    }
    /* calls to other services, in the same trace */
    if (!q.health && s->n_callees && gen_chance(r, s->call_p > 0 ? s->call_p : 0.6)) {
        int64_t timeout = (int64_t)(s->timeout_ms ? s->timeout_ms : 10000) * 1000000;
        for (int k = 0; k < s->n_callees; k++) {
            int64_t sub_lat = 0;
            int sub = serve(w, s->callees[k], t + (int64_t)gen_range(r, 1, 20) * 1000000, trace,
                            depth + 1, &sub_lat);
            bool timed_out = sub_lat > timeout;
            if (sub >= 500 || timed_out) {
                q.status = timed_out ? 504 : gen_chance(r, 0.5) ? 502 : 500;
                q.latency_ns = (timed_out ? timeout : sub_lat) + ok_latency(r) / 4;
                emit_request(w, svc, rev, inst, t, &q, trace, span, NULL);
                if (s->caller_errors)
                    emit_caller_error(w, svc, s->callees[k], rev, inst, t + q.latency_ns - 300000,
                                      trace, span);
                *latency_out = q.latency_ns;
                return q.status;
            }
            q.latency_ns += sub_lat;
        }
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
    *latency_out = q.latency_ns;
    if (noise_cls != GEN_CLS_NONE) {
        gen_emit_error(w, svc, rev, inst, t + q.latency_ns - 500000, noise_cls, 0, NULL, trace,
                       span);
        return q.status;
    }
    if (!q.health && gen_chance(r, w->chatter_p)) {
        fl_buf b;
        fl_buf_init(&b, 4096);
        gen_chatter(r, &b, s, q.method, q.path, q.status, (int)(q.latency_ns / 1000000));
        gen_emit_app(w, svc, rev, inst, t + q.latency_ns - (int64_t)gen_range(r, 100000, 900000),
                     q.status >= 400 ? "warn" : "info", b.data, NULL, trace, span);
        fl_buf_free(&b);
    }
    return q.status;
}

static void one_request(gen_world *w, int svc, int64_t t)
{
    int64_t lat;
    serve(w, svc, t, NULL, 0, &lat);
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
            if (w->capped)
                return;
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
