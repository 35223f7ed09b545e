/* The Markdown report: pasteable into a postmortem. The first lines say what broke, since
 * when and what to do; the rest is the evidence (ranked causes, timeline, error groups,
 * input). Log text is untrusted: inline text is backslash-escaped so it cannot become a
 * link, an image, a table, HTML or a heading, and samples go into code spans and fenced
 * blocks whose fences are longer than any backtick run inside. */
#include "common/links.h"
#include "common/group_name.h"
#include "fl_reports.h"
#include "text/warning_text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS_TABLE 20
#define MAX_GROUPS_SAMPLES 5
#define MAX_TIMELINE 40
#define MAX_WARNINGS_SHOWN 20

/* Characters that start Markdown syntax anywhere in a line. Escaping ASCII punctuation with a
 * backslash is always allowed in CommonMark, so over-escaping is harmless. */
static bool md_special(unsigned char c)
{
    return c && strchr("\\`*_[]<>()|#!~&{}$", c) != NULL;
}

/* How many bytes of s to write for at most max bytes (0: no limit) without splitting a UTF-8
 * character; *cut says whether anything is left off. */
static size_t md_cut_len(const char *s, size_t max, bool *cut)
{
    size_t n = strlen(s);
    *cut = max && n > max;
    if (*cut) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return n;
}

/* Inline text: one line (newlines become spaces), control characters dropped, specials
 * escaped. "://" is written as ":\/\/" so a bare URL in a log line does not autolink. */
static void md_text_n(FILE *out, const char *s, size_t max)
{
    bool cut;
    size_t n = md_cut_len(s, max, &cut);
    /* A leading run of digits followed by '.' or ')' would start an ordered list. */
    size_t digits = strspn(s, "0123456789");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r' || c == '\t') {
            fputc(' ', out);
        } else if ((i == 0 && strchr("-+=", c)) ||
                   (digits && i == digits && (c == '.' || c == ')'))) {
            fputc('\\', out);
            fputc(c, out);
        } else if (c < 0x20 || c == 0x7f) {
            continue;
        } else if (c == ':' && i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/') {
            fputs(":\\/\\/", out);
            i += 2;
        } else if (c == '.' && i >= 3 && strncmp(s + i - 3, "www", 3) == 0) {
            fputs("\\.", out);
        } else {
            if (md_special(c))
                fputc('\\', out);
            fputc(c, out);
        }
    }
    if (cut)
        fputs("…", out);
}

static void md_text(FILE *out, const char *s)
{
    md_text_n(out, s ? s : "", 0);
}

static size_t longest_backtick_run(const char *s)
{
    size_t best = 0, run = 0;
    for (; *s; s++) {
        run = *s == '`' ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    return best;
}

/* A code span around untrusted text, on one line; in_table also escapes '|' (GFM splits
 * table cells on it even inside code spans). */
static void md_code(FILE *out, const char *s, size_t max, bool in_table)
{
    s = s ? s : "";
    size_t ticks = longest_backtick_run(s) + 1;
    for (size_t i = 0; i < ticks; i++)
        fputc('`', out);
    fputc(' ', out);
    bool cut;
    size_t n = md_cut_len(s, max, &cut);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r' || c == '\t')
            fputc(' ', out);
        else if (c < 0x20 || c == 0x7f)
            continue;
        else if (c == '|' && in_table)
            fputs("\\|", out);
        else
            fputc(c, out);
    }
    if (cut)
        fputs("...", out);
    fputc(' ', out);
    for (size_t i = 0; i < ticks; i++)
        fputc('`', out);
}

/* Text that faultline composed around log text (summaries, evidence, actions): a pair of
 * backticks marks a code span, written with md_code so its content stays inert; everything
 * else is escaped like md_text. */
static void md_rich(FILE *out, const char *s, bool in_table)
{
    s = s ? s : "";
    char *copy = fl_strdup(s);
    if (!copy) {
        md_text(out, s);
        return;
    }
    char *p = copy;
    while (*p) {
        char *open = strchr(p, '`');
        char *close = open ? strchr(open + 1, '`') : NULL;
        if (!open || !close || close == open + 1) {
            md_text(out, p);
            break;
        }
        *open = '\0';
        *close = '\0';
        md_text(out, p);
        md_code(out, open + 1, 0, in_table);
        p = close + 1;
    }
    fl_free(copy);
}

/* A fenced block; the fence is longer than any backtick run in the text so it cannot be
 * closed from inside. */
