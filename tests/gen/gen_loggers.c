/* Application lines as real loggers write them (pino, zap, zapdriver, slog, logback with the
 * logstash encoder, python-json-logger, structlog, the Cloud Logging JSON format, plain text),
 * and the error texts of scenario-file faults with their placeholders filled in. The shapes
 * follow each library's documentation; docs/loggers.md has one example of each. */
#include <stdio.h>
#include <string.h>

#include "gen.h"
#include "gen_int.h"

static const char *lvl(const char *level, const char *err, const char *warn, const char *info)
{
    return strcmp(level, "error") == 0 ? err : strcmp(level, "warn") == 0 ? warn : info;
}

/* "TypeError: x\n    at ..." -> type "TypeError", message "x" (first line); else "Error". */
static void split_exception(const char *text, char *type, size_t tn, char *message, size_t mn)
{
    const char *nl = strchr(text, '\n');
    size_t first = nl ? (size_t)(nl - text) : strlen(text);
    const char *colon = memchr(text, ':', first);
    bool ident = colon && colon > text;
    for (const char *c = text; ident && c < colon; c++)
        ident = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                *c == '.' || *c == '_' || *c == '$';
    if (ident) {
        const char *dot = memrchr(text, '.', (size_t)(colon - text));
        const char *t0 = dot ? dot + 1 : text;
        snprintf(type, tn, "%.*s", (int)(colon - t0), t0);
        const char *m = colon + 1;
        while (*m == ' ')
            m++;
        snprintf(message, mn, "%.*s", (int)(text + first - m), m);
    } else {
        snprintf(type, tn, "Error");
        snprintf(message, mn, "%.*s", (int)first, text);
    }
}

/* A Go stack as zap's stacktrace field holds it. */
static const char *go_stack(const gen_svc *s)
{
    (void)s;
    return "main.(*server).handle\n\t/src/internal/server/handler.go:88\nnet/http.HandlerFunc."
           "ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2166\nnet/http.(*ServeMux).ServeHTTP"
           "\n\t/usr/local/go/src/net/http/server.go:2683";
}

static void emit_text(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *level,
                      const char *msg, const char *err)
{
    const gen_svc *s = &w->svcs[svc];
    bool quiet = strcmp(level, "info") == 0;
    const char *log = quiet ? "run.googleapis.com%2Fstdout" : "run.googleapis.com%2Fstderr";
    fl_buf b;
    fl_buf_init(&b, 1 << 20);
    char ts[40];
    gen_ts(ns, 6, ts);
    switch (s->lang) {
    case GEN_JAVA: /* logback's default pattern */
        fl_buf_printf(&b, "%.12s [http-nio-8080-exec-%u] %-5s c.a.%s.web.ApiController - %s",
                      ts + 11, 1 + gen_below(&w->rng, 10), lvl(level, "ERROR", "WARN", "INFO"),
                      gen_svc_noun(s->name), msg);
        if (err)
            fl_buf_printf(&b, "\n%s", err);
        break;
    case GEN_GO: /* the standard log package */
        fl_buf_printf(&b, "%.4s/%.2s/%.2s %.8s %s", ts, ts + 5, ts + 8, ts + 11, msg);
        if (err)
            fl_buf_printf(&b, ": %s", err);
        break;
    case GEN_PYTHON:
        if (err && strchr(err, '\n') && gen_chance(&w->rng, 0.5)) {
            /* an unstructured traceback reaches Cloud Run one line at a time */
            const char *p = err;
            int64_t t = ns;
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                if (n > 0) { /* Cloud Run writes no entry for an empty line */
                    char *line = fl_strndup(p, n);
                    gen_emit_container(w, svc, rev, inst, t, log, json_string(line), NULL, NULL,
                                       NULL, NULL);
                    fl_free(line);
                }
                t += (int64_t)gen_range(&w->rng, 3000, 60000);
                p = nl ? nl + 1 : p + n;
            }
            fl_buf_free(&b);
            return;
        }
        fl_buf_addstr(&b, err ? err : msg);
        break;
    default: /* Node: console.error(err) prints the stack */
        fl_buf_addstr(&b, err ? err : msg);
        break;
    }
    gen_emit_container(w, svc, rev, inst, ns, log, json_string(b.data ? b.data : ""), NULL, NULL,
                       NULL, NULL);
    fl_buf_free(&b);
}

