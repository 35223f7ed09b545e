/* HTML report: one self-contained page (inline CSS and SVG, no script, no external resource)
 * that reads offline and prints. Every string that can come from logs is escaped. The result
 * given to the writer is already redacted by fl_report_write unless --no-redact. */
#include <string.h>

#include "fl_config.h"
#include "fl_reports.h"
#include "html.h"

static const char css[] =
    ":root{--fg:#1b1f23;--muted:#5b6570;--line:#d8dde3;--bg:#fff;--accent:#b42318}"
    "*{box-sizing:border-box}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "color:var(--fg);background:var(--bg);margin:0 auto;max-width:1280px;padding:24px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;"
    "border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:0 0 6px}"
    ".muted{color:var(--muted)}.lead{font-size:16px;margin:10px 0}"
    ".verdict{border-left:4px solid var(--accent);padding:8px 12px;background:#fef3f2;margin:12px "
    "0}"
    ".verdict.unsure{border-color:#b54708;background:#fffaeb}"
    "table{border-collapse:collapse;width:100%;margin:6px 0}"
    "th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}"
    "td.ts{white-space:nowrap}th{font-weight:600;background:#f6f8fa}td.num,th.num{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    "code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
    "font-size:12.5px}"
    "p code,li code,td code,h3 code,.verdict code{background:#eef1f4;padding:0 "
    "3px;border-radius:3px}"
    "pre{background:#f6f8fa;padding:8px;overflow-x:auto;white-space:pre-wrap;"
    "word-break:break-all;margin:4px 0}"
    ".cause{border:1px solid var(--line);border-radius:6px;padding:12px 14px;margin:12px 0;"
    "break-inside:avoid}"
    ".cause .score{float:right;font-size:20px;font-weight:600}"
    ".tag{display:inline-block;padding:0 6px;border-radius:3px;background:#eef1f4;"
    "font-size:12px;margin-right:4px}"
    ".meter-fill{display:inline-block;height:10px;background:#3b82f6;vertical-align:middle}"
    ".meter{display:inline-block;width:120px;height:10px;background:#eef1f4;"
    "vertical-align:middle}"
    ".samples{margin:4px 0 0}.samples pre{margin:2px 0}"
    "svg.timeline{border:1px solid var(--line);border-radius:6px;background:#fff}"
    "svg .grid{stroke:#eef1f4}svg .axis{stroke:#8a939c}svg .xtick{stroke:#8a939c}"
    "svg text{font:11px system-ui,sans-serif;fill:#3a424a}"
    "svg .axis-title{font-weight:600}"
    "svg .line-req{stroke-width:2}svg .line-5xx{stroke-width:1.5;stroke-dasharray:5 3}"
    "svg .change{stroke:#344054;stroke-width:1;stroke-dasharray:2 3}"
    "svg .change.failed{stroke:#b54708}"
    "svg .change-label{font-size:10.5px;fill:#344054}"
    "svg .onset rect{fill:#f04438;fill-opacity:.18}svg .onset text{fill:#b42318;font-weight:600}"
    "footer{margin-top:32px;font-size:12px;color:var(--muted)}"
    "@media print{body{padding:0;max-width:none;font-size:11px}"
    "h2{break-after:avoid}.cause,tr,svg{break-inside:avoid}"
    "pre{white-space:pre-wrap}a{color:inherit;text-decoration:none}}";

static void esc(FILE *o, const char *s)
{
    fl_html_escape(o, s);
}

static void ts(FILE *o, fl_time t)
{
    char b[32];
    if (!t) {
        fputs("&mdash;", o);
        return;
    }
    fl_time_format(t, false, b, sizeof(b));
    fputs(b, o);
}

static void header(const fl_result *r, const fl_report_opts *opts, FILE *o)
{
    fputs("<header>\n<h1>", o);
    esc(o, opts && opts->title ? opts->title : "faultline incident report");
    fputs("</h1>\n<p class=\"muted\">Window ", o);
    ts(o, r->window_start);
    fputs(" &ndash; ", o);
    ts(o, r->window_end);
    double min = (double)(r->window_end - r->window_start) / (60.0 * FL_USEC_PER_SEC);
    fprintf(o, " (%.0f min) &middot; %llu entries &middot; %zu error groups &middot; %zu changes",
            min, (unsigned long long)r->input.entries, r->n_groups, r->n_changes);
    if (opts && opts->no_redact)
        fputs(" &middot; <strong>not redacted</strong>", o);
    fputs("</p>\n", o);
    if (r->n_causes && r->confident) {
        fputs("<div class=\"verdict\"><strong>Most likely cause:</strong> ", o);
        fl_html_prose(o, r->causes[0].summary);
        fputs("</div>\n", o);
    } else {
        fprintf(o,
                "<div class=\"verdict unsure\"><strong>No confident cause</strong> (top score "
                "below %.2f).",
                r->confidence_threshold);
        if (r->n_causes) {
            fputs(" Best guess: ", o);
            fl_html_prose(o, r->causes[0].summary);
        }
        fputs("</div>\n", o);
    }
    fputs("</header>\n", o);
}

