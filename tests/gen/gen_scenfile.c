/* Scenario files: an incident described as data (one JSON file each in tests/data/scenarios/, format in
 * tests/data/scenarios/README.md) and turned into a world with the same building blocks as the
 * built-in scenarios. Every range in the file ([lo, hi]) and every list of alternatives is
 * drawn from the world's seeded stream, so each seed is a different incident of the same kind. */
#include <stdio.h>
#include <string.h>

#include "gen.h"

typedef struct ctx {
    gen_world *w;
    double rate;
    char *err;
    size_t errlen;
} ctx;

static int fail(ctx *c, const char *what, const char *name)
{
    snprintf(c->err, c->errlen, "%s%s%s", what, name ? ": " : "", name ? name : "");
    return -1;
}

/* A number, or a uniform draw from [lo, hi]. */
static double num(ctx *c, const json_t *v, double dflt)
{
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_array(v) && json_array_size(v) == 2) {
        double lo = json_number_value(json_array_get(v, 0));
        double hi = json_number_value(json_array_get(v, 1));
        return lo + (hi - lo) * gen_unit(&c->w->rng);
    }
    return dflt;
}

/* A string, or one picked from a list of strings. */
static const char *str(ctx *c, const json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_array(v) && json_array_size(v) > 0)
        return json_string_value(json_array_get(v, gen_below(&c->w->rng,
                                                             (uint32_t)json_array_size(v))));
    return NULL;
}

static int svc_index(const gen_world *w, const char *name)
{
    for (int i = 0; name && i < w->n_svcs; i++)
        if (strcmp(w->svcs[i].name, name) == 0)
            return i;
    return -1;
}

static int mark_index(const gen_world *w, const char *id)
{
    for (int i = 0; id && i < w->n_marks; i++)
        if (strcmp(w->marks[i].id, id) == 0)
            return i;
    return -1;
}

static const char *const lang_names[] = {"node", "python", "java", "go"};

static int lang_of(const char *name)
{
    for (size_t i = 0; name && i < FL_ARRAY_LEN(lang_names); i++)
        if (strcmp(lang_names[i], name) == 0)
            return (int)i;
    return -1;
}

