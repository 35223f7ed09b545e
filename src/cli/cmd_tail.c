/* faultline tail: the live incident view: options, timers, signals and the screen.
 *
 * The live engine (src/engine/fl_live_engine.h) counts what the sources deliver, keeps the
 * journal and checkpoints, the memory budget and the announcements. Every --interval this
 * file asks it for a ranking (the same fl_analyze as `analyze`) and shows it on the live screen
 * (a terminal) or writes it as one JSON snapshot per line (anything else). Ctrl-C prints the
 * final report in --format.
 */
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "cli_analysis.h"
#include "fl_cli.h"
#include "fl_json_str.h"
#include "fl_live_engine.h"
#include "fl_net.h"
#include "terminal/fl_terminal.h"


/* The options of every live source come from its descriptor (fl_live_option rows); the values
 * land in src_str / src_strs by row number, in the order of fl_live_sources. */
#define TAIL_SOURCE_ROWS 32

struct tail_args {
    fl_analysis_args a;
    const char *format;
    const char *src_str[TAIL_SOURCE_ROWS];
    fl_strv src_strs[TAIL_SOURCE_ROWS];
    const char *window;
    const char *interval;
    const char *poll;
    const char *state;
    const char *on_new_cause;
    const char *webhook;
    const char *cooldown;
    const char *checkpoint_every;
    const char *hold;
    int max_memory_mb;
    int dedup_max;
    bool no_screen;
};

static const char *const tail_formats[] = {"text", "md", "json", "html", NULL};

/* tail's own options; the sources' rows go before them (build_tail_opts). */
static const fl_opt tail_own_opts[] = {
    /* Long only: -f is the `tail -f FILE` reflex (follow). */
    {"format", 0, FL_OPT_CHOICE, "FORMAT",
     "final report format; json also makes snapshots (default: text on a terminal, else json)",
     offsetof(struct tail_args, format), 0, 0, tail_formats},
    {"window", 'w', FL_OPT_STRING, "DURATION", "sliding window (default 30m)",
     offsetof(struct tail_args, window), 0, 0, NULL},
    {"interval", 'i', FL_OPT_STRING, "DURATION", "re-rank every DURATION (default 5s)",
     offsetof(struct tail_args, interval), 0, 0, NULL},
    {"poll-interval", 0, FL_OPT_STRING, "DURATION",
     "Cloud Logging / file poll period (default 5s / 200ms)", offsetof(struct tail_args, poll), 0,
     0, NULL},
    {"state", 0, FL_OPT_STRING, "DIR",
     "keep checkpoints in DIR: a restart loses and double-counts nothing",
     offsetof(struct tail_args, state), 0, 0, NULL},
    {"on-new-cause", 0, FL_OPT_STRING, "CMD",
     "run CMD (sh -c) when a new cause takes the top rank above the threshold",
     offsetof(struct tail_args, on_new_cause), 0, 0, NULL},
    {"webhook", 0, FL_OPT_STRING, "URL",
     "POST the new top cause as JSON to URL (signed with FAULTLINE_WEBHOOK_SECRET)",
     offsetof(struct tail_args, webhook), 0, 0, NULL},
    {"cooldown", 0, FL_OPT_STRING, "DURATION",
     "do not fire again for the same cause within DURATION (default 30m)",
     offsetof(struct tail_args, cooldown), 0, 0, NULL},
    {"checkpoint-interval", 0, FL_OPT_STRING, "DURATION",
     "make counts durable and acknowledge sources every DURATION (default 1s)",
     offsetof(struct tail_args, checkpoint_every), 0, 0, NULL},
    {"multiline-hold", 0, FL_OPT_STRING, "DURATION",
     "a stack trace split across entries waits this long for its last line (default 2s)",
     offsetof(struct tail_args, hold), 0, 0, NULL},
    {"max-memory", 0, FL_OPT_INT, "MB", "pause the sources above this resident size (default 1024)",
     offsetof(struct tail_args, max_memory_mb), 16, 1048576, NULL},
    {"dedup-max", 0, FL_OPT_INT, "N",
     "remember the last N record ids for de-duplication (default 500000)",
     offsetof(struct tail_args, dedup_max), 1000, 100000000, NULL},
    {"no-screen", 0, FL_OPT_FLAG, NULL, "JSON snapshots even on a terminal",
     offsetof(struct tail_args, no_screen), 0, 0, NULL},
    FL_ANALYSIS_OPTS(struct tail_args, a),
    /* The same filter as analyze (src/engine/gate.c); a duration for --since counts back from
     * the newest entry seen so far. */
    FL_FILTER_OPTS(struct tail_args, a.filter),
    FL_OPT_END,
};

