/* The report writers on a hand-built result: the JSON contract (key order, types, times,
 * determinism), Markdown escaping of hostile log text, and the text report's honesty when
 * nothing is confident. */
#include "fl_reports.h"
#include "fl_test.h"
#include "html/fixture_str.h"

#include <jansson.h>
#include <stdlib.h>

#define T0 (INT64_C(1795171327) * FL_USEC_PER_SEC) /* 2026-11-20T10:42:07Z */

/* A deploy incident with one hostile log line. */
static fl_result *make_result(bool confident, const char *hostile)
{
    fl_result *r = fl_result_new();
    r->input.entries = 1234;
    r->input.files = 2;
    r->input.bytes = 99999;
    r->input.malformed = 1;
    r->input.n_truncated = 1;
    r->input.truncated = fix_strv(1, (const char *const[]){"logs/b.json.gz"});
    r->input.n_warnings = 1;
    r->input.warnings = fl_calloc(1, sizeof(fl_warning));
    r->input.warnings[0] = (fl_warning){FL_WARN_MALFORMED, fix_str("logs/a.json"), 17,
                                        fix_str("line 17 column 3: invalid token")};
    r->window_start = T0 - 600 * FL_USEC_PER_SEC;
    r->window_end = T0 + 600 * FL_USEC_PER_SEC + 250000;
    r->bucket_seconds = 60;
    r->n_buckets = 3;
    r->bucket_origin = r->window_start;

    r->n_changes = 1;
    r->changes = fl_calloc(1, sizeof(fl_change_out));
    r->changes[0] = (fl_change_out){T0,
                                    FL_CHANGE_DEPLOY,
                                    fix_str("checkout-api"),
                                    fix_str("checkout-api-00042-xyz"),
                                    fix_str("deployer@example.iam.gserviceaccount.com"),
                                    fix_str("ReplaceService"),
                                    fix_str("audit"),
                                    fix_str("")};

    r->n_groups = 1;
    r->groups = fl_calloc(1, sizeof(fl_group));
    fl_group *g = &r->groups[0];
    g->key = fix_str("schema_validation");
    g->class_id = fix_str("schema_validation");
    g->rule_id = fix_str("schema_validation.zod");
    g->title = fix_str("Config validation failed at startup");
    g->fingerprint = fix_str("0123456789abcdef");
    g->template_text = fix_str("ZodError: <str> Required");
    g->implies = fix_str("config");
    g->severity = 500;
    g->count = 412;
    g->first_seen = T0 + 2 * FL_USEC_PER_SEC;
    g->last_seen = T0 + 500 * FL_USEC_PER_SEC;
    g->n_by_revision = 1;
    g->by_revision = fl_calloc(1, sizeof(fl_rev_count));
    g->by_revision[0] =
        (fl_rev_count){fix_str("checkout-api"), fix_str("checkout-api-00042-xyz"), 412};
    g->n_samples = 1;
    g->samples = fl_calloc(1, sizeof(fl_sample));
    g->samples[0] = (fl_sample){T0 + 2 * FL_USEC_PER_SEC + 123456,
                                fix_str("checkout-api"),
                                fix_str("checkout-api-00042-xyz"),
                                fix_str("inst-1"),
                                fix_str("abc"),
                                fix_str(hostile)};
    g->series = fl_calloc(3, sizeof(uint32_t));
    g->series[1] = 12;
    g->series[2] = 400;

    r->n_revisions = 1;
    r->revisions = fl_calloc(1, sizeof(fl_revision));
    fl_revision *v = &r->revisions[0];
    v->service = fix_str("checkout-api");
    v->revision = fix_str("checkout-api-00042-xyz");
    v->commit_sha = fix_str("");
    v->first_seen = T0;
    v->last_seen = T0 + 500 * FL_USEC_PER_SEC;
    v->requests = 1180;
    v->requests_5xx = 412;
    v->errors = 412;
    v->requests_series = fl_calloc(3, sizeof(uint32_t));
    v->r5xx_series = fl_calloc(3, sizeof(uint32_t));
    v->errors_series = fl_calloc(3, sizeof(uint32_t));

    r->n_causes = 1;
    r->causes = fl_calloc(1, sizeof(fl_cause));
    fl_cause *c = &r->causes[0];
    c->rank = 1;
    c->score = confident ? 0.8712345 : 0.31;
    c->kind = FL_CAUSE_DEPLOY;
    c->service = fix_str("checkout-api");
    c->revision = fix_str("checkout-api-00042-xyz");
    c->previous_revision = fix_str("checkout-api-00041-abc");
    c->error_class = fix_str("schema_validation");
    c->summary =
        fix_str("Revision checkout-api-00042-xyz fails config validation since its rollout");
    c->onset = T0 + 2 * FL_USEC_PER_SEC;
    c->change_ts = T0;
    c->n_parts = 1;
    c->parts = fl_calloc(1, sizeof(fl_score_part));
    c->parts[0] =
        (fl_score_part){fix_str("onset_after_change"), 0.3, 0.9, 0.27, fix_str("2 s after")};
    c->n_evidence = 2;
    c->evidence =
        fix_strv(2, (const char *const[]){"412/1180 requests 5xx (35%) since 10:42:07", hostile});
    c->n_actions = 2;
    c->actions = fix_strv(
        2, (const char *const[]){"gcloud run services update-traffic checkout-api "
                                 "--region=europe-west1 --to-revisions=checkout-api-00041-abc=100",
                                 "Fix the missing environment variable and redeploy"});
    r->confidence_threshold = 0.5;
    r->confident = confident;
    return r;
}

