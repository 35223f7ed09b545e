/* The live screen: one frame per call, drawn from the home position with every line cleared to
 * its end, so redrawing in place never leaves stale characters. Text is redacted by the caller
 * (fl_result_redacted) when redaction is on. */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "fl_reports.h"
#include "terminal/fl_terminal.h"

const char fl_term_enter[] = "\x1b[?1049h\x1b[?25l";
const char fl_term_leave[] = "\x1b[?25h\x1b[?1049l";

#define CLR_EOL "\x1b[K"

typedef struct frame {
    FILE *out;
    int width;
    int rows_left;
    bool color;
} frame;

static const char *sgr(const frame *f, const char *code)
{
    return f->color ? code : "";
}

/* Prints at most width display columns of s (bytes of a UTF-8 sequence are kept together) and
 * ends the line. Newlines inside s end the text early: every item gets one line. */
static void line_text(frame *f, const char *pre, const char *s, const char *post)
{
    if (f->rows_left <= 0)
        return;
    int cols = 0;
    fputs(pre, f->out);
    for (const unsigned char *p = (const unsigned char *)s; *p && *p != '\n'; p++) {
        if ((*p & 0xC0) != 0x80) {
            if (cols >= f->width)
                break;
            cols++;
        }
        fputc(*p == '\t' || *p == '\r' ? ' ' : *p, f->out);
    }
    fputs(post, f->out);
    fputs(CLR_EOL "\n", f->out);
    f->rows_left--;
}

static void line_fmt(frame *f, const char *pre, const char *post, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void line_fmt(frame *f, const char *pre, const char *post, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    line_text(f, pre, buf, post);
}

/* Eight block heights; a zero is a dot so quiet minutes still show. */
static void sparkline(const uint32_t *series, size_t n, size_t width, char *out, size_t size)
{
    static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588"};
    size_t start = n > width ? n - width : 0;
    uint32_t max = 0;
    for (size_t i = start; i < n; i++)
        max = series[i] > max ? series[i] : max;
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = start; i < n && at + 4 < size; i++) {
        const char *b;
        if (!series[i] || !max)
            b = ".";
        else
            b = blocks[(size_t)((uint64_t)series[i] * 7 / max)];
        size_t bl = strlen(b);
        memcpy(out + at, b, bl);
        at += bl;
        out[at] = '\0';
    }
}

static void draw_header(frame *f, const fl_result *r, const fl_term_view *v)
{
    char clock[16] = "--:--:--";
    if (v->now)
        fl_time_clock(v->now, clock, sizeof(clock));
    line_fmt(f, sgr(f, "\x1b[1;7m"), sgr(f, "\x1b[0m"),
             " %s  %s UTC  window %s  entries %" PRIu64 "  duplicates %" PRIu64 "  Ctrl-C: "
             "final report ",
             v->title ? v->title : "faultline tail", clock, v->window ? v->window : "-",
             r->input.entries, v->duplicates);
    if (v->status && *v->status)
        line_text(f, sgr(f, "\x1b[33m"), v->status, sgr(f, "\x1b[0m"));
    line_text(f, "", "", "");
}

static void draw_causes(frame *f, const fl_result *r)
{
    line_text(f, sgr(f, "\x1b[1m"), "Top causes", sgr(f, "\x1b[0m"));
    if (!r->n_causes) {
        line_text(f, "", "  (no cause yet)", "");
        return;
    }
    for (size_t i = 0; i < r->n_causes && i < 5 && f->rows_left > 8; i++) {
        const fl_cause *c = &r->causes[i];
        bool confident = c->score >= r->confidence_threshold;
        const char *col = !confident ? "\x1b[2m" : i == 0 ? "\x1b[1;31m" : "\x1b[31m";
        line_fmt(f, sgr(f, col), sgr(f, "\x1b[0m"), "%2d. %.2f  %-10s %s%s%s  %s", c->rank,
                 c->score, fl_cause_kind_name(c->kind), c->service, c->revision[0] ? "/" : "",
                 c->revision, c->summary);
        const char *ev = c->n_evidence ? c->evidence[0] : c->error_class;
        line_fmt(f, sgr(f, "\x1b[2m"), sgr(f, "\x1b[0m"), "       %s", ev);
    }
}

