/* faultline classify [--all] INPUT...: what each entry is, one JSON object per line. */
#include "cli_analysis.h"
#include "fl_cli.h"
#include "fl_gate_prescan.h"
#include "fl_reports.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct classify_args {
    bool all;
    fl_strv patterns;
    bool slow_json;
    bool no_multiline;
    bool no_redact;
    const char *output;
    fl_filter_args filter;
};

static const fl_opt classify_opts[] = {
    {"all", 'a', FL_OPT_FLAG, NULL, "print every entry, not only errors and rule matches",
     offsetof(struct classify_args, all), 0, 0, NULL},
    {"patterns", 'p', FL_OPT_STRINGS, "DIR",
     "load rule files from DIR too; a rule id that exists overrides the built-in",
     offsetof(struct classify_args, patterns), 0, 0, NULL},
    {"output", 'o', FL_OPT_STRING, "FILE", "write to FILE instead of standard output",
     offsetof(struct classify_args, output), 0, 0, NULL},
    {"slow-json", 0, FL_OPT_FLAG, NULL, NULL, /* internal: differential tests */
     offsetof(struct classify_args, slow_json), 0, 0, NULL},
    {"no-multiline", 0, FL_OPT_FLAG, NULL, "do not reassemble stack traces split across entries",
     offsetof(struct classify_args, no_multiline), 0, 0, NULL},
    {"no-redact", 0, FL_OPT_FLAG, NULL, "print secrets found in messages as they are (warns)",
     offsetof(struct classify_args, no_redact), 0, 0, NULL},
    FL_FILTER_OPTS(struct classify_args, filter),
    FL_OPT_END,
};

static const char classify_epilog[] =
    "Each line is {\"insertId\", \"timestamp\", \"service\", \"revision\", \"severity\",\n"
    "\"class\", \"rule\", \"group\", \"template\", \"fields\", \"message\", \"family\",\n"
    "\"family_template\"}; class and rule are null when no rule matched. \"group\" is the key\n"
    "analyze groups the entry under (the class, or fp: and the fingerprint of the masked\n"
    "template); \"family\" merges templates that differ only where values vary (computed over\n"
    "all entries, so output appears at the end of the input). Without --all only entries that matched a rule or are errors (severity ERROR or\n"
    "above, HTTP 5xx) are printed. Secrets in messages and fields are redacted unless\n"
    "--no-redact is given. Request-log lines without text print the request line instead\n"
    "(\"GET /api/v1/cart/48245 -> 500\"). Duplicates (same insertId, logName, timestamp) are\n"
    "printed once.\n"
    "\n"
    "Example:\n"
    "  faultline classify --since 1h --service checkout-api incident.json | jq -r .class\n"
    "\n";

static const fl_cmd_spec classify_spec = {
    .name = "classify",
    .usage = "[INPUT...]",
    .summary = "Classify every log entry with the rules and print the result.",
    .opts = classify_opts,
    .epilog = classify_epilog,
};

