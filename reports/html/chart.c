/* The timeline chart: inline SVG, no script. Two panels share one UTC time axis:
 *   top:    requests (solid) and 5xx (dashed) per bucket, one colour per revision;
 *   bottom: errors per bucket as stacked bars, one colour per error group (top groups, then
 *           "other").
 * Change events are labelled vertical markers across both panels; the top cause's onset is a
 * highlighted band. The bucket size comes from the result, so ten minutes and a day both fit. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/span.h"
#include "html.h"

#define W 1200.0
#define LEFT 78.0
#define RIGHT 28.0
#define TOP1 78.0 /* room above for change labels */
#define H1 200.0
#define GAP 56.0
#define H2 140.0
#define MAX_REVISIONS 12
#define MAX_GROUPS 6

static const char *const palette[] = {"#1f77b4", "#2ca02c", "#9467bd", "#8c564b",
                                      "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
                                      "#ff7f0e", "#393b79", "#637939", "#843c39"};
static const char *const group_palette[] = {"#d62728", "#ff7f0e", "#bcbd22",
                                            "#9467bd", "#8c564b", "#17becf"};
#define OTHER_COLOUR "#c7c7c7"

typedef struct chart {
    const fl_result *r;
    FILE *out;
    double pw;      /* plot width */
    double top2;    /* top of the error panel */
    fl_time span;   /* nd * bucket, microseconds */
    fl_time bucket; /* display bucket, microseconds */
    size_t k;       /* result buckets per display bucket */
    size_t nd;      /* display buckets */
    int seconds;    /* display bucket size */
} chart;

#define MAX_DISPLAY_BUCKETS 240

