/* --format slack: a message to paste into a Slack channel (Slack's mrkdwn, not Markdown).
 *
 * Pasted Markdown shows its escapes in Slack ("\_TODO\_", "\#"), headings and tables stay raw.
 * mrkdwn has *bold*, _italic_, `code`, ``` blocks ```, <url|label> links and bullets, and
 * needs only &, < and > escaped (as &amp; &lt; &gt;). Log text goes into code spans or blocks,
 * where a backtick would end the span early, so backticks in it become '. What a tired
 * reader needs first comes first: verdict, the command, evidence, the other leads. */
#include "common/group_name.h"
#include "common/links.h"
#include "common/span.h"
#include "fl_reports.h"

#include <string.h>

#define MAX_EVIDENCE 5
#define MAX_OTHERS 4
#define MAX_GROUPS 5

/* Text with &, <, > escaped; in_code also turns ` into ' and newlines into spaces. */
static void put(FILE *o, const char *s, size_t max, bool in_code)
{
    size_t n = 0;
    for (; *s && n < max; s++, n++) {
        switch (*s) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '`': fputc(in_code ? '\'' : '`', o); break;
        case '\n': fputc(in_code ? ' ' : '\n', o); break;
        case '\r': break;
        default: fputc(*s, o);
        }
    }
    if (*s)
        fputs("...", o);
}

static void code(FILE *o, const char *s, size_t max)
{
    fputc('`', o);
    put(o, s, max, true);
    fputc('`', o);
}

static void block(FILE *o, const char *s)
{
    fputs("```\n", o);
    /* ``` inside the block would close it: mrkdwn has no escape, so break the run. */
    for (const char *p = s; *p; p++) {
        if (p[0] == '`' && p[1] == '`' && p[2] == '`')
            fputs("`\u200b", o);
        else if (*p == '&')
            fputs("&amp;", o);
        else if (*p == '<')
            fputs("&lt;", o);
        else if (*p == '>')
            fputs("&gt;", o);
        else
            fputc(*p, o);
    }
    fputs("\n```\n", o);
}

static void header(const fl_result *r, const fl_report_opts *opts, FILE *o)
{
    char a[32], b[32], span[48];
    fputs("*", o);
    put(o, opts && opts->title ? opts->title : "faultline: root-cause report", 200, false);
    fputs("*\n", o);
    if (r->window_start)
        fprintf(o, "Window %s to %s (%s), %llu entries\n",
                fl_time_format(r->window_start, false, a, sizeof a),
                fl_time_format(r->window_end, false, b, sizeof b),
                fl_span_text(r->window_end - r->window_start, span, sizeof span),
                (unsigned long long)r->input.entries);
    if (r->input.filter[0]) {
        fputs("Filter: ", o);
        code(o, r->input.filter, 400);
        fputc('\n', o);
    }
    if (r->input.duplicates)
        fprintf(o, "%llu duplicate entries dropped\n", (unsigned long long)r->input.duplicates);
    if (r->input.malformed + r->input.oversize + r->input.unreadable + r->input.n_truncated)
        fputs(":warning: partial input: some of it could not be read (see the full report)\n", o);
}

static void top_cause(const fl_result *r, FILE *o)
{
    const fl_cause *c = &r->causes[0];
    fprintf(o, "\n:rotating_light: *Most likely cause* (score %.2f, %s", c->score,
            fl_cause_kind_name(c->kind));
    if (c->revision[0]) {
        fputs(" of ", o);
        code(o, c->revision, 120);
    }
    fputs(")\n", o);
    put(o, c->summary, 1000, false);
    fputc('\n', o);
    if (c->n_actions) {
        fputs("*Do this first:*\n", o);
        block(o, c->actions[0]);
    }
    if (c->n_evidence) {
        fputs("*Evidence:*\n", o);
        for (size_t i = 0; i < c->n_evidence && i < MAX_EVIDENCE; i++) {
            fputs("• ", o);
            put(o, c->evidence[i], 400, false);
            fputc('\n', o);
        }
    }
    char explorer[FL_LINK_MAX], revisions[FL_LINK_MAX];
    if (fl_cause_links(r, c, explorer, revisions)) {
        /* Built from safe names and percent-encoded: nothing to escape, no | or >. */
        fprintf(o, "<%s|Logs Explorer>", explorer);
        if (revisions[0])
            fprintf(o, " · <%s|Cloud Run revisions>", revisions);
        fputc('\n', o);
    }
}

static int slack_write(const fl_result *r, const fl_report_opts *opts, FILE *o)
{
    header(r, opts, o);
    size_t others_from = 0;
    if (r->n_causes && r->confident) {
        top_cause(r, o);
        others_from = 1;
    } else {
        fprintf(o, "\n*No confident cause* (threshold %.2f): the leads below are weak; check "
                   "them against dashboards before acting.\n",
                r->confidence_threshold);
    }
    if (r->n_causes > others_from) {
        fputs(others_from ? "\n*Other candidates*\n" : "\n*Leads*\n", o);
        for (size_t i = others_from; i < r->n_causes && i < others_from + MAX_OTHERS; i++) {
            fprintf(o, "%d. %.2f %s: ", r->causes[i].rank, r->causes[i].score,
                    fl_cause_kind_name(r->causes[i].kind));
            put(o, r->causes[i].summary, 400, false);
            fputc('\n', o);
        }
    }
    if (r->n_groups) {
        fputs("\n*Top error groups*\n", o);
        for (size_t i = 0; i < r->n_groups && i < MAX_GROUPS; i++) {
            fprintf(o, "• %llu × ", (unsigned long long)r->groups[i].count);
            code(o, fl_group_name(&r->groups[i]), 100);
            fputc('\n', o);
        }
    }
    return ferror(o) ? FL_EIO : 0;
}

const fl_report_format fl_report_slack = {
    "slack",
    "a message to paste into Slack (mrkdwn): verdict, command, evidence, leads",
    slack_write,
};
