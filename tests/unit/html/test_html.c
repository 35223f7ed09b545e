/* HTML report: escaping, self-containment, chart data attributes, adaptive bucket labels. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "fl_reports.h"
#include "fl_test.h"
#include "html/html.h"

extern const fl_report_format fl_report_html;

static char *render(const fl_result *r, const fl_report_opts *opts)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_INT(fl_report_html.write(r, opts, f), 0);
    fclose(f);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* One input and the text an escaping writer must produce for it. */
typedef struct escape_row {
    const char *in, *out;
} escape_row;

static void check_writer(void (*write)(FILE *, const char *), const escape_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        write(f, rows[i].in);
        fclose(f);
        CHECK_STR(buf, rows[i].out);
        free(buf);
    }
}

static void test_escape(void)
{
    static const escape_row rows[] = {
        {"<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
        {"a & b \"q\"", "a &amp; b &quot;q&quot;"},
        {"bell\a and esc\x1b[31m", "bell and esc[31m"},
        {"line\nnext\ttab", "line\nnext\ttab"},
        {"", ""},
    };
    check_writer(fl_html_escape, rows, FL_ARRAY_LEN(rows));
}

static void test_prose(void)
{
    static const escape_row rows[] = {
        {"failing with `schema_validation` (32%)",
         "failing with <code>schema_validation</code> (32%)"},
        {"`<script>` stays text", "<code>&lt;script&gt;</code> stays text"},
        {"a lone ` tick <b>", "a lone ` tick &lt;b&gt;"},
        {"empty `` pair", "empty `` pair"},
    };
    check_writer(fl_html_prose, rows, FL_ARRAY_LEN(rows));
}

static void test_page(void)
{
    fl_result *r = fix_result();
    fl_report_opts opts = {.title = "checkout <incident>"};
    char *html = render(r, &opts);
    CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(html, "<title>checkout &lt;incident&gt;</title>") != NULL);
    /* Self-contained: no script, no external resources. */
    CHECK(count(html, "<script") == 0);
    CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(html, " src=") == NULL);
    CHECK(strstr(html, "rel=\"stylesheet\"") == NULL);
    CHECK(strstr(html, "@import") == NULL);
    CHECK(strstr(html, "url(") == NULL);
    CHECK(strstr(html, "@media print") != NULL);
    /* Chart: one point per revision per bucket, with the numbers from the result. */
    CHECK_INT(count(html, "<circle class=\"pt\""), 2 * 20);
    CHECK(strstr(html, "data-revision=\"checkout-00042-xyz\" data-bucket=\"7\" "
                       "data-time=\"2025-11-20T10:17:00Z\" data-requests=\"107\" "
                       "data-r5xx=\"47\"") != NULL);
    CHECK(strstr(html, "data-revision=\"checkout-00041-abc\" data-bucket=\"0\" "
                       "data-time=\"2025-11-20T10:10:00Z\" data-requests=\"120\" "
                       "data-r5xx=\"0\"") != NULL);
    CHECK(strstr(html, "data-group=\"schema_validation\" data-bucket=\"9\" data-count=\"49\"") !=
          NULL);
    CHECK(strstr(html, "data-group=\"fp:fedcba9876543210\" data-bucket=\"2\" data-count=\"3\"") !=
          NULL);
    CHECK_INT(count(html, "<line class=\"change"), 3);
    CHECK(strstr(html, "data-kind=\"deploy\" data-time=\"2025-11-20T10:14:30Z\"") != NULL);
    CHECK(strstr(html, "<g class=\"onset\" data-time=\"2025-11-20T10:15:02Z\"") != NULL);
    CHECK(strstr(html, "requests / minute") != NULL);
    CHECK(strstr(html, "time (UTC)") != NULL);
    CHECK(strstr(html, "data-bucket-seconds=\"60\" data-buckets=\"20\"") != NULL);
    /* Tables and sections. */
    CHECK(strstr(html, "onset_after_change") != NULL);
    CHECK(strstr(html, "--to-revisions=checkout-00041-abc=100") != NULL);
    CHECK(strstr(html, "incident.json:17") != NULL);
    CHECK(strstr(html, "not a JSON object &lt;b&gt;") != NULL);
    CHECK(strstr(html, "Most likely cause") != NULL);
    CHECK(strstr(html, "env_var = <code>PAYMENTS_URL</code> (5)") != NULL);
    free(html);

    /* A day-long archive with 15-minute buckets renders its own unit and tick labels. */
    r->bucket_seconds = 900;
    html = render(r, &opts);
    CHECK(strstr(html, "requests / 15 min") != NULL);
    CHECK(strstr(html, "data-bucket-seconds=\"900\"") != NULL);
    free(html);

    /* No buckets: still a valid page. */
    r->n_buckets = 0;
    html = render(r, NULL);
    CHECK(strstr(html, "No timeline") != NULL);
    CHECK(strstr(html, "</html>") != NULL);
    free(html);
    r->n_buckets = 20;
    fl_result_free(r);
}

/* A day of minute buckets is shown in 10-minute buckets whose values are the sums. */
static void test_day_rebinning(void)
{
    fl_result *r = fl_result_new();
    r->bucket_seconds = 60;
    r->n_buckets = 1440;
    r->bucket_origin = FIX_T0;
    r->window_start = FIX_T0;
    r->window_end = FIX_T0 + 1440 * FIX_MIN - 1;
    r->n_revisions = 1;
    r->revisions = fl_calloc(1, sizeof(fl_revision));
    fl_revision *v = &r->revisions[0];
    v->service = fl_strdup("svc");
    v->revision = fl_strdup("svc-00001-aaa");
    v->commit_sha = fl_strdup("");
    v->requests_series = fl_calloc(1440, sizeof(uint32_t));
    v->r5xx_series = fl_calloc(1440, sizeof(uint32_t));
    for (size_t i = 0; i < 1440; i++) {
        v->requests_series[i] = 3;
        v->r5xx_series[i] = i >= 600 && i < 610 ? 2 : 0;
        v->requests += 3;
        v->requests_5xx += v->r5xx_series[i];
    }
    char *html = render(r, NULL);
    CHECK(strstr(html, "data-display-bucket-seconds=\"600\" data-display-buckets=\"144\"") != NULL);
    CHECK_INT(count(html, "<circle class=\"pt\""), 144);
    CHECK(strstr(html, "data-bucket=\"60\" data-time=\"2025-11-20T20:10:00Z\" data-requests=\"30\" "
                       "data-r5xx=\"20\"") != NULL);
    CHECK(strstr(html, "requests / 10 min") != NULL);
    CHECK(strstr(html, "2025-11-21 00:00") != NULL); /* the date shows at midnight */
    free(html);
    fl_result_free(r);
}

static void test_bucket_labels(void)
{
    char b[32];
    CHECK_STR(fl_html_bucket_label(60, b, sizeof(b)), "minute");
    CHECK_STR(fl_html_bucket_label(300, b, sizeof(b)), "5 min");
    CHECK_STR(fl_html_bucket_label(3600, b, sizeof(b)), "hour");
    CHECK_STR(fl_html_bucket_label(7200, b, sizeof(b)), "2 h");
    CHECK_STR(fl_html_bucket_label(10, b, sizeof(b)), "10 s");
}

int main(void)
{
    test_escape();
    test_prose();
    test_page();
    test_bucket_labels();
    test_day_rebinning();
    return fl_test_done();
}
