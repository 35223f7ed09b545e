/* The live screen: one frame per call, drawn from the home position with every line cleared to
 * its end, so redrawing in place never leaves stale characters. Text is redacted by the caller
 * (fl_result_redacted) when redaction is on.
 *
 * Layout: every section adds its lines with a priority (0 = must be seen); the frame keeps the
 * lines of the most important priorities that fit the terminal's height, in screen order. So an
 * 80x24 terminal still shows the top cause, its rollback command, every revision, the first
 * error groups and the sources, and a tall one adds the rest. Log text is untrusted: control
 * characters (C0, DEL, C1) and bytes that are not UTF-8 are shown as '?', so a log line cannot
 * clear the screen, move the cursor or write the clipboard (OSC 52). */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "fl_reports.h"
#include "terminal/fl_terminal.h"

const char fl_term_enter[] = "\x1b[?1049h\x1b[?25l";
const char fl_term_leave[] = "\x1b[?25h\x1b[?1049l";

#define CLR_EOL "\x1b[K"
#define MAX_PRIO 4
#define SPARK_MAX 60
#define REVISIONS_FIRST 8 /* revisions beyond this many are shown only on tall terminals */

enum { P_MUST = 0, P_HIGH = 1, P_MID = 2, P_LOW = 3, P_EXTRA = 4 };

typedef struct tline {
    char *text; /* NULL: out of memory, drawn as an empty line */
    const char *sgr;
    int prio;
} tline;

typedef struct layout {
    tline *v;
    size_t n, cap;
    int width; /* columns a line may use */
    bool color;
} layout;

static const char *sgr(const layout *l, const char *code)
{
    return l->color ? code : "";
}

static void add_line(layout *l, int prio, const char *sgr_code, const char *text)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        tline *v = fl_realloc(l->v, cap * sizeof(*v));
        if (!v)
            return; /* out of memory: the line is not shown */
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (tline){fl_strdup(text), sgr_code, prio};
}

static void add_fmt(layout *l, int prio, const char *sgr_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_fmt(layout *l, int prio, const char *sgr_code, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    add_line(l, prio, sgr_code, buf);
}

/* Length of the UTF-8 sequence at p (1..4), or 0 when it is not valid UTF-8. */
static size_t utf8_len(const unsigned char *p, uint32_t *cp)
{
    size_t n;
    uint32_t c;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
        c = p[0] & 0x1F;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        c = p[0] & 0x0F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        c = p[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0; /* overlong or a surrogate */
    *cp = c;
    return n;
}

/* Writes at most width columns of s, one column per character; stops at a newline (one item,
 * one line). Controls and invalid bytes become '?', tabs a space. */
static void put_clean(FILE *out, const char *s, int width)
{
    int cols = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && *p != '\n' && cols < width) {
        uint32_t cp = 0;
        size_t n = utf8_len(p, &cp);
        if (n == 0) {
            fputc('?', out);
            p++;
        } else if (cp == '\t') {
            fputc(' ', out);
            p++;
        } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
            fputc('?', out);
            p += n;
        } else {
            fwrite(p, 1, n, out);
            p += n;
        }
        cols++;
    }
}

/* Adds text word-wrapped to the width: the first line after first, the others after cont.
 * With shell set, every line but the last ends in " \" so the command pastes as one. */
static void add_wrapped(layout *l, int prio, const char *sgr_code, const char *first,
                        const char *cont, const char *text, bool shell)
{
    char buf[1024];
    const char *p = text;
    const char *prefix = first;
    while (*p == ' ')
        p++;
    do {
        int room = l->width - (int)strlen(prefix) - (shell ? 2 : 0);
        if (room < 10)
            room = 10;
        size_t len = strcspn(p, "\n");
        size_t take = len;
        if ((int)len > room) {
            take = (size_t)room;
            while (take > 0 && p[take] != ' ')
                take--;
            if (take == 0) /* one word longer than the line: cut it where it must be cut */
                take = (size_t)room;
        }
        bool more = take < len;
        snprintf(buf, sizeof(buf), "%s%.*s%s", prefix, (int)take, p, more && shell ? " \\" : "");
        add_line(l, prio, sgr_code, buf);
        p += take;
        while (*p == ' ')
            p++;
        prefix = cont;
        if (!more)
            break;
    } while (*p);
}

