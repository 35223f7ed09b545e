/* Golden rule tests: every line of the tests/data/rules files is classified with the built-in rules
 * and checked (class, rule, fields), once with the literal prefilter and once without; the two
 * runs must agree. Every built-in rule must be exercised by at least one "match" line, and
 * every file must hold at least one healthy look-alike. The format is in docs/rules.md. */
#include "fl_patterns_int.h"
#include "fl_test.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_ 16384

typedef struct expect {
    bool match;
    bool as_entry;
    int severity;
    fl_log_kind kind;
    char class_id[128];
    char rule_id[128];
    char text[LINE_MAX_];
    size_t len;
    char where[4200];
    struct {
        char name[FL_FIELD_NAME_MAX];
        char value[FL_FIELD_VALUE_MAX];
    } fields[FL_MATCH_MAX_FIELDS];
    size_t n_fields;
} expect;

/* Languages a golden line's source can be in. Every class must carry a phrasing of each of the
 * four client languages, unless its file says "exempt-languages" (the platform's own lines). */
enum { LANG_PYTHON = 1, LANG_NODE = 2, LANG_JAVA = 4, LANG_GO = 8, LANG_OTHER = 16 };
#define LANG_CLIENTS (LANG_PYTHON | LANG_NODE | LANG_JAVA | LANG_GO)
#define MAX_CLASSES 128

static struct {
    char name[128];
    unsigned langs;
    bool exempt;
} classes[MAX_CLASSES];
static size_t n_classes;

static unsigned lang_parse(const char *s)
{
    static const struct {
        const char *name;
        unsigned bit;
    } langs[] = {{"python", LANG_PYTHON}, {"node", LANG_NODE}, {"java", LANG_JAVA},
                 {"go", LANG_GO},         {"platform", LANG_OTHER}, {"any", LANG_OTHER}};
    for (size_t i = 0; i < FL_ARRAY_LEN(langs); i++)
        if (strcmp(s, langs[i].name) == 0)
            return langs[i].bit;
    return 0;
}

static void note_class(const char *name, unsigned lang, bool exempt)
{
    size_t i = 0;
    while (i < n_classes && strcmp(classes[i].name, name) != 0)
        i++;
    if (i == n_classes) {
        if (n_classes == MAX_CLASSES)
            return;
        snprintf(classes[n_classes++].name, sizeof(classes[0].name), "%s", name);
    }
    classes[i].langs |= lang;
    classes[i].exempt |= exempt;
}

static fl_rules *rules;
static fl_matcher *matcher;
static size_t *rule_hits;
static int failures;

static void fail(const expect *x, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "%s: ", x->where);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    fl_test_failed++;
    failures++;
}

/* "\n", "\t" and "\\" escapes, so multi-line messages fit on one line. */
static size_t unescape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 1 < cap; s++) {
        if (*s == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == '\\')) {
            s++;
            out[n++] = *s == 'n' ? '\n' : *s == 't' ? '\t' : '\\';
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    return n;
}

static fl_log_kind kind_from(const char *s)
{
    if (strcmp(s, "stdout") == 0)
        return FL_LOG_STDOUT;
    if (strcmp(s, "stderr") == 0)
        return FL_LOG_STDERR;
    if (strcmp(s, "varlog") == 0)
        return FL_LOG_VARLOG_SYSTEM;
    if (strcmp(s, "requests") == 0)
        return FL_LOG_REQUESTS;
    if (strcmp(s, "audit") == 0)
        return FL_LOG_AUDIT_ACTIVITY;
    if (strcmp(s, "system_event") == 0)
        return FL_LOG_AUDIT_SYSTEM_EVENT;
    if (strcmp(s, "data_access") == 0)
        return FL_LOG_AUDIT_DATA_ACCESS;
    return FL_LOG_OTHER;
}

