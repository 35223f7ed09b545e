/* Rule files: reading, validating and compiling them, overrides by id, and the finished rule
 * set (evaluation order and prefilter). The format is documented in docs/rules.md. */
#include "fl_patterns_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RULE_FILE_MAX (4 * 1024 * 1024)
#define DEFAULT_PRIORITY 100
#define MSG_MAX 512

/* Where problems go: load stops at the first, check collects them all. */
typedef struct loader {
    fl_diag *diag; /* check mode when set */
    char *errbuf;
    size_t errlen;
    int problems;
    int first_code;
    fl_rule **rules;
    size_t n_rules, cap_rules;
} loader;

static void problem(loader *ld, int code, const char *file, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void problem(loader *ld, int code, const char *file, uint64_t line, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ld->problems++ == 0) {
        ld->first_code = code;
        if (ld->errbuf && ld->errlen) {
            if (line)
                snprintf(ld->errbuf, ld->errlen, "%s:%llu: %s", file, (unsigned long long)line,
                         msg);
            else
                snprintf(ld->errbuf, ld->errlen, "%s: %s", file, msg);
        }
    }
    if (ld->diag)
        fl_diag_warn(ld->diag, FL_WARN_OTHER, file, line, "%s", msg);
}

static bool stop(const loader *ld)
{
    return !ld->diag && ld->problems > 0;
}

static void rule_free(fl_rule *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->info.n_remediation; i++)
        fl_free(r->remediation[i]);
    fl_free(r->remediation);
    for (size_t i = 0; i < r->n_re; i++) {
        pcre2_code_free(r->re[i]);
        fl_free(r->re_src[i]);
    }
    fl_free(r->re);
    fl_free(r->re_src);
    for (size_t i = 0; i < r->n_veto; i++)
        pcre2_code_free(r->veto[i]);
    fl_free(r->veto);
    fl_literals_free(r->literals, r->n_literals);
    fl_free(r->id);
    fl_free(r->class_id);
    fl_free(r->title);
    fl_free(r->file);
    fl_free(r);
}

/* The line where a rule's id is written, so messages point into the file; 0 if not found. */
static uint64_t id_line(const char *text, size_t len, const char *id)
{
    if (!text || !id)
        return 0;
    size_t idlen = strlen(id);
    for (const char *p = text; (p = memmem(p, len - (size_t)(p - text), "\"id\"", 4)); p += 4) {
        const char *q = p + 4;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == ':')
            q++;
        if (*q == '"' && strncmp(q + 1, id, idlen) == 0 && q[1 + idlen] == '"') {
            uint64_t line = 1;
            for (const char *c = text; c < p; c++)
                line += *c == '\n';
            return line;
        }
    }
    return 0;
}

static bool valid_name(const char *s, const char *extra)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
            return false;
    return true;
}

typedef struct rule_ctx {
    loader *ld;
    const char *file;
    const char *text; /* the file's text, to find the rule's line when a message needs it */
    size_t text_len;
    const char *id;
    size_t index;
} rule_ctx;

/* The line of the rule's id: looked up only for a message, as searching the file for every
 * rule was a tenth of loading the rules (issue 15). */
static uint64_t rule_line(const rule_ctx *rc)
{
    return id_line(rc->text, rc->text_len, rc->id);
}

#define RULE_PROBLEM(rc, fmt, ...)                                                                 \
    problem((rc)->ld, FL_EINVAL, (rc)->file, rule_line(rc), "rule #%zu '%s': " fmt, (rc)->index + 1,  \
            (rc)->id ? (rc)->id : "?", __VA_ARGS__)

static pcre2_code *compile(rule_ctx *rc, const char *key, size_t i, const char *src)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_MULTILINE, &err, &off, NULL);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof(msg));
        RULE_PROBLEM(rc, "%s[%zu]: PCRE2 error at offset %zu: %s", key, i, (size_t)off,
                     (const char *)msg);
        return NULL;
    }
    size_t at;
    if (rc->ld->diag && fl_regex_nested_unbounded(src, &at))
        RULE_PROBLEM(rc, "%s[%zu]: nested unbounded quantifier at offset %zu (the group repeats "
                         "something that repeats: catastrophic backtracking; bound the inner or "
                         "outer repeat, or make it possessive)",
                     key, i, at);
    return code;
}