static void duration_text(int64_t us, char *buf, size_t size)
{
    int64_t s = us / FL_USEC_PER_SEC;
    if (s < 60)
        snprintf(buf, size, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(buf, size, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, size, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
}

/* Appends part to line when it still fits the width. */
static void append_part(char *line, size_t size, int width, const char *part)
{
    size_t have = strlen(line);
    if ((int)(have + strlen(part)) <= width)
        snprintf(line + have, size - have, "%s", part);
}

/* The header: the newest entry's time (what the data says, not the wall clock), the entries,
 * how far the newest entry is behind the wall clock, then the rest, as much as fits. */
static void lay_header(layout *l, const fl_result *r, const fl_term_view *v)
{
    char line[512], part[128], clock[40] = "--:--:--";
    snprintf(line, sizeof(line), " %s ", v->title ? v->title : "faultline tail");
    if (r->window_end && v->now - r->window_end >= 20 * 3600 * FL_USEC_PER_SEC) {
        /* Not today's entries (a replayed export): the date matters. */
        fl_time_format(r->window_end, false, clock, sizeof(clock));
        clock[10] = ' ';
        clock[19] = '\0';
    } else if (r->window_end) {
        fl_time_clock(r->window_end, clock, sizeof(clock));
    }
    snprintf(part, sizeof(part), " newest entry %s UTC", clock);
    append_part(line, sizeof(line), l->width, part);
    snprintf(part, sizeof(part), "  entries %" PRIu64, r->input.entries);
    append_part(line, sizeof(line), l->width, part);
    if (r->window_end && v->now > r->window_end + FL_USEC_PER_SEC) {
        char age[32];
        duration_text(v->now - r->window_end, age, sizeof(age));
        snprintf(part, sizeof(part), "  %s behind", age);
        append_part(line, sizeof(line), l->width, part);
    }
    if (v->duplicates) {
        snprintf(part, sizeof(part), "  duplicates %" PRIu64, v->duplicates);
        append_part(line, sizeof(line), l->width, part);
    }
    snprintf(part, sizeof(part), "  window %s", v->window ? v->window : "-");
    append_part(line, sizeof(line), l->width, part);
    append_part(line, sizeof(line), l->width, "  Ctrl-C: final report ");
    add_line(l, P_MUST, sgr(l, "\x1b[1;7m"), line);
    if (r->input.filter[0]) { /* what the counts leave out, named as analyze's report names it */
        snprintf(line, sizeof(line), " filter: %.400s (%" PRIu64 " entries left out)",
                 r->input.filter, r->input.filtered_out);
        add_line(l, P_HIGH, "", line);
    }
    if (v->status && *v->status)
        add_line(l, P_HIGH, sgr(l, "\x1b[33m"), v->status);
}

static void lay_causes(layout *l, const fl_result *r)
{
    add_line(l, P_LOW, "", "");
    add_line(l, P_MUST, sgr(l, "\x1b[1m"), "Top causes");
    if (!r->n_causes) {
        add_line(l, P_MUST, "", "  (no cause yet)");
        return;
    }
    for (size_t i = 0; i < r->n_causes && i < 5; i++) {
        const fl_cause *c = &r->causes[i];
        bool confident = c->score >= r->confidence_threshold;
        const char *col = !confident ? "\x1b[2m" : i == 0 ? "\x1b[1;31m" : "\x1b[31m";
        char head[512];
        snprintf(head, sizeof(head), "%2d. %.2f  %-10s %s%s%s", c->rank, c->score,
                 fl_cause_kind_name(c->kind), c->service, c->revision[0] ? "/" : "", c->revision);
        const char *ev = c->n_evidence ? c->evidence[0] : c->error_class;
        if (i == 0) {
            /* The top cause in full: what happened, the evidence, and the first action (the
             * rollback command for a deploy) wrapped, never cut. */
            add_line(l, P_MUST, sgr(l, col), head);
            add_wrapped(l, P_HIGH, "", "    ", "    ", c->summary, false);
            if (c->n_actions) {
                bool cmd = !strncmp(c->actions[0], "gcloud ", 7);
                add_wrapped(l, P_MUST, sgr(l, "\x1b[1;32m"), cmd ? "    $ " : "    > ", "        ",
                            c->actions[0], cmd);
            }
            add_fmt(l, P_LOW, sgr(l, "\x1b[2m"), "    %s", ev);
        } else {
            add_fmt(l, P_MID, sgr(l, col), "%s  %s", head, c->summary);
            add_fmt(l, P_EXTRA, sgr(l, "\x1b[2m"), "    %s", ev);
        }
    }
}

static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                     "\u2585", "\u2586", "\u2587", "\u2588"};

/* The last n buckets of series on a scale where max is a full block; zero is a dot. */
static void sparkline(const uint32_t *series, size_t start, size_t n, uint32_t max, char *out,
                      size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = start; i < start + n && at + 4 < size; i++) {
        uint32_t x = series ? series[i] : 0;
        const char *b = !x || !max ? "." : blocks[((uint64_t)x * 8 - 1) / max];
        size_t bl = strlen(b);
        memcpy(out + at, b, bl + 1);
        at += bl;
    }
}