/* The option table: every source's rows, then tail's own. Built once. */
static const fl_opt *build_tail_opts(void)
{
    static fl_opt table[TAIL_SOURCE_ROWS + FL_ARRAY_LEN(tail_own_opts)];
    static bool built;
    if (built)
        return table;
    size_t n = 0, k = 0;
    for (const fl_live_ops *const *sp = fl_live_sources; *sp; sp++) {
        for (const fl_live_option *o = (*sp)->options; o && o->name; o++, k++) {
            if (k == TAIL_SOURCE_ROWS)
                abort(); /* a programming error: raise TAIL_SOURCE_ROWS */
            bool many = o->type == FL_LIVE_OPT_STRINGS;
            table[n++] = (fl_opt){o->name,
                                  o->short_name,
                                  many ? FL_OPT_STRINGS : FL_OPT_STRING,
                                  o->arg_name,
                                  o->help,
                                  many ? offsetof(struct tail_args, src_strs) + k * sizeof(fl_strv)
                                       : offsetof(struct tail_args, src_str) +
                                             k * sizeof(const char *),
                                  0,
                                  0,
                                  NULL};
        }
    }
    for (size_t i = 0; i < FL_ARRAY_LEN(tail_own_opts); i++)
        table[n++] = tail_own_opts[i];
    built = true;
    return table;
}

static const char tail_epilog[] =
    "Sources can be combined: - (stdin), --follow FILE, --kafka with --topic, --pubsub,\n"
    "--cloud-logging with --project. As with tail(1), `tail FILE...` and `tail -f FILE`\n"
    "follow the files; with no source named, a pipe or file on stdin is read.\n"
    "On a terminal the view is redrawn in place; otherwise one JSON snapshot (the analyze\n"
    "JSON report) is written per interval, one per line. Ctrl-C prints the final report;\n"
    "SIGHUP reloads the rule files. Durations: 500ms, 5s, 30m, 2h.\n"
    "\n"
    "Examples:\n"
    "  faultline tail --kafka broker1:9092 --topic cloudrun-logs --group oncall --state ~/.fl\n"
    "  faultline tail --pubsub projects/acme/subscriptions/run-logs --webhook https://hooks/x\n"
    "  faultline tail --cloud-logging 'resource.type=\"cloud_run_revision\"' --project acme\n"
    "  faultline tail -f /var/log/app/entries.ndjson --window 15m\n"
    "  faultline tail -f entries.ndjson --redact-actors --allow-list ~/.fl/keep.txt\n"
    "  gcloud logging read 'severity>=WARNING' --format=json | faultline tail\n"
    "\n";

static fl_cmd_spec tail_spec = {
    "tail",
    "[FILE... | -]",
    "Live incident view: rank root causes continuously from stdin, files, Kafka, Pub/Sub or\n"
    "the Cloud Logging API.",
    NULL, /* build_tail_opts() */
    tail_epilog,
};

typedef struct seen_group {
    char *key;
    uint64_t first_ms; /* 0: already there on the first frame */
} seen_group;

typedef struct tail {
    struct tail_args *args;
    uv_loop_t loop;
    uv_timer_t tick;
    uv_timer_t ckpt_timer;
    uv_signal_t sig_int, sig_term, sig_hup, sig_winch;
    int handles_open;
    fl_live_engine *engine;
    uint64_t interval_ms;
    uint64_t checkpoint_ms;
    bool screen;
    bool color;
    bool stopping;
    int width, height;
    const char *final_format;
    char status[256];
    seen_group *seen_groups; /* group keys shown so far, for the NEW marker */
    size_t n_seen_groups;
    uint64_t frames;
    int exit_status;
} tail;

/* --- small helpers --- */

/* "500ms", "5s", "30m", "2h", "1d"; a bare number is seconds. Returns milliseconds or -1. */
static int64_t parse_duration_ms(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    double mult = 1000;
    if (!strcmp(end, "ms"))
        mult = 1;
    else if (!strcmp(end, "s") || !*end)
        mult = 1000;
    else if (!strcmp(end, "m"))
        mult = 60000;
    else if (!strcmp(end, "h"))
        mult = 3600000;
    else if (!strcmp(end, "d"))
        mult = 86400000;
    else
        return -1;
    return (int64_t)(v * mult);
}