static void score_parts(const fl_cause *c, FILE *o)
{
    if (!c->n_parts)
        return;
    fputs("<table class=\"parts\"><tr><th>signal</th><th>value</th><th class=\"num\">weight"
          "</th><th class=\"num\">adds</th><th>detail</th></tr>\n",
          o);
    for (size_t i = 0; i < c->n_parts; i++) {
        const fl_score_part *p = &c->parts[i];
        double v = p->value < 0 ? 0 : p->value > 1 ? 1 : p->value;
        fputs("<tr><td class=\"mono\">", o);
        esc(o, p->signal);
        fprintf(o,
                "</td><td><span class=\"meter\"><span class=\"meter-fill\" style=\"width:%.0fpx\">"
                "</span></span> %.2f</td><td class=\"num\">%.2f</td><td class=\"num\">%.3f</td>"
                "<td>",
                v * 120, p->value, p->weight, p->contribution);
        fl_html_prose(o, p->detail);
        fputs("</td></tr>\n", o);
    }
    fputs("</table>\n", o);
}

/* The deploy's code range and suspect commits (correlate/suspects), under the evidence. */
static void suspects(const fl_commit_range *cr, FILE *o)
{
    if (!cr->bad_sha && !cr->note)
        return;
    bool range = fl_commit_range_known(cr) && strcmp(cr->prev_sha, cr->bad_sha) != 0;
    fputs("<div class=\"suspects\"><p><strong>Code change</strong> ", o);
    if (range) {
        fprintf(o, "<code>git log --oneline %.12s..%.12s</code>", cr->prev_sha, cr->bad_sha);
        if (cr->searched)
            fprintf(o, " (%u commit%s)", cr->commits, cr->commits == 1 ? "" : "s");
        if (cr->compare_url[0] && strncmp(cr->compare_url, "https://", 8) == 0) {
            fputs(" <a href=\"", o);
            esc(o, cr->compare_url);
            fputs("\">compare</a>", o);
        }
    }
    if (cr->note[0]) {
        fputs(range ? "<br><span class=\"muted\">" : "<span class=\"muted\">", o);
        fl_html_prose(o, cr->note);
        fputs("</span>", o);
    }
    fputs("</p>\n", o);
    if (cr->n_suspects) {
        fputs("<ol class=\"suspect-list\">\n", o);
        for (size_t i = 0; i < cr->n_suspects; i++) {
            const fl_suspect *s = &cr->suspects[i];
            fprintf(o, "<li data-sha=\"%.40s\" data-score=\"%.3f\"><code>%.10s</code> ", s->sha,
                    s->score, s->sha);
            esc(o, s->subject);
            fputs(" <span class=\"muted\">", o);
            esc(o, s->author);
            fprintf(o, ", score %.2f</span><ul>", s->score);
            for (size_t j = 0; j < s->n_reasons; j++) {
                fputs("<li>", o);
                fl_html_prose(o, s->reasons[j]);
                fputs("</li>", o);
            }
            fputs("</ul></li>\n", o);
        }
        fputs("</ol>\n", o);
    }
    fputs("</div>\n", o);
}

static void causes(const fl_result *r, FILE *o)
{
    fputs("<section id=\"causes\">\n<h2>Ranked causes</h2>\n", o);
    if (!r->n_causes)
        fputs("<p class=\"muted\">No cause candidates: no errors to explain.</p>\n", o);
    for (size_t i = 0; i < r->n_causes; i++) {
        const fl_cause *c = &r->causes[i];
        fprintf(o,
                "<div class=\"cause\" data-rank=\"%d\" data-score=\"%.3f\" data-kind=\"%s\">"
                "<span class=\"score\">%.2f</span>\n<h3>#%d ",
                c->rank, c->score, fl_cause_kind_name(c->kind), c->score, c->rank);
        fl_html_prose(o, c->summary);
        fprintf(o, "</h3>\n<p><span class=\"tag\">%s</span><span class=\"tag\">",
                fl_cause_kind_name(c->kind));
        esc(o, c->service);
        fputs("</span>", o);
        if (c->revision[0]) {
            fputs("<span class=\"tag\">revision ", o);
            esc(o, c->revision);
            fputs("</span>", o);
        }
        if (c->previous_revision[0]) {
            fputs("<span class=\"tag\">last healthy ", o);
            esc(o, c->previous_revision);
            fputs("</span>", o);
        }
        fputs("<span class=\"tag\">class ", o);
        esc(o, c->error_class);
        fputs("</span> onset ", o);
        ts(o, c->onset);
        if (c->change_ts) {
            fputs(", change at ", o);
            ts(o, c->change_ts);
        }
        fputs("</p>\n", o);
        score_parts(c, o);
        if (c->n_evidence) {
            fputs("<p><strong>Evidence</strong></p>\n<ul>\n", o);
            for (size_t k = 0; k < c->n_evidence; k++) {
                fputs("<li>", o);
                fl_html_prose(o, c->evidence[k]);
                fputs("</li>\n", o);
            }
            fputs("</ul>\n", o);
        }
        suspects(&c->commits, o);
        if (c->n_actions) {
            fputs("<p><strong>Actions</strong></p>\n<ol>\n", o);
            for (size_t k = 0; k < c->n_actions; k++) {
                fputs("<li><pre>", o);
                esc(o, c->actions[k]);
                fputs("</pre></li>\n", o);
            }
            fputs("</ol>\n", o);
        }
        fputs("</div>\n", o);
    }
    fputs("</section>\n", o);
}