/* Redacted copy of s as a JSON string (or s itself with no_redact). */
static json_t *text_json(const char *s, bool no_redact)
{
    if (no_redact)
        return json_string(s);
    char *r = fl_redact(s);
    json_t *j = r ? json_string(r) : NULL;
    fl_free(r);
    return j;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* One output line without its closing brace: the family is added once the whole set of
 * templates is known. Keys in a fixed order so the output diffs cleanly. */
static json_t *entry_json(const fl_entry *e, const fl_match *m, bool matched, const char *group,
                          const char *tmpl, bool no_redact)
{
    char ts[40] = "";
    json_t *o = json_object();
    json_t *fields = json_object();
    if (matched)
        for (size_t i = 0; i < m->n_fields; i++)
            json_object_set_new(fields, m->fields[i].name,
                                text_json(m->fields[i].value, no_redact));
    json_object_set_new(o, "insertId", json_string(e->insert_id));
    json_object_set_new(
        o, "timestamp",
        e->ts ? json_string(fl_time_format(e->ts, e->ts % FL_USEC_PER_SEC != 0, ts, sizeof ts))
              : json_null());
    json_object_set_new(o, "service", json_string(e->service));
    json_object_set_new(o, "revision", json_string(e->revision));
    json_object_set_new(o, "severity", json_string(fl_severity_name(e->severity)));
    json_object_set_new(o, "class", matched ? str_or_null(m->rule->class_id) : json_null());
    json_object_set_new(o, "rule", matched ? str_or_null(m->rule->id) : json_null());
    json_object_set_new(o, "group", json_string(group));
    json_object_set_new(o, "template", text_json(tmpl, no_redact));
    json_object_set_new(o, "fields", fields);
    if (!e->message[0] && (e->http_status || e->http_url[0])) {
        /* A request log has no text: its request line says what failed. */
        char line[2048];
        snprintf(line, sizeof line, "%s %s -> %d", e->http_method[0] ? e->http_method : "-",
                 e->http_url, e->http_status);
        json_object_set_new(o, "message", text_json(line, no_redact));
    } else {
        json_object_set_new(o, "message", text_json(e->message, no_redact));
    }
    return o;
}

/* Entries held until their families are known. Past HOLD_MAX_BYTES of held output the batch is
 * printed with the families of the templates seen so far, and a warning says so. */
#define HOLD_MAX_BYTES ((size_t)256 << 20)

typedef struct held {
    char *json;   /* the entry without its closing brace */
    long tmpl;    /* index into the distinct templates, -1 for a rule match */
    char *class_; /* the class of a rule match (its family) */
} held;

typedef struct holder {
    held *v;
    size_t n, cap, bytes;
    char **tmpl; /* distinct unmatched templates */
    size_t n_tmpl, cap_tmpl;
    uint32_t *slots; /* open addressing over tmpl: index + 1, 0 = empty */
    size_t n_slots;
    bool split_warned;
} holder;

static void holder_clear(holder *h)
{
    for (size_t i = 0; i < h->n; i++) {
        fl_free(h->v[i].json);
        fl_free(h->v[i].class_);
    }
    for (size_t i = 0; i < h->n_tmpl; i++)
        fl_free(h->tmpl[i]);
    if (h->slots)
        memset(h->slots, 0, h->n_slots * sizeof(*h->slots));
    h->n = h->bytes = h->n_tmpl = 0;
}

static void holder_free(holder *h)
{
    holder_clear(h);
    fl_free(h->v);
    fl_free(h->tmpl);
    fl_free(h->slots);
}

static int grow_slots(holder *h)
{
    size_t n = h->n_slots ? h->n_slots * 2 : 1024;
    uint32_t *s = fl_calloc(n, sizeof(*s));
    if (!s)
        return FL_ENOMEM;
    for (size_t i = 0; i < h->n_tmpl; i++) {
        size_t k = fl_hash64(h->tmpl[i], strlen(h->tmpl[i]), FL_HASH_SEED) & (n - 1);
        while (s[k])
            k = (k + 1) & (n - 1);
        s[k] = (uint32_t)i + 1;
    }
    fl_free(h->slots);
    h->slots = s;
    h->n_slots = n;
    return 0;
}

/* Index of tmpl among the distinct templates, added if new; negative on error. */
static long template_index(holder *h, const char *tmpl)
{
    if ((h->n_tmpl + 1) * 2 > h->n_slots && grow_slots(h))
        return FL_ENOMEM;
    size_t k = fl_hash64(tmpl, strlen(tmpl), FL_HASH_SEED) & (h->n_slots - 1);
    while (h->slots[k]) {
        if (strcmp(h->tmpl[h->slots[k] - 1], tmpl) == 0)
            return (long)h->slots[k] - 1;
        k = (k + 1) & (h->n_slots - 1);
    }
    if (h->n_tmpl == h->cap_tmpl) {
        size_t c = h->cap_tmpl ? h->cap_tmpl * 2 : 256;
        char **v = fl_realloc(h->tmpl, c * sizeof(*v));
        if (!v)
            return FL_ENOMEM;
        h->tmpl = v;
        h->cap_tmpl = c;
    }
    if (!(h->tmpl[h->n_tmpl] = fl_strdup(tmpl)))
        return FL_ENOMEM;
    h->slots[k] = (uint32_t)h->n_tmpl + 1;
    return (long)h->n_tmpl++;
}

static int hold(holder *h, json_t *o, long tmpl, const char *class_)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s)
        return FL_ENOMEM;
    size_t n = strlen(s);
    char *j = fl_strndup(s, n - 1); /* drop the closing brace */
    free(s);
    char *c = class_ ? fl_strdup(class_) : NULL;
    if (!j || (class_ && !c) ||
        (h->n == h->cap && !(h->v = fl_realloc(h->v, (h->cap = h->cap ? h->cap * 2 : 1024) *
                                                           sizeof(*h->v))))) {
        fl_free(j);
        fl_free(c);
        return FL_ENOMEM;
    }
    h->v[h->n++] = (held){j, tmpl, c};
    h->bytes += n;
    return 0;
}