static int logger_of(const char *name)
{
    static const char *const names[] = {"style",   "text",    "pino",   "zap",       "zapdriver",
                                        "slog",    "logback", "pyjson", "structlog", "cloud"};
    for (size_t i = 0; name && i < FL_ARRAY_LEN(names); i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Wordings for a language: an array for every language, or an object keyed by language. */
static const json_t *for_lang(const json_t *v, int lang)
{
    if (json_is_array(v))
        return v;
    if (json_is_object(v))
        return json_object_get(v, lang_names[lang]);
    return NULL;
}

/* When something happens: "at": [a, b] (fraction of the window), or "after": change id plus
 * "delay_s": [lo, hi]. */
static int64_t when(ctx *c, const json_t *o, int64_t dflt)
{
    gen_world *w = c->w;
    const json_t *after = json_object_get(o, "after");
    int64_t t = dflt;
    if (json_is_string(after)) {
        int m = mark_index(w, json_string_value(after));
        if (m >= 0)
            t = w->marks[m].t;
    } else if (json_object_get(o, "at")) {
        double f = num(c, json_object_get(o, "at"), 0.5);
        t = w->t0 + (int64_t)((double)(w->t1 - w->t0) * f);
    }
    t += (int64_t)(num(c, json_object_get(o, "delay_s"), 0) * 1e9);
    t += (int64_t)gen_below(&w->rng, 1000000) * 1000;
    int64_t max = w->t1 - 3 * GEN_NS_PER_MIN;
    return t > max ? max : t;
}

static int add_mark(ctx *c, const json_t *ch, int svc, int rev, int prev, int64_t t)
{
    gen_world *w = c->w;
    const char *id = json_string_value(json_object_get(ch, "id"));
    if (!id)
        return 0;
    if (w->n_marks >= (int)FL_ARRAY_LEN(w->marks))
        return fail(c, "too many changes with an id", id);
    int m = w->n_marks++;
    snprintf(w->marks[m].id, sizeof(w->marks[m].id), "%s", id);
    w->marks[m].svc = svc;
    w->marks[m].rev = rev;
    w->marks[m].prev = prev;
    w->marks[m].t = t;
    return 0;
}

static int serving(const gen_world *w, int svc)
{
    const gen_svc *s = &w->svcs[svc];
    return s->n_traffic ? s->traffic[s->n_traffic - 1].rev[0] : 0;
}

/* A fault on svc from a fault object (also the crash of a failed rollout). */
static int make_fault(ctx *c, const json_t *o, int svc, gen_fault *f)
{
    gen_world *w = c->w;
    const gen_svc *s = &w->svcs[svc];
    memset(f, 0, sizeof(*f));
    f->svc = svc;
    f->rev = -1;
    const char *rev = json_string_value(json_object_get(o, "revision"));
    if (rev && strcmp(rev, "any") != 0) {
        int m = mark_index(w, rev);
        if (m < 0)
            return fail(c, "fault names an unknown change", rev);
        f->rev = w->marks[m].rev;
    }
    f->t0 = when(c, o, w->t0 + (w->t1 - w->t0) / 2);
    f->t1 = w->t1;
    if (json_object_get(o, "duration_s"))
        f->t1 = f->t0 + (int64_t)(num(c, json_object_get(o, "duration_s"), 600) * 1e9);
    f->counts = !json_is_false(json_object_get(o, "counts"));
    if (json_is_true(json_object_get(o, "before_window"))) {
        f->t0 = w->t0 - GEN_NS_PER_MIN;
        f->counts = false;
    }
    f->p = num(c, json_object_get(o, "p"), 0.3);
    f->ramp_ns = (int64_t)(num(c, json_object_get(o, "ramp_s"), 0) * 1e9);
    f->cls = GEN_CLS_UNMATCHED;
    const json_t *st = json_object_get(o, "status");
    if (json_is_integer(st)) {
        f->statuses[f->n_statuses++] = (int)json_integer_value(st);
    } else {
        size_t i;
        const json_t *x;
        json_array_foreach(st, i, x) if (f->n_statuses < 4) f->statuses[f->n_statuses++] =
            (int)json_integer_value(x);
    }
    if (!f->n_statuses)
        f->statuses[f->n_statuses++] = 500;
    f->status = f->statuses[0];
    const json_t *lat = json_object_get(o, "latency_ms");
    if (json_is_array(lat) && json_array_size(lat) == 2) {
        f->lat_lo_ns = (int64_t)(json_number_value(json_array_get(lat, 0)) * 1e6);
        f->lat_hi_ns = (int64_t)(json_number_value(json_array_get(lat, 1)) * 1e6);
    } else {
        f->lat_lo_ns = 5 * 1000000;
        f->lat_hi_ns = 400 * 1000000;
    }
    f->texts = for_lang(json_object_get(o, "errors"), s->lang);
    f->msgs = for_lang(json_object_get(o, "msgs"), s->lang);
    if (!f->texts || !json_array_size(f->texts))
        return fail(c, "a fault has no error texts for the language of", s->name);
    f->variant = (int)gen_below(&w->rng, (uint32_t)json_array_size(f->texts));
    /* {env}: the fault's own, else the env var its revision dropped */
    const char *env = str(c, json_object_get(o, "env"));
    if (!env && f->rev >= 0 && s->revs[f->rev].dropped_env[0])
        env = s->revs[f->rev].dropped_env;
    snprintf(f->detail, sizeof(f->detail), "%s", env ? env : "");
    const char *secret = str(c, json_object_get(o, "secret"));
    snprintf(f->secret, sizeof(f->secret), "%s", secret ? secret : "");
    return 0;
}

static int setup_services(ctx *c, const json_t *doc)
{
    gen_world *w = c->w;
    const json_t *svcs = json_object_get(doc, "services");
    size_t i;
    const json_t *o;
    if (!json_array_size(svcs))
        return fail(c, "no services", NULL);
    json_array_foreach(svcs, i, o)
    {
        const char *name = str(c, json_object_get(o, "name"));
        int lang = lang_of(str(c, json_object_get(o, "lang")));
        if (!name || lang < 0)
            return fail(c, "a service needs a name and a lang (node, python, java, go)", name);
        int svc = gen_add_service(w, name, lang, c->rate * num(c, json_object_get(o, "rate"), 1));
        if (svc < 0)
            return fail(c, "too many services", name);
        gen_svc *s = &w->svcs[svc];
        const char *lg = str(c, json_object_get(o, "logger"));
        s->logger = lg ? logger_of(lg) : GEN_LOG_TEXT;
        if (s->logger < 0)
            return fail(c, "unknown logger", lg);
        if (json_object_get(o, "memory_mib"))
            s->revs[0].memory_mib = (int)num(c, json_object_get(o, "memory_mib"), 512);
        s->call_p = num(c, json_object_get(o, "call_p"), 0.6);
        s->timeout_ms = (int)num(c, json_object_get(o, "timeout_ms"), 10000);
        s->caller_errors = for_lang(json_object_get(o, "caller_errors"), lang);
        s->caller_msgs = for_lang(json_object_get(o, "caller_msgs"), lang);
    }
    /* the call graph, once every service exists */
    json_array_foreach(svcs, i, o)
    {
        gen_svc *s = &w->svcs[i];
        const json_t *calls = json_object_get(o, "calls");
        size_t k;
        const json_t *x;
        json_array_foreach(calls, k, x)
        {
            int callee = svc_index(w, json_string_value(x));
            if (callee < 0 || s->n_callees >= 4)
                return fail(c, "unknown callee", json_string_value(x));
            s->callees[s->n_callees++] = callee;
        }
    }
    return 0;
}

static int one_change(ctx *c, const json_t *ch)
{
    gen_world *w = c->w;
    const char *kind = json_string_value(json_object_get(ch, "kind"));
    const char *sname = str(c, json_object_get(ch, "service"));
    int svc = svc_index(w, sname);
    int64_t t = when(c, ch, w->t0 + (w->t1 - w->t0) / 2);
    if (!kind)
        return fail(c, "a change needs a kind", NULL);
    if (strcmp(kind, "secret") == 0) {
        const char *secret = str(c, json_object_get(ch, "secret"));
        gen_add_secret_version(w, secret ? secret : "app-secret", t);
        return add_mark(c, ch, -1, -1, -1, t);
    }
    if (svc < 0)
        return fail(c, "a change names an unknown service", sname);
    int prev = serving(w, svc);
    int rev;
    if (strcmp(kind, "deploy") == 0 || strcmp(kind, "config") == 0 ||
        strcmp(kind, "canary") == 0) {
        const char *api = str(c, json_object_get(ch, "api"));
        w->next_api = api && strcmp(api, "v1") == 0 ? 1 : api && strcmp(api, "v2") == 0 ? 2 : 0;
        w->ready_delay_ns = (int64_t)(num(c, json_object_get(ch, "ready_after_s"), 0) * 1e9);
        bool canary = strcmp(kind, "canary") == 0;
        int pct = canary ? 0 : (int)num(c, json_object_get(ch, "pct"), 100);
        const char *drop = str(c, json_object_get(ch, "drop_env"));
        rev = drop ? gen_deploy_drop_env(w, svc, t, pct, drop)
                   : gen_deploy(w, svc, t, strcmp(kind, "config") == 0, pct);
        w->next_api = 0;
        w->ready_delay_ns = 0;
        if (canary) {
            int cpct = (int)num(c, json_object_get(ch, "pct"), 10);
            gen_traffic_update(w, svc, t + (int64_t)gen_range(&w->rng, 60, 300) * GEN_NS_PER_SEC,
                               prev, 100 - cpct, rev);
        }
        if (json_is_integer(json_object_get(ch, "memory_mib")))
            w->svcs[svc].revs[rev].memory_mib =
                (int)json_integer_value(json_object_get(ch, "memory_mib"));
    } else if (strcmp(kind, "failed_rollout") == 0) {
        gen_fault f;
        const json_t *fo = json_object_get(ch, "crash");
        bool image_pull = json_is_true(json_object_get(ch, "image_pull"));
        if (!image_pull && make_fault(c, fo, svc, &f) < 0)
            return -1;
        if (image_pull) {
            memset(&f, 0, sizeof(f));
            f.counts = true;
        }
        rev = gen_failed_rollout(w, svc, t, &f,
                                 (int64_t)(num(c, json_object_get(ch, "crash_s"), 240) * 1e9),
                                 image_pull);
    } else if (strcmp(kind, "rejected") == 0) {
        gen_failed_deploy(w, svc, t);
        return 0;
    } else {
        return fail(c, "unknown change kind", kind);
    }
    if (json_is_true(json_object_get(ch, "innocent")) && w->n_innocent < 8)
        w->innocent[w->n_innocent++] = (gen_change){svc, rev, t};
    return add_mark(c, ch, svc, rev, prev, t);
}

static int setup_faults(ctx *c, const json_t *doc)
{
    gen_world *w = c->w;
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(doc, "faults"), i, o)
    {
        const json_t *names = json_object_get(o, "services");
        const json_t *one = json_object_get(o, "service");
        size_t n = json_is_array(names) ? json_array_size(names) : 1;
        for (size_t k = 0; k < n; k++) {
            const char *name = json_is_array(names) ? json_string_value(json_array_get(names, k))
                                                    : json_string_value(one);
            int svc = svc_index(w, name);
            if (svc < 0)
                return fail(c, "a fault names an unknown service", name);
            gen_fault f;
            if (make_fault(c, o, svc, &f) < 0)
                return -1;
            if (k > 0) /* the other services notice a few seconds apart */
                f.t0 += (int64_t)gen_range(&w->rng, 0, 20) * GEN_NS_PER_SEC;
            if (gen_add_fault(w, &f) < 0)
                return fail(c, "too many faults", name);
        }
    }
    return 0;
}

int gen_scenfile_setup(gen_world *w, json_t *doc, double rate, char *err, size_t errlen)
{
    ctx c = {w, rate, err, errlen};
    if (setup_services(&c, doc) < 0)
        return -1;
    const json_t *noise = json_object_get(doc, "noise");
    if (gen_chance(&w->rng, num(&c, json_object_get(noise, "rejected_deploy_p"), 0.25)))
        gen_failed_deploy(w, (int)gen_below(&w->rng, (uint32_t)w->n_svcs),
                          w->t0 + (int64_t)((double)(w->t1 - w->t0) *
                                            (0.05 + 0.9 * gen_unit(&w->rng))));
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(doc, "changes"), i, o) if (one_change(&c, o) < 0) return -1;
    const json_t *surge = json_object_get(doc, "surge");
    if (surge) {
        int svc = svc_index(w, str(&c, json_object_get(surge, "service")));
        if (svc < 0)
            return fail(&c, "the surge names an unknown service", NULL);
        gen_svc *s = &w->svcs[svc];
        s->surge_t = when(&c, surge, w->t0 + (w->t1 - w->t0) / 2);
        s->surge_mult = num(&c, json_object_get(surge, "mult"), 4);
        gen_scale_out(w, svc, s->surge_t + 20 * GEN_NS_PER_SEC,
                      (int)num(&c, json_object_get(surge, "scale_out"), 2));
        if (w->n_marks < (int)FL_ARRAY_LEN(w->marks)) {
            int m = w->n_marks++;
            snprintf(w->marks[m].id, sizeof(w->marks[m].id), "surge");
            w->marks[m].svc = svc;
            w->marks[m].rev = w->marks[m].prev = -1;
            w->marks[m].t = s->surge_t;
        }
    }
    if (setup_faults(&c, doc) < 0)
        return -1;
    const json_t *oom = json_object_get(doc, "oom");
    if (oom) {
        int m = mark_index(w, json_string_value(json_object_get(oom, "revision")));
        if (m < 0 || w->marks[m].svc < 0)
            return fail(&c, "oom needs the id of a deploy in \"revision\"", NULL);
        int svc = w->marks[m].svc, rev = w->marks[m].rev;
        w->svcs[svc].revs[rev].memory_mib = (int)num(&c, json_object_get(oom, "memory_mib"), 512);
        int64_t first = w->marks[m].t +
                        (int64_t)(num(&c, json_object_get(oom, "first_after_s"), 480) * 1e9);
        if (first > w->t1 - 5 * GEN_NS_PER_MIN)
            first = w->t1 - 5 * GEN_NS_PER_MIN;
        gen_oom_series(w, svc, rev, first,
                       (int64_t)(num(&c, json_object_get(oom, "every_s"), 200) * 1e9));
    }
    return 0;
}