void gen_emit_logger(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *level,
                     const char *msg, const char *err, const char *trace, const char *span)
{
    const gen_svc *s = &w->svcs[svc];
    if (s->logger == GEN_LOG_TEXT) {
        emit_text(w, svc, rev, inst, ns, level, msg, err);
        return;
    }
    json_t *p = json_object();
    const char *sev = NULL;
    const char *log = "run.googleapis.com%2Fstdout";
    char ts[40];
    switch (s->logger) {
    case GEN_LOG_PINO: {
        json_object_set_new(p, "level", json_integer(strcmp(level, "error") == 0  ? 50
                                                     : strcmp(level, "warn") == 0 ? 40
                                                                                  : 30));
        json_object_set_new(p, "time", json_integer(ns / 1000000));
        json_object_set_new(p, "pid", json_integer(1));
        json_object_set_new(p, "hostname", json_string("localhost"));
        if (err) {
            char type[96], message[512];
            split_exception(err, type, sizeof(type), message, sizeof(message));
            json_object_set_new(p, "err", json_pack("{s:s, s:s, s:s}", "type", type, "message",
                                                    message, "stack", err));
        }
        json_object_set_new(p, "msg", json_string(msg));
        break;
    }
    case GEN_LOG_ZAP:
        log = "run.googleapis.com%2Fstderr"; /* zap's production config writes to stderr */
        json_object_set_new(p, "level", json_string(lvl(level, "error", "warn", "info")));
        json_object_set_new(p, "ts", json_real((double)(ns / 1000000) / 1000.0));
        json_object_set_new(p, "caller", json_string("server/handler.go:88"));
        json_object_set_new(p, "msg", json_string(msg));
        if (err) {
            json_object_set_new(p, "error", json_string(err));
            if (strcmp(level, "error") == 0)
                json_object_set_new(p, "stacktrace", json_string(go_stack(s)));
        }
        break;
    case GEN_LOG_ZAPDRIVER:
        sev = lvl(level, "ERROR", "WARNING", "INFO");
        json_object_set_new(p, "caller", json_string("server/handler.go:88"));
        json_object_set_new(p, "message", json_string(msg));
        if (err)
            json_object_set_new(p, "error", json_string(err));
        break;
    case GEN_LOG_SLOG:
        json_object_set_new(p, "time", json_string(gen_ts(ns, 6, ts)));
        json_object_set_new(p, "level", json_string(lvl(level, "ERROR", "WARN", "INFO")));
        json_object_set_new(p, "msg", json_string(msg));
        if (err)
            json_object_set_new(p, gen_chance(&w->rng, 0.5) ? "err" : "error", json_string(err));
        break;
    case GEN_LOG_LOGBACK:
        json_object_set_new(p, "@timestamp", json_string(gen_ts(ns, 6, ts)));
        json_object_set_new(p, "@version", json_string("1"));
        json_object_set_new(p, "message", json_string(msg));
        json_object_set_new(p, "logger_name", json_string("com.acme.web.ApiController"));
        json_object_set_new(p, "thread_name", json_string("http-nio-8080-exec-4"));
        json_object_set_new(p, "level", json_string(lvl(level, "ERROR", "WARN", "INFO")));
        json_object_set_new(p, "level_value", json_integer(strcmp(level, "error") == 0  ? 40000
                                                           : strcmp(level, "warn") == 0 ? 30000
                                                                                        : 20000));
        if (err)
            json_object_set_new(p, "stack_trace", json_string(err));
        break;
    case GEN_LOG_PYJSON:
        log = "run.googleapis.com%2Fstderr"; /* logging.StreamHandler defaults to stderr */
        json_object_set_new(p, "asctime", json_string(gen_ts(ns, 6, ts)));
        json_object_set_new(p, "levelname", json_string(lvl(level, "ERROR", "WARNING", "INFO")));
        json_object_set_new(p, "name", json_string("app.api"));
        json_object_set_new(p, "message", json_string(msg));
        if (err)
            json_object_set_new(p, "exc_info", json_string(err));
        break;
    case GEN_LOG_STRUCTLOG:
        json_object_set_new(p, "event", json_string(msg));
        json_object_set_new(p, "level", json_string(lvl(level, "error", "warning", "info")));
        json_object_set_new(p, "timestamp", json_string(gen_ts(ns, 6, ts)));
        json_object_set_new(p, "logger", json_string("app.api"));
        if (err)
            json_object_set_new(p, "exception", json_string(err));
        break;
    default: { /* GEN_LOG_CLOUD */
        sev = lvl(level, "ERROR", "WARNING", "INFO");
        fl_buf b;
        fl_buf_init(&b, 1 << 20);
        fl_buf_addstr(&b, msg);
        if (err)
            fl_buf_printf(&b, "\n%s", err);
        json_object_set_new(p, "message", json_string(b.data));
        fl_buf_free(&b);
        break;
    }
    }
    /* Only the Cloud Logging formats carry the trace fields that Cloud Run lifts. */
    bool lifted = s->logger == GEN_LOG_CLOUD || s->logger == GEN_LOG_ZAPDRIVER;
    gen_emit_container(w, svc, rev, inst, ns, log, p, sev, lifted ? trace : NULL,
                       lifted ? span : NULL, NULL);
}