static void changes(const fl_result *r, FILE *o)
{
    fputs("<section id=\"changes\">\n<h2>Changes</h2>\n", o);
    if (!r->n_changes) {
        fputs("<p class=\"muted\">No change events in the input.</p>\n</section>\n", o);
        return;
    }
    fputs("<table><tr><th>time (UTC)</th><th>kind</th><th>service</th><th>revision</th>"
          "<th>actor</th><th>description</th><th>source</th></tr>\n",
          o);
    for (size_t i = 0; i < r->n_changes; i++) {
        const fl_change_out *c = &r->changes[i];
        fputs("<tr><td class=\"mono ts\">", o);
        ts(o, c->ts);
        fprintf(o, "</td><td>%s</td><td>", fl_change_kind_name(c->kind));
        esc(o, c->service);
        fputs("</td><td class=\"mono\">", o);
        esc(o, c->revision);
        fputs("</td><td>", o);
        esc(o, c->actor);
        fputs("</td><td>", o);
        esc(o, c->description);
        fputs("</td><td>", o);
        esc(o, c->source);
        fputs("</td></tr>\n", o);
    }
    fputs("</table>\n</section>\n", o);
}

static void groups(const fl_result *r, FILE *o)
{
    fputs("<section id=\"groups\">\n<h2>Error groups</h2>\n", o);
    if (!r->n_groups) {
        fputs("<p class=\"muted\">No errors.</p>\n</section>\n", o);
        return;
    }
    fputs("<table><tr><th>class / template</th><th class=\"num\">count</th><th>first seen</th>"
          "<th>last seen</th><th>revisions</th></tr>\n",
          o);
    for (size_t i = 0; i < r->n_groups; i++) {
        const fl_group *g = &r->groups[i];
        fputs("<tr data-group=\"", o);
        esc(o, g->key);
        fputs("\"><td><strong>", o);
        esc(o, g->class_id ? g->class_id : "unmatched");
        fputs("</strong> ", o);
        if (g->chronic)
            fputs("<em title=\"steady all window, there before its changes, unchanged by "
                  "them\">(chronic)</em> ",
                  o);
        esc(o, g->title);
        fputs("<pre>", o);
        esc(o, g->template_text);
        fputs("</pre>", o);
        for (size_t k = 0; k < g->n_fields; k++) {
            fputs(k ? ", " : "<div class=\"muted\">", o);
            esc(o, g->fields[k].name);
            fputs(" = <code>", o);
            esc(o, g->fields[k].value);
            fprintf(o, "</code> (%llu)", (unsigned long long)g->fields[k].count);
            if (k + 1 == g->n_fields)
                fputs("</div>", o);
        }
        if (g->n_samples) {
            fputs("<div class=\"samples\"><span class=\"muted\">samples</span>\n", o);
            for (size_t k = 0; k < g->n_samples && k < 3; k++) {
                const fl_sample *s = &g->samples[k];
                fputs("<pre>", o);
                ts(o, s->ts);
                fputs(" ", o);
                esc(o, s->revision);
                fputs(" ", o);
                esc(o, s->message);
                fputs("</pre>\n", o);
            }
            fputs("</div>", o);
        }
        fprintf(o, "</td><td class=\"num\">%llu</td><td class=\"mono ts\">",
                (unsigned long long)g->count);
        ts(o, g->first_seen);
        fputs("</td><td class=\"mono ts\">", o);
        ts(o, g->last_seen);
        fputs("</td><td class=\"mono\">", o);
        for (size_t k = 0; k < g->n_by_revision; k++) {
            if (k)
                fputs("<br>", o);
            esc(o, g->by_revision[k].revision[0] ? g->by_revision[k].revision
                                                 : g->by_revision[k].service);
            fprintf(o, ": %llu", (unsigned long long)g->by_revision[k].count);
        }
        fputs("</td></tr>\n", o);
    }
    fputs("</table>\n</section>\n", o);
}