static json_t *rev_or_null(const gen_world *w, const char *id, bool prev)
{
    int m = mark_index(w, id);
    if (m < 0 || w->marks[m].svc < 0)
        return json_null();
    int rev = prev ? w->marks[m].prev : w->marks[m].rev;
    return rev >= 0 ? json_string(gen_rev_name(w, w->marks[m].svc, rev)) : json_null();
}

json_t *gen_scenfile_truth(const gen_world *w, json_t *doc, const char *name)
{
    const json_t *x = json_object_get(doc, "expect");
    const json_t *kind = json_object_get(x, "kind");
    json_t *kinds = json_array();
    if (json_is_string(kind))
        json_array_append(kinds, (json_t *)kind);
    else if (json_is_array(kind))
        json_array_extend(kinds, (json_t *)kind);
    const char *first = json_string_value(json_array_get(kinds, 0));
    json_t *exp = json_object();
    json_object_set_new(exp, "kind", json_string(first ? first : "none"));
    json_object_set_new(exp, "kinds", kinds);
    const json_t *svc = json_object_get(x, "service");
    json_object_set_new(exp, "service", json_is_string(svc) ? json_copy((json_t *)svc)
                                                            : json_null());
    json_t *svcs = json_array();
    if (json_is_string(svc))
        json_array_append(svcs, (json_t *)svc);
    if (json_is_array(json_object_get(x, "services")))
        json_array_extend(svcs, json_object_get(x, "services"));
    json_object_set_new(exp, "services", svcs);
    const char *rid = json_string_value(json_object_get(x, "revision"));
    json_object_set_new(exp, "revision", rid ? rev_or_null(w, rid, false) : json_null());
    json_object_set_new(exp, "previous_revision", rid ? rev_or_null(w, rid, true) : json_null());
    const json_t *cls = json_object_get(x, "class");
    json_object_set_new(exp, "error_class",
                        json_is_string(cls) ? json_copy((json_t *)cls) : json_null());
    const json_t *change = json_object_get(x, "change");
    json_object_set_new(exp, "change",
                        json_is_string(change) ? json_copy((json_t *)change) : json_null());
    const json_t *secret = json_object_get(x, "secret");
    json_object_set_new(exp, "secret",
                        json_is_string(secret) ? json_copy((json_t *)secret) : json_null());
    json_object_set_new(exp, "region", json_string(w->region));
    char ts[40], te[40];
    json_t *inn = json_array();
    for (int i = 0; i < w->n_innocent; i++) {
        const gen_change *c = &w->innocent[i];
        json_array_append_new(inn, json_pack("{s:s, s:s, s:s}", "service", w->svcs[c->svc].name,
                                             "revision", gen_rev_name(w, c->svc, c->rev), "time",
                                             gen_ts(c->t, 6, ts)));
    }
    json_t *root = json_object();
    json_object_set_new(root, "scenario", json_string(name));
    json_object_set_new(root, "seed", json_integer((json_int_t)w->seed));
    json_object_set_new(root, "project", json_string(w->project));
    json_object_set_new(root, "expected", exp);
    json_object_set_new(root, "innocent_changes", inn);
    bool has_onset = w->onset != 0 && first && strcmp(first, "none") != 0;
    json_object_set_new(root, "onset", has_onset ? json_string(gen_ts(w->onset, 6, ts))
                                                 : json_null());
    json_object_set_new(
        root, "window",
        json_pack("{s:s, s:s}", "start", gen_ts(w->t0, 6, ts), "end", gen_ts(w->t1, 6, te)));
    return root;
}