/* The value of display bucket j: the sum of the k result buckets it covers. */
static uint32_t dsum(const chart *c, const uint32_t *s, size_t j)
{
    if (!s)
        return 0;
    uint64_t sum = 0;
    size_t end = FL_MIN((j + 1) * c->k, c->r->n_buckets);
    for (size_t i = j * c->k; i < end; i++)
        sum += s[i];
    return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

/* A day of minute buckets is too fine to read (and to ship): merge result buckets into the
 * smallest "round" size that gives at most MAX_DISPLAY_BUCKETS. */
static void choose_display(chart *c)
{
    static const int sizes[] = {60,   120,   300,   600,   900,   1800,  3600,
                                7200, 10800, 21600, 43200, 86400, 604800};
    int bs = c->r->bucket_seconds;
    c->k = 1;
    c->seconds = bs;
    if (c->r->n_buckets > MAX_DISPLAY_BUCKETS) {
        for (size_t i = 0; i < FL_ARRAY_LEN(sizes); i++) {
            if (sizes[i] <= bs || sizes[i] % bs)
                continue;
            size_t k = (size_t)(sizes[i] / bs);
            c->k = k;
            c->seconds = sizes[i];
            if ((c->r->n_buckets + k - 1) / k <= MAX_DISPLAY_BUCKETS)
                break;
        }
        /* Long archives have result buckets no round size is a multiple of (107520 s), or
         * spans past a week of weeks: merge just enough of them. */
        if ((c->r->n_buckets + c->k - 1) / c->k > MAX_DISPLAY_BUCKETS) {
            c->k = (c->r->n_buckets + MAX_DISPLAY_BUCKETS - 1) / MAX_DISPLAY_BUCKETS;
            c->seconds = bs * (int)c->k;
        }
    }
    c->nd = (c->r->n_buckets + c->k - 1) / c->k;
}

const char *fl_html_bucket_label(int seconds, char *buf, size_t size)
{
    if (seconds == 60)
        snprintf(buf, size, "minute");
    else if (seconds == 3600)
        snprintf(buf, size, "hour");
    else if (seconds >= 2 * 86400)
        fl_span_text((fl_time)seconds * FL_USEC_PER_SEC, buf, size);
    else if (seconds % 3600 == 0)
        snprintf(buf, size, "%d h", seconds / 3600);
    else if (seconds % 60 == 0)
        snprintf(buf, size, "%d min", seconds / 60);
    else
        snprintf(buf, size, "%d s", seconds);
    return buf;
}

static double x_of(const chart *c, fl_time t)
{
    double f = (double)(t - c->r->bucket_origin) / (double)c->span;
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    return LEFT + f * c->pw;
}

static double x_bucket_mid(const chart *c, size_t i)
{
    return LEFT + ((double)i + 0.5) * c->pw / (double)c->nd;
}

/* 1, 2, 5 x 10^k at or above v (at least 1). */
static double nice_ceil(double v)
{
    if (v <= 1)
        return 1;
    double p = pow(10, floor(log10(v)));
    for (int k = 0; k < 3; k++) {
        double m = (double[]){1, 2, 5}[k] * p;
        if (m >= v)
            return m;
    }
    return 10 * p;
}

static void y_axis(const chart *c, double top, double h, double max, const char *unit)
{
    FILE *o = c->out;
    for (int i = 0; i <= 4; i++) {
        double v = max * i / 4, y = top + h - h * i / 4;
        fprintf(o,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                LEFT, y, LEFT + c->pw, y, LEFT - 6, y + 4, v);
    }
    fprintf(o,
            "<text class=\"axis-title\" transform=\"translate(16 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            top + h / 2);
    fl_html_escape(o, unit);
    fprintf(o, "</text>\n");
}

/* Estimated width of a label in the chart's 11px sans-serif, generous so that estimates that
 * say "fits" hold in real browsers (checked in headless Chromium by tests/e2e/html_axes.py). */
static double text_width(size_t chars)
{
    return 7.0 * (double)chars;
}

/* A tick step: a fixed number of seconds, or whole calendar months (years are 12n months). */
typedef struct tick_step {
    int seconds; /* 0 for calendar steps */
    int months;
} tick_step;

static const tick_step tick_steps[] = {
    {60, 0},     {120, 0},    {300, 0},    {600, 0},     {900, 0},    {1800, 0},  {3600, 0},
    {7200, 0},   {10800, 0},  {21600, 0},  {43200, 0},   {86400, 0},  {172800, 0}, {604800, 0},
    {0, 1},      {0, 2},      {0, 3},      {0, 6},       {0, 12},     {0, 24},    {0, 60},
    {0, 120},    {0, 240},    {0, 600},
};

static bool same_year(fl_time a, fl_time b)
{
    char x[32], y[32];
    fl_time_format(a, false, x, sizeof x);
    fl_time_format(b, false, y, sizeof y);
    return strncmp(x, y, 4) == 0;
}

/* First tick at or after t for a calendar step of m months (aligned to multiples of m). */
static fl_time month_tick(fl_time t, int m, int k)
{
    time_t secs = (time_t)(t / FL_USEC_PER_SEC);
    struct tm tm;
    gmtime_r(&secs, &tm);
    long idx = (long)(tm.tm_year + 1900) * 12 + tm.tm_mon;
    bool exact = tm.tm_mday == 1 && !tm.tm_hour && !tm.tm_min && !tm.tm_sec &&
                 t % FL_USEC_PER_SEC == 0;
    if (!exact)
        idx++;
    idx = (idx + m - 1) / m * m + (long)k * m;
    struct tm b = {.tm_year = (int)(idx / 12) - 1900, .tm_mon = (int)(idx % 12), .tm_mday = 1};
    return (fl_time)timegm(&b) * FL_USEC_PER_SEC;
}

/* The label of a tick: as short as the step allows, the date when the day changes, the year
 * when the window crosses one. */
static void tick_label(const tick_step *st, fl_time t, bool first, bool new_day, bool new_year,
                       bool years_differ, char *out, size_t n)
{
    char f[32];
    fl_time_format(t, false, f, sizeof f); /* 2026-11-20T10:42:00Z */
    if (st->months >= 12)
        snprintf(out, n, "%.4s", f);
    else if (st->months)
        snprintf(out, n, "%.7s", f);
    else if (st->seconds >= 86400) {
        bool with_year = years_differ && (first || new_year);
        snprintf(out, n, "%.*s", with_year ? 10 : 5, with_year ? f : f + 5);
    } else if (first || new_day) {
        snprintf(out, n, "%.10s %.5s", f, f + 11);
    } else
        snprintf(out, n, "%.5s", f + 11);
}

/* The longest label a step can produce, for choosing the step. */
static size_t widest_label(const tick_step *st, bool years_differ)
{
    if (st->months >= 12)
        return 4;
    if (st->months)
        return 7;
    if (st->seconds >= 86400)
        return years_differ ? 10 : 5;
    return 16; /* "2026-11-20 10:42" on the first tick and at midnight */
}

static fl_time tick_at(const tick_step *st, fl_time origin, int k)
{
    if (st->months)
        return month_tick(origin, st->months, k);
    fl_time s = (fl_time)st->seconds * FL_USEC_PER_SEC;
    return (origin + s - 1) / s * s + (fl_time)k * s;
}

static void x_axis(const chart *c, double y)
{
    FILE *o = c->out;
    fl_time origin = c->r->bucket_origin, end = origin + c->span;
    bool years_differ = !same_year(origin, end);
    /* The finest step whose ticks are spaced wider than their widest label. */
    const tick_step *st = &tick_steps[FL_ARRAY_LEN(tick_steps) - 1];
    for (size_t i = 0; i < FL_ARRAY_LEN(tick_steps); i++) {
        const tick_step *cand = &tick_steps[i];
        fl_time a = tick_at(cand, origin, 0), b = tick_at(cand, origin, 1);
        double gap = (double)(b - a) / (double)c->span * c->pw;
        if (gap >= text_width(widest_label(cand, years_differ)) * 0.75 + 24 &&
            gap >= text_width(8) + 16) {
            st = cand;
            break;
        }
    }
    double last_right = -1e9;
    char prev[32] = "";
    for (int k = 0;; k++) {
        fl_time t = tick_at(st, origin, k);
        if (t > end || k > 1000)
            break;
        char full[32], label[32];
        fl_time_format(t, false, full, sizeof(full));
        bool new_day = prev[0] && strncmp(prev, full, 10) != 0;
        bool new_year = prev[0] && strncmp(prev, full, 4) != 0;
        tick_label(st, t, k == 0, new_day, new_year, years_differ, label, sizeof label);
        memcpy(prev, full, sizeof prev);
        double x = x_of(c, t), w = text_width(strlen(label));
        /* The tick is always drawn; its label only where it does not touch the previous one
         * and stays inside the chart. */
        bool show = x - w / 2 > last_right + 6 && x + w / 2 <= W && x - w / 2 >= 0;
        fprintf(o, "<line class=\"xtick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, y,
                x, y + 5);
        if (show) {
            fprintf(o,
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                    "data-time=\"%s\" data-axis=\"x\">%s</text>",
                    x, y + 18, full, label);
            last_right = x + w / 2;
        }
        fputc('\n', o);
    }
    fprintf(o,
            "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
            "time (UTC)</text>\n",
            LEFT + c->pw / 2, y + 36);
}

/* Revisions worth a line: those with traffic or errors, at most MAX_REVISIONS, by volume. */
static size_t pick_revisions(const fl_result *r, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_revisions; i++) {
        const fl_revision *v = &r->revisions[i];
        if (!v->requests_series || (v->requests == 0 && v->requests_5xx == 0))
            continue;
        if (n < MAX_REVISIONS) {
            idx[n++] = i;
            continue;
        }
        /* Replace the smallest kept one if this one is bigger (stable: ties keep the first). */
        size_t min = 0;
        for (size_t k = 1; k < n; k++)
            if (r->revisions[idx[k]].requests < r->revisions[idx[min]].requests)
                min = k;
        if (v->requests > r->revisions[idx[min]].requests) {
            memmove(idx + min, idx + min + 1, (n - min - 1) * sizeof(*idx));
            idx[n - 1] = i;
        }
    }
    return n;
}

static void traffic_panel(const chart *c, const size_t *revs, size_t n_revs)
{
    const fl_result *r = c->r;
    FILE *o = c->out;
    double max = 0;
    for (size_t k = 0; k < n_revs; k++)
        for (size_t i = 0; i < c->nd; i++)
            max = FL_MAX(max, (double)dsum(c, r->revisions[revs[k]].requests_series, i));
    max = nice_ceil(max);
    char bl[32], unit[64];
    snprintf(unit, sizeof(unit), "requests / %s", fl_html_bucket_label(c->seconds, bl, sizeof(bl)));
    fprintf(o, "<g class=\"panel traffic\">\n");
    y_axis(c, TOP1, H1, max, unit);
    bool dots = c->nd <= 180;
    for (size_t k = 0; k < n_revs; k++) {
        const fl_revision *v = &r->revisions[revs[k]];
        const char *col = palette[k % FL_ARRAY_LEN(palette)];
        for (int pass = 0; pass < 2; pass++) {
            const uint32_t *s = pass ? v->r5xx_series : v->requests_series;
            if (!s)
                continue;
            fprintf(o, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" points=\"",
                    pass ? "line-5xx" : "line-req", col);
            for (size_t i = 0; i < c->nd; i++)
                fprintf(o, "%s%.1f,%.1f", i ? " " : "", x_bucket_mid(c, i),
                        TOP1 + H1 - H1 * (double)dsum(c, s, i) / max);
            fprintf(o, "\"/>\n");
        }
        fprintf(o, "<g class=\"points\" data-service=\"");
        fl_html_escape(o, v->service);
        fprintf(o, "\" data-revision=\"");
        fl_html_escape(o, v->revision);
        fprintf(o, "\" fill=\"%s\">\n", col);
        for (size_t i = 0; i < c->nd; i++) {
            char ts[32];
            uint32_t req = dsum(c, v->requests_series, i), e5 = dsum(c, v->r5xx_series, i);
            fl_time_format(r->bucket_origin + (fl_time)i * c->bucket, false, ts, sizeof(ts));
            fprintf(o, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" data-service=\"",
                    x_bucket_mid(c, i), TOP1 + H1 - H1 * (double)req / max,
                    dots && (req || e5) ? "2" : "0");
            fl_html_escape(o, v->service);
            fprintf(o, "\" data-revision=\"");
            fl_html_escape(o, v->revision);
            fprintf(o,
                    "\" data-bucket=\"%zu\" data-time=\"%s\" data-requests=\"%u\" "
                    "data-r5xx=\"%u\"><title>",
                    i, ts, req, e5);
            fl_html_escape(o, v->revision);
            fprintf(o, " %s: %u requests, %u 5xx</title></circle>\n", ts + 11, req, e5);
        }
        fprintf(o, "</g>\n");
    }
    fprintf(o, "</g>\n");
}

static void error_panel(const chart *c)
{
    const fl_result *r = c->r;
    FILE *o = c->out;
    size_t ng = FL_MIN(r->n_groups, (size_t)MAX_GROUPS);
    double max = 0;
    for (size_t i = 0; i < c->nd; i++) {
        double sum = 0;
        for (size_t g = 0; g < r->n_groups; g++)
            sum += dsum(c, r->groups[g].series, i);
        max = FL_MAX(max, sum);
    }
    max = nice_ceil(max);
    char bl[32], unit[64];
    snprintf(unit, sizeof(unit), "errors / %s", fl_html_bucket_label(c->seconds, bl, sizeof(bl)));
    fprintf(o, "<g class=\"panel errors\">\n");
    y_axis(c, c->top2, H2, max, unit);
    double bw = c->pw / (double)c->nd;
    double gap = bw > 4 ? 1 : 0;
    for (size_t i = 0; i < c->nd; i++) {
        double y = c->top2 + H2;
        uint32_t other = 0;
        for (size_t g = 0; g < r->n_groups; g++) {
            uint32_t v = dsum(c, r->groups[g].series, i);
            if (g >= ng) {
                other += v;
                continue;
            }
            if (!v)
                continue;
            double h = H2 * v / max;
            y -= h;
            fprintf(o,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
                    "fill=\"%s\" data-group=\"",
                    LEFT + (double)i * bw, y, bw - gap, h, group_palette[g]);
            fl_html_escape(o, r->groups[g].key);
            fprintf(o, "\" data-bucket=\"%zu\" data-count=\"%u\"><title>", i, v);
            fl_html_escape(o, r->groups[g].title);
            fprintf(o, ": %u</title></rect>\n", v);
        }
        if (other) {
            double h = H2 * other / max;
            y -= h;
            fprintf(o,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
                    "fill=\"%s\" data-group=\"(other)\" data-bucket=\"%zu\" data-count=\"%u\">"
                    "<title>other groups: %u</title></rect>\n",
                    LEFT + (double)i * bw, y, bw - gap, h, OTHER_COLOUR, i, other, other);
        }
    }
    fprintf(o, "</g>\n");
}

static const char *change_short(fl_change_kind k)
{
    switch (k) {
    case FL_CHANGE_DEPLOY:
        return "deploy";
    case FL_CHANGE_CONFIG:
        return "config";
    case FL_CHANGE_TRAFFIC:
        return "traffic";
    case FL_CHANGE_SECRET:
        return "secret";
    case FL_CHANGE_REVISION_READY:
        return "ready";
    case FL_CHANGE_INFERRED:
        return "first seen";
    case FL_CHANGE_FAILED:
        return "failed change";
    case FL_CHANGE_EXTERNAL:
        return "CI";
    }
    return "change";
}

#define CHANGE_ROWS 4
#define ROW_SPANS 128 /* labels remembered per row; past that the row counts as full */

/* Where labels already are: per row, the x extents taken. */
typedef struct label_rows {
    double l[CHANGE_ROWS][ROW_SPANS], r[CHANGE_ROWS][ROW_SPANS];
    size_t n[CHANGE_ROWS];
} label_rows;

/* The first row where [left, right] touches no label (6px apart), taken; -1 if none. */
static int take_row(label_rows *lr, double left, double right)
{
    for (int k = 0; k < CHANGE_ROWS; k++) {
        bool free = lr->n[k] < ROW_SPANS;
        for (size_t j = 0; free && j < lr->n[k]; j++)
            free = right + 6 < lr->l[k][j] || left > lr->r[k][j] + 6;
        if (free) {
            lr->l[k][lr->n[k]] = left;
            lr->r[k][lr->n[k]++] = right;
            return k;
        }
    }
    return -1;
}

static bool change_in_view(const chart *c, const fl_change_out *ch)
{
    return ch->ts >= c->r->bucket_origin && ch->ts <= c->r->bucket_origin + c->span;
}

/* The change the top cause blames gets its label first; the others in time order. */
static bool is_blamed(const fl_result *r, const fl_change_out *ch)
{
    return r->n_causes && r->causes[0].change_ts && ch->ts == r->causes[0].change_ts &&
           (!r->causes[0].revision[0] || strcmp(ch->revision, r->causes[0].revision) == 0);
}

static void change_markers(const chart *c)
{
    const fl_result *r = c->r;
    FILE *o = c->out;
    double bottom = c->top2 + H2;
    static label_rows lr; /* 8 KiB: not on the stack */
    memset(&lr, 0, sizeof lr);
    size_t unlabelled = 0;
    bool years_differ = !same_year(r->bucket_origin, r->bucket_origin + c->span);
    bool days_differ = c->span > 86400 * FL_USEC_PER_SEC;
    fprintf(o, "<g class=\"changes\">\n");
    for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < r->n_changes; i++) {
        const fl_change_out *ch = &r->changes[i];
        if (!change_in_view(c, ch) || is_blamed(r, ch) != (pass == 0))
            continue;
        double x = x_of(c, ch->ts);
        char ts[32];
        fl_time_format(ch->ts, false, ts, sizeof(ts));
        bool failed = ch->kind == FL_CHANGE_FAILED;
        /* "service X is ready" repeats its revision's ready event: a line, no label. */
        bool wants_label = !(ch->kind == FL_CHANGE_REVISION_READY && !ch->revision[0]);
        /* The label: kind, revision (long names cut; the full text is in the changes table)
         * and the time, with the date on spans over a day and the year across years. */
        char label[96], cut[40], when[24];
        const char *name = ch->revision[0] ? ch->revision : ch->service;
        snprintf(cut, sizeof(cut), "%s", name);
        if (strlen(name) >= sizeof(cut))
            memcpy(cut + sizeof(cut) - 4, "...", 4);
        if (years_differ)
            snprintf(when, sizeof when, "%.10s", ts);
        else if (days_differ)
            snprintf(when, sizeof when, "%.5s %.5s", ts + 5, ts + 11);
        else
            snprintf(when, sizeof when, "%.5s", ts + 11);
        snprintf(label, sizeof label, "%s %s %s", change_short(ch->kind), cut, when);
        /* 10.5px text: a little narrower than the axis labels. */
        double w = text_width(strlen(label)) * 0.96;
        /* Right of the line, or left of it near the right edge, so it is never clipped. */
        bool anchor_end = x + 3 + w > W - 2;
        double left = anchor_end ? x - 3 - w : x + 3;
        int row = wants_label ? take_row(&lr, left, left + w) : -1;
        double ly = 14 + (row < 0 ? 0 : row) * 15;
        fprintf(o,
                "<line class=\"change%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "data-kind=\"%s\" data-time=\"%s\" data-revision=\"",
                failed ? " failed" : "", x, row < 0 ? TOP1 - 6 : ly + 3, x, bottom,
                fl_change_kind_name(ch->kind), ts);
        fl_html_escape(o, ch->revision);
        fprintf(o, "\"><title>");
        fl_html_escape(o, ch->description);
        fprintf(o, "</title></line>\n");
        if (!wants_label)
            continue;
        if (row < 0) { /* every row is taken here: the line stays, its text is in the table */
            unlabelled++;
            continue;
        }
        fprintf(o, "<text class=\"change-label\" x=\"%.1f\" y=\"%.1f\"%s>",
                anchor_end ? x - 3 : x + 3, ly, anchor_end ? " text-anchor=\"end\"" : "");
        fl_html_escape(o, label);
        fprintf(o, "</text>\n");
    }
    if (unlabelled)
        fprintf(o,
                "<text class=\"muted change-note\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                "data-unlabelled=\"%zu\">%zu more change%s without a label here: see Changes "
                "below</text>\n",
                W - RIGHT, TOP1 - 4, unlabelled, unlabelled, unlabelled == 1 ? "" : "s");
    fprintf(o, "</g>\n");
}

