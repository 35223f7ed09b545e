/* Postmortem draft: template sections in order, facts from the result, human blanks,
 * redaction by default, Markdown escaping of log text, action items by cause kind. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "fl_test.h"
#include "postmortem/postmortem.h"

static char *md_inline(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fl_md_inline(f, s);
    fclose(f);
    return buf;
}

static void test_inline_escaping(void)
{
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"plain words stay", "plain words stay"},
        {"[click](javascript:alert) here", "\\[click\\](javascript:alert) here"},
        {"see https://evil.test/x now", "see `https://evil.test/x` now"},
        {"mail bob@evil.test", "mail `bob@evil.test`"},
        {"| a | b |\n|---|---|", "\\| a \\| b \\| \\|---\\|---\\|"},
        {"# heading\n> quote", "\\# heading \\> quote"},
        {"1. item", "1\\. item"},
        {"- bullet", "\\- bullet"},
        {"<img src=x onerror=alert(1)>", "\\<img src=x onerror=alert(1)\\>"},
        {"schema_validation _emph_ *bold*", "schema_validation \\_emph\\_ \\*bold\\*"},
        {"![img](x.png)", "\\!\\[img\\](x.png)"},
        {"code `x y` here", "code `x y` here"},
        {"lone ` tick", "lone \\` tick"},
        {"span `[a](http://e)` stays inert", "span `[a](http://e)` stays inert"},
        {"revision checkout-00042-xyz", "revision checkout-00042-xyz"},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(rows); i++) {
        char *got = md_inline(rows[i].in);
        CHECK_STR(got, rows[i].out);
        free(got);
    }
}

/* Outside fenced blocks, log text must not produce links or extra table rows. */
static void check_no_injection(const char *md)
{
    bool fenced = false;
    const char *line = md;
    while (*line) {
        size_t n = strcspn(line, "\n");
        if (n >= 3 && strncmp(line, "```", 3) == 0)
            fenced = !fenced;
        else if (!fenced) {
            char buf[4096];
            snprintf(buf, sizeof(buf), "%.*s", (int)FL_MIN(n, sizeof(buf) - 1), line);
            if (strstr(buf, "](http") || strstr(buf, "<script")) {
                fl_test_failed++;
                fprintf(stderr, "injected markup outside a code block: %s\n", buf);
            }
        }
        line += n + (line[n] ? 1 : 0);
    }
    CHECK(!fenced);
}

static const char *find_after(const char *hay, const char *needle, const char *from)
{
    const char *p = strstr(from ? from : hay, needle);
    if (!p)
        fprintf(stderr, "missing or out of order: %s\n", needle);
    return p;
}

static void test_draft(void)
{
    fl_result *r = fix_result();
    char *md = fl_postmortem_string(r, NULL);
    CHECK(md != NULL);
    if (!md)
        return;
    static const char *const order[] = {"# Postmortem: ",    "## Summary",        "## Impact",
                                        "## Timeline (UTC)", "## Root Cause",     "## Resolution",
                                        "## Action Items",   "## Lessons Learned"};
    const char *at = md;
    for (size_t i = 0; i < FL_ARRAY_LEN(order) && at; i++) {
        at = find_after(md, order[i], at);
        CHECK(at != NULL);
    }
    CHECK(strstr(md, "**Duration**: 10 min") != NULL);
    CHECK(strstr(md, "**First error**: 2025-11-20 10:15:02 UTC") != NULL);
    CHECK(strstr(md, "495 of 1095 requests returned 5xx (45.2%)") != NULL);
    CHECK(strstr(md, "_TODO (human): customer impact in money_") != NULL);
    CHECK(strstr(md, "Owner: _TODO_") != NULL);
    /* Timeline: deploy, onset, rollback, in time order. */
    const char *t = strstr(md, "## Timeline (UTC)");
    const char *dep = t ? strstr(t, "10:14:30 — Deploy `checkout-00042-xyz`") : NULL;
    const char *ons = dep ? strstr(dep, "**onset of cause #1**") : NULL;
    const char *rb = ons ? strstr(ons, "10:25:00 — **Rollback**") : NULL;
    CHECK(dep && ons && rb);
    CHECK(strstr(md, "`gcloud run services update-traffic checkout --region=us-central1 "
                     "--to-revisions=checkout-00041-abc=100`") != NULL);
    CHECK(strstr(md, "CI gate") != NULL);
    CHECK(strstr(md, "canary") != NULL);
    /* Redacted by default; escaped either way. Who deployed is shown (issue 13 item 4). */
    CHECK(strstr(md, "hunter2x9") == NULL);
    CHECK(strstr(md, "jane.doe@example.com") != NULL);
    CHECK(strstr(md, "[REDACTED:secret]") != NULL);
    check_no_injection(md);
    fl_free(md);

    fl_redact_policy hide = {.redact_actors = true};
    fl_postmortem_opts hidden = {.redact = &hide};
    md = fl_postmortem_string(r, &hidden);
    CHECK(md && strstr(md, "jane.doe@example.com") == NULL);
    CHECK(md && strstr(md, "REDACTED:actor") != NULL); /* escaped brackets */
    fl_free(md);

    fl_postmortem_opts raw = {.no_redact = true, .title = "Checkout | outage"};
    md = fl_postmortem_string(r, &raw);
    CHECK(strstr(md, "hunter2x9") != NULL);
    CHECK(strstr(md, "# Postmortem: Checkout \\| outage") != NULL);
    check_no_injection(md);
    fl_free(md);

    /* Action items follow the cause kind. */
    static const struct {
        fl_cause_kind k;
        const char *needle;
    } kinds[] = {{FL_CAUSE_DEPENDENCY, "circuit breaker"},
                 {FL_CAUSE_LOAD, "connection pools"},
                 {FL_CAUSE_RESOURCE, "leak"},
                 {FL_CAUSE_PLATFORM, "status history"}};
    for (size_t i = 0; i < FL_ARRAY_LEN(kinds); i++) {
        r->causes[0].kind = kinds[i].k;
        md = fl_postmortem_string(r, NULL);
        const char *ai = md ? strstr(md, "## Action Items") : NULL;
        CHECK(ai && strstr(ai, kinds[i].needle));
        CHECK(ai && !strstr(ai, "CI gate"));
        fl_free(md);
    }
    /* No rollback: the blank stays for a human. */
    r->causes[0].kind = FL_CAUSE_DEPLOY;
    fl_free(r->changes[2].revision);
    r->changes[2].revision = fl_strdup("checkout-00043-new");
    md = fl_postmortem_string(r, NULL);
    CHECK(md && !strstr(md, "**Rollback**"));
    CHECK(md && strstr(md, "_TODO (human): HH:MM mitigation deployed"));
    fl_free(md);
    fl_result_free(r);

    /* An empty result still gives a complete template. */
    fl_result *e = fl_result_new();
    md = fl_postmortem_string(e, NULL);
    CHECK(md && strstr(md, "## Lessons Learned"));
    CHECK(md && strstr(md, "_TODO (human): technical explanation"));
    fl_free(md);
    fl_result_free(e);
}

int main(void)
{
    test_inline_escaping();
    test_draft();
    return fl_test_done();
}