static void draw_revisions(frame *f, const fl_result *r)
{
    line_text(f, "", "", "");
    line_text(f, sgr(f, "\x1b[1m"), "Revisions (requests / 5xx per minute)", sgr(f, "\x1b[0m"));
    size_t spark_w = f->width > 70 ? 30 : 15;
    for (size_t i = 0; i < r->n_revisions && f->rows_left > 6; i++) {
        const fl_revision *rv = &r->revisions[i];
        char req[256], bad[256];
        sparkline(rv->requests_series, r->n_buckets, spark_w, req, sizeof(req));
        sparkline(rv->r5xx_series, r->n_buckets, spark_w, bad, sizeof(bad));
        line_fmt(f, "", "", "  %-32.32s req %-6" PRIu64 " %s",
                 rv->revision[0] ? rv->revision : rv->service, rv->requests, req);
        line_fmt(f, sgr(f, rv->requests_5xx ? "\x1b[31m" : ""), sgr(f, "\x1b[0m"),
                 "  %-32s 5xx %-6" PRIu64 " %s", "", rv->requests_5xx, bad);
    }
}

static void draw_groups(frame *f, const fl_result *r, const fl_term_view *v)
{
    line_text(f, "", "", "");
    line_text(f, sgr(f, "\x1b[1m"), "Error groups", sgr(f, "\x1b[0m"));
    for (size_t i = 0; i < r->n_groups && f->rows_left > 4; i++) {
        const fl_group *g = &r->groups[i];
        bool is_new = v->group_is_new && v->group_is_new[i];
        line_fmt(f, sgr(f, is_new ? "\x1b[1;33m" : ""), sgr(f, "\x1b[0m"), "  %s %6" PRIu64 "  %s",
                 is_new ? "NEW" : "   ", g->count, g->title);
    }
}

static void draw_sources(frame *f, const fl_term_view *v)
{
    line_text(f, "", "", "");
    line_text(f, sgr(f, "\x1b[1m"), "Sources", sgr(f, "\x1b[0m"));
    for (size_t i = 0; i < v->n_sources && f->rows_left > 0; i++) {
        const fl_term_source *s = &v->sources[i];
        char lag[32] = "-";
        if (s->lag >= 0)
            snprintf(lag, sizeof(lag), "%" PRId64, s->lag);
        const char *state = s->paused ? "paused" : s->connected ? "ok" : "down";
        line_fmt(f, sgr(f, s->connected ? "" : "\x1b[33m"), sgr(f, "\x1b[0m"),
                 "  %-28.28s %-6s %8" PRIu64 " entries %8.1f/s  lag %-8s %s", s->label, state,
                 s->records, s->per_sec, lag, s->last_error ? s->last_error : "");
    }
}

int fl_terminal_render(const fl_result *r, const fl_term_view *v, FILE *out)
{
    frame f = {out, v->width > 20 ? v->width - 1 : 99, v->height > 5 ? v->height - 1 : 39,
               v->color};
    fputs("\x1b[H", out);
    draw_header(&f, r, v);
    draw_causes(&f, r);
    /* Sources go last on screen but must always be visible: keep rows for them. */
    int reserve = (int)v->n_sources + 2;
    f.rows_left -= reserve;
    draw_revisions(&f, r);
    draw_groups(&f, r, v);
    f.rows_left += reserve;
    draw_sources(&f, v);
    fputs("\x1b[J", out); /* clear whatever the previous, longer frame left below */
    fflush(out);
    return ferror(out) ? FL_EIO : 0;
}