static fl_time wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (fl_time)ts.tv_sec * FL_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Removes the whitespace between JSON tokens so a pretty-printed document fits on one line. */
static size_t json_one_line(char *s, size_t n)
{
    size_t o = 0;
    fl_json_str st = {0};
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (fl_json_str_step(&st, c) || (c != ' ' && c != '\n' && c != '\r' && c != '\t'))
            s[o++] = c;
    }
    s[o] = '\0';
    return o;
}

/* Messages for the user: on stderr, and on the live screen's status line. */
static void tail_message(void *arg, const char *msg)
{
    tail *t = arg;
    fl_copy_str(t->status, sizeof(t->status), msg); /* the screen's one line */
    if (!t->screen || !isatty(STDERR_FILENO))
        fprintf(stderr, "faultline tail: %s\n", msg); /* whole: the hint is at the end */
}

/* --- output --- */

/* The engine's ranking, with each deploy cause's commit range and suspect commits (--repo). */
static int tail_analyze(tail *t, fl_result **out)
{
    int rc = fl_live_engine_analyze(t->engine, out);
    if (!rc)
        rc = fl_cli_add_suspects("tail", &t->args->a, *out);
    if (rc) {
        fl_result_free(*out);
        *out = NULL;
    }
    return rc;
}

static int write_json_line(tail *t, const fl_result *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return FL_ENOMEM;
    fl_report_opts ro;
    fl_cli_report_opts(&t->args->a, m, &ro);
    int rc = fl_report_write("json", r, &ro, m);
    fclose(m);
    if (!rc) {
        len = json_one_line(buf, len);
        fwrite(buf, 1, len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(buf);
    return rc;
}

/* When a group key was first shown, or -1 when never. */
static int64_t group_first_shown(tail *t, const char *key)
{
    for (size_t i = 0; i < t->n_seen_groups; i++)
        if (!strcmp(t->seen_groups[i].key, key))
            return (int64_t)t->seen_groups[i].first_ms;
    return -1;
}

static void draw_screen(tail *t, const fl_result *r)
{
    fl_term_source hs[FL_LIVE_MAX_SOURCES];
    fl_live_health h[FL_LIVE_MAX_SOURCES];
    size_t n = 0;
    for (size_t i = 0; i < fl_live_engine_n_sources(t->engine); i++) {
        fl_live_source *s = fl_live_engine_source(t->engine, i);
        if (!s)
            continue;
        s->ops->health(s, &h[n]);
        hs[n] = (fl_term_source){s->label,     h[n].records,   h[n].per_sec,   h[n].lag,
                                 h[n].paused, h[n].connected, h[n].last_error};
        n++;
    }
    /* A group is NEW for a minute after it first appears; what the first frame shows was
     * already there when tail started, so it is not new. */
    uint64_t now = uv_now(&t->loop);
    bool *is_new = fl_calloc(r->n_groups + 1, sizeof(bool));
    for (size_t i = 0; i < r->n_groups; i++) {
        int64_t first = group_first_shown(t, r->groups[i].key);
        if (first < 0) {
            seen_group *v = fl_realloc(t->seen_groups, (t->n_seen_groups + 1) * sizeof(*v));
            if (!v)
                break;
            t->seen_groups = v;
            v[t->n_seen_groups].key = fl_strdup(r->groups[i].key);
            v[t->n_seen_groups].first_ms = t->frames ? now : 0;
            if (v[t->n_seen_groups].key)
                t->n_seen_groups++;
            first = t->frames ? (int64_t)now : 0;
        }
        if (is_new)
            is_new[i] = first > 0 && now - (uint64_t)first < 60000;
    }
    t->frames++;
    fl_term_view v = {t->width,
                      t->height,
                      t->color,
                      t->args->a.title,
                      wall_now(),
                      t->args->window ? t->args->window : "30m",
                      hs,
                      n,
                      is_new,
                      fl_live_engine_duplicates(t->engine),
                      t->status};
    fl_result *shown = t->args->a.no_redact ? NULL : fl_result_redacted_with(r, &t->args->a.redact);
    fl_terminal_render(shown ? shown : r, &v, stdout);
    fl_result_free(shown);
    fl_free(is_new);
}

static void update_size(tail *t)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col) {
        t->width = ws.ws_col;
        t->height = ws.ws_row;
    }
}