static void input_summary(const fl_result *r, FILE *o)
{
    const fl_input_summary *in = &r->input;
    fputs("<section id=\"input\">\n<h2>Input</h2>\n<table class=\"kv\">", o);
    fprintf(o,
            "<tr><th>entries</th><td class=\"num\">%llu</td></tr>"
            "<tr><th>files</th><td class=\"num\">%llu</td></tr>"
            "<tr><th>bytes</th><td class=\"num\">%llu</td></tr>"
            "<tr><th>malformed</th><td class=\"num\">%llu</td></tr>"
            "<tr><th>oversize</th><td class=\"num\">%llu</td></tr>"
            "<tr><th>unreadable</th><td class=\"num\">%llu</td></tr>\n",
            (unsigned long long)in->entries, (unsigned long long)in->files,
            (unsigned long long)in->bytes, (unsigned long long)in->malformed,
            (unsigned long long)in->oversize, (unsigned long long)in->unreadable);
    fputs("</table>\n", o);
    if (in->n_truncated) {
        fputs("<p><strong>Truncated sources</strong> (what was read before the damage is "
              "analysed):</p><ul>",
              o);
        for (size_t i = 0; i < in->n_truncated; i++) {
            fputs("<li class=\"mono\">", o);
            esc(o, in->truncated[i]);
            fputs("</li>", o);
        }
        fputs("</ul>\n", o);
    }
    if (in->n_warnings) {
        fputs("<h3>Warnings</h3>\n<table><tr><th>where</th><th>kind</th><th>message</th></tr>\n",
              o);
        for (size_t i = 0; i < in->n_warnings; i++) {
            const fl_warning *w = &in->warnings[i];
            fputs("<tr><td class=\"mono\">", o);
            esc(o, w->file);
            if (w->line)
                fprintf(o, ":%llu", (unsigned long long)w->line);
            fprintf(o, "</td><td>%s</td><td>", fl_warn_kind_name(w->kind));
            esc(o, w->message);
            fputs("</td></tr>\n", o);
        }
        fputs("</table>\n", o);
        if (in->warnings_dropped)
            fprintf(o, "<p class=\"muted\">%llu more warnings not shown.</p>\n",
                    (unsigned long long)in->warnings_dropped);
    }
    fputs("</section>\n", o);
}

/* The service call graph as a table, caller -> callee; the top cause's service is marked so
 * the reader sees who is upstream of whom. Left out when no call was seen. */
static void call_graph(const fl_result *r, FILE *o)
{
    if (!r->n_edges)
        return;
    const char *top = r->n_causes ? r->causes[0].service : "";
    fputs("<section id=\"call-graph\">\n<h2>Call graph</h2>\n"
          "<p class=\"muted\">Read from the logs: requests sharing a trace id, and error text "
          "naming another service.</p>\n"
          "<table><tr><th>caller</th><th></th><th>callee</th><th>shared traces (sample)</th>"
          "<th>errors naming the callee</th></tr>\n",
          o);
    for (size_t i = 0; i < r->n_edges; i++) {
        const fl_call_edge *e = &r->edges[i];
        fputs("<tr><td>", o);
        esc(o, e->caller);
        fputs(strcmp(e->caller, top) == 0 ? " <strong>(top cause)</strong>" : "", o);
        fputs("</td><td>&rarr;</td><td>", o);
        esc(o, e->callee);
        fputs(strcmp(e->callee, top) == 0 ? " <strong>(top cause)</strong>" : "", o);
        fprintf(o, "</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td></tr>\n",
                (unsigned long long)e->traces, (unsigned long long)e->mentions);
    }
    fputs("</table>\n</section>\n", o);
}

static int write_html(const fl_result *r, const fl_report_opts *opts, FILE *o)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<link rel=\"icon\" href=\"data:,\">\n<title>",
          o);
    esc(o, opts && opts->title ? opts->title : "faultline incident report");
    fprintf(o, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
    header(r, opts, o);
    fputs("<section id=\"timeline\">\n<h2>Timeline</h2>\n", o);
    fl_html_chart(r, o);
    fputs("</section>\n", o);
    causes(r, o);
    call_graph(r, o);
    changes(r, o);
    groups(r, o);
    input_summary(r, o);
    fputs("<footer>Generated by faultline " FL_VERSION
          ". Secrets are redacted unless --no-redact was given.</footer>\n</body>\n</html>\n",
          o);
    return ferror(o) ? FL_EIO : 0;
}

const fl_report_format fl_report_html = {
    .name = "html",
    .description = "one self-contained HTML page with a timeline chart (inline SVG)",
    .write = write_html,
};