/* ---- scenario-file error texts ------------------------------------------------------------- */

static void put_ip(gen_rng *r, fl_buf *b)
{
    fl_buf_printf(b, "10.%u.%u.%u", gen_below(r, 200), gen_below(r, 250), 2 + gen_below(r, 250));
}

/* Fills the placeholders of a wording. Values that must stay the same for one fault (the IP of
 * its Redis, its env var) come from a stream seeded by the fault, not the world's. */
static void expand(gen_world *w, const gen_fault *f, int svc, const char *tmpl, fl_buf *out)
{
    gen_rng fixed = {fl_hash64(w->svcs[f->svc].name, strlen(w->svcs[f->svc].name),
                               w->seed * 31 + (uint64_t)f->cls + (uint64_t)f->t0)};
    gen_rng *r = &w->rng;
    char ipbuf[32];
    fl_buf ip;
    fl_buf_init(&ip, sizeof(ipbuf));
    put_ip(&fixed, &ip);
    const gen_svc *s = &w->svcs[svc];
    const gen_svc *callee = s->n_callees ? &w->svcs[s->callees[0]] : s;
    for (const char *p = tmpl; *p;) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close || close - open > 20) {
            fl_buf_addstr(out, p);
            break;
        }
        fl_buf_add(out, p, (size_t)(open - p));
        char key[24];
        snprintf(key, sizeof(key), "%.*s", (int)(close - open - 1), open + 1);
        if (strcmp(key, "ip") == 0)
            fl_buf_addstr(out, ip.data);
        else if (strcmp(key, "rip") == 0)
            put_ip(r, out);
        else if (strcmp(key, "n") == 0)
            fl_buf_printf(out, "%u", 1 + gen_below(r, 999));
        else if (strcmp(key, "ms") == 0)
            fl_buf_printf(out, "%u", 1000 + gen_below(r, 29000));
        else if (strcmp(key, "id") == 0) {
            char h[9];
            gen_hex(r, h, 8);
            fl_buf_addstr(out, h);
        } else if (strcmp(key, "port") == 0)
            fl_buf_printf(out, "%u", 32768 + gen_below(r, 28000));
        else if (strcmp(key, "service") == 0)
            fl_buf_addstr(out, s->name);
        else if (strcmp(key, "callee") == 0)
            fl_buf_addstr(out, callee->name);
        else if (strcmp(key, "callee_host") == 0)
            fl_buf_addstr(out, callee->host);
        else if (strcmp(key, "timeout_ms") == 0)
            fl_buf_printf(out, "%d", s->timeout_ms ? s->timeout_ms : 10000);
        else if (strcmp(key, "timeout_s") == 0)
            fl_buf_printf(out, "%d", (s->timeout_ms ? s->timeout_ms : 10000) / 1000);
        else if (strcmp(key, "env") == 0)
            fl_buf_addstr(out, f->detail[0] ? f->detail : "DATABASE_URL");
        else if (strcmp(key, "secret") == 0)
            fl_buf_addstr(out, f->secret[0] ? f->secret : "db-password");
        else if (strcmp(key, "project") == 0)
            fl_buf_addstr(out, w->project);
        else if (strcmp(key, "region") == 0)
            fl_buf_addstr(out, w->region);
        else if (strcmp(key, "mib") == 0)
            fl_buf_printf(out, "%d", s->revs[0].memory_mib);
        else
            fl_buf_add(out, open, (size_t)(close - open + 1)); /* not a placeholder */
        p = close + 1;
    }
    fl_buf_free(&ip);
}

static const char *pick(gen_world *w, const json_t *arr, int variant)
{
    size_t n = json_array_size(arr);
    if (!n)
        return NULL;
    /* one wording per fault, now and then another from a different call site */
    size_t i = gen_chance(&w->rng, 0.2) ? gen_below(&w->rng, (uint32_t)n) : (size_t)variant % n;
    return json_string_value(json_array_get(arr, i));
}

void gen_fault_text(gen_world *w, const gen_fault *f, int svc, fl_buf *msg, fl_buf *text)
{
    const char *t = pick(w, f->texts, f->variant);
    const char *m = pick(w, f->msgs, f->variant);
    expand(w, f, svc, t ? t : "Error: request failed", text);
    expand(w, f, svc, m ? m : "request failed", msg);
}