/* --- timers and signals --- */

static void tail_stop(tail *t);

static void on_tick(uv_timer_t *h)
{
    tail *t = h->data;
    if (fl_live_engine_sources_ended(t->engine)) {
        tail_stop(t); /* the final report is the last snapshot */
        return;
    }
    fl_live_engine_check_memory(t->engine);
    fl_result *r = NULL;
    int rc = tail_analyze(t, &r);
    if (rc) {
        char msg[128];
        snprintf(msg, sizeof(msg), "analysis failed: %s", fl_strerror(rc));
        tail_message(t, msg);
    } else {
        if (t->screen)
            draw_screen(t, r);
        else
            write_json_line(t, r);
        fl_live_engine_announce(t->engine, r);
    }
    fl_result_free(r);
    if (ferror(stdout)) /* the reader went away (`| head -1`): nobody is watching */
        tail_stop(t);
}

static void on_ckpt(uv_timer_t *h)
{
    tail *t = h->data;
    if (fl_live_engine_sources_ended(t->engine)) {
        tail_stop(t);
        return;
    }
    fl_live_engine_checkpoint(t->engine);
}

static void on_signal(uv_signal_t *h, int signum)
{
    tail *t = h->data;
    if (signum == SIGHUP) {
        fl_live_engine_reload_rules(t->engine);
    } else if (signum == SIGWINCH) {
        update_size(t);
    } else if (t->stopping) {
        _exit(130); /* a second Ctrl-C while closing: the user wants out now */
    } else {
        tail_stop(t);
    }
}

static void handle_closed(uv_handle_t *h)
{
    tail *t = h->data;
    t->handles_open--;
}

static void close_handles(tail *t)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&t->tick,    (uv_handle_t *)&t->ckpt_timer,
                         (uv_handle_t *)&t->sig_int, (uv_handle_t *)&t->sig_term,
                         (uv_handle_t *)&t->sig_hup, (uv_handle_t *)&t->sig_winch};
    for (size_t i = 0; i < FL_ARRAY_LEN(hs); i++)
        uv_close(hs[i], handle_closed);
}

static void write_final_report(tail *t)
{
    fl_result *r = NULL;
    int rc = tail_analyze(t, &r);
    if (t->screen) {
        fputs(fl_term_leave, stdout);
        fflush(stdout);
    }
    if (rc) {
        fprintf(stderr, "faultline tail: final analysis failed: %s\n", fl_strerror(rc));
        t->exit_status = FL_EXIT_USAGE;
        return;
    }
    if (!strcmp(t->final_format, "json")) {
        write_json_line(t, r);
    } else {
        fl_report_opts ro;
        fl_cli_report_opts(&t->args->a, stdout, &ro);
        if (fl_report_write(t->final_format, r, &ro, stdout) != 0)
            t->exit_status = FL_EXIT_USAGE;
        fflush(stdout);
    }
    /* Input that ended before a snapshot (a short stdin) still announces its cause; the hook
     * runs while the loop closes. */
    fl_live_engine_announce(t->engine, r);
    fl_result_free(r);
}

/* Ctrl-C, SIGTERM or every source ended: checkpoint, print the final report, close. */
static void tail_stop(tail *t)
{
    if (t->stopping)
        return;
    t->stopping = true;
    fl_live_engine_checkpoint(t->engine);
    fl_live_engine_finish(t->engine); /* traces still held count in the final report */
    write_final_report(t);
    uint64_t dup = fl_live_engine_duplicates(t->engine);
    if (dup)
        fprintf(stderr,
                "faultline tail: %" PRIu64 " redelivered record(s) recognised and counted "
                "once\n",
                dup);
    uint64_t applied, skipped, refused, gaps;
    fl_live_engine_delta_counts(t->engine, &applied, &skipped, &refused, &gaps);
    if (applied || skipped || refused || gaps)
        fprintf(stderr,
                "faultline tail: summaries: %" PRIu64 " delta(s) applied, %" PRIu64
                " already applied and skipped, %" PRIu64 " refused (overlap), %" PRIu64
                " after a gap\n",
                applied, skipped, refused, gaps);
    uv_timer_stop(&t->tick);
    uv_timer_stop(&t->ckpt_timer);
    fl_live_engine_close(t->engine, NULL, NULL);
    close_handles(t);
}