static char *render(const char *format, const fl_result *r, bool color)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fl_report_opts o = {true, color, 100, "checkout | incident", NULL};
    int rc = fl_report_write(format, r, &o, f);
    fclose(f);
    CHECK_INT(rc, 0);
    return text;
}

static void test_registry(void)
{
    CHECK(fl_report_find("text") != NULL);
    CHECK(fl_report_find("md") != NULL);
    CHECK(fl_report_find("markdown") == fl_report_find("md"));
    CHECK(fl_report_find("json") != NULL);
    CHECK(fl_report_find("pdf") == NULL);
    fl_result *r = fl_result_new();
    CHECK_INT(fl_report_write("pdf", r, NULL, stdout), FL_EINVAL);
    fl_result_free(r);
}

/* obj has exactly the members keys[0..n), in that order. */
static void check_key_order(json_t *obj, const char *const *keys, size_t n)
{
    const char *key;
    json_t *val;
    size_t i = 0;
    json_object_foreach(obj, key, val)
    {
        if (i < n)
            CHECK_STR(key, keys[i]);
        i++;
    }
    CHECK_INT(i, n);
}

/* The documented top-level and nested key order, and the values' types. */
static void test_json_contract(void)
{
    fl_result *r = make_result(true, "plain message");
    char *text = render("json", r, false);
    json_error_t err;
    json_t *doc = json_loads(text, JSON_PRESERVE_ORDER, &err);
    CHECK(doc != NULL);
    if (!doc) {
        fprintf(stderr, "%s\n", err.text);
        return;
    }
    static const char *const top[] = {"version",   "generated_by", "input",      "window",
                                      "confident", "threshold",    "changes",    "groups",
                                      "revisions", "call_graph",   "causes"};
    check_key_order(doc, top, FL_ARRAY_LEN(top));
    json_t *in = json_object_get(doc, "input");
    CHECK_INT(json_integer_value(json_object_get(in, "entries")), 1234);
    CHECK_INT(json_integer_value(json_object_get(in, "malformed")), 1);
    CHECK_STR(json_string_value(json_array_get(json_object_get(in, "truncated"), 0)),
              "logs/b.json.gz");
    json_t *w = json_array_get(json_object_get(in, "warnings"), 0);
    CHECK_STR(json_string_value(json_object_get(w, "file")), "logs/a.json");
    CHECK_INT(json_integer_value(json_object_get(w, "line")), 17);
    CHECK_STR(json_string_value(json_object_get(w, "kind")), "malformed");
    json_t *win = json_object_get(doc, "window");
    CHECK_STR(json_string_value(json_object_get(win, "start")), "2026-11-20T10:32:07Z");
    CHECK_STR(json_string_value(json_object_get(win, "end")), "2026-11-20T10:52:07.250000Z");
    CHECK_INT(json_integer_value(json_object_get(win, "bucket_seconds")), 60);
    CHECK(json_is_true(json_object_get(doc, "confident")));

    json_t *g = json_array_get(json_object_get(doc, "groups"), 0);
    static const char *const gkeys[] = {
        "key",      "class",    "rule",       "title",     "fingerprint", "template",
        "family",   "family_template", "implies", "severity", "count",   "first_seen",
        "last_seen", "by_revision", "samples", "fields",    "series",  "chronic"};
    check_key_order(g, gkeys, FL_ARRAY_LEN(gkeys));
    CHECK_STR(json_string_value(json_object_get(g, "severity")), "ERROR");
    CHECK_INT(json_array_size(json_object_get(g, "series")), 3);
    CHECK_INT(json_integer_value(json_array_get(json_object_get(g, "series"), 2)), 400);
    json_t *s = json_array_get(json_object_get(g, "samples"), 0);
    CHECK_STR(json_string_value(json_object_get(s, "time")), "2026-11-20T10:42:09.123456Z");

    json_t *c = json_array_get(json_object_get(doc, "causes"), 0);
    static const char *const ckeys[] = {"rank",        "score",           "kind",
                                        "service",     "revision",        "previous_revision",
                                        "error_class", "summary",         "onset",
                                        "change_time", "score_breakdown", "evidence",
                                        "actions",     "commit_range",    "suspects",
                                        "links"};
    check_key_order(c, ckeys, FL_ARRAY_LEN(ckeys));
    /* correlate/suspects did not run on this result: no range, no suspects */
    CHECK(json_is_null(json_object_get(c, "commit_range")));
    CHECK_INT(json_array_size(json_object_get(c, "suspects")), 0);
    CHECK_STR(json_string_value(json_object_get(c, "kind")), "deploy");
    /* Rounded to 4 decimals so renderings are stable. */
    CHECK(strstr(text, "\"score\": 0.8712") != NULL && strstr(text, "0.8712345") == NULL);
    CHECK_STR(json_string_value(json_object_get(c, "previous_revision")), "checkout-api-00041-abc");
    CHECK(strstr(json_string_value(json_array_get(json_object_get(c, "actions"), 0)),
                 "--to-revisions=checkout-api-00041-abc=100") != NULL);
    /* Determinism: a second rendering is byte-identical. */
    char *again = render("json", r, false);
    CHECK_STR(again, text);
    free(again);
    json_decref(doc);
    free(text);
    fl_result_free(r);
}