/* A string or an array of strings, as a list. Returns the count, or -1 when malformed. */
static int string_list(rule_ctx *rc, json_t *v, const char *key, const char **items, int max)
{
    if (json_is_string(v)) {
        items[0] = json_string_value(v);
        return 1;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        RULE_PROBLEM(rc, "'%s' must be a string or a non-empty array of strings", key);
        return -1;
    }
    if (json_array_size(v) > (size_t)max) {
        RULE_PROBLEM(rc, "'%s' has more than %d entries", key, max);
        return -1;
    }
    size_t i;
    json_t *it;
    json_array_foreach(v, i, it)
    {
        if (!json_is_string(it) || !*json_string_value(it)) {
            RULE_PROBLEM(rc, "'%s'[%zu] must be a non-empty string", key, i);
            return -1;
        }
        items[i] = json_string_value(it);
    }
    return (int)json_array_size(v);
}

static const char *const known_keys[] = {"id",       "class",    "title",       "severity",
                                         "implies",  "regex",    "not",         "any_severity",
                                         "literals", "priority", "remediation", "description"};

static const char *req_string(rule_ctx *rc, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || !*json_string_value(v)) {
        RULE_PROBLEM(rc, "'%s' is required and must be a non-empty string", key);
        return NULL;
    }
    return json_string_value(v);
}