/* --- setup --- */

static int add_source(tail *t, const fl_live_ops *ops, const fl_live_config *cfg)
{
    char err[512];
    int rc = fl_live_engine_add_source(t->engine, ops, cfg, err, sizeof(err));
    if (rc)
        fprintf(stderr, "faultline tail: %s\n", err);
    return rc;
}

/* True when stdin is a pipe, a socket or a regular file: something that brings entries. */
static bool stdin_is_data(void)
{
    struct stat st;
    if (fstat(STDIN_FILENO, &st) != 0)
        return false;
    return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISREG(st.st_mode);
}

/* Opens the sources the options name: stdin for "-", then every source in fl_live_sources
 * whose opening options were given, configured from its own option rows. */
static int open_sources(tail *t, const fl_strv *positional)
{
    struct tail_args *a = t->args;
    int poll_ms = a->poll ? (int)parse_duration_ms(a->poll) : 0;
    /* The environment is read here and handed to the sources as settings. */
    fl_live_config base = {.state_dir = a->state,
                           .poll_ms = poll_ms > 0 ? poll_ms : 0,
                           .auth = fl_cli_auth_env(),
                           .debug = fl_cli_env("FL_KAFKA_DEBUG") != NULL};
    int rc = 0;
    /* `tail -` reads stdin; `tail FILE` follows FILE, as tail(1) does. */
    for (size_t i = 0; !rc && i < positional->n; i++) {
        fl_live_config one = base;
        one.target = positional->v[i];
        if (!strcmp(positional->v[i], "-"))
            rc = add_source(t, &fl_ingest_stdin, &base);
        else
            rc = add_source(t, &fl_ingest_follow, &one);
    }
    size_t k = 0; /* row number across all sources, as build_tail_opts counts */
    for (const fl_live_ops *const *sp = fl_live_sources; !rc && *sp; sp++) {
        const fl_live_ops *ops = *sp;
        fl_live_config c = base;
        c.endpoint = ops->endpoint_env ? fl_cli_env(ops->endpoint_env) : NULL;
        const fl_strv *each = NULL;
        bool opens = false;
        for (const fl_live_option *o = ops->options; o && o->name; o++, k++) {
            bool many = o->type == FL_LIVE_OPT_STRINGS;
            if (many ? a->src_strs[k].n == 0 : a->src_str[k] == NULL)
                continue;
            opens |= (o->flags & FL_LIVE_OPT_OPENS) != 0;
            if (!many) {
                *(const char **)((char *)&c + o->offset) = a->src_str[k];
            } else if (o->flags & FL_LIVE_OPT_EACH) {
                each = &a->src_strs[k];
            } else {
                c.props = a->src_strs[k].v;
                c.n_props = a->src_strs[k].n;
            }
        }
        if (!opens)
            continue;
        for (size_t i = 0; each && !rc && i < each->n; i++) {
            fl_live_config one = c;
            one.target = each->v[i];
            rc = add_source(t, ops, &one);
        }
        if (!each)
            rc = add_source(t, ops, &c);
    }
    /* Nothing named: a pipe or a file on stdin is the source (`cmd | faultline tail`), as
     * `analyze` reads stdin by default. A terminal or /dev/null on stdin (cron, nohup) is a
     * mistake worth a message. */
    if (!rc && !fl_live_engine_n_sources(t->engine) && stdin_is_data())
        rc = add_source(t, &fl_ingest_stdin, &base);
    if (!rc && !fl_live_engine_n_sources(t->engine)) {
        fprintf(stderr, "faultline tail: no source: give FILE, -, --follow, --kafka, --pubsub or "
                        "--cloud-logging, or pipe entries in (see --help)\n");
        return FL_EINVAL;
    }
    return rc;
}

/* The value given for a source's option row (NULL: not given). */
static const char *tail_source_value(const struct tail_args *a, const char *name)
{
    size_t k = 0;
    for (const fl_live_ops *const *sp = fl_live_sources; *sp; sp++)
        for (const fl_live_option *o = (*sp)->options; o && o->name; o++, k++)
            if (o->type == FL_LIVE_OPT_STRING && !strcmp(o->name, name))
                return a->src_str[k];
    return NULL;
}

