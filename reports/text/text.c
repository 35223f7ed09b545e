/* The terminal report: what an on-call engineer reads at 3 a.m. The most likely cause, its
 * evidence and the first action (usually the rollback command) come first; everything else
 * is context below it. Log text is untrusted: control characters are neutralised so a log
 * line cannot move the cursor or change colours. */
#include "fl_reports.h"
#include "text/warning_text.h"

#include <string.h>

#define MAX_GROUPS_SHOWN 8
#define MAX_CHANGES_SHOWN 12
#define MAX_WARNINGS_SHOWN 5
#define MAX_EVIDENCE_SHOWN 6

typedef struct tw {
    FILE *out;
    bool color;
    int width;
} tw;

enum { C_BOLD, C_DIM, C_RED, C_YELLOW, C_GREEN, C_CYAN };

static const char *const ansi[] = {"\033[1m",  "\033[2m",  "\033[1;31m",
                                   "\033[33m", "\033[32m", "\033[36m"};

static void on(const tw *t, int c)
{
    if (t->color)
        fputs(ansi[c], t->out);
}

static void off(const tw *t)
{
    if (t->color)
        fputs("\033[0m", t->out);
}

/* Writes at most max bytes of s (0: all) on one line, control characters shown as '?',
 * and "..." when cut. Returns the number of columns used (bytes, as an approximation). */
static int put_clean(const tw *t, const char *s, size_t max)
{
    size_t n = strlen(s);
    bool cut = false;
    const char *nl = strchr(s, '\n');
    if (nl) {
        n = (size_t)(nl - s);
        cut = true;
    }
    if (max && n > max) {
        n = max > 3 ? max - 3 : max;
        /* Do not split a UTF-8 sequence. */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = true;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c < 0x20 || c == 0x7f ? '?' : c, t->out);
    }
    if (cut)
        fputs("...", t->out);
    return (int)n + (cut ? 3 : 0);
}

/* Word-wraps s to the width: the first line starts with prefix, the others with as many
 * spaces as the prefix is wide. Control characters are shown as '?'. */
static void put_wrapped(const tw *t, const char *prefix, const char *s)
{
    int indent = (int)strlen(prefix);
    int width = t->width - indent;
    if (width < 30)
        width = 30;
    const char *p = s;
    bool first = true;
    while (*p) {
        size_t len = strcspn(p, "\n");
        while (len > 0) {
            size_t take = len;
            if ((int)take > width) {
                take = (size_t)width;
                while (take > 0 && p[take] != ' ')
                    take--;
                if (take == 0)
                    take = (size_t)width;
            }
            if (first)
                fputs(prefix, t->out);
            else
                fprintf(t->out, "%*s", indent, "");
            first = false;
            for (size_t i = 0; i < take; i++) {
                unsigned char c = (unsigned char)p[i];
                fputc(c < 0x20 || c == 0x7f ? '?' : c, t->out);
            }
            fputc('\n', t->out);
            p += take;
            len -= take;
            while (len > 0 && *p == ' ') {
                p++;
                len--;
            }
        }
        if (*p == '\n')
            p++;
    }
}

static void heading(const tw *t, const char *title)
{
    fputc('\n', t->out);
    on(t, C_BOLD);
    fputs(title, t->out);
    off(t);
    fputc('\n', t->out);
}

/* Clock time when the whole window is one UTC day; "MM-DD HH:MM" otherwise, so that times
 * of a multi-day archive are not ambiguous. Both are 8 or 11 columns wide. */
static bool multi_day(const fl_result *r)
{
    int64_t day = 86400 * FL_USEC_PER_SEC;
    return r->window_start && r->window_end / day != r->window_start / day;
}

static const char *clock_of(const fl_result *r, fl_time ts, char *buf, size_t len)
{
    if (!ts)
        return multi_day(r) ? "--         " : "--:--:--";
    if (!multi_day(r))
        return fl_time_clock(ts, buf, len);
    char full[40];
    fl_time_format(ts, false, full, sizeof full);
    snprintf(buf, len, "%.5s %.5s", full + 5, full + 11);
    return buf;
}

static size_t count_services(const fl_result *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_revisions; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(r->revisions[i].service, r->revisions[j].service) == 0;
        n += !seen;
    }
    return n;
}