static void onset_marker(const chart *c)
{
    const fl_result *r = c->r;
    if (!r->n_causes || !r->causes[0].onset)
        return;
    const fl_cause *top = &r->causes[0];
    fl_time t = top->onset;
    if (t < r->bucket_origin || t > r->bucket_origin + c->span)
        return;
    FILE *o = c->out;
    double x = x_of(c, t);
    double bw = FL_MAX(c->pw / (double)c->nd, 3.0);
    char ts[32];
    fl_time_format(t, false, ts, sizeof(ts));
    fprintf(o, "<g class=\"onset\" data-time=\"%s\" data-class=\"", ts);
    fl_html_escape(o, top->error_class);
    fprintf(o,
            "\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
            "<text x=\"%.1f\" y=\"%.1f\">onset of cause #1 %.8s</text></g>\n",
            x, TOP1, bw, c->top2 + H2 - TOP1, x + bw + 3, TOP1 + 12, ts + 11);
}

/* A legend entry that would run past the right edge starts a new row. */
static void legend_wrap(double *x, double *y)
{
    if (*x > W - 260) {
        *x = LEFT;
        *y += 18;
    }
}

static void legend(const chart *c, const size_t *revs, size_t n_revs, double y)
{
    const fl_result *r = c->r;
    FILE *o = c->out;
    double x = LEFT;
    fprintf(o, "<g class=\"legend\">\n");
    for (size_t k = 0; k < n_revs; k++) {
        const fl_revision *v = &r->revisions[revs[k]];
        legend_wrap(&x, &y);
        fprintf(o,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"3\"/><text x=\"%.1f\" y=\"%.1f\">",
                x, y - 4, x + 18, y - 4, palette[k % FL_ARRAY_LEN(palette)], x + 22, y);
        /* Cut to fit the 250px slot: a long name would run into the next entry. */
        const char *name = v->revision[0] ? v->revision : v->service;
        char cut[30];
        snprintf(cut, sizeof(cut), "%s", name);
        if (strlen(name) >= sizeof(cut))
            memcpy(cut + sizeof(cut) - 4, "...", 4);
        fl_html_escape(o, cut);
        fprintf(o, "</text>\n");
        x += 250;
    }
    if (n_revs) {
        legend_wrap(&x, &y);
        fprintf(o,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"line-5xx\" "
                "stroke=\"#333\"/><text x=\"%.1f\" y=\"%.1f\">dashed: 5xx</text>\n",
                x, y - 4, x + 18, y - 4, x + 22, y);
    }
    size_t ng = FL_MIN(r->n_groups, (size_t)MAX_GROUPS);
    x = LEFT;
    y += 20;
    for (size_t g = 0; g <= ng && g <= r->n_groups; g++) {
        bool other = g == ng;
        if (other && r->n_groups <= ng)
            break;
        legend_wrap(&x, &y);
        fprintf(o,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"%.1f\">",
                x, y - 10, other ? OTHER_COLOUR : group_palette[g], x + 20, y);
        char cut[30];
        /* A name a person reads: the class, else the template ("HTTP 500 GET /api/<id>"),
         * never the fp:... key. */
        const fl_group *gr = other ? NULL : &r->groups[g];
        const char *name = !gr ? "other groups" : gr->class_id ? gr->class_id : gr->title;
        snprintf(cut, sizeof(cut), "%s", name);
        if (strlen(name) >= sizeof(cut))
            memcpy(cut + sizeof(cut) - 4, "...", 4);
        fl_html_escape(o, cut);
        fprintf(o, "</text>\n");
        x += 250;
    }
    fprintf(o, "</g>\n");
}