/* Options and the environment (read here, in the CLI) become the engine's options. */
static int engine_opts(tail *t, fl_live_engine_opts *eo)
{
    struct tail_args *a = t->args;
    int64_t window = parse_duration_ms(a->window ? a->window : "30m");
    int64_t interval = parse_duration_ms(a->interval ? a->interval : "5s");
    int64_t cooldown = parse_duration_ms(a->cooldown ? a->cooldown : "30m");
    int64_t ckpt = parse_duration_ms(a->checkpoint_every ? a->checkpoint_every : "1s");
    int64_t hold = parse_duration_ms(a->hold ? a->hold : "2s");
    if (window <= 0 || interval <= 0 || cooldown < 0 || ckpt <= 0 || hold <= 0 ||
        (a->poll && parse_duration_ms(a->poll) <= 0)) {
        fprintf(stderr, "faultline tail: durations look like 500ms, 5s, 30m or 2h\n");
        return FL_EINVAL;
    }
    if (a->webhook) {
        char why[400];
        if (fl_net_url_check(a->webhook, why, sizeof(why)) != 0) {
            fprintf(stderr, "faultline tail: --webhook: %s\n", why);
            return FL_EINVAL;
        }
    }
    t->interval_ms = (uint64_t)interval;
    t->checkpoint_ms = (uint64_t)ckpt;
    memset(eo, 0, sizeof(*eo));
    fl_analysis_args_to_pipeline(&a->a, &eo->pipeline);
    eo->slow_json = a->a.slow_json;
    eo->no_redact = a->a.no_redact;
    eo->redact = &a->a.redact;
    eo->state_dir = a->state;
    eo->window_us = window * 1000;
    eo->cooldown_ms = (uint64_t)cooldown;
    eo->dedup_max = a->dedup_max ? (size_t)a->dedup_max : 0;
    eo->hold_ms = (uint64_t)hold;
    eo->max_memory_mb = a->max_memory_mb ? (uint64_t)a->max_memory_mb : 1024;
    eo->on_new_cause = a->on_new_cause;
    eo->webhook = a->webhook;
    eo->webhook_secret = fl_cli_env("FAULTLINE_WEBHOOK_SECRET");
    eo->message = tail_message;
    eo->message_arg = t;
    eo->summaries_from = tail_source_value(a, "summaries-from") != NULL;
    return 0;
}

static void init_loop(tail *t)
{
    uv_loop_init(&t->loop);
    uv_timer_init(&t->loop, &t->tick);
    uv_timer_init(&t->loop, &t->ckpt_timer);
    uv_signal_init(&t->loop, &t->sig_int);
    uv_signal_init(&t->loop, &t->sig_term);
    uv_signal_init(&t->loop, &t->sig_hup);
    uv_signal_init(&t->loop, &t->sig_winch);
    uv_handle_t *hs[] = {(uv_handle_t *)&t->tick,    (uv_handle_t *)&t->ckpt_timer,
                         (uv_handle_t *)&t->sig_int, (uv_handle_t *)&t->sig_term,
                         (uv_handle_t *)&t->sig_hup, (uv_handle_t *)&t->sig_winch};
    for (size_t i = 0; i < FL_ARRAY_LEN(hs); i++)
        hs[i]->data = t;
    t->handles_open = (int)FL_ARRAY_LEN(hs);
    uv_signal_start(&t->sig_int, on_signal, SIGINT);
    uv_signal_start(&t->sig_term, on_signal, SIGTERM);
    uv_signal_start(&t->sig_hup, on_signal, SIGHUP);
    uv_signal_start(&t->sig_winch, on_signal, SIGWINCH);
}

static int tail_setup(tail *t)
{
    struct tail_args *a = t->args;
    fl_live_engine_opts eo;
    int rc = engine_opts(t, &eo);
    if (rc)
        return rc;
    bool tty = isatty(STDOUT_FILENO);
    t->screen = tty && !a->no_screen && !(a->format && !strcmp(a->format, "json"));
    t->final_format = a->format ? a->format : (t->screen ? "text" : "json");
    const char *no_color = getenv("NO_COLOR");
    t->color = !a->a.no_color && !(no_color && *no_color);
    t->width = 100;
    t->height = 40;
    if (t->screen)
        update_size(t);

    init_loop(t);
    char err[512];
    rc = fl_live_engine_new(&t->engine, &t->loop, &eo, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "faultline tail: %s\n", err);
        return rc;
    }
    const fl_diag *d = fl_live_engine_diag(t->engine);
    if (d->n_warnings) /* a bad --changes line, a garbled journal record */
        fl_cli_print_warnings("tail", d);
    if (fl_live_engine_resumed(t->engine))
        fprintf(stderr, "faultline tail: resumed %" PRIu64 " entries from %s\n",
                fl_live_engine_resumed(t->engine), a->state);
    return 0;
}