static void bucket_text(int seconds, char *buf, size_t size)
{
    if (seconds > 0 && seconds % 3600 == 0)
        snprintf(buf, size, "%dh", seconds / 3600);
    else if (seconds > 0 && seconds % 60 == 0)
        snprintf(buf, size, "%dm", seconds / 60);
    else
        snprintf(buf, size, "%ds", seconds > 0 ? seconds : 60);
}

/* One line per revision: requests and 5xx with their sparklines, all on one shared scale
 * (the busiest bucket of any revision is a full block), so 32% 5xx draws a third as high as
 * the requests it is a share of. */
static void lay_revisions(layout *l, const fl_result *r)
{
    add_line(l, P_LOW, "", "");
    if (!r->n_revisions) {
        add_line(l, P_MUST, sgr(l, "\x1b[1m"), "Revisions");
        add_line(l, P_MUST, "", "  (no requests yet)");
        return;
    }
    int name_w = 8;
    for (size_t i = 0; i < r->n_revisions; i++) {
        const fl_revision *rv = &r->revisions[i];
        int n = (int)strlen(rv->revision[0] ? rv->revision : rv->service);
        name_w = n > name_w ? n : name_w;
    }
    name_w = name_w > 28 ? 28 : name_w;
    /* "  NAME req NNNNNN SPARK  5xx NNNNN NNN% SPARK" */
    int spark = (l->width - 2 - name_w - 1 - 11 - 16 - 1) / 2;
    spark = spark > SPARK_MAX ? SPARK_MAX : spark < 4 ? 4 : spark;
    size_t n = r->n_buckets < (size_t)spark ? r->n_buckets : (size_t)spark;
    size_t start = r->n_buckets - n;
    uint32_t max = 0;
    for (size_t i = 0; i < r->n_revisions; i++)
        for (size_t b = start; b < r->n_buckets; b++) {
            const fl_revision *rv = &r->revisions[i];
            uint32_t q = rv->requests_series ? rv->requests_series[b] : 0;
            uint32_t e = rv->r5xx_series ? rv->r5xx_series[b] : 0;
            max = q > max ? q : max;
            max = e > max ? e : max;
        }
    char bucket[16];
    bucket_text(r->bucket_seconds, bucket, sizeof(bucket));
    add_fmt(l, P_MUST, sgr(l, "\x1b[1m"),
            "Revisions  requests / 5xx per %s, last %zu, one scale: %s = %" PRIu32, bucket, n,
            blocks[7], max);
    for (size_t i = 0; i < r->n_revisions; i++) {
        const fl_revision *rv = &r->revisions[i];
        char req[SPARK_MAX * 4 + 8], bad[SPARK_MAX * 4 + 8];
        sparkline(rv->requests_series, start, n, max, req, sizeof(req));
        sparkline(rv->r5xx_series, start, n, max, bad, sizeof(bad));
        double pct = rv->requests ? 100.0 * (double)rv->requests_5xx / (double)rv->requests : 0;
        add_fmt(l, i < REVISIONS_FIRST ? P_MUST : P_EXTRA,
                sgr(l, rv->requests_5xx ? "\x1b[31m" : ""),
                "  %-*.*s req %6" PRIu64 " %s  5xx %5" PRIu64 " %3.0f%% %s", name_w, name_w,
                rv->revision[0] ? rv->revision : rv->service, rv->requests, req, rv->requests_5xx,
                pct, bad);
    }
}