static void md_block(FILE *out, const char *lang, const char *s)
{
    s = s ? s : "";
    size_t ticks = longest_backtick_run(s) + 1;
    if (ticks < 3)
        ticks = 3;
    for (size_t i = 0; i < ticks; i++)
        fputc('`', out);
    fprintf(out, "%s\n", lang ? lang : "");
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f))
            fputc(c, out);
    }
    if (!*s || s[strlen(s) - 1] != '\n')
        fputc('\n', out);
    for (size_t i = 0; i < ticks; i++)
        fputc('`', out);
    fputc('\n', out);
}

static const char *utc(fl_time t, char *buf, size_t len)
{
    if (!t)
        return "unknown";
    return fl_time_format(t, false, buf, len);
}

/* An action that is a command to run goes in a code block; prose stays prose. */
static bool is_command(const char *a)
{
    static const char *const tools[] = {"gcloud ",  "kubectl ", "psql ", "curl ",     "redis-cli ",
                                        "mongosh ", "gsutil ",  "bq ",   "faultline "};
    for (size_t i = 0; i < FL_ARRAY_LEN(tools); i++)
        if (strncmp(a, tools[i], strlen(tools[i])) == 0)
            return true;
    return false;
}

static const fl_group *find_group(const fl_result *r, const char *key)
{
    for (size_t i = 0; key && i < r->n_groups; i++)
        if (r->groups[i].key && strcmp(r->groups[i].key, key) == 0)
            return &r->groups[i];
    return NULL;
}

static void write_summary(FILE *out, const fl_result *r, const fl_report_opts *opts)
{
    char a[40], b[40];
    fputs("# ", out);
    if (opts->title)
        md_text_n(out, opts->title, 200);
    else
        fputs("Incident analysis", out);
    fputs("\n\n", out);

    if (r->n_causes && r->confident) {
        const fl_cause *c = &r->causes[0];
        const fl_group *g = find_group(r, c->error_class);
        fputs("**Summary:** ", out);
        md_rich(out, c->summary, false);
        fputs("\n\n", out);
        fprintf(out, "- **Cause:** %s", fl_cause_kind_name(c->kind));
        if (c->revision[0]) {
            fputs(" of revision ", out);
            md_code(out, c->revision, 120, false);
        }
        if (c->service[0]) {
            fputs(" in ", out);
            md_text_n(out, c->service, 120);
        }
        fprintf(out, ", score %.2f (confident at %.2f)\n", c->score, r->confidence_threshold);
        if (c->error_class[0]) {
            fputs("- **Errors:** ", out);
            md_code(out, fl_group_name_of(r, c->error_class), 120, false);
            if (g)
                fprintf(out, ", %llu in total", (unsigned long long)g->count);
            if (c->onset)
                fprintf(out, ", the first at %s", utc(c->onset, a, sizeof a));
            fputc('\n', out);
        }
        if (c->change_ts) {
            fprintf(out, "- **Change:** at %s", utc(c->change_ts, a, sizeof a));
            if (c->onset && c->onset >= c->change_ts)
                fprintf(out, ", %lld s before the first error",
                        (long long)((c->onset - c->change_ts) / FL_USEC_PER_SEC));
            fputc('\n', out);
        }
        if (c->previous_revision[0]) {
            fputs("- **Last healthy revision:** ", out);
            md_code(out, c->previous_revision, 120, false);
            fputc('\n', out);
        }
        fputc('\n', out);
        if (c->n_actions) {
            fputs("**First action:**\n\n", out);
            if (is_command(c->actions[0])) {
                md_block(out, "sh", c->actions[0]);
            } else {
                md_rich(out, c->actions[0], false);
                fputc('\n', out);
            }
            fputc('\n', out);
        }
    } else if (r->n_causes) {
        fprintf(out,
                "**Summary:** no confident cause (top score %.2f < threshold %.2f). The "
                "leads below are weak; check them against dashboards before acting.\n\n",
                r->causes[0].score, r->confidence_threshold);
    } else {
        fprintf(out,
                "**Summary:** no confident cause (no candidate came near the threshold "
                "%.2f); no error group stands out from the background in this input.\n\n",
                r->confidence_threshold);
    }
    fprintf(out, "Window: %s to %s (UTC), %llu entries",
            r->window_start ? utc(r->window_start, a, sizeof a) : "unknown",
            r->window_end ? utc(r->window_end, b, sizeof b) : "unknown",
            (unsigned long long)r->input.entries);
    uint64_t problems =
        r->input.malformed + r->input.oversize + r->input.unreadable + r->input.n_truncated;
    if (problems)
        fputs(", **partial input** (see [Input](#input))", out);
    fputs(".\n", out);
    if (r->input.filter[0]) {
        fputs("\nFilter: ", out);
        md_code(out, r->input.filter, 400, false);
        fprintf(out, " (%llu entries left out).\n", (unsigned long long)r->input.filtered_out);
    }
    if (r->input.duplicates)
        fprintf(out, "\nDuplicates dropped: %llu (same insertId, logName and timestamp).\n",
                (unsigned long long)r->input.duplicates);
}