static size_t legend_rows(const fl_result *r, size_t n_revs)
{
    size_t per_row = (size_t)((W - LEFT) / 250);
    size_t ng = FL_MIN(r->n_groups, (size_t)MAX_GROUPS) + (r->n_groups > MAX_GROUPS);
    return (n_revs + 1 + per_row - 1) / per_row + (ng + per_row - 1) / per_row + 1;
}

void fl_html_chart(const fl_result *r, FILE *out)
{
    if (!r->n_buckets || r->bucket_seconds <= 0) {
        fprintf(out, "<p class=\"muted\">No timeline: the input has no timestamps to chart.</p>\n");
        return;
    }
    chart c = {.r = r, .out = out, .pw = W - LEFT - RIGHT};
    choose_display(&c);
    c.bucket = (fl_time)c.seconds * FL_USEC_PER_SEC;
    c.span = c.bucket * (fl_time)c.nd;
    c.top2 = TOP1 + H1 + GAP;
    size_t revs[MAX_REVISIONS];
    size_t n_revs = pick_revisions(r, revs);
    double axis_y = c.top2 + H2;
    double legend_y = axis_y + 64;
    double h = legend_y + 18.0 * (double)legend_rows(r, n_revs) + 10;
    char origin[32], bl[32];
    fl_time_format(r->bucket_origin, false, origin, sizeof(origin));
    fprintf(out,
            "<p class=\"muted\">Requests (solid) and 5xx (dashed) per revision, errors per "
            "group; one bucket = %s, times in UTC.</p>\n",
            fl_html_bucket_label(c.seconds, bl, sizeof(bl)));
    fprintf(
        out,
        "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
        "width=\"100%%\" role=\"img\" aria-label=\"timeline of requests, 5xx and errors\" "
        "data-bucket-seconds=\"%d\" data-buckets=\"%zu\" data-origin=\"%s\" "
        "data-display-bucket-seconds=\"%d\" data-display-buckets=\"%zu\">\n",
        W, h, r->bucket_seconds, r->n_buckets, origin, c.seconds, c.nd);
    onset_marker(&c);
    traffic_panel(&c, revs, n_revs);
    /* The top panel gets its own time ticks without labels; the shared labels go below. */
    fprintf(out, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT,
            TOP1 + H1, LEFT + c.pw, TOP1 + H1);
    error_panel(&c);
    fprintf(out, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT,
            axis_y, LEFT + c.pw, axis_y);
    x_axis(&c, axis_y);
    change_markers(&c);
    legend(&c, revs, n_revs, legend_y);
    if (r->n_revisions > n_revs)
        fprintf(out,
                "<text class=\"muted\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%zu revisions "
                "without traffic or "
                "beyond the top 12 not drawn</text>\n",
                W - RIGHT, legend_y, r->n_revisions - n_revs);
    fprintf(out, "</svg>\n");
}
