/* Rule loading and checking: built-ins load and pass check, user directories override by id,
 * and every kind of mistake is reported with the file, the rule id and (for regexes) the PCRE2
 * message and offset. */
#include "fl_config.h"
#include "fl_patterns_int.h"
#include "fl_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *builtin;
static char tmp_root[256];

static char *make_dir(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmp_root, name);
    mkdir(path, 0755);
    return path;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

#define GOOD_RULE(id, cls, re)                                                                     \
    "{\"id\":\"" id "\",\"class\":\"" cls "\",\"title\":\"t\",\"severity\":\"ERROR\","             \
    "\"implies\":\"dependency\",\"regex\":" re ",\"remediation\":[\"do it\"]}"

static void test_builtins(void)
{
    fl_rules *rs = NULL;
    char err[512] = "";
    const char *dirs[] = {builtin};
    CHECK_INT(fl_rules_load(&rs, dirs, 1, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK(fl_rules_count(rs) >= 60);

    /* The classes the issue names, with these exact ids. */
    static const char *const required[] = {"schema_validation",
                                           "pool_exhausted",
                                           "mongo_server_selection",
                                           "oom",
                                           "redis_timeout",
                                           "auth_failed",
                                           "quota_exhausted",
                                           "upstream_timeout",
                                           "startup_failure",
                                           "no_instance",
                                           "image_pull",
                                           "db_unreachable",
                                           "tls_cert",
                                           "smtp_failure"};
    for (size_t i = 0; i < FL_ARRAY_LEN(required); i++) {
        const fl_rule_info *r = fl_rules_find_class(rs, required[i]);
        CHECK(r != NULL);
        if (!r)
            fprintf(stderr, "missing class %s\n", required[i]);
    }
    CHECK(fl_rules_find_class(rs, "no_such_class") == NULL);

    for (size_t i = 0; i < fl_rules_count(rs); i++) {
        const fl_rule_info *r = fl_rules_get(rs, i);
        CHECK(r->n_remediation >= 1);
        CHECK(r->implies != FL_IMPLIES_UNKNOWN);
        CHECK(r->severity >= FL_SEV_WARNING);
        CHECK(strncmp(r->id, r->class_id, strlen(r->class_id)) == 0);
        CHECK(strstr(r->file, ".json") != NULL);
    }
    /* Every built-in regex has a prefilter literal: none runs on every message. */
    CHECK_INT(rs->n_unfiltered, 0);
    for (size_t i = 0; i < rs->n_unfiltered; i++)
        fprintf(stderr, "unfiltered: %s\n", rs->rules[rs->regex[rs->unfiltered[i]].rule]->id);
    CHECK(fl_rules_get(rs, fl_rules_count(rs)) == NULL);
    fl_rules_free(rs);
    fl_rules_free(NULL);

    fl_diag d;
    fl_diag_init(&d);
    CHECK_INT(fl_rules_check(dirs, 1, &d), 0);
    CHECK_INT(d.n_warnings, 0);
    fl_diag_free(&d);
}

static void test_override(void)
{
    char *dir = make_dir("override");
    write_file(dir, "10-mine.json",
               "{\"rules\":[" GOOD_RULE("oom.node", "oom", "\"my heap blew up\"") "," GOOD_RULE(
                   "billing.declined", "billing_declined", "\"card declined\"") "]}");
    write_file(dir, "README.txt", "not a rule file");

    const char *dirs[] = {builtin, dir};
    fl_rules *base = NULL, *rs = NULL;
    char err[512];
    CHECK_INT(fl_rules_load(&base, dirs, 1, err, sizeof(err)), 0);
    CHECK_INT(fl_rules_load(&rs, dirs, 2, err, sizeof(err)), 0);
    CHECK_INT(fl_rules_count(rs), fl_rules_count(base) + 1);

    fl_matcher *m = fl_matcher_new(rs);
    fl_match out;
    const char *line = "my heap blew up";
    CHECK_INT(fl_classify_text(rs, m, line, strlen(line), &out), 1);
    CHECK_STR(out.rule ? out.rule->id : NULL, "oom.node");
    CHECK(out.rule && strstr(out.rule->file, "10-mine.json") != NULL);
    /* The replaced rule's old regex is gone. */
    line = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory";
    CHECK_INT(fl_classify_text(rs, m, line, strlen(line), &out), 0);
    line = "card declined for order 17";
    CHECK_INT(fl_classify_text(rs, m, line, strlen(line), &out), 1);
    CHECK_STR(out.rule ? out.rule->class_id : NULL, "billing_declined");
    fl_matcher_free(m);
    fl_rules_free(rs);
    fl_rules_free(base);

    /* A single file works as a "directory" too. */
    char file[1024];
    snprintf(file, sizeof(file), "%s/10-mine.json", dir);
    const char *one[] = {file};
    CHECK_INT(fl_rules_load(&rs, one, 1, err, sizeof(err)), 0);
    CHECK_INT(fl_rules_count(rs), 2);
    fl_rules_free(rs);
}

/* Loads one file's text; returns the load code and leaves the message in err. */
static int load_text(const char *name, const char *text, char *err, size_t errlen)
{
    char *dir = make_dir(name);
    write_file(dir, "rules.json", text);
    const char *dirs[] = {dir};
    fl_rules *rs = NULL;
    int rc = fl_rules_load(&rs, dirs, 1, err, errlen);
    CHECK(rc == 0 || rs == NULL);
    fl_rules_free(rs);
    return rc;
}

static void test_errors(void)
{
    char err[1024];

    CHECK_INT(load_text("badre", "{\"rules\":[" GOOD_RULE("x.bad", "x", "\"ok (unclosed\"") "]}",
                        err, sizeof(err)),
              FL_EINVAL);
    CHECK(strstr(err, "badre/rules.json") != NULL);
    CHECK(strstr(err, "x.bad") != NULL);
    CHECK(strstr(err, "offset 12") != NULL);
    CHECK(strstr(err, "missing closing parenthesis") != NULL);
    CHECK(strstr(err, "rules.json:1:") != NULL); /* the line the rule's id is on */

    CHECK_INT(load_text("badjson", "{\"rules\": [\n  {\"id\": \"a\",\n   \"class\" \"b\"}\n]}\n",
                        err, sizeof(err)),
              FL_EPARSE);
    CHECK(strstr(err, "badjson/rules.json:3:") != NULL);
    CHECK(strstr(err, "line 3") != NULL);

    CHECK_INT(load_text("shape", "{\"rule\": []}", err, sizeof(err)), FL_EPARSE);
    CHECK(strstr(err, "{\"rules\"") != NULL);

    CHECK_INT(load_text("missing",
                        "{\"rules\":[\n{\"id\":\"m.one\",\"title\":\"t\",\"severity\":\"ERROR\","
                        "\"implies\":\"config\",\"regex\":\"abc\"}]}",
                        err, sizeof(err)),
              FL_EINVAL);
    CHECK(strstr(err, "m.one") != NULL);
    CHECK(strstr(err, "'class'") != NULL);
    CHECK(strstr(err, "rules.json:2:") != NULL);

    CHECK_INT(load_text("implies",
                        "{\"rules\":[{\"id\":\"i.x\",\"class\":\"i\",\"title\":\"t\","
                        "\"severity\":\"ERROR\",\"implies\":\"weather\",\"regex\":"
                        "\"abc\",\"remediation\":[\"x\"]}]}",
                        err, sizeof(err)),
              FL_EINVAL);
    CHECK(strstr(err, "weather") != NULL);

    CHECK_INT(load_text("dup",
                        "{\"rules\":[" GOOD_RULE("d.x", "d", "\"abc\"") "," GOOD_RULE(
                            "d.x", "d", "\"def\"") "]}",
                        err, sizeof(err)),
              FL_EINVAL);
    CHECK(strstr(err, "duplicate id") != NULL);

    CHECK_INT(load_text("typo",
                        "{\"rules\":[{\"id\":\"t.x\",\"class\":\"t\",\"title\":\"t\","
                        "\"severity\":\"ERROR\",\"implies\":\"load\",\"regex\":\"abc\","
                        "\"remediations\":[\"x\"]}]}",
                        err, sizeof(err)),
              FL_EINVAL);
    CHECK(strstr(err, "unknown key 'remediations'") != NULL);

    CHECK_INT(load_text("longname",
                        "{\"rules\":[" GOOD_RULE("l.x", "l",
                                                 "\"(?<abcdefghijklmnopqrstuvwxyz_abcde>x)\"") "]}",
                        err, sizeof(err)),
              FL_EINVAL);
    CHECK(strstr(err, "capture name") != NULL);

    fl_rules *rs = NULL;
    const char *nodir[] = {"/nonexistent/faultline/rules"};
    CHECK(fl_rules_load(&rs, nodir, 1, err, sizeof(err)) < 0);
    CHECK(strstr(err, "/nonexistent/faultline/rules") != NULL);
    CHECK(rs == NULL);

    char *empty = make_dir("empty");
    const char *emptyd[] = {empty};
    CHECK(fl_rules_load(&rs, emptyd, 1, err, sizeof(err)) < 0);
    CHECK(strstr(err, "no *.json") != NULL);
}

static bool diag_has(const fl_diag *d, const char *file_part, const char *msg_part)
{
    for (size_t i = 0; i < d->n_warnings; i++)
        if (strstr(d->warnings[i].file, file_part) && strstr(d->warnings[i].message, msg_part))
            return true;
    return false;
}

static void test_check_reports_all(void)
{
    char *dir = make_dir("many");
    write_file(dir, "a.json",
               "{\"rules\":[\n"
               "{\"id\":\"a.one\",\"class\":\"a\",\"title\":\"t\",\"severity\":\"LOUD\","
               "\"implies\":\"config\",\"regex\":[\"ok\",\"bad[\"],\"remediation\":[]},\n"
               "{\"id\":\"a.two\",\"title\":\"t\",\"severity\":\"ERROR\",\"implies\":\"config\","
               "\"regex\":\"fine\"}\n]}");
    write_file(dir, "b.json", "{\"rules\": [ ,]}");
    const char *dirs[] = {dir};
    fl_diag d;
    fl_diag_init(&d);
    int n = fl_rules_check(dirs, 1, &d);
    CHECK(n >= 6);
    CHECK_INT((size_t)n, d.n_warnings);
    CHECK(diag_has(&d, "a.json", "unknown severity 'LOUD'"));
    CHECK(diag_has(&d, "a.json", "regex[1]: PCRE2 error at offset 4"));
    CHECK(diag_has(&d, "a.json", "'remediation'"));
    CHECK(diag_has(&d, "a.json", "'a.two': 'class' is required"));
    CHECK(diag_has(&d, "a.json", "'a.two': 'remediation'"));
    CHECK(diag_has(&d, "b.json", "invalid JSON"));
    for (size_t i = 0; i < d.n_warnings; i++)
        if (strstr(d.warnings[i].message, "a.two"))
            CHECK_INT(d.warnings[i].line, 3);
    fl_diag_free(&d);
}

/* Nested unbounded repeats: the lint finds them, `check` reports them, and at match time the
 * PCRE2 limits stop the run (no match, counted against the rule) instead of costing seconds. */
static void count_hits(void *ctx, const char *rule_id, uint64_t n)
{
    if (strcmp(rule_id, "bad.nested") == 0)
        *(uint64_t *)ctx += n;
}

static void test_catastrophic(void)
{
    static const struct {
        const char *re;
        bool flagged;
    } lint[] = {
        {"(x+x+)+y", true},
        {"(?:\\w+\\s*)*$", true},
        {"(a|b*){2,}c", true},
        {"((ab)*c)+", true},
        {"(x+x+)++y", false},      /* possessive */
        {"(?>x+x+)+y", false},     /* atomic */
        {"(x+x+){1,3}y", false},   /* bounded outer */
        {"(x{1,5}y)+", false},     /* bounded inner */
        {"[(x+)+]+ and \\(x+\\)+", false}, /* class and escapes are not groups */
        {"(?:ECONNREFUSED|ETIMEDOUT)+ (\\d+)", false},
        {"\\Q(x+)+\\E", false},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(lint); i++) {
        size_t at = 99;
        bool got = fl_regex_nested_unbounded(lint[i].re, &at);
        if (got != lint[i].flagged)
            fprintf(stderr, "lint: %s\n", lint[i].re);
        CHECK(got == lint[i].flagged);
    }

    char *dir = make_dir("catastrophic");
    write_file(dir, "bad.json", "{\"rules\":[" GOOD_RULE("bad.nested", "bad", "\"(x+x+)+y\"") "]}");
    const char *dirs[] = {dir};
    fl_diag d;
    fl_diag_init(&d);
    CHECK_INT(fl_rules_check(dirs, 1, &d), 1);
    CHECK(diag_has(&d, "bad.json", "'bad.nested': regex[0]: nested unbounded quantifier"));
    fl_diag_free(&d);

    fl_rules *rs = NULL;
    char err[256];
    CHECK_INT(fl_rules_load(&rs, dirs, 1, err, sizeof(err)), 0);
    fl_matcher *m = fl_matcher_new(rs);
    char line[64];
    memset(line, 'x', 30);
    memcpy(line + 30, "z y", 4);
    fl_match out;
    clock_t t0 = clock();
    for (int i = 0; i < 20; i++)
        CHECK_INT(fl_classify_text(rs, m, line, strlen(line), &out), 0);
    double per_line = (double)(clock() - t0) / CLOCKS_PER_SEC / 20;
    CHECK(per_line < 0.02); /* unbounded: about 2 s per line */
    uint64_t hits = 0;
    fl_matcher_limit_hits(m, count_hits, &hits);
    CHECK_INT(hits, 20);
    fl_diag_init(&d);
    fl_matcher_warn_limits(m, &d);
    CHECK(diag_has(&d, "bad.json", "rule 'bad.nested': 20 matches stopped at the PCRE2"));
    fl_diag_free(&d);
    fl_matcher_free(m);
    fl_rules_free(rs);
}

static void test_literals(void)
{
    static const struct {
        const char *re;
        const char *lits[4]; /* expected, NULL-terminated; {NULL} means none derivable */
    } cases[] = {
        {"QueuePool limit of size (?<n>\\d+)", {"queuepool limit of size ", NULL}},
        {"ECONNREFUSED|ETIMEDOUT", {"econnrefused", "etimedout", NULL}},
        {"Knex: Timeout acquiring a connection\\. The pool",
         {"knex: timeout acquiring a connection. the pool", NULL}},
        {"colou?r matters", {"r matters", NULL}},
        {"(?:a|b)cd[0-9]+efgh", {"efgh", NULL}},
        {"ab+cdef", {"cdef", NULL}},
        {"x{0,3}yz{2}abc", {"abc", NULL}},
        {"\\d+ms", {NULL}},
        {"foo|\\w+", {NULL}},
        {"(?x) a b c d", {NULL}},
        {"heap.*out", {"heap", NULL}},
        {"\\bPERMISSION_DENIED\\b", {"permission_denied", NULL}},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        char **lits = NULL;
        int n = fl_literals_derive(cases[i].re, &lits);
        int want = 0;
        while (cases[i].lits[want])
            want++;
        CHECK_INT(n, want);
        for (int k = 0; k < n && k < want; k++)
            CHECK_STR(lits[k], cases[i].lits[k]);
        fl_literals_free(lits, n > 0 ? (size_t)n : 0);
    }
}

/* curl's torture habit: fail the Nth allocation for every N; loading must fail cleanly (the
 * sanitizer build catches leaks and bad frees) until N is large enough to succeed. */
static void test_alloc_failures(void)
{
    char *dir = make_dir("torture");
    write_file(
        dir, "a.json",
        "{\"rules\":[" GOOD_RULE(
            "t.one", "t",
            "[\"disk (?<dev>sd[a-z]) failed\", "
            "\"raid degraded\"]") "," GOOD_RULE("t.two", "t",
                                                "\"fan \\\\d+ stopped|fan speed zero\"") "]}");
    const char *dirs[] = {dir};
    int succeeded_at = -1;
    for (long n = 0; n < 2000 && succeeded_at < 0; n++) {
        fl_rules *rs = NULL;
        char err[256];
        fl_alloc_fail_after(n);
        int rc = fl_rules_load(&rs, dirs, 1, err, sizeof(err));
        fl_matcher *m = rc == 0 ? fl_matcher_new(rs) : NULL;
        fl_alloc_fail_after(-1);
        if (rc == 0 && m) {
            fl_match out;
            const char *line = "disk sdb failed";
            CHECK_INT(fl_classify_text(rs, m, line, strlen(line), &out), 1);
            CHECK_STR(out.n_fields == 1 ? out.fields[0].value : NULL, "sdb");
            succeeded_at = (int)n;
        } else {
            CHECK(rc != 0 ? rs == NULL : m == NULL);
        }
        fl_matcher_free(m);
        fl_rules_free(rs);
    }
    CHECK(succeeded_at > 10);
}

int main(void)
{
    builtin = FL_SOURCE_PATTERNS_DIR;
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/fl_test_rules.%d", (int)getpid());
    mkdir(tmp_root, 0755);
    test_builtins();
    test_override();
    test_errors();
    test_check_reports_all();
    test_literals();
    test_catastrophic();
    test_alloc_failures();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
    return fl_test_done();
}