/* A URL goes into a link only when nothing in it can end the link or start markup. */
static bool url_is_plain(const char *u)
{
    for (const char *p = u; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr(":/._~%-+?=&#@", *p)))
            return false;
    return strncmp(u, "https://", 8) == 0;
}

/* The deploy's code range and the suspect commits (correlate/suspects), under the evidence. */
static void write_commits(FILE *out, const fl_commit_range *cr)
{
    if (!cr->bad_sha && !cr->note)
        return;
    bool range = fl_commit_range_known(cr) && strcmp(cr->prev_sha, cr->bad_sha) != 0;
    fputs("\n**Code change**", out);
    if (range) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "git log --oneline %.12s..%.12s", cr->prev_sha, cr->bad_sha);
        fputs(": ", out);
        md_code(out, cmd, 0, false);
        if (cr->searched)
            fprintf(out, " (%u commit%s)", cr->commits, cr->commits == 1 ? "" : "s");
        else
            fputs(" (`--repo PATH` ranks them)", out);
        if (cr->compare_url[0]) {
            fputs(", ", out);
            if (url_is_plain(cr->compare_url))
                fprintf(out, "[compare](%s)", cr->compare_url);
            else
                md_code(out, cr->compare_url, 300, false);
        }
    }
    fputs("\n\n", out);
    if (cr->note[0]) {
        fputs("> ", out);
        md_rich(out, cr->note, false);
        fputs("\n\n", out);
    }
    if (cr->n_suspects) {
        fputs("Suspect commits, most likely first:\n\n", out);
        for (size_t i = 0; i < cr->n_suspects; i++) {
            const fl_suspect *x = &cr->suspects[i];
            char sha[16];
            snprintf(sha, sizeof sha, "%.10s", x->sha);
            fprintf(out, "%zu. ", i + 1);
            md_code(out, sha, 0, false);
            fputc(' ', out);
            md_text_n(out, x->subject, 200);
            fputs(" (", out);
            md_text_n(out, x->author, 100);
            fprintf(out, ", score %.2f)\n", x->score);
            for (size_t j = 0; j < x->n_reasons; j++) {
                fputs("   - ", out);
                md_rich(out, x->reasons[j], false);
                fputc('\n', out);
            }
        }
    } else if (cr->searched && cr->commits) {
        fputs("No commit in the range touches what the errors name.\n", out);
    }
}

static void write_cause(FILE *out, const fl_result *r, const fl_cause *c)
{
    char a[40];
    fprintf(out, "\n### %d. %s", c->rank, fl_cause_kind_name(c->kind));
    if (c->service[0]) {
        fputs(": ", out);
        md_text_n(out, c->service, 100);
    }
    if (c->revision[0]) {
        fputs(" revision ", out);
        md_text_n(out, c->revision, 100);
    }
    fprintf(out, " (score %.2f)\n\n", c->score);
    md_rich(out, c->summary, false);
    fputs("\n\n", out);
    if (c->error_class[0]) {
        fputs("- Error group: ", out);
        md_code(out, fl_group_name_of(r, c->error_class), 120, false);
        fputc('\n', out);
    }
    if (c->change_ts)
        fprintf(out, "- Change at: %s\n", utc(c->change_ts, a, sizeof a));
    if (c->onset)
        fprintf(out, "- Errors from: %s\n", utc(c->onset, a, sizeof a));
    if (c->previous_revision[0]) {
        fputs("- Last healthy revision: ", out);
        md_code(out, c->previous_revision, 120, false);
        fputc('\n', out);
    }
    if (c->n_evidence) {
        fputs("\n**Evidence**\n\n", out);
        for (size_t i = 0; i < c->n_evidence; i++) {
            fputs("- ", out);
            md_rich(out, c->evidence[i], false);
            fputc('\n', out);
        }
    }
    write_commits(out, &c->commits);
    if (c->n_actions) {
        fputs("\n**Actions**\n\n", out);
        for (size_t i = 0; i < c->n_actions; i++) {
            if (is_command(c->actions[i])) {
                fprintf(out, "%zu. Run:\n\n", i + 1);
                /* Indent the block under the list item by writing it flush: a fence at
                 * column 0 ends the list item cleanly, which renders the same. */
                md_block(out, "sh", c->actions[i]);
                fputc('\n', out);
            } else {
                fprintf(out, "%zu. ", i + 1);
                md_rich(out, c->actions[i], false);
                fputc('\n', out);
            }
        }
    }
    char explorer[FL_LINK_MAX], revisions[FL_LINK_MAX];
    if (fl_cause_links(r, c, explorer, revisions)) {
        /* The URLs are built from safe names and percent-encoded: no Markdown to escape. */
        fprintf(out, "\n[Logs Explorer](%s)", explorer);
        if (revisions[0])
            fprintf(out, " · [Cloud Run revisions](%s)", revisions);
        fputc('\n', out);
    }
    if (c->n_parts) {
        fputs("\n<details><summary>Score breakdown</summary>\n\n", out);
        fputs("| Signal | Weight | Value | Contribution | Detail |\n", out);
        fputs("|---|---:|---:|---:|---|\n", out);
        for (size_t i = 0; i < c->n_parts; i++) {
            const fl_score_part *p = &c->parts[i];
            fputs("| ", out);
            md_text(out, p->signal);
            fprintf(out, " | %.2f | %.2f | %.3f | ", p->weight, p->value, p->contribution);
            md_rich(out, p->detail, true);
            fputs(" |\n", out);
        }
        fputs("\n</details>\n", out);
    }
}