/* The Markdown outside fenced code blocks (where anything is inert text). */
static char *outside_fences(const char *md)
{
    char *out = fl_calloc(strlen(md) + 1, 1);
    size_t o = 0, fence = 0;
    for (const char *p = md; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        size_t ticks = strspn(p, "`");
        if (ticks >= 3 && (fence == 0 || (ticks == fence && (p[ticks] == '\n' || !p[ticks])))) {
            fence = fence ? 0 : ticks;
        } else if (!fence) {
            memcpy(out + o, p, len);
            o += len;
        }
        p += len;
    }
    return out;
}

/* Hostile log text must not become a link, an image, HTML, a table row or a heading. */
static void test_markdown_escaping(void)
{
    const char *hostile = "# PWNED [click](https://evil.example/x) <img src=x onerror=alert(1)> "
                          "| a | b |\n```\nbreak out ``` `tick`";
    fl_result *r = make_result(true, hostile);
    char *md = render("md", r, false);
    char *prose = outside_fences(md);
    CHECK(strstr(prose, "[click](") == NULL);
    for (const char *p = prose; (p = strstr(p, "<img")) != NULL; p++)
        CHECK(p > prose && p[-1] == '\\');
    CHECK(strstr(prose, "](https") == NULL);
    CHECK(strstr(prose, "PWNED") != NULL); /* the evidence line is there, escaped */
    free(prose);
    CHECK(strstr(md, "\\<img") != NULL);
    CHECK(strstr(md, "https://evil") == NULL || strstr(md, "````") != NULL);
    CHECK(strstr(md, "\\# PWNED") != NULL);
    CHECK(strstr(md, "\\| a \\| b \\|") != NULL);
    /* The sample goes in a fence longer than any backtick run inside it. */
    CHECK(strstr(md, "````text\n# PWNED") != NULL);
    /* The title is escaped too. */
    CHECK(strstr(md, "# checkout \\| incident\n") != NULL);
    /* Ten-second summary: first lines hold the cause, the onset and the rollback command. */
    const char *summary = strstr(md, "**Summary:** Revision checkout-api-00042-xyz");
    CHECK(summary != NULL && summary - md < 80);
    CHECK(strstr(md, "- **Errors:** ` schema_validation `, 412 in total, the first at "
                     "2026-11-20T10:42:09Z\n") != NULL);
    CHECK(strstr(md, "- **Change:** at 2026-11-20T10:42:07Z, 2 s before the first error") != NULL);
    CHECK(strstr(md, "- **Last healthy revision:** ` checkout-api-00041-abc `") != NULL);
    const char *cmd = strstr(md, "```sh\ngcloud run services update-traffic checkout-api");
    CHECK(cmd != NULL && cmd - md < 800);
    CHECK(strstr(md, "## Timeline (UTC)") != NULL);
    CHECK(strstr(md, "| 2026-11-20T10:42:07Z | Change (deploy): checkout\\-api") != NULL ||
          strstr(md, "| 2026-11-20T10:42:07Z | Change (deploy): checkout-api") != NULL);
    CHECK(strstr(md, "First error: `` schema_validation ``") != NULL ||
          strstr(md, "First error: ` schema_validation `") != NULL);
    CHECK(strstr(md, "## Error groups") != NULL);
    CHECK(strstr(md, "` logs/a.json:17 ` malformed") != NULL);
    CHECK(strstr(md, "Truncated: ` logs/b.json.gz `") != NULL);
    free(md);
    fl_result_free(r);
}