/* Prints the held entries with their families and forgets them. */
static int flush_held(holder *h, bool no_redact, FILE *out)
{
    fl_families *fam = NULL;
    int rc = fl_families_build(&fam, (const char *const *)h->tmpl, h->n_tmpl);
    for (size_t i = 0; rc == 0 && i < h->n; i++) {
        const held *e = &h->v[i];
        const char *key = e->tmpl >= 0 ? fl_families_key(fam, (size_t)e->tmpl) : e->class_;
        const char *text = e->tmpl >= 0 ? fl_families_template(fam, (size_t)e->tmpl) : NULL;
        json_t *k = json_string(key), *t = text ? text_json(text, no_redact) : json_null();
        char *ks = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
        char *ts = t ? json_dumps(t, JSON_ENCODE_ANY) : NULL;
        if (!ks || !ts)
            rc = FL_ENOMEM;
        else if (fprintf(out, "%s,\"family\":%s,\"family_template\":%s}\n", e->json, ks, ts) < 0)
            rc = FL_EIO;
        free(ks);
        free(ts);
        json_decref(k);
        json_decref(t);
    }
    fl_families_free(fam);
    holder_clear(h);
    return rc;
}

static int classify_stream(const struct classify_args *args, const fl_strv *inputs,
                           const fl_rules *rules, fl_gate *gate, fl_diag *diag, FILE *out,
                           char *errbuf, size_t errlen)
{
    static const char *const stdin_only[] = {"-"};
    const char *emulator = getenv("STORAGE_EMULATOR_HOST"); /* for gs:// inputs */
    fl_reader_opts ro = {0, args->no_multiline, args->slow_json, 0, 0,
                         emulator && *emulator ? emulator : NULL, fl_cli_auth_env(), false};
    fl_reader *reader = NULL;
    fl_matcher *matcher = fl_matcher_new(rules);
    fl_prescan prescan = {0};
    holder h;
    fl_entry e;
    int rc = 0;
    const char *np = fl_cli_env("FL_NO_PREFILTER");
    if (matcher && np && strcmp(np, "0") != 0)
        fl_matcher_set_prefilter(matcher, false);

    if (!matcher)
        return FL_ENOMEM;
    memset(&h, 0, sizeof h);
    fl_entry_init(&e);
    const char *const *paths = inputs->n ? inputs->v : stdin_only;
    size_t n_paths = inputs->n ? inputs->n : 1;
    if (fl_gate_needs_newest(gate)) {
        rc = fl_gate_prescan(gate, paths, n_paths, &ro, &prescan, errbuf, errlen);
        paths = prescan.inputs;
    }
    if (rc == 0)
        rc = fl_reader_open(&reader, paths, n_paths, &ro, diag);
    while (rc == 0 && (rc = fl_reader_next(reader, &e)) == 1) {
        if (!fl_gate_admit(gate, &e)) {
            rc = 0;
            continue;
        }
        fl_match m;
        memset(&m, 0, sizeof m);
        int hit = fl_classify(rules, matcher, &e, &m);
        if (hit < 0) {
            rc = hit;
            break;
        }
        bool matched = hit > 0 && m.rule;
        bool error = e.severity >= FL_SEV_ERROR || e.http_status >= 500;
        rc = 0;
        if (!args->all && !matched && !error)
            continue;
        char tmpl[512], group[FL_GROUP_KEY_MAX];
        fl_group_key(&e, matched ? &m : NULL, tmpl, sizeof tmpl, group);
        long ti = matched ? -1 : template_index(&h, tmpl);
        json_t *o = ti >= -1 ? entry_json(&e, &m, matched, group, tmpl, args->no_redact) : NULL;
        if (!o || hold(&h, o, ti, matched ? group : NULL))
            rc = FL_ENOMEM;
        json_decref(o);
        if (rc == 0 && h.bytes > HOLD_MAX_BYTES) {
            if (!h.split_warned)
                fprintf(stderr, "faultline classify: warning: more than %zu MiB of output held; "
                                "families are computed per batch from here on\n",
                        HOLD_MAX_BYTES >> 20);
            h.split_warned = true;
            rc = flush_held(&h, args->no_redact, out);
        }
    }
    if (rc >= 0) {
        int f = flush_held(&h, args->no_redact, out);
        if (f)
            rc = f;
    }
    fl_matcher_warn_limits(matcher, diag);
    holder_free(&h);
    fl_entry_free(&e);
    fl_reader_free(reader);
    fl_matcher_free(matcher);
    fl_prescan_free(&prescan);
    return rc < 0 ? rc : 0;
}