static void write_causes(FILE *out, const fl_result *r)
{
    if (!r->n_causes)
        return;
    fprintf(out, "\n## %s\n", r->confident ? "Ranked causes" : "Leads (not confident)");
    for (size_t i = 0; i < r->n_causes; i++)
        write_cause(out, r, &r->causes[i]);
}

typedef struct tl_event {
    fl_time ts;
    int kind; /* 0 change, 1 first-seen group: changes sort first at equal times */
    size_t index;
} tl_event;

static int tl_cmp(const void *pa, const void *pb)
{
    const tl_event *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind - b->kind;
    return a->index < b->index ? -1 : a->index > b->index;
}

static void write_timeline(FILE *out, const fl_result *r)
{
    size_t n = 0;
    tl_event *ev = fl_calloc(r->n_changes + r->n_groups + 1, sizeof(*ev));
    if (!ev)
        return;
    for (size_t i = 0; i < r->n_changes; i++)
        ev[n++] = (tl_event){r->changes[i].ts, 0, i};
    for (size_t i = 0; i < r->n_groups; i++)
        if (r->groups[i].first_seen)
            ev[n++] = (tl_event){r->groups[i].first_seen, 1, i};
    if (!n) {
        fl_free(ev);
        return;
    }
    qsort(ev, n, sizeof(*ev), tl_cmp);
    fputs("\n## Timeline (UTC)\n\n| Time | Event |\n|---|---|\n", out);
    char a[40];
    size_t start = n > MAX_TIMELINE ? n - MAX_TIMELINE : 0;
    for (size_t i = start; i < n; i++) {
        fprintf(out, "| %s | ", utc(ev[i].ts, a, sizeof a));
        if (ev[i].kind == 0) {
            const fl_change_out *c = &r->changes[ev[i].index];
            fprintf(out, "Change (%s): ", fl_change_kind_name(c->kind));
            md_text_n(out, c->service, 100);
            if (c->revision[0]) {
                fputs(" ", out);
                md_code(out, c->revision, 100, true);
            }
            /* The description usually names the actor already. */
            if (c->description[0]) {
                fputs(": ", out);
                md_text_n(out, c->description, 160);
            } else if (c->actor[0]) {
                fputs(" by ", out);
                md_text_n(out, c->actor, 100);
            }
        } else {
            const fl_group *g = &r->groups[ev[i].index];
            fputs("First error: ", out);
            if (g->class_id)
                md_code(out, g->class_id, 80, true);
            else
                md_code(out, g->template_text, 120, true);
            fprintf(out, " (%llu in total)", (unsigned long long)g->count);
        }
        fputs(" |\n", out);
    }
    if (start)
        fprintf(out, "\n%zu earlier events are in the JSON report.\n", start);
    fl_free(ev);
}