static void test_text(void)
{
    fl_result *r = make_result(true, "boom \033[2J cleared");
    char *t = render("text", r, false);
    CHECK(strstr(t, "MOST LIKELY CAUSE") != NULL);
    CHECK(strstr(t, "gcloud run services update-traffic checkout-api --region=europe-west1 "
                    "--to-revisions=checkout-api-00041-abc=100") != NULL);
    CHECK(strstr(t, "\033") == NULL); /* no colour asked, and log escapes neutralised */
    CHECK(strstr(t, "boom ?[2J cleared") != NULL);
    CHECK(strstr(t, "logs/a.json:17") != NULL);
    CHECK(strstr(t, "1234 entries") != NULL);
    /* The first action comes before the evidence list. */
    CHECK(strstr(t, "gcloud run") < strstr(t, "Evidence:"));
    free(t);
    t = render("text", r, true);
    CHECK(strstr(t, "\033[") != NULL);
    free(t);
    fl_result_free(r);

    r = make_result(false, "x");
    t = render("text", r, false);
    CHECK(strstr(t, "No confident cause (top score 0.31 < threshold 0.50)") != NULL);
    CHECK(strstr(t, "MOST LIKELY CAUSE") == NULL);
    free(t);
    t = render("md", r, false);
    CHECK(strstr(t, "no confident cause (top score 0.31 < threshold 0.50)") != NULL);
    free(t);
    fl_result_free(r);
}

/* The text report folds groups of one template family into one row (issue 12). */
static void test_text_families(void)
{
    fl_result *r = fl_result_new();
    r->n_groups = 3;
    r->groups = fl_calloc(3, sizeof(fl_group));
    static const struct {
        const char *tmpl, *family;
        uint64_t count;
    } gs[] = {{"HTTP 500 GET <path>", "fam:1", 115},
              {"cache miss storm on <host>", "fam:2", 60},
              {"HTTP 500 POST <path>", "fam:1", 34}};
    for (size_t i = 0; i < 3; i++) {
        fl_group *g = &r->groups[i];
        g->key = fix_str("fp:0000000000000000");
        g->title = fix_str(gs[i].tmpl);
        g->fingerprint = fix_str("0000000000000000");
        g->template_text = fix_str(gs[i].tmpl);
        g->family = fix_str(gs[i].family);
        g->family_template = fix_str(i == 1 ? gs[i].tmpl : "HTTP 500 <*> <path>");
        g->implies = fix_str("unknown");
        g->count = gs[i].count;
        g->first_seen = T0 + (fl_time)i * FL_USEC_PER_SEC;
        g->last_seen = T0 + 60 * FL_USEC_PER_SEC;
    }
    char *t = render("text", r, false);
    CHECK(strstr(t, "149  ") != NULL);
    CHECK(strstr(t, "HTTP 500 <*> <path> (2 templates)") != NULL);
    CHECK(strstr(t, "HTTP 500 POST <path>") == NULL);
    CHECK(strstr(t, "cache miss storm") > strstr(t, "(2 templates)")); /* 149 before 60 */
    CHECK(strstr(t, "more groups") == NULL);
    free(t);
    fl_result_free(r);
}