/* Parses one rule object. Returns the rule, or NULL after reporting every problem found. */
static fl_rule *parse_rule(loader *ld, const char *file, const char *text, size_t text_len,
                           size_t index, json_t *obj)
{
    rule_ctx rc = {.ld = ld, .file = file, .text = text, .text_len = text_len, .index = index};
    int before = ld->problems;
    if (!json_is_object(obj)) {
        RULE_PROBLEM(&rc, "%s", "is not a JSON object");
        return NULL;
    }
    json_t *idv = json_object_get(obj, "id");
    rc.id = json_is_string(idv) ? json_string_value(idv) : NULL;

    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < FL_ARRAY_LEN(known_keys); k++)
            known = known || strcmp(key, known_keys[k]) == 0;
        if (!known && key[0] != '_')
            RULE_PROBLEM(&rc, "unknown key '%s'", key);
    }

    const char *id = req_string(&rc, obj, "id");
    if (id && !valid_name(id, "_.:-"))
        RULE_PROBLEM(&rc, "%s", "'id' may hold only letters, digits and _ . : -");
    const char *class_id = req_string(&rc, obj, "class");
    if (class_id && !valid_name(class_id, "_"))
        RULE_PROBLEM(&rc, "'class' '%s' may hold only letters, digits and _", class_id);
    const char *title = req_string(&rc, obj, "title");
    const char *sev = req_string(&rc, obj, "severity");
    int severity = sev ? fl_severity_parse(sev, strlen(sev)) : -1;
    if (sev && severity < 0)
        RULE_PROBLEM(&rc, "unknown severity '%s'", sev);
    const char *impl = req_string(&rc, obj, "implies");
    fl_implies implies = fl_implies_parse(impl);
    if (impl && implies == FL_IMPLIES_UNKNOWN)
        RULE_PROBLEM(&rc,
                     "'implies' is '%s'; expected dependency, resource, config, load or "
                     "platform",
                     impl);

    bool any_severity = false;
    if ((v = json_object_get(obj, "any_severity"))) {
        if (!json_is_boolean(v))
            RULE_PROBLEM(&rc, "%s", "'any_severity' must be true or false");
        any_severity = json_is_true(v);
    }
    int priority = DEFAULT_PRIORITY;
    if ((v = json_object_get(obj, "priority"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000)
            RULE_PROBLEM(&rc, "%s", "'priority' must be an integer from 0 to 1000");
        else
            priority = (int)json_integer_value(v);
    }

    const char *re_src[32], *veto_src[32], *lit_src[64], *steps[32];
    int n_re = -1, n_veto = 0, n_lit = 0, n_steps = -1;
    if (!(v = json_object_get(obj, "regex")))
        RULE_PROBLEM(&rc, "%s", "'regex' is required");
    else
        n_re = string_list(&rc, v, "regex", re_src, (int)FL_ARRAY_LEN(re_src));
    if ((v = json_object_get(obj, "not")))
        n_veto = string_list(&rc, v, "not", veto_src, (int)FL_ARRAY_LEN(veto_src));
    if ((v = json_object_get(obj, "literals"))) {
        n_lit = json_is_array(v)
                    ? string_list(&rc, v, "literals", lit_src, (int)FL_ARRAY_LEN(lit_src))
                    : -1;
        if (!json_is_array(v))
            RULE_PROBLEM(&rc, "%s", "'literals' must be an array of strings");
    }
    if (!(v = json_object_get(obj, "remediation")) || !json_is_array(v))
        RULE_PROBLEM(&rc, "%s", "'remediation' is required: an array of steps");
    else
        n_steps = string_list(&rc, v, "remediation", steps, (int)FL_ARRAY_LEN(steps));

    fl_rule *r = fl_calloc(1, sizeof(*r));
    if (!r) {
        problem(ld, FL_ENOMEM, file, rule_line(&rc), "out of memory");
        return NULL;
    }
    /* Compile even when other fields are wrong, so check reports regex errors too. */
    if (n_re > 0) {
        r->re = fl_calloc((size_t)n_re, sizeof(*r->re));
        r->re_src = fl_calloc((size_t)n_re, sizeof(*r->re_src));
        if (r->re && r->re_src) {
            for (int i = 0; i < n_re; i++) {
                r->re[r->n_re] = compile(&rc, "regex", (size_t)i, re_src[i]);
                r->re_src[r->n_re] = fl_strdup(re_src[i]);
                if (r->re[r->n_re])
                    r->n_re++;
                else
                    fl_free(r->re_src[r->n_re]);
            }
        }
    }
    if (n_veto > 0 && (r->veto = fl_calloc((size_t)n_veto, sizeof(*r->veto)))) {
        for (int i = 0; i < n_veto; i++)
            if ((r->veto[r->n_veto] = compile(&rc, "not", (size_t)i, veto_src[i])))
                r->n_veto++;
    }
    for (size_t i = 0; i < r->n_re; i++) {
        uint32_t count = 0, entry_size = 0;
        PCRE2_SPTR table = NULL;
        pcre2_pattern_info(r->re[i], PCRE2_INFO_NAMECOUNT, &count);
        pcre2_pattern_info(r->re[i], PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
        pcre2_pattern_info(r->re[i], PCRE2_INFO_NAMETABLE, &table);
        for (uint32_t k = 0; k < count; k++) {
            const char *name = (const char *)table + k * entry_size + 2;
            if (strlen(name) >= FL_FIELD_NAME_MAX)
                RULE_PROBLEM(&rc, "capture name '%s' is longer than %d bytes", name,
                             FL_FIELD_NAME_MAX - 1);
        }
    }
    if (n_lit > 0 && (r->literals = fl_calloc((size_t)n_lit, sizeof(char *)))) {
        for (int i = 0; i < n_lit; i++) {
            char *s = fl_strdup(lit_src[i]);
            if (!s)
                break;
            for (char *c = s; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            r->literals[r->n_literals++] = s;
        }
    }
    if (n_steps > 0 && (r->remediation = fl_calloc((size_t)n_steps, sizeof(char *)))) {
        for (int i = 0; i < n_steps; i++)
            if ((r->remediation[r->info.n_remediation] = fl_strdup(steps[i])))
                r->info.n_remediation++;
    }
    r->id = id ? fl_strdup(id) : NULL;
    r->class_id = class_id ? fl_strdup(class_id) : NULL;
    r->title = title ? fl_strdup(title) : NULL;
    r->file = fl_strdup(file);

    if (ld->problems != before) {
        rule_free(r);
        return NULL;
    }
    if (!r->id || !r->class_id || !r->title || !r->file || r->n_re != (size_t)n_re ||
        r->n_veto != (size_t)n_veto || r->n_literals != (size_t)n_lit ||
        r->info.n_remediation != (size_t)n_steps) {
        problem(ld, FL_ENOMEM, file, rule_line(&rc), "out of memory");
        rule_free(r);
        return NULL;
    }
    r->priority = priority;
    r->info.id = r->id;
    r->info.class_id = r->class_id;
    r->info.title = r->title;
    r->info.severity = severity;
    r->info.implies = implies;
    r->info.any_severity = any_severity;
    r->info.remediation = (const char *const *)r->remediation;
    r->info.file = r->file;
    return r;
}

/* Adds a rule, replacing an earlier one with the same id (from an earlier file). */
static void add_rule(loader *ld, fl_rule *r, size_t first_of_file)
{
    for (size_t i = 0; i < ld->n_rules; i++) {
        if (strcmp(ld->rules[i]->id, r->id) != 0)
            continue;
        if (i >= first_of_file) {
            problem(ld, FL_EINVAL, r->file, 0, "rule '%s': duplicate id in the same file", r->id);
            rule_free(r);
            return;
        }
        rule_free(ld->rules[i]);
        ld->rules[i] = r;
        return;
    }
    if (ld->n_rules == ld->cap_rules) {
        size_t cap = ld->cap_rules ? ld->cap_rules * 2 : 64;
        fl_rule **n = fl_realloc(ld->rules, cap * sizeof(*n));
        if (!n) {
            problem(ld, FL_ENOMEM, r->file, 0, "out of memory");
            rule_free(r);
            return;
        }
        ld->rules = n;
        ld->cap_rules = cap;
    }
    ld->rules[ld->n_rules++] = r;
}

static char *read_file(const char *path, size_t *len, const char **why)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = strerror(errno);
        return NULL;
    }
    fl_buf b;
    fl_buf_init(&b, RULE_FILE_MAX);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = fl_buf_add(&b, chunk, n);
    bool err = ferror(f);
    fclose(f);
    if (rc || err) {
        *why = rc == FL_ETOOBIG ? "file larger than 4 MiB" : "read error";
        fl_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    char *text = fl_buf_detach(&b);
    if (!text)
        text = fl_strdup("");
    return text;
}

static void load_file(loader *ld, const char *path)
{
    size_t len = 0;
    const char *why = "out of memory";
    char *text = read_file(path, &len, &why);
    if (!text) {
        problem(ld, FL_EINVAL, path, 0, "cannot read rule file: %s", why);
        return;
    }
    json_error_t jerr;
    json_t *root = fl_rules_json_load(text, len, &jerr);
    if (!root) {
        problem(ld, FL_EPARSE, path, jerr.line > 0 ? (uint64_t)jerr.line : 0,
                "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        fl_free(text);
        return;
    }
    json_t *rules = json_object_get(root, "rules");
    if (!json_is_object(root) || !json_is_array(rules)) {
        problem(ld, FL_EPARSE, path, 0, "expected an object {\"rules\": [...]}");
    } else {
        size_t first_of_file = ld->n_rules, i;
        json_t *obj;
        json_array_foreach(rules, i, obj)
        {
            fl_rule *r = parse_rule(ld, path, text, len, i, obj);
            if (r)
                add_rule(ld, r, first_of_file);
            if (stop(ld))
                break;
        }
    }
    json_decref(root);
    fl_free(text);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_json_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0 && name[0] != '.';
}

/* Loads one directory (its *.json in sorted order) or one file. */
static void load_path(loader *ld, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        problem(ld, FL_EINVAL, path, 0, "cannot open rule directory: %s", strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        load_file(ld, path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        problem(ld, FL_EINVAL, path, 0, "cannot open rule directory: %s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!has_json_suffix(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = fl_realloc(names, cap * sizeof(*nn));
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = fl_strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n == 0)
        problem(ld, FL_EINVAL, path, 0, "no *.json rule files in this directory");
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (!stop(ld)) {
            size_t plen = strlen(path) + strlen(names[i]) + 2;
            char *full = fl_malloc(plen);
            if (full) {
                snprintf(full, plen, "%s/%s", path, names[i]);
                load_file(ld, full);
                fl_free(full);
            }
        }
        fl_free(names[i]);
    }
    fl_free(names);
}

static void free_rule_list(loader *ld)
{
    for (size_t i = 0; i < ld->n_rules; i++)
        rule_free(ld->rules[i]);
    fl_free(ld->rules);
    ld->rules = NULL;
    ld->n_rules = 0;
}

void fl_rules_free(fl_rules *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n_regex; i++)
        fl_free(rs->regex[i].names);
    fl_free(rs->regex);
    for (size_t i = 0; i < rs->n_rules; i++)
        rule_free(rs->rules[i]);
    fl_free(rs->rules);
    fl_prefilter_free(rs->pf);
    fl_free(rs->unfiltered);
    fl_prefilter_free(rs->pf_any);
    fl_free(rs->unfiltered_any);
    pthread_mutex_destroy(&rs->jit_lock);
    fl_free(rs);
}

typedef struct eval_key {
    int priority;
    uint32_t index;
} eval_key;

/* Higher priority first, then load order: fully determined, so qsort's instability is moot. */
static int cmp_eval(const void *a, const void *b)
{
    const eval_key *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static uint32_t capture_count(pcre2_code *c)
{
    uint32_t n = 0;
    pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &n);
    return n + 1;
}

/* Evaluation order, JIT, capture names and the prefilter. */
/* The prefilter and unfiltered list of the any_severity rules alone, for entries only those
 * may classify (INFO lines): the same candidates the full prefilter gives them after the
 * severity gate drops the rest, found with a much sparser bitmap (issue 15). */
static int build_any_severity(fl_rules *rs, fl_pf_literal *lits, size_t n_lits)
{
    if (!rs->n_any_severity)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < n_lits; i++)
        if (rs->rules[rs->regex[lits[i].regex].rule]->info.any_severity)
            lits[n++] = lits[i];
    rs->unfiltered_any = fl_calloc(rs->n_unfiltered + 1, sizeof(*rs->unfiltered_any));
    if (!rs->unfiltered_any)
        return FL_ENOMEM;
    for (size_t i = 0; i < rs->n_unfiltered; i++)
        if (rs->rules[rs->regex[rs->unfiltered[i]].rule]->info.any_severity)
            rs->unfiltered_any[rs->n_unfiltered_any++] = rs->unfiltered[i];
    return fl_prefilter_build(&rs->pf_any, lits, n);
}

static int finish(fl_rules *rs)
{
    size_t n_regex = 0;
    for (size_t i = 0; i < rs->n_rules; i++)
        n_regex += rs->rules[i]->n_re;
    eval_key *order = fl_malloc((rs->n_rules + 1) * sizeof(*order));
    rs->regex = fl_calloc(n_regex + 1, sizeof(*rs->regex));
    rs->unfiltered = fl_calloc(n_regex + 1, sizeof(*rs->unfiltered));
    if (!order || !rs->regex || !rs->unfiltered) {
        fl_free(order);
        return FL_ENOMEM;
    }
    for (size_t i = 0; i < rs->n_rules; i++)
        order[i] = (eval_key){.priority = rs->rules[i]->priority, .index = (uint32_t)i};
    qsort(order, rs->n_rules, sizeof(*order), cmp_eval);

    fl_pf_literal *lits = NULL;
    /* Derived literals live until the automaton is built: one array per regex. */
    char ***owned = fl_calloc(n_regex + 1, sizeof(*owned));
    size_t *owned_n = fl_calloc(n_regex + 1, sizeof(*owned_n));
    size_t n_lits = 0, cap_lits = 0, n_owned = 0;
    if (!owned || !owned_n) {
        fl_free(owned);
        fl_free(owned_n);
        fl_free(order);
        return FL_ENOMEM;
    }
    int rc = 0;
    rs->max_ovec = 1;
    for (size_t oi = 0; oi < rs->n_rules && rc == 0; oi++) {
        fl_rule *r = rs->rules[order[oi].index];
        rs->n_any_severity += r->info.any_severity;
        for (size_t k = 0; k < r->n_veto; k++) {
            rs->max_ovec = FL_MAX(rs->max_ovec, capture_count(r->veto[k]));
        }
        for (size_t k = 0; k < r->n_re && rc == 0; k++) {
            uint32_t ri = (uint32_t)rs->n_regex++;
            fl_regex *x = &rs->regex[ri];
            x->code = r->re[k];
            x->rule = order[oi].index;
            x->jit = false; /* compiled on first use: fl_rules_jit */
            rs->max_ovec = FL_MAX(rs->max_ovec, capture_count(x->code));

            uint32_t count = 0, entry_size = 0;
            PCRE2_SPTR table = NULL;
            pcre2_pattern_info(x->code, PCRE2_INFO_NAMECOUNT, &count);
            pcre2_pattern_info(x->code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
            pcre2_pattern_info(x->code, PCRE2_INFO_NAMETABLE, &table);
            if (count) {
                x->names = fl_calloc(count, sizeof(*x->names));
                if (!x->names) {
                    rc = FL_ENOMEM;
                    break;
                }
                for (uint32_t j = 0; j < count; j++) {
                    const unsigned char *e = table + j * entry_size;
                    x->names[j].group = (uint32_t)e[0] << 8 | e[1];
                    snprintf(x->names[j].name, sizeof(x->names[j].name), "%s", (const char *)e + 2);
                }
                /* Report fields in the order they appear in the pattern, not by name. */
                for (uint32_t a = 1; a < count; a++)
                    for (uint32_t b = a; b > 0 && x->names[b].group < x->names[b - 1].group; b--) {
                        fl_capture_name t = x->names[b];
                        x->names[b] = x->names[b - 1];
                        x->names[b - 1] = t;
                    }
                x->n_names = count;
            }

            char **derived = NULL;
            char **use = r->literals;
            int n_use = (int)r->n_literals;
            if (!use) {
                n_use = fl_literals_derive(r->re_src[k], &derived);
                if (n_use < 0) {
                    rc = n_use;
                    break;
                }
                use = derived;
            }
            if (n_use == 0) {
                rs->unfiltered[rs->n_unfiltered++] = ri;
                continue;
            }
            if (n_lits + (size_t)n_use > cap_lits) {
                cap_lits = (cap_lits + (size_t)n_use) * 2;
                fl_pf_literal *nl = fl_realloc(lits, cap_lits * sizeof(*nl));
                if (!nl) {
                    fl_literals_free(derived, (size_t)n_use);
                    rc = FL_ENOMEM;
                    break;
                }
                lits = nl;
            }
            for (int j = 0; j < n_use; j++)
                lits[n_lits++] = (fl_pf_literal){.text = use[j], .regex = ri};
            if (derived) {
                owned[n_owned] = derived;
                owned_n[n_owned++] = (size_t)n_use;
            }
        }
    }
    if (rc == 0)
        rc = fl_prefilter_build(&rs->pf, lits, n_lits);
    if (rc == 0)
        rc = build_any_severity(rs, lits, n_lits);
    for (size_t i = 0; i < n_owned; i++)
        fl_literals_free(owned[i], owned_n[i]);
    fl_free(owned);
    fl_free(owned_n);
    fl_free(lits);
    fl_free(order);
    return rc;
}

static void run_loader(loader *ld, const char *const *dirs, size_t n_dirs)
{
    if (n_dirs == 0)
        problem(ld, FL_EINVAL, "(none)", 0, "no rule directories given");
    for (size_t i = 0; i < n_dirs && !stop(ld); i++)
        load_path(ld, dirs[i]);
    if (!stop(ld) && ld->problems == 0 && ld->n_rules == 0)
        problem(ld, FL_EINVAL, n_dirs ? dirs[0] : "(none)", 0, "no rules loaded");
}

int fl_rules_load(fl_rules **out, const char *const *dirs, size_t n_dirs, char *errbuf,
                  size_t errlen)
{
    *out = NULL;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    loader ld = {.errbuf = errbuf, .errlen = errlen};
    run_loader(&ld, dirs, n_dirs);
    if (ld.problems) {
        free_rule_list(&ld);
        return ld.first_code ? ld.first_code : FL_EINVAL;
    }
    fl_rules *rs = fl_calloc(1, sizeof(*rs));
    if (!rs) {
        free_rule_list(&ld);
        return FL_ENOMEM;
    }
    pthread_mutex_init(&rs->jit_lock, NULL);
    rs->rules = ld.rules;
    rs->n_rules = ld.n_rules;
    int rc = finish(rs);
    if (rc) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "building the rule set: %s", fl_strerror(rc));
        fl_rules_free(rs);
        return rc;
    }
    *out = rs;
    return 0;
}

int fl_rules_check(const char *const *dirs, size_t n_dirs, fl_diag *diag)
{
    if (!diag)
        return FL_EINVAL;
    loader ld = {.diag = diag};
    run_loader(&ld, dirs, n_dirs);
    free_rule_list(&ld);
    return ld.problems;
}

size_t fl_rules_count(const fl_rules *rs)
{
    return rs ? rs->n_rules : 0;
}

const fl_rule_info *fl_rules_get(const fl_rules *rs, size_t i)
{
    return rs && i < rs->n_rules ? &rs->rules[i]->info : NULL;
}

const fl_rule_info *fl_rules_find_class(const fl_rules *rs, const char *class_id)
{
    for (size_t i = 0; rs && class_id && i < rs->n_rules; i++)
        if (strcmp(rs->rules[i]->class_id, class_id) == 0)
            return &rs->rules[i]->info;
    return NULL;
}