static void write_groups(FILE *out, const fl_result *r)
{
    if (!r->n_groups)
        return;
    char a[40], b[40];
    fputs("\n## Error groups\n\n| # | Class / template | Count | First seen | Last seen | "
          "Revisions |\n|---:|---|---:|---|---|---|\n",
          out);
    for (size_t i = 0; i < r->n_groups && i < MAX_GROUPS_TABLE; i++) {
        const fl_group *g = &r->groups[i];
        fprintf(out, "| %zu | ", i + 1);
        if (g->class_id) {
            md_code(out, g->class_id, 80, true);
            fputs(" ", out);
            md_text_n(out, g->title, 120);
        } else {
            md_code(out, g->template_text, 160, true);
        }
        fprintf(out, " | %llu | %s | %s | ", (unsigned long long)g->count,
                utc(g->first_seen, a, sizeof a), utc(g->last_seen, b, sizeof b));
        for (size_t j = 0; j < g->n_by_revision && j < 3; j++) {
            if (j)
                fputs(", ", out);
            md_code(out,
                    g->by_revision[j].revision[0] ? g->by_revision[j].revision
                                                  : g->by_revision[j].service,
                    80, true);
            fprintf(out, " %llu", (unsigned long long)g->by_revision[j].count);
        }
        if (g->n_by_revision > 3)
            fprintf(out, ", +%zu more", g->n_by_revision - 3);
        fputs(" |\n", out);
    }
    if (r->n_groups > MAX_GROUPS_TABLE)
        fprintf(out, "\n%zu smaller groups are in the JSON report.\n",
                r->n_groups - MAX_GROUPS_TABLE);

    fputs("\n### Samples\n", out);
    for (size_t i = 0; i < r->n_groups && i < MAX_GROUPS_SAMPLES; i++) {
        const fl_group *g = &r->groups[i];
        if (!g->n_samples)
            continue;
        const fl_sample *s = &g->samples[0];
        fprintf(out, "\n%zu. ", i + 1);
        md_code(out, g->class_id ? g->class_id : g->fingerprint, 80, false);
        fprintf(out, " at %s in ", utc(s->ts, a, sizeof a));
        md_code(out, s->revision[0] ? s->revision : s->service, 100, false);
        fputs(":\n\n", out);
        md_block(out, "text", s->message);
    }
}

static void write_input(FILE *out, const fl_result *r)
{
    const fl_input_summary *in = &r->input;
    fputs("\n## Input\n\n", out);
    fprintf(out, "- Entries: %llu from %llu file%s (%llu bytes)\n", (unsigned long long)in->entries,
            (unsigned long long)in->files, in->files == 1 ? "" : "s",
            (unsigned long long)in->bytes);
    fprintf(out, "- Malformed: %llu, oversize: %llu, unreadable: %llu\n",
            (unsigned long long)in->malformed, (unsigned long long)in->oversize,
            (unsigned long long)in->unreadable);
    if (in->filter[0]) {
        fputs("- Filter: ", out);
        md_code(out, in->filter, 400, false);
        fprintf(out, ", %llu entries left out\n", (unsigned long long)in->filtered_out);
    }
    fprintf(out, "- Duplicates dropped: %llu", (unsigned long long)in->duplicates);
    if (in->dedup_unchecked)
        fprintf(out, " (%llu entries past the de-duplication cap not checked)",
                (unsigned long long)in->dedup_unchecked);
    fputs("\n", out);
    if (in->n_truncated) {
        fputs("- Truncated: ", out);
        for (size_t i = 0; i < in->n_truncated; i++) {
            if (i)
                fputs(", ", out);
            md_code(out, in->truncated[i], 200, false);
        }
        fputs(" (entries before the damage are analysed)\n", out);
    }
    uint64_t total = in->n_warnings + in->warnings_dropped;
    if (!total)
        return;
    fprintf(out, "\n### Warnings (%llu)\n\n", (unsigned long long)total);
    for (size_t i = 0; i < in->n_warnings && i < MAX_WARNINGS_SHOWN; i++) {
        const fl_warning *w = &in->warnings[i];
        char loc[600];
        if (w->line)
            snprintf(loc, sizeof loc, "%s:%llu", w->file, (unsigned long long)w->line);
        else
            snprintf(loc, sizeof loc, "%s", w->file);
        fputs("- ", out);
        md_code(out, loc, 300, false);
        fprintf(out, " %s: ", fl_warn_kind_name(w->kind));
        md_text_n(out, fl_warning_text(w), 300);
        fputc('\n', out);
    }
    if (total > MAX_WARNINGS_SHOWN)
        fprintf(out, "- ... and %llu more (all kept ones are in the JSON report)\n",
                (unsigned long long)(total - MAX_WARNINGS_SHOWN));
}

static int md_write(const fl_result *r, const fl_report_opts *opts, FILE *out)
{
    write_summary(out, r, opts);
    write_causes(out, r);
    write_timeline(out, r);
    write_groups(out, r);
    write_input(out, r);
    return ferror(out) ? FL_EIO : 0;
}

const fl_report_format fl_report_markdown = {
    "md",
    "Markdown to paste into a postmortem: summary, causes, timeline, error groups",
    md_write,
};