/* fl_report_write redacts before any writer runs, unless no_redact is set. */
static void test_redaction_dispatch(void)
{
    const char *secret = "AKIAIOSFODNN7EXAMPLE";
    char line[128];
    snprintf(line, sizeof line, "upload failed with key %s", secret);
    fl_result *r = make_result(true, line);
    for (size_t i = 0; fl_report_formats[i]; i++) {
        for (int no_redact = 0; no_redact <= 1; no_redact++) {
            char *text = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&text, &len);
            fl_report_opts o = {no_redact, false, 100, NULL, NULL};
            CHECK_INT(fl_report_write(fl_report_formats[i]->name, r, &o, f), 0);
            fclose(f);
            CHECK((strstr(text, secret) != NULL) == (no_redact == 1));
            free(text);
        }
    }
    /* The caller's result is untouched. */
    CHECK(strstr(r->groups[0].samples[0].message, secret) != NULL);
    fl_result_free(r);
}

/* An empty result renders in every format without crashing and says there is nothing. */
static void test_empty(void)
{
    fl_result *r = fl_result_new();
    for (size_t i = 0; fl_report_formats[i]; i++) {
        char *t = render(fl_report_formats[i]->name, r, false);
        CHECK(t && *t);
        free(t);
    }
    fl_result_free(r);
}

/* Suspect commits (correlate/suspects) in every format, from the redacted copy. */
static void test_suspects(void)
{
    fl_result *r = make_result(true, "plain message");
    fl_commit_range *cr = &r->causes[0].commits;
    cr->prev_sha = fix_str("e9ca8b0a7fbf0a7ee5977f52767352d6461aa475");
    cr->bad_sha = fix_str("38666b68da11a85b36f4883e08e89e5b8854a27c");
    cr->compare_url = fix_str("https://github.com/acme/shop/compare/e9ca8b0...38666b6");
    cr->note = fix_str("");
    cr->searched = true;
    cr->commits = 6;
    cr->n_suspects = 1;
    cr->suspects = fl_calloc(1, sizeof(fl_suspect));
    cr->suspects[0] = (fl_suspect){
        fix_str("406e52ce5860f4344c77a740b7edb9af52580ecf"),
        fix_str("deploy: <b>one</b> secret, ask ops@example.com"),
        fix_str("Ana Lima"),
        T0,
        0.75,
        fix_strv(1, (const char *const[]){"removed `KV_REDIS_PASSWORD` from deploy/service.yaml"}),
        1};
    fl_report_opts o = {false, false, 100, NULL, NULL};
    static const char *const formats[] = {"text", "md", "json", "html"};
    for (size_t i = 0; i < FL_ARRAY_LEN(formats); i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        CHECK_INT(fl_report_write(formats[i], r, &o, f), 0);
        fclose(f);
        CHECK(strstr(text, "406e52ce58") != NULL);
        CHECK(strstr(text, "KV_REDIS_PASSWORD") != NULL);
        CHECK(strstr(text, "e9ca8b0a7fbf..38666b68da11") != NULL);
        CHECK(strstr(text, "ops@example.com") == NULL); /* redacted like log text */
        CHECK(strstr(text, "<b>one") == NULL || !strcmp(formats[i], "text") ||
              !strcmp(formats[i], "json"));
        if (!strcmp(formats[i], "text"))
            CHECK(strstr(text, "  Suspect commits:\n    1. 406e52ce58 0.75  deploy:") != NULL);
        if (!strcmp(formats[i], "md"))
            CHECK(strstr(text, "[compare](https://github.com/acme/shop/compare/") != NULL);
        if (!strcmp(formats[i], "html"))
            CHECK(strstr(text, "<a href=\"https://github.com/acme/shop/compare/") != NULL);
        free(text);
    }
    fl_result_free(r);
}

int main(void)
{
    test_registry();
    test_json_contract();
    test_markdown_escaping();
    test_text();
    test_text_families();
    test_redaction_dispatch();
    test_empty();
    test_suspects();
    return fl_test_done();
}