/* For request and audit entries the text is "key=value ..." with message= taking the rest. */
static void fill_entry(fl_entry *e, const expect *x)
{
    fl_entry_clear(e);
    e->severity = x->severity;
    e->log_kind = x->kind;
    if (x->kind != FL_LOG_REQUESTS && x->kind != FL_LOG_AUDIT_ACTIVITY &&
        x->kind != FL_LOG_AUDIT_SYSTEM_EVENT && x->kind != FL_LOG_AUDIT_DATA_ACCESS) {
        fl_entry_set(e, &e->message, x->text, x->len);
        return;
    }
    const char *p = x->text;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *eq = strchr(p, '=');
        if (!eq)
            break;
        size_t klen = (size_t)(eq - p);
        const char *v = eq + 1;
        bool rest = klen == 7 && memcmp(p, "message", 7) == 0;
        const char *end = rest ? v + strlen(v) : v + strcspn(v, " ");
        size_t vlen = (size_t)(end - v);
        char num[64];
        snprintf(num, sizeof(num), "%.*s", (int)FL_MIN(vlen, sizeof(num) - 1), v);
#define KEY(k) (klen == strlen(k) && memcmp(p, k, klen) == 0)
        if (KEY("message"))
            fl_entry_set(e, &e->message, v, vlen);
        else if (KEY("status"))
            e->http_status = atoi(num);
        else if (KEY("latency"))
            e->latency_s = atof(num);
        else if (KEY("method") && x->kind == FL_LOG_REQUESTS)
            fl_entry_set(e, &e->http_method, v, vlen);
        else if (KEY("url"))
            fl_entry_set(e, &e->http_url, v, vlen);
        else if (KEY("service"))
            fl_entry_set(e, &e->audit_service, v, vlen);
        else if (KEY("method"))
            fl_entry_set(e, &e->audit_method, v, vlen);
        else if (KEY("resource"))
            fl_entry_set(e, &e->audit_resource, v, vlen);
        else if (KEY("code")) {
            e->audit_status_code = atoi(num);
            e->has_audit_status = true;
        }
#undef KEY
        p = end;
    }
}

static int classify(const expect *x, fl_entry *e, fl_match *out)
{
    if (!x->as_entry)
        return fl_classify_text(rules, matcher, x->text, x->len, out);
    fill_entry(e, x);
    return fl_classify(rules, matcher, e, out);
}

static void check(const expect *x, fl_entry *e)
{
    fl_match with, without;
    fl_matcher_set_prefilter(matcher, true);
    int r1 = classify(x, e, &with);
    fl_matcher_set_prefilter(matcher, false);
    int r2 = classify(x, e, &without);
    fl_matcher_set_prefilter(matcher, true);

    const char *got1 = with.rule ? with.rule->id : "(none)";
    const char *got2 = without.rule ? without.rule->id : "(none)";
    if (r1 != r2 || strcmp(got1, got2) != 0)
        fail(x, "prefilter changes the answer: with %s, without %s", got1, got2);
    if (r1 < 0) {
        fail(x, "classify failed%s%s", "", "");
        return;
    }
    if (!x->match) {
        if (with.rule)
            fail(x, "healthy line matched %s (class %s)", with.rule->id, with.rule->class_id);
        else
            fl_test_passed++;
        return;
    }
    if (!with.rule) {
        fail(x, "expected class %s (rule %s), nothing matched", x->class_id, x->rule_id);
        return;
    }
    if (strcmp(with.rule->class_id, x->class_id) != 0 ||
        (strcmp(x->rule_id, "*") != 0 && strcmp(with.rule->id, x->rule_id) != 0)) {
        char want[300];
        snprintf(want, sizeof(want), "%s/%s", x->class_id, x->rule_id);
        fail(x, "expected %s, got %s", want, with.rule->id);
        return;
    }
    for (size_t i = 0; i < fl_rules_count(rules); i++)
        if (fl_rules_get(rules, i) == with.rule)
            rule_hits[i]++;
    for (size_t f = 0; f < x->n_fields; f++) {
        const char *val = NULL;
        for (size_t k = 0; k < with.n_fields; k++)
            if (strcmp(with.fields[k].name, x->fields[f].name) == 0)
                val = with.fields[k].value;
        if (!val || strcmp(val, x->fields[f].value) != 0) {
            char want[200];
            snprintf(want, sizeof(want), "%s=%s", x->fields[f].name, x->fields[f].value);
            fail(x, "expected field %s, got %s", want, val ? val : "(unset)");
        } else {
            fl_test_passed++;
        }
    }
    fl_test_passed++;
}

/* Parses "match[@SEV[/kind]] class rule | text" or "nomatch[@SEV[/kind]] | text". */
static bool parse_case(char *line, expect *x)
{
    char *bar = strstr(line, " | ");
    if (!bar)
        return false;
    *bar = '\0';
    x->len = unescape(bar + 3, x->text, sizeof(x->text));
    char head[256], cls[128] = "", rule[128] = "";
    int n = sscanf(line, "%255s %127s %127s", head, cls, rule);
    x->as_entry = false;
    char *at = strchr(head, '@');
    if (at) {
        *at++ = '\0';
        char *slash = strchr(at, '/');
        if (slash)
            *slash++ = '\0';
        x->as_entry = true;
        x->severity = fl_severity_parse(at, strlen(at));
        x->kind = slash ? kind_from(slash) : FL_LOG_STDOUT;
        if (x->severity < 0)
            return false;
    }
    if (strcmp(head, "nomatch") == 0) {
        x->match = false;
        return n == 1;
    }
    if (strcmp(head, "match") != 0 || n != 3)
        return false;
    x->match = true;
    snprintf(x->class_id, sizeof(x->class_id), "%s", cls);
    snprintf(x->rule_id, sizeof(x->rule_id), "%s", rule);
    return true;
}