static void write_header(const tw *t, const fl_result *r, const fl_report_opts *opts)
{
    char a[40], b[40];
    on(t, C_BOLD);
    fputs("faultline: ", t->out);
    if (opts->title)
        put_clean(t, opts->title, 200);
    else
        fputs("root-cause report", t->out);
    off(t);
    fputc('\n', t->out);
    if (r->window_start) {
        long minutes = (long)((r->window_end - r->window_start) / (60 * FL_USEC_PER_SEC));
        fprintf(t->out, "Window   %s to %s (%ld min, %d s buckets)\n",
                fl_time_format(r->window_start, false, a, sizeof a),
                fl_time_format(r->window_end, false, b, sizeof b), minutes, r->bucket_seconds);
    } else {
        fputs("Window   (no timestamped entries)\n", t->out);
    }
    fprintf(t->out,
            "Input    %llu entries from %llu file%s, %zu service%s, %zu revision%s, "
            "%zu error group%s\n",
            (unsigned long long)r->input.entries, (unsigned long long)r->input.files,
            r->input.files == 1 ? "" : "s", count_services(r), count_services(r) == 1 ? "" : "s",
            r->n_revisions, r->n_revisions == 1 ? "" : "s", r->n_groups,
            r->n_groups == 1 ? "" : "s");
    size_t n_services = count_services(r);
    if (n_services > 0 && n_services <= 8) {
        /* Revisions are sorted by service, so each service's revisions are adjacent. */
        fputs("Services ", t->out);
        int used = 9;
        for (size_t i = 0; i < r->n_revisions;) {
            size_t j = i;
            while (j < r->n_revisions &&
                   strcmp(r->revisions[j].service, r->revisions[i].service) == 0)
                j++;
            if (used > t->width - 30) {
                fputs(" ...", t->out);
                break;
            }
            if (i)
                used += fprintf(t->out, ", ");
            used += put_clean(t, r->revisions[i].service, 60);
            used += fprintf(t->out, " (%zu revision%s)", j - i, j - i == 1 ? "" : "s");
            i = j;
        }
        fputc('\n', t->out);
    }
    uint64_t problems =
        r->input.malformed + r->input.oversize + r->input.unreadable + r->input.n_truncated;
    if (problems) {
        on(t, C_YELLOW);
        fprintf(t->out,
                "         partial input: %llu malformed, %llu oversize, %zu truncated, "
                "%llu unreadable (see Warnings)\n",
                (unsigned long long)r->input.malformed, (unsigned long long)r->input.oversize,
                r->input.n_truncated, (unsigned long long)r->input.unreadable);
        off(t);
    }
}

/* The deploy's code range and its suspect commits (correlate/suspects), under the evidence. */
static void write_commits(const tw *t, const fl_cause *c)
{
    const fl_commit_range *cr = &c->commits;
    if (!cr->note && !cr->bad_sha)
        return; /* not a deploy, or the suspects stage did not run */
    char line[256];
    bool range = fl_commit_range_known(cr) && strcmp(cr->prev_sha, cr->bad_sha) != 0;
    fputc('\n', t->out);
    if (range) {
        fputs("  Code change: ", t->out);
        on(t, C_BOLD);
        snprintf(line, sizeof line, "git log --oneline %.12s..%.12s", cr->prev_sha, cr->bad_sha);
        put_clean(t, line, 0);
        off(t);
        if (cr->searched)
            fprintf(t->out, "  (%u commit%s)\n", cr->commits, cr->commits == 1 ? "" : "s");
        else
            fputs("  (--repo PATH ranks them)\n", t->out);
        if (cr->compare_url[0]) {
            fputs("    ", t->out);
            put_clean(t, cr->compare_url, 0);
            fputc('\n', t->out);
        }
    }
    if (cr->n_suspects) {
        fputs("  Suspect commits:\n", t->out);
        for (size_t i = 0; i < cr->n_suspects; i++) {
            const fl_suspect *s = &cr->suspects[i];
            snprintf(line, sizeof line, "    %zu. %.10s %.2f  ", i + 1, s->sha, s->score);
            char text[600];
            snprintf(text, sizeof text, "%s (%s)", s->subject, s->author);
            put_wrapped(t, line, text);
            for (size_t j = 0; j < s->n_reasons; j++)
                put_wrapped(t, "         - ", s->reasons[j]);
        }
    } else if (cr->searched && cr->commits) {
        fprintf(t->out, "  No commit in the range touches what the errors name.\n");
    }
    if (cr->note[0])
        put_wrapped(t, range ? "  Note: " : "  Code change: ", cr->note);
}

