/* The batch pipeline: rules directory resolution, rule and changes-file errors, counting, and
 * that any number of threads gives the same result. */
#include "fl_pipeline.h"
#include "fl_reports.h"
#include "fl_test.h"

#include "fl_config.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/fl-test-pipeline-XXXXXX";

static const char *path_in(const char *name)
{
    static char buf[8][256];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* 40 requests on two revisions, the second failing with a config error after its deploy. */
static void write_incident(const char *path)
{
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 40; i++) {
        bool bad = i >= 20;
        const char *rev = bad ? "api-00002-new" : "api-00001-old";
        fprintf(f,
                "{\"insertId\":\"r%d\",\"timestamp\":\"2026-11-20T10:%02d:00Z\",\"logName\":"
                "\"projects/p/logs/run.googleapis.com%%2Frequests\",\"resource\":{\"type\":"
                "\"cloud_run_revision\",\"labels\":{\"service_name\":\"api\",\"revision_name\":"
                "\"%s\",\"location\":\"us-east1\"}},\"severity\":\"%s\",\"httpRequest\":"
                "{\"status\":%d}}\n",
                i, i, rev, bad ? "ERROR" : "INFO", bad ? 500 : 200);
        if (bad)
            fprintf(f,
                    "{\"insertId\":\"e%d\",\"timestamp\":\"2026-11-20T10:%02d:00Z\",\"logName\":"
                    "\"projects/p/logs/run.googleapis.com%%2Fstderr\",\"resource\":{\"type\":"
                    "\"cloud_run_revision\",\"labels\":{\"service_name\":\"api\","
                    "\"revision_name\":\"%s\",\"location\":\"us-east1\"}},\"severity\":\"ERROR\","
                    "\"textPayload\":\"Error: missing required environment variable "
                    "DATABASE_URL\"}\n",
                    i, i, rev);
    }
    fclose(f);
}

static void test_builtin_dir(void)
{
    CHECK_STR(fl_builtin_patterns_dir("/some/where"), "/some/where");
    /* From a build directory the rules are read from the source tree; the environment is the
     * CLI's business, not the library's. */
    setenv("FAULTLINE_PATTERNS_DIR", "/some/where", 1);
    CHECK_STR(fl_builtin_patterns_dir(NULL), FL_SOURCE_PATTERNS_DIR);
    CHECK_STR(fl_builtin_patterns_dir(""), FL_SOURCE_PATTERNS_DIR);
    unsetenv("FAULTLINE_PATTERNS_DIR");
}

static void test_rule_errors(void)
{
    fl_pipeline_opts o;
    memset(&o, 0, sizeof o);
    const char *dirs[] = {path_in("no-such-rules")};
    o.pattern_dirs = dirs;
    o.n_pattern_dirs = 1;
    fl_rules *rules = NULL;
    char err[512] = "";
    CHECK_INT(fl_pipeline_load_rules(&o, &rules, err, sizeof err), FL_EINVAL);
    CHECK(strstr(err, "no-such-rules") != NULL);
    CHECK(rules == NULL);

    o.n_pattern_dirs = 0;
    CHECK_INT(fl_pipeline_load_rules(&o, &rules, err, sizeof err), 0);
    CHECK(rules && fl_rules_count(rules) > 10);
    CHECK(fl_rules_find_class(rules, "schema_validation") != NULL);
    fl_rules_free(rules);
}

static char *run_json(const char *input, const fl_pipeline_opts *o, int *rc_out, fl_diag *diag,
                      fl_result **keep)
{
    const char *inputs[] = {input};
    fl_result *res = NULL;
    char err[512] = "";
    *rc_out = fl_pipeline_run(inputs, 1, o, diag, &res, err, sizeof err);
    if (*rc_out)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fl_report_opts ro = {true, false, 100, NULL, NULL};
    fl_report_write("json", res, &ro, f);
    fclose(f);
    if (keep)
        *keep = res;
    else
        fl_result_free(res);
    return text;
}

static void test_run(void)
{
    const char *input = path_in("incident.ndjson");
    const char *changes = path_in("changes.ndjson");
    write_incident(input);
    write_file(changes,
               "{\"time\":\"2026-11-20T10:19:30Z\",\"service\":\"api\",\"kind\":\"deploy\","
               "\"revision\":\"api-00002-new\",\"description\":\"ci deploy 42\"}\n"
               "not json at all\n");
    const char *changes_files[] = {changes};
    fl_pipeline_opts o;
    memset(&o, 0, sizeof o);
    o.changes_files = changes_files;
    o.n_changes_files = 1;

    char *first = NULL;
    for (int threads = 1; threads <= 4; threads++) {
        o.threads = threads;
        fl_diag diag;
        fl_diag_init(&diag);
        int rc;
        fl_result *res = NULL;
        char *json = run_json(input, &o, &rc, &diag, &res);
        CHECK_INT(rc, 0);
        if (!json) {
            fl_diag_free(&diag);
            continue;
        }
        CHECK_INT(res->input.entries, 60);
        CHECK_INT(diag.malformed, 0);
        /* The bad --changes line is a warning naming file:line, and the run goes on. */
        bool warned = false;
        for (size_t i = 0; i < res->input.n_warnings; i++)
            warned |= strcmp(res->input.warnings[i].file, changes) == 0 &&
                      res->input.warnings[i].line == 2;
        CHECK(warned);
        bool has_change = false;
        for (size_t i = 0; i < res->n_changes; i++)
            has_change |= strstr(res->changes[i].description, "ci deploy 42") != NULL;
        CHECK(has_change);
        uint64_t requests = 0, r5xx = 0;
        for (size_t i = 0; i < res->n_revisions; i++) {
            requests += res->revisions[i].requests;
            r5xx += res->revisions[i].requests_5xx;
        }
        CHECK_INT(requests, 40);
        CHECK_INT(r5xx, 20);
        CHECK(res->n_causes > 0 && strcmp(res->causes[0].revision, "api-00002-new") == 0);
        if (!first)
            first = json;
        else {
            CHECK(strcmp(first, json) == 0); /* same bytes for any thread count */
            free(json);
        }
        fl_result_free(res);
        fl_diag_free(&diag);
    }
    free(first);

    /* A --changes file that does not exist is a usage error. */
    const char *missing[] = {path_in("missing.ndjson")};
    o.changes_files = missing;
    fl_diag diag;
    fl_diag_init(&diag);
    int rc;
    CHECK(run_json(input, &o, &rc, &diag, NULL) == NULL);
    CHECK_INT(rc, FL_EINVAL);
    fl_diag_free(&diag);

    /* Nothing readable at all. */
    o.n_changes_files = 0;
    fl_diag_init(&diag);
    CHECK(run_json(path_in("nothing-here.json"), &o, &rc, &diag, NULL) == NULL);
    CHECK_INT(rc, FL_ENOTFOUND);
    CHECK_INT(fl_diag_exit_status(&diag), 2);
    fl_diag_free(&diag);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_builtin_dir();
    test_rule_errors();
    test_run();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return fl_test_done();
}
