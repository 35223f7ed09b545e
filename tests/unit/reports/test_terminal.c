/* The live screen renderer: one frame from the home position, every line cleared to its end,
 * top cause with score and evidence, sparklines, NEW groups, source health, and nothing wider
 * than the terminal. Pure: the same inputs give the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "fl_test.h"
#include "terminal/fl_terminal.h"

static char *render(const fl_result *r, const fl_term_view *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK_INT(fl_terminal_render(r, v, m), 0);
    fclose(m);
    return buf;
}

/* Display columns of the longest line once escape sequences are removed. */
static int widest_line(const char *s)
{
    int max = 0, cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == 0x1b) {
            p++;
            if (*p == '[')
                while (p[1] && !((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
                    p++;
            p++;
            continue;
        }
        if (*p == '\n') {
            max = cols > max ? cols : max;
            cols = 0;
        } else if ((*p & 0xC0) != 0x80) {
            cols++;
        }
    }
    return cols > max ? cols : max;
}

int main(void)
{
    static uint32_t req1[] = {10, 12, 11, 9, 0, 0}, bad1[] = {0, 0, 0, 0, 0, 0};
    static uint32_t req2[] = {0, 0, 0, 0, 8, 16}, bad2[] = {0, 0, 0, 0, 4, 8};
    fl_revision revs[2] = {
        {.service = "checkout",
         .revision = "checkout-00001-abc",
         .commit_sha = "",
         .requests = 42,
         .requests_series = req1,
         .r5xx_series = bad1},
        {.service = "checkout",
         .revision = "checkout-00002-xyz",
         .commit_sha = "",
         .requests = 24,
         .requests_5xx = 12,
         .requests_series = req2,
         .r5xx_series = bad2},
    };
    char *evidence[] = {"revision checkout-00002-xyz: 12/24 requests 5xx (50%)"};
    fl_cause causes[1] = {{.rank = 1,
                           .score = 0.93,
                           .kind = FL_CAUSE_DEPLOY,
                           .service = "checkout",
                           .revision = "checkout-00002-xyz",
                           .previous_revision = "checkout-00001-abc",
                           .error_class = "missing_env_var",
                           .summary = "Revision checkout-00002-xyz is failing after its "
                                      "rollout; roll back to checkout-00001-abc and read the "
                                      "rest of this very long sentence that must be cut",
                           .evidence = evidence,
                           .n_evidence = 1}};
    fl_group groups[2] = {{.key = "missing_env_var",
                           .title = "A required environment "
                                    "variable is missing",
                           .count = 40},
                          {.key = "fp:1", .title = "HTTP 500 POST <path>", .count = 12}};
    fl_result r = {.n_buckets = 6,
                   .revisions = revs,
                   .n_revisions = 2,
                   .causes = causes,
                   .n_causes = 1,
                   .groups = groups,
                   .n_groups = 2,
                   .confidence_threshold = 0.5};
    r.input.entries = 1234;
    fl_term_source src[1] = {
        {"kafka:logs", 1234, 56.5, 7, false, false, "kafka: all brokers are down"}};
    bool is_new[2] = {false, true};
    fl_term_view v = {.width = 80,
                      .height = 30,
                      .color = false,
                      .window = "30m",
                      .sources = src,
                      .n_sources = 1,
                      .group_is_new = is_new,
                      .duplicates = 3};

    char *a = render(&r, &v);
    CHECK(strncmp(a, "\x1b[H", 3) == 0);  /* starts at home: redraw in place */
    CHECK(strstr(a, "\x1b[K\n") != NULL); /* lines cleared to their end */
    CHECK(strstr(a, "entries 1234") != NULL);
    CHECK(strstr(a, "duplicates 3") != NULL);
    CHECK(strstr(a, " 1. 0.93  deploy") != NULL);
    CHECK(strstr(a, "checkout/checkout-00002-xyz") != NULL);
    CHECK(strstr(a, "12/24 requests 5xx") != NULL);
    CHECK(strstr(a, "\u2588") != NULL); /* a full block for the busiest minute */
    CHECK(strstr(a, "NEW") != NULL);
    CHECK(strstr(a, "NEW     12  HTTP 500") != NULL);
    CHECK(strstr(a, "kafka:logs") != NULL && strstr(a, "down") != NULL);
    CHECK(strstr(a, "lag 7") != NULL);
    CHECK(strstr(a, "\x1b[31m") == NULL); /* no colour asked, none given */
    CHECK(widest_line(a) <= 80);

    char *b = render(&r, &v);
    CHECK_STR(a, b); /* deterministic */
    free(b);

    /* A short terminal still shows the sources at the bottom. */
    v.height = 12;
    v.color = true;
    b = render(&r, &v);
    CHECK(strstr(b, "kafka:logs") != NULL);
    CHECK(strstr(b, "\x1b[") != NULL);
    int lines = 0;
    for (const char *p = b; *p; p++)
        lines += *p == '\n';
    CHECK(lines <= 11);
    free(b);

    /* Log text cannot drive the terminal: ESC, BEL, OSC 52, C1 CSI (UTF-8 and raw), DEL and
     * bytes that are not UTF-8 are shown as '?'; other UTF-8 text stays. */
    char *hostile[] = {"x\x1b[2J\x1b]52;c;cHduZWQ=\x07\xc2\x9b"
                       "31m\x9b\x7f\xff caf\xc3\xa9 end"};
    causes[0].evidence = hostile;
    groups[0].title = hostile[0];
    v.height = 40;
    v.color = false;
    b = render(&r, &v);
    CHECK(strstr(b, "x?[2J?]52;c;cHduZWQ=??31m??? caf\xc3\xa9 end") != NULL);
    size_t esc = 0, ours = 0;
    for (const char *p = b; *p; p++)
        esc += *p == 0x1b;
    for (const char *p = b; (p = strstr(p, "\x1b[")) != NULL; p += 2)
        ours += p[2] == 'H' || p[2] == 'K' || p[2] == 'J';
    CHECK_INT((int)esc, (int)ours); /* only the frame's own home / clear sequences */
    CHECK(strchr(b, 0x07) == NULL && strstr(b, "\xc2\x9b") == NULL);
    free(b);

    /* The rollback command is wrapped, never cut, and pastes as one command (" \"). */
    char *actions[] = {"gcloud run services update-traffic checkout --region=europe-west1 "
                       "--to-revisions=checkout-00001-abc=100"};
    causes[0].actions = actions;
    causes[0].n_actions = 1;
    v.width = 60;
    v.height = 24;
    b = render(&r, &v);
    CHECK(strstr(b, "$ gcloud run services update-traffic checkout \\") != NULL);
    CHECK(strstr(b, "--to-revisions=checkout-00001-abc=100") != NULL);
    CHECK(widest_line(b) <= 60);
    free(b);
    free(a);
    return fl_test_done();
}