static void write_top_cause(const tw *t, const fl_result *r)
{
    const fl_cause *c = &r->causes[0];
    char a[24];
    fputc('\n', t->out);
    on(t, C_RED);
    fputs("MOST LIKELY CAUSE", t->out);
    off(t);
    fprintf(t->out, "  score %.2f  [%s]", c->score, fl_cause_kind_name(c->kind));
    if (c->service[0]) {
        fputs("  ", t->out);
        put_clean(t, c->service, 80);
    }
    if (c->revision[0]) {
        fputs(" / ", t->out);
        put_clean(t, c->revision, 80);
    }
    fputc('\n', t->out);
    on(t, C_BOLD);
    put_wrapped(t, "  ", c->summary);
    off(t);
    if (c->onset || c->change_ts) {
        fputs("  ", t->out);
        if (c->change_ts)
            fprintf(t->out, "change at %s UTC", clock_of(r, c->change_ts, a, sizeof a));
        if (c->change_ts && c->onset)
            fputs(", ", t->out);
        if (c->onset)
            fprintf(t->out, "errors from %s UTC", clock_of(r, c->onset, a, sizeof a));
        fputc('\n', t->out);
    }
    if (c->n_actions) {
        fputc('\n', t->out);
        on(t, C_GREEN);
        fputs("  Do this first:\n", t->out);
        off(t);
        /* Commands are never wrapped: they must stay copyable. */
        fputs("    ", t->out);
        on(t, C_BOLD);
        put_clean(t, c->actions[0], 0);
        off(t);
        fputc('\n', t->out);
    }
    if (c->n_evidence) {
        fputs("\n  Evidence:\n", t->out);
        for (size_t i = 0; i < c->n_evidence && i < MAX_EVIDENCE_SHOWN; i++)
            put_wrapped(t, "    - ", c->evidence[i]);
        if (c->n_evidence > MAX_EVIDENCE_SHOWN)
            fprintf(t->out, "    (%zu more in the md/json report)\n",
                    c->n_evidence - MAX_EVIDENCE_SHOWN);
    }
    write_commits(t, c);
    if (c->n_actions > 1) {
        fputs("\n  Then:\n", t->out);
        for (size_t i = 1; i < c->n_actions; i++)
            put_wrapped(t, "    - ", c->actions[i]);
    }
}

/* "  2. 0.69  deploy     summary..." with the summary wrapped under itself. */
static void write_ranked_line(const tw *t, const fl_cause *c)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "  %d. %.2f  %-10s ", c->rank, c->score,
             fl_cause_kind_name(c->kind));
    put_wrapped(t, prefix, c->summary);
    if (c->commits.n_suspects) {
        const fl_suspect *s = &c->commits.suspects[0];
        char text[600];
        snprintf(text, sizeof text, "%.10s %s: %s", s->sha, s->subject,
                 s->n_reasons ? s->reasons[0] : "");
        put_wrapped(t, "                      top suspect ", text);
    }
}

static void write_causes(const tw *t, const fl_result *r)
{
    if (r->n_causes == 0) {
        fputc('\n', t->out);
        on(t, C_YELLOW);
        fprintf(t->out, "No confident cause (no candidate came near the threshold %.2f).\n",
                r->confidence_threshold);
        off(t);
        fputs("No error group stands out from the background in this input.\n", t->out);
        return;
    }
    if (!r->confident) {
        fputc('\n', t->out);
        on(t, C_YELLOW);
        fprintf(t->out, "No confident cause (top score %.2f < threshold %.2f).\n",
                r->causes[0].score, r->confidence_threshold);
        off(t);
        fputs("The leads below are weak; check them against dashboards before acting.\n", t->out);
        heading(t, "Leads");
        for (size_t i = 0; i < r->n_causes; i++) {
            const fl_cause *c = &r->causes[i];
            write_ranked_line(t, c);
        }
        return;
    }
    write_top_cause(t, r);
    if (r->n_causes > 1) {
        heading(t, "Other candidates");
        for (size_t i = 1; i < r->n_causes; i++) {
            const fl_cause *c = &r->causes[i];
            write_ranked_line(t, c);
        }
    }
}

/* One row of "Top error groups": the groups of one template family (issue 12), counted together.
 * Rule-matched groups are their own family. */
typedef struct group_row {
    const fl_group *g; /* the family's largest group: its text and class are shown */
    uint64_t count;
    fl_time first, last;
    size_t members;
} group_row;

static bool same_family(const fl_group *a, const fl_group *b)
{
    return a->family && b->family && strcmp(a->family, b->family) == 0;
}

/* Folds the groups (largest first) into at most cap rows by family, largest first. Groups of a
 * family that has no row among the first cap are not shown (counted as more groups). */
static size_t group_rows(const fl_result *r, group_row *rows, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_groups; i++) {
        const fl_group *g = &r->groups[i];
        size_t k = 0;
        while (k < n && !same_family(rows[k].g, g))
            k++;
        if (k == n) {
            if (n == cap)
                continue;
            rows[n++] = (group_row){g, 0, g->first_seen, g->last_seen, 0};
        }
        group_row *w = &rows[k];
        w->count += g->count;
        w->members++;
        if (g->first_seen && (!w->first || g->first_seen < w->first))
            w->first = g->first_seen;
        if (g->last_seen > w->last)
            w->last = g->last_seen;
    }
    for (size_t i = 1; i < n; i++) /* by count, stable: ties keep the groups' order */
        for (size_t j = i; j > 0 && rows[j].count > rows[j - 1].count; j--) {
            group_row x = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = x;
        }
    return n;
}