int fl_cmd_classify(int argc, char **argv)
{
    struct classify_args args;
    fl_strv inputs = {NULL, 0};
    fl_rules *rules = NULL;
    fl_gate *gate = NULL;
    char err[1024];
    int status = FL_EXIT_USAGE;

    memset(&args, 0, sizeof args);
    int rc = fl_opts_parse(&classify_spec, argc, argv, &args, &inputs, err, sizeof err);
    if (rc == FL_OPTS_HELP) {
        fl_opts_help(&classify_spec, stdout);
        fputs(fl_cli_exit_codes_help, stdout);
        status = FL_EXIT_OK;
        goto out;
    }
    if (rc) {
        fprintf(stderr, "faultline classify: %s\n", err);
        goto out;
    }
    if (inputs.n == 0 && isatty(STDIN_FILENO)) {
        fprintf(stderr, "faultline classify: no input: name files or directories, or pipe logs "
                        "in (see 'faultline classify --help')\n");
        goto out;
    }
    if (args.no_redact)
        fprintf(stderr, "faultline classify: warning: --no-redact: secrets in log text are "
                        "printed as they are\n");
    fl_pipeline_opts po;
    memset(&po, 0, sizeof po);
    po.pattern_dirs = args.patterns.v;
    po.n_pattern_dirs = args.patterns.n;
    fl_cli_env_to_pipeline(&po);
    if ((rc = fl_pipeline_load_rules(&po, &rules, err, sizeof err)) != 0) {
        fprintf(stderr, "faultline classify: %s\n", err);
        goto out;
    }
    fl_filter_spec spec;
    fl_filter_args_to_spec(&args.filter, &spec);
    struct stat st;
    if (inputs.n <= 1 && !(inputs.n == 1 && stat(inputs.v[0], &st) == 0 && S_ISDIR(st.st_mode)))
        spec.no_dedup = true; /* one export holds each entry once (see fl_gate.h) */
    if ((rc = fl_gate_new(&gate, &spec, err, sizeof err)) != 0) {
        fprintf(stderr, "faultline classify: %s\n", err);
        goto out;
    }
    if (fl_cli_check_output("classify", args.output, &inputs))
        goto out;
    FILE *f = fl_cli_open_output("classify", args.output);
    if (!f)
        goto out;
    fl_diag diag;
    fl_diag_init(&diag);
    err[0] = '\0';
    rc = classify_stream(&args, &inputs, rules, gate, &diag, f, err, sizeof err);
    fl_cli_print_warnings("classify", &diag);
    if (rc == FL_ENOTFOUND) {
        fprintf(stderr, "faultline classify: no readable input\n");
        status = FL_EXIT_UNREADABLE;
    } else if (rc) {
        fprintf(stderr, "faultline classify: %s\n", err[0] ? err : fl_strerror(rc));
        status = FL_EXIT_UNREADABLE;
    } else {
        status = fl_diag_exit_status(&diag);
    }
    if (fl_cli_close_output("classify", f, args.output) && status == FL_EXIT_OK)
        status = FL_EXIT_USAGE;
    fl_diag_free(&diag);
out:
    fl_gate_free(gate);
    fl_rules_free(rules);
    fl_opts_free(&classify_spec, &args);
    fl_strv_free(&inputs);
    return status;
}