static void lay_groups(layout *l, const fl_result *r, const fl_term_view *v)
{
    add_line(l, P_LOW, "", "");
    add_fmt(l, P_MUST, sgr(l, "\x1b[1m"), "Error groups (%zu)", r->n_groups);
    if (!r->n_groups)
        add_line(l, P_MUST, "", "  (no errors yet)");
    for (size_t i = 0; i < r->n_groups; i++) {
        const fl_group *g = &r->groups[i];
        bool is_new = v->group_is_new && v->group_is_new[i];
        int prio = i < 2 ? P_MUST : i < 4 ? P_HIGH : i < 8 ? P_LOW : P_EXTRA;
        add_fmt(l, prio, sgr(l, is_new ? "\x1b[1;33m" : ""), "  %s %6" PRIu64 "  %s",
                is_new ? "NEW" : "   ", g->count, g->title);
    }
}

static void lay_sources(layout *l, const fl_term_view *v)
{
    add_line(l, P_LOW, "", "");
    add_line(l, P_MUST, sgr(l, "\x1b[1m"), "Sources");
    for (size_t i = 0; i < v->n_sources; i++) {
        const fl_term_source *s = &v->sources[i];
        char lag[32] = "-";
        if (s->lag >= 0)
            snprintf(lag, sizeof(lag), "%" PRId64, s->lag);
        const char *state = s->paused ? "paused" : s->connected ? "ok" : "down";
        add_fmt(l, P_MUST, sgr(l, s->connected ? "" : "\x1b[33m"),
                "  %-28.28s %-6s %8" PRIu64 " entries %8.1f/s  lag %-8s %s", s->label, state,
                s->records, s->per_sec, lag, s->last_error ? s->last_error : "");
    }
}

/* The lowest priority whose lines, with all more important ones, fit rows; lines of the next
 * priority then fill what is left, in screen order. */
static void choose_lines(const layout *l, int rows, bool *shown)
{
    int level = -1;
    for (int p = 0; p <= MAX_PRIO; p++) {
        int need = 0;
        for (size_t i = 0; i < l->n; i++)
            need += l->v[i].prio <= p;
        if (need > rows)
            break;
        level = p;
    }
    int left = rows;
    for (size_t i = 0; i < l->n; i++) {
        shown[i] = l->v[i].prio <= level;
        left -= shown[i];
    }
    for (size_t i = 0; i < l->n && left > 0; i++)
        if (l->v[i].prio == level + 1) {
            shown[i] = true;
            left--;
        }
}

int fl_terminal_render(const fl_result *r, const fl_term_view *v, FILE *out)
{
    layout l = {NULL, 0, 0, v->width > 20 ? v->width - 1 : 99, v->color};
    int rows = v->height > 5 ? v->height - 1 : 39;
    lay_header(&l, r, v);
    lay_causes(&l, r);
    lay_revisions(&l, r);
    lay_groups(&l, r, v);
    lay_sources(&l, v);
    bool *shown = fl_calloc(l.n + 1, sizeof(bool));
    fputs("\x1b[H", out);
    if (shown)
        choose_lines(&l, rows, shown);
    for (size_t i = 0; i < l.n; i++) {
        if (shown ? !shown[i] : (int)i >= rows)
            continue;
        const tline *t = &l.v[i];
        fputs(t->sgr, out);
        put_clean(out, t->text ? t->text : "", l.width);
        if (*t->sgr)
            fputs("\x1b[0m", out);
        fputs(CLR_EOL "\n", out);
    }
    fputs("\x1b[J", out); /* clear whatever the previous, longer frame left below */
    fflush(out);
    for (size_t i = 0; i < l.n; i++)
        fl_free(l.v[i].text);
    fl_free(l.v);
    fl_free(shown);
    return ferror(out) ? FL_EIO : 0;
}