static int run_file(const char *path, fl_entry *e, int *n_nomatch)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    static char line[LINE_MAX_];
    static expect x;
    bool pending = false, exempt = false;
    unsigned lang = 0; /* of the current "source" line; 0: none yet */
    int lineno = 0, cases = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        /* "source LANG CITATION": where the following lines' wording comes from. */
        if (strncmp(p, "source ", 7) == 0) {
            char l[32] = "";
            int used = 0;
            if (sscanf(p + 7, "%31s %n", l, &used) != 1 || !(lang = lang_parse(l)) ||
                strlen(p + 7 + used) < 8) {
                fprintf(stderr, "%s:%d: 'source' needs a language (python, node, java, go, "
                                "platform, any) and a citation\n",
                        path, lineno);
                fl_test_failed++;
            }
            continue;
        }
        if (strncmp(p, "exempt-languages ", 17) == 0) {
            exempt = true;
            continue;
        }
        if (strncmp(p, "field ", 6) == 0) {
            char *eq = strchr(p + 6, '=');
            if (!pending || !x.match || !eq || x.n_fields == FL_MATCH_MAX_FIELDS) {
                fprintf(stderr, "%s:%d: 'field' must follow a match line\n", path, lineno);
                fl_test_failed++;
                continue;
            }
            *eq = '\0';
            snprintf(x.fields[x.n_fields].name, FL_FIELD_NAME_MAX, "%s", p + 6);
            snprintf(x.fields[x.n_fields].value, FL_FIELD_VALUE_MAX, "%s", eq + 1);
            x.n_fields++;
            continue;
        }
        if (pending)
            check(&x, e);
        pending = false;
        memset(&x, 0, sizeof(x));
        snprintf(x.where, sizeof(x.where), "%s:%d", path, lineno);
        if (!parse_case(p, &x)) {
            fprintf(stderr, "%s:%d: cannot parse test line\n", path, lineno);
            fl_test_failed++;
            continue;
        }
        pending = true;
        cases++;
        if (x.match && !lang) {
            fprintf(stderr, "%s:%d: match line without a 'source' line before it\n", path, lineno);
            fl_test_failed++;
        }
        if (x.match)
            note_class(x.class_id, lang, exempt);
        *n_nomatch += !x.match;
    }
    if (pending)
        check(&x, e);
    fclose(f);
    return cases;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s RULES_DIR GOLDEN_DIR\n", argv[0]);
        return 2;
    }
    char err[1024];
    const char *dirs[] = {argv[1]};
    if (fl_rules_load(&rules, dirs, 1, err, sizeof(err)) != 0) {
        fprintf(stderr, "loading rules: %s\n", err);
        return 1;
    }
    matcher = fl_matcher_new(rules);
    rule_hits = calloc(fl_rules_count(rules), sizeof(*rule_hits));
    CHECK(matcher != NULL);

    DIR *d = opendir(argv[2]);
    CHECK(d != NULL);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) && n < FL_ARRAY_LEN(names)) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".txt") == 0)
            names[n++] = strdup(de->d_name);
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);

    fl_entry e;
    fl_entry_init(&e);
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[2], names[i]);
        int nomatch = 0;
        int cases = run_file(path, &e, &nomatch);
        if (cases > 0 && nomatch == 0) {
            fprintf(stderr, "%s: has no healthy look-alikes (nomatch lines)\n", path);
            fl_test_failed++;
        }
        total += cases > 0 ? cases : 0;
        free(names[i]);
    }
    fl_entry_free(&e);
    for (size_t i = 0; i < fl_rules_count(rules); i++) {
        if (rule_hits[i] == 0) {
            fprintf(stderr, "%s: rule %s has no golden match line\n", fl_rules_get(rules, i)->file,
                    fl_rules_get(rules, i)->id);
            fl_test_failed++;
        }
    }
    static const char *const lang_names[] = {"Python", "Node", "Java", "Go"};
    for (size_t i = 0; i < n_classes; i++)
        for (unsigned b = 0; b < 4 && !classes[i].exempt; b++)
            if (!(classes[i].langs & (1u << b))) {
                fprintf(stderr, "class %s has no %s phrasing among its golden lines\n",
                        classes[i].name, lang_names[b]);
                fl_test_failed++;
            }
    printf("%d golden cases, %zu rules, %zu classes\n", total, fl_rules_count(rules), n_classes);
    free(rule_hits);
    fl_matcher_free(matcher);
    fl_rules_free(rules);
    return fl_test_done();
}