static void tail_free(tail *t)
{
    fl_live_engine_free(t->engine);
    for (size_t i = 0; i < t->n_seen_groups; i++)
        fl_free(t->seen_groups[i].key);
    fl_free(t->seen_groups);
}

/* `-f FILE` is what tail(1) users type: it means -F (--follow). Rewrites the option tokens
 * only: a value of another option ("--title -f") and everything after "--" stay as given. */
static void follow_reflex(const fl_opt *opts, int argc, char **argv)
{
    static char follow[] = "--follow";
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--"))
            return;
        if (a[0] != '-' || !a[1])
            continue;
        const fl_opt *o = NULL;
        if (a[1] == '-') {
            if (strchr(a, '='))
                continue;
            for (const fl_opt *p = opts; p->type != FL_OPT_NONE; p++)
                if (!strcmp(p->long_name, a + 2))
                    o = p;
        } else if (a[1] == 'f') {
            if (a[2])
                a[1] = 'F'; /* -fFILE */
            else
                argv[i] = follow;
            continue;
        } else if (!a[2]) {
            for (const fl_opt *p = opts; p->type != FL_OPT_NONE; p++)
                if (p->short_name == a[1])
                    o = p;
        }
        if (o && o->type != FL_OPT_FLAG)
            i++; /* skip the option's value */
    }
}

int fl_cmd_tail(int argc, char **argv)
{
    struct tail_args args;
    fl_strv positional = {NULL, 0};
    char err[512];
    memset(&args, 0, sizeof(args));
    tail_spec.opts = build_tail_opts();
    follow_reflex(tail_spec.opts, argc, argv);
    int rc = fl_opts_parse(&tail_spec, argc, argv, &args, &positional, err, sizeof(err));
    if (rc == FL_OPTS_HELP) {
        fl_opts_help(&tail_spec, stdout);
        fputs(fl_cli_exit_codes_help, stdout);
        fl_opts_free(&tail_spec, &args);
        fl_strv_free(&positional);
        return FL_EXIT_OK;
    }
    if (rc || fl_cli_load_allow_lists("tail", &args.a)) {
        if (rc)
            fprintf(stderr, "faultline tail: %s\n", err);
        fl_allow_list_free(&args.a.allow);
        fl_opts_free(&tail_spec, &args);
        fl_strv_free(&positional);
        return FL_EXIT_USAGE;
    }
    static tail t; /* signal and loop callbacks reach it through handle data */
    memset(&t, 0, sizeof(t));
    t.args = &args;
    t.exit_status = FL_EXIT_OK;
    signal(SIGPIPE, SIG_IGN);
    fl_net_init();

    rc = tail_setup(&t);
    bool loop_ready = t.handles_open > 0;
    if (!rc)
        rc = open_sources(&t, &positional);
    if (rc) {
        t.exit_status = rc == FL_EIO ? FL_EXIT_UNREADABLE : FL_EXIT_USAGE;
        if (loop_ready) {
            t.stopping = true;
            if (t.engine)
                fl_live_engine_close(t.engine, NULL, NULL);
            close_handles(&t);
        }
    } else {
        if (t.screen) {
            fputs(fl_term_enter, stdout);
            fflush(stdout);
        }
        uv_timer_start(&t.tick, on_tick, t.interval_ms, t.interval_ms);
        uv_timer_start(&t.ckpt_timer, on_ckpt, t.checkpoint_ms, t.checkpoint_ms);
    }
    if (loop_ready) {
        uv_run(&t.loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&t.loop) != 0)
            fprintf(stderr, "faultline tail: internal: handles left open at exit\n");
    }
    if (t.exit_status == FL_EXIT_OK && t.engine) /* malformed input: 3, as `analyze` */
        t.exit_status = fl_live_engine_exit_status(t.engine);
    tail_free(&t);
    fl_allow_list_free(&args.a.allow);
    fl_opts_free(&tail_spec, &args);
    fl_strv_free(&positional);
    return t.exit_status;
}