static void write_groups(const tw *t, const fl_result *r)
{
    if (!r->n_groups)
        return;
    char a[24], b[24];
    group_row rows[MAX_GROUPS_SHOWN];
    size_t n = group_rows(r, rows, MAX_GROUPS_SHOWN), shown = 0;
    heading(t, "Top error groups");
    int w = multi_day(r) ? 11 : 8;
    fprintf(t->out, "  %7s  %-*s  %-*s  %s\n", "COUNT", w, "FIRST", w, "LAST", "CLASS / MESSAGE");
    for (size_t i = 0; i < n; i++) {
        const fl_group *g = rows[i].g;
        shown += rows[i].members;
        fprintf(t->out, "  %7llu  %s  %s  ", (unsigned long long)rows[i].count,
                clock_of(r, rows[i].first, a, sizeof a), clock_of(r, rows[i].last, b, sizeof b));
        int used = multi_day(r) ? 38 : 32;
        if (g->class_id) {
            on(t, C_CYAN);
            used += put_clean(t, g->class_id, 40);
            off(t);
            fputs("  ", t->out);
            used += 2;
        }
        /* A family of several templates shows what they share, "<*>" where they differ. */
        const char *text = rows[i].members > 1 && g->family_template ? g->family_template
                           : g->title && g->title[0]                  ? g->title
                                                                      : g->template_text;
        char more[48] = "";
        if (rows[i].members > 1)
            snprintf(more, sizeof more, " (%zu templates)", rows[i].members);
        int room = t->width - used - (int)strlen(more);
        put_clean(t, text ? text : "", room > 10 ? (size_t)room : 10);
        fputs(more, t->out);
        fputc('\n', t->out);
    }
    if (r->n_groups > shown)
        fprintf(t->out, "  (%zu more groups)\n", r->n_groups - shown);
}

static void write_changes(const tw *t, const fl_result *r)
{
    if (!r->n_changes)
        return;
    char a[24];
    heading(t, "Changes (UTC)");
    size_t start = r->n_changes > MAX_CHANGES_SHOWN ? r->n_changes - MAX_CHANGES_SHOWN : 0;
    if (start)
        fprintf(t->out, "  (%zu earlier changes not shown)\n", start);
    for (size_t i = start; i < r->n_changes; i++) {
        const fl_change_out *c = &r->changes[i];
        fprintf(t->out, "  %s  %-15s ", clock_of(r, c->ts, a, sizeof a),
                fl_change_kind_name(c->kind));
        int used = multi_day(r) ? 31 : 28;
        used += put_clean(t, c->service, 40);
        if (c->revision[0]) {
            fputs(" ", t->out);
            used += 1 + put_clean(t, c->revision, 60);
        }
        if (c->actor[0] && used < t->width - 10) {
            fputs("  by ", t->out);
            used += 5 + put_clean(t, c->actor, (size_t)(t->width - used - 5)); /* "  by " */
        }
        fputc('\n', t->out);
    }
}

static void write_warnings(const tw *t, const fl_result *r)
{
    uint64_t total = r->input.n_warnings + r->input.warnings_dropped;
    if (!total)
        return;
    heading(t, "Warnings");
    fprintf(t->out, "  %llu input warning%s", (unsigned long long)total, total == 1 ? "" : "s");
    if (r->input.n_truncated)
        fprintf(t->out, "; truncated: %zu source%s", r->input.n_truncated,
                r->input.n_truncated == 1 ? "" : "s");
    fputc('\n', t->out);
    for (size_t i = 0; i < r->input.n_warnings && i < MAX_WARNINGS_SHOWN; i++) {
        const fl_warning *w = &r->input.warnings[i];
        fputs("  ", t->out);
        put_clean(t, w->file, 200);
        if (w->line)
            fprintf(t->out, ":%llu", (unsigned long long)w->line);
        fprintf(t->out, ": %s: ", fl_warn_kind_name(w->kind));
        put_clean(t, fl_warning_text(w), 200);
        fputc('\n', t->out);
    }
    if (total > MAX_WARNINGS_SHOWN)
        fprintf(t->out, "  ... and %llu more\n", (unsigned long long)(total - MAX_WARNINGS_SHOWN));
}

static int text_write(const fl_result *r, const fl_report_opts *opts, FILE *out)
{
    tw t = {out, opts->color, opts->width > 0 ? opts->width : 100};
    if (t.width < 60)
        t.width = 60;
    write_header(&t, r, opts);
    write_causes(&t, r);
    write_groups(&t, r);
    write_changes(&t, r);
    write_warnings(&t, r);
    return ferror(out) ? FL_EIO : 0;
}

const fl_report_format fl_report_text = {
    "text",
    "for a terminal: the most likely cause and the rollback command first (default)",
    text_write,
};
