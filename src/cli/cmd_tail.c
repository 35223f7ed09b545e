/* faultline tail: the live incident view.
 *
 * Every source (stdin, followed files, Kafka, Pub/Sub, the Cloud Logging API) runs on one
 * libuv loop and hands raw LogEntry records to record_cb below, which parses, de-duplicates
 * (insertId, else a content hash), classifies and counts them into a sliding-window aggregate.
 * Sources are acknowledged only at a checkpoint, after the counts are durable: with --state DIR
 * every counted record is appended to a journal that is fsynced before any Kafka offset is
 * stored, Pub/Sub message acked or file position saved; a restart replays the journal, so a
 * record delivered again after a crash is recognised and counted once (docs/tail.md).
 *
 * Every --interval the aggregate is expired to the window and re-ranked with the same
 * fl_analyze as `analyze`; the result goes to the live screen (a terminal) or out as one JSON
 * snapshot per line (anything else). Ctrl-C prints the final report in --format.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "cli_analysis.h"
#include "fl_cli.h"
#include "fl_ingest.h"
#include "fl_live.h"
#include "terminal/fl_terminal.h"

extern char **environ;

#define TAIL_MAX_SOURCES 16
#define TAIL_DEDUP_DEFAULT 500000
#define TAIL_JOURNAL_COMPACT_BYTES (256u * 1024 * 1024)
#define TAIL_MAX_FIRED 64

struct tail_args {
    fl_analysis_args a;
    const char *format;
    fl_strv follow;
    const char *kafka;
    const char *topic;
    const char *group;
    fl_strv kafka_props;
    const char *pubsub;
    const char *cloud_logging;
    const char *project;
    const char *window;
    const char *interval;
    const char *poll;
    const char *state;
    const char *on_new_cause;
    const char *webhook;
    const char *cooldown;
    const char *checkpoint_every;
    int max_memory_mb;
    int dedup_max;
    bool no_screen;
};

static const char *const tail_formats[] = {"text", "md", "json", "html", NULL};

static const fl_opt tail_opts[] = {
    {"follow", 'F', FL_OPT_STRINGS, "FILE", "follow FILE like tail -F (rotation, truncation)",
     offsetof(struct tail_args, follow), 0, 0, NULL},
    {"kafka", 0, FL_OPT_STRING, "BROKERS", "consume LogEntry JSON from Kafka (host:port,...)",
     offsetof(struct tail_args, kafka), 0, 0, NULL},
    {"topic", 0, FL_OPT_STRING, "TOPIC", "Kafka topic", offsetof(struct tail_args, topic), 0, 0,
     NULL},
    {"group", 0, FL_OPT_STRING, "GROUP", "Kafka consumer group (default faultline)",
     offsetof(struct tail_args, group), 0, 0, NULL},
    {"kafka-property", 0, FL_OPT_STRINGS, "KEY=VALUE",
     "librdkafka client property (security.protocol=ssl, ...)",
     offsetof(struct tail_args, kafka_props), 0, 0, NULL},
    {"pubsub", 0, FL_OPT_STRING, "SUBSCRIPTION",
     "pull from projects/P/subscriptions/S (PUBSUB_EMULATOR_HOST honoured)",
     offsetof(struct tail_args, pubsub), 0, 0, NULL},
    {"cloud-logging", 0, FL_OPT_STRING, "FILTER", "poll the Cloud Logging API with FILTER",
     offsetof(struct tail_args, cloud_logging), 0, 0, NULL},
    {"project", 0, FL_OPT_STRING, "PROJECT", "project for --cloud-logging",
     offsetof(struct tail_args, project), 0, 0, NULL},
    {"format", 'f', FL_OPT_CHOICE, "FORMAT",
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
    {"webhook", 0, FL_OPT_STRING, "URL", "POST the new top cause as JSON to URL",
     offsetof(struct tail_args, webhook), 0, 0, NULL},
    {"cooldown", 0, FL_OPT_STRING, "DURATION",
     "do not fire again for the same cause within DURATION (default 30m)",
     offsetof(struct tail_args, cooldown), 0, 0, NULL},
    {"checkpoint-interval", 0, FL_OPT_STRING, "DURATION",
     "make counts durable and acknowledge sources every DURATION (default 1s)",
     offsetof(struct tail_args, checkpoint_every), 0, 0, NULL},
    {"max-memory", 0, FL_OPT_INT, "MB", "pause the sources above this resident size (default 1024)",
     offsetof(struct tail_args, max_memory_mb), 16, 1048576, NULL},
    {"dedup-max", 0, FL_OPT_INT, "N",
     "remember the last N record ids for de-duplication (default 500000)",
     offsetof(struct tail_args, dedup_max), 1000, 100000000, NULL},
    {"no-screen", 0, FL_OPT_FLAG, NULL, "JSON snapshots even on a terminal",
     offsetof(struct tail_args, no_screen), 0, 0, NULL},
    FL_ANALYSIS_OPTS(struct tail_args, a),
    FL_OPT_END,
};

static const char tail_epilog[] =
    "Sources can be combined: - (stdin), --follow FILE, --kafka with --topic, --pubsub,\n"
    "--cloud-logging with --project. On a terminal the view is redrawn in place; otherwise one\n"
    "JSON snapshot (the analyze JSON report) is written per interval, one per line. Ctrl-C\n"
    "prints the final report; SIGHUP reloads the rule files. Durations: 500ms, 5s, 30m, 2h.\n"
    "\n"
    "Examples:\n"
    "  faultline tail --kafka broker1:9092 --topic cloudrun-logs --group oncall --state ~/.fl\n"
    "  faultline tail --pubsub projects/acme/subscriptions/run-logs --webhook https://hooks/x\n"
    "  faultline tail --cloud-logging 'resource.type=\"cloud_run_revision\"' --project acme\n"
    "  faultline tail --follow /var/log/app/entries.ndjson --window 15m\n"
    "  gcloud logging read 'severity>=WARNING' --format=json | faultline tail -\n"
    "\n";

static const fl_cmd_spec tail_spec = {
    "tail",
    "[-]",
    "Live incident view: rank root causes continuously from stdin, files, Kafka, Pub/Sub or\n"
    "the Cloud Logging API.",
    tail_opts,
    tail_epilog,
};

typedef struct fired_cause {
    char key[320];
    uint64_t at_ms;
} fired_cause;

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
    fl_live_source *sources[TAIL_MAX_SOURCES];
    size_t n_sources;
    size_t sources_open;
    fl_pipeline_opts po;
    fl_rules *rules;
    fl_rules *retired_rules[8]; /* kept alive: results may still point at old rule text */
    size_t n_retired;
    fl_matcher *matcher;
    fl_agg *agg;
    fl_diag diag;
    fl_dedup *dedup;
    fl_journal *journal;
    fl_entry entry;
    uint64_t duplicates;
    uint64_t records_seen;
    fl_time newest;
    fl_time window_us;
    uint64_t interval_ms;
    uint64_t cooldown_ms;
    uint64_t checkpoint_ms;
    bool screen;
    bool color;
    bool paused;
    bool stopping;
    int width, height;
    const char *final_format;
    char status[256];
    char top_key[320];
    fired_cause fired[TAIL_MAX_FIRED];
    size_t n_fired;
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
    bool in_str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            s[o++] = c;
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
            s[o++] = c;
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            s[o++] = c;
        }
    }
    s[o] = '\0';
    return o;
}

static void tail_message(tail *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Messages for the user: on stderr, and on the live screen's status line. */
static void tail_message(tail *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->status, sizeof(t->status), fmt, ap);
    va_end(ap);
    if (!t->screen || !isatty(STDERR_FILENO))
        fprintf(stderr, "faultline tail: %s\n", t->status);
}

/* --- counting --- */

static uint64_t record_key(const fl_entry *e, const char *data, size_t len)
{
    if (e->insert_id[0]) {
        uint64_t h = fl_hash64(e->insert_id, strlen(e->insert_id), FL_HASH_SEED);
        return fl_hash64(&e->ts, sizeof(e->ts), h);
    }
    return fl_hash64(data, len, UINT64_C(0x84222325cbf29ce4));
}

/* Parses, de-duplicates and counts one record. Returns 1 counted, 0 duplicate or malformed,
 * negative on a fatal error. */
static int tail_count(tail *t, const char *label, const char *data, size_t len, bool replay)
{
    char err[256];
    t->records_seen++;
    int rc = t->args->a.slow_json ? fl_entry_parse_jansson(data, len, &t->entry, err, sizeof(err))
                                  : fl_entry_parse(data, len, &t->entry, err, sizeof(err));
    if (rc == FL_ETOOBIG) {
        fl_diag_warn(&t->diag, FL_WARN_OVERSIZE, label, t->records_seen, "entry too large");
        return 0;
    }
    if (rc) {
        fl_diag_warn(&t->diag, FL_WARN_MALFORMED, label, t->records_seen, "%s", err);
        return 0;
    }
    if (fl_dedup_check_add(t->dedup, record_key(&t->entry, data, len))) {
        t->duplicates++;
        return 0;
    }
    fl_match m;
    int c = fl_classify(t->rules, t->matcher, &t->entry, &m);
    if (c < 0)
        return c;
    if ((rc = fl_agg_add(t->agg, &t->entry, c > 0 ? &m : NULL)) != 0)
        return rc;
    t->diag.entries++;
    t->diag.bytes += len;
    fl_time cap =
        wall_now() + 300 * FL_USEC_PER_SEC; /* a clock far ahead must not move the window */
    if (t->entry.ts > t->newest && t->entry.ts < cap)
        t->newest = t->entry.ts;
    if (t->journal && !replay && (rc = fl_journal_append(t->journal, t->entry.ts, data, len)))
        return rc;
    return 1;
}

static int record_cb(void *ctx, fl_live_source *src, const char *data, size_t len)
{
    tail *t = ctx;
    int rc = tail_count(t, src->label, data, len, false);
    if (rc < 0 && rc != FL_EPARSE) {
        tail_message(t, "%s: %s", src->label, fl_strerror(rc));
        return rc;
    }
    return 0;
}

static int replay_cb(void *arg, fl_time ts, const char *data, size_t len)
{
    (void)ts;
    int rc = tail_count(arg, "journal", data, len, true);
    return rc < 0 ? rc : 0;
}

/* Makes the counts durable, then lets every source acknowledge what it delivered. */
static void tail_checkpoint(tail *t)
{
    if (t->journal && fl_journal_sync(t->journal) != 0) {
        tail_message(t, "state: cannot sync the journal (%s); not acknowledging", strerror(errno));
        return;
    }
    for (size_t i = 0; i < t->n_sources; i++)
        if (t->sources[i])
            t->sources[i]->ops->commit(t->sources[i]);
}

static void flush_cb(void *ctx, fl_live_source *src)
{
    tail *t = ctx;
    if (t->journal)
        fl_journal_sync(t->journal);
    src->ops->commit(src);
}

static void event_cb(void *ctx, fl_live_source *src, fl_live_level level, const char *msg)
{
    tail *t = ctx;
    (void)src;
    (void)level;
    tail_message(t, "%s", msg);
}

/* --- firing on a new top cause --- */

static void cause_key(const fl_cause *c, char *out, size_t size)
{
    snprintf(out, size, "%s|%s|%s|%s", fl_cause_kind_name(c->kind), c->service, c->revision,
             c->error_class);
}

typedef struct webhook_job {
    uv_work_t req;
    char *url;
    char *body;
    long status;
    char err[CURL_ERROR_SIZE];
    tail *t;
} webhook_job;

static void webhook_work(uv_work_t *req)
{
    webhook_job *j = req->data;
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(j->err, sizeof(j->err), "curl init failed");
        return;
    }
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, j->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, j->err);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &j->status);
    if (devnull)
        fclose(devnull);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void webhook_done(uv_work_t *req, int status)
{
    webhook_job *j = req->data;
    (void)status;
    if (j->status < 200 || j->status >= 300)
        tail_message(j->t, "webhook: %s", j->err[0] ? j->err : "non-2xx response");
    fl_free(j->url);
    fl_free(j->body);
    fl_free(j);
}

static void json_escape(fl_buf *b, const char *s)
{
    fl_buf_addc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fl_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            fl_buf_printf(b, "\\u%04x", c);
        else
            fl_buf_addc(b, (char)c);
    }
    fl_buf_addc(b, '"');
}

static void fire_webhook(tail *t, const fl_cause *c)
{
    fl_buf b;
    fl_buf_init(&b, 64 * 1024);
    char text[600];
    snprintf(text, sizeof(text), "faultline: new top cause (%.2f): %s", c->score, c->summary);
    fl_buf_addstr(&b, "{\"text\":");
    json_escape(&b, text);
    fl_buf_addstr(&b, ",\"cause\":{\"kind\":");
    json_escape(&b, fl_cause_kind_name(c->kind));
    fl_buf_printf(&b, ",\"score\":%.4f,\"service\":", c->score);
    json_escape(&b, c->service);
    fl_buf_addstr(&b, ",\"revision\":");
    json_escape(&b, c->revision);
    fl_buf_addstr(&b, ",\"error_class\":");
    json_escape(&b, c->error_class);
    fl_buf_addstr(&b, ",\"summary\":");
    json_escape(&b, c->summary);
    fl_buf_addstr(&b, "}}");
    webhook_job *j = fl_calloc(1, sizeof(*j));
    if (!j || !b.data) {
        fl_free(j);
        fl_buf_free(&b);
        return;
    }
    j->url = fl_strdup(t->args->webhook);
    j->body = fl_buf_detach(&b);
    j->t = t;
    j->req.data = j;
    uv_queue_work(&t->loop, &j->req, webhook_work, webhook_done);
}

static void spawn_closed(uv_handle_t *h)
{
    fl_free(h);
}

static void spawn_exit(uv_process_t *p, int64_t status, int sig)
{
    tail *t = p->data;
    if (status || sig)
        tail_message(t, "--on-new-cause command exited with status %" PRId64, status);
    uv_close((uv_handle_t *)p, spawn_closed);
}

static void fire_command(tail *t, const fl_cause *c)
{
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **env = fl_calloc(n_env + 8, sizeof(char *));
    char vars[6][700];
    if (!env)
        return;
    memcpy(env, environ, n_env * sizeof(char *));
    snprintf(vars[0], sizeof(vars[0]), "FAULTLINE_CAUSE_KIND=%s", fl_cause_kind_name(c->kind));
    snprintf(vars[1], sizeof(vars[1]), "FAULTLINE_CAUSE_SERVICE=%s", c->service);
    snprintf(vars[2], sizeof(vars[2]), "FAULTLINE_CAUSE_REVISION=%s", c->revision);
    snprintf(vars[3], sizeof(vars[3]), "FAULTLINE_CAUSE_SCORE=%.4f", c->score);
    snprintf(vars[4], sizeof(vars[4]), "FAULTLINE_CAUSE_CLASS=%s", c->error_class);
    snprintf(vars[5], sizeof(vars[5]), "FAULTLINE_CAUSE_SUMMARY=%s", c->summary);
    for (int i = 0; i < 6; i++)
        env[n_env + (size_t)i] = vars[i];
    char *argv[] = {"/bin/sh", "-c", (char *)t->args->on_new_cause, NULL};
    uv_stdio_container_t stdio[3] = {
        {UV_IGNORE, {0}}, {UV_INHERIT_FD, {.fd = 2}}, {UV_INHERIT_FD, {.fd = 2}}};
    uv_process_options_t o = {0};
    o.file = argv[0];
    o.args = argv;
    o.env = env;
    o.exit_cb = spawn_exit;
    o.stdio = stdio;
    o.stdio_count = 3;
    uv_process_t *p = fl_calloc(1, sizeof(*p));
    if (p) {
        p->data = t;
        int rc = uv_spawn(&t->loop, p, &o);
        if (rc) {
            tail_message(t, "--on-new-cause: %s", uv_strerror(rc));
            uv_close((uv_handle_t *)p, spawn_closed);
        }
    }
    fl_free(env);
}

/* The causes already announced, so a restart within the cooldown does not page again:
 * STATE/fired.tsv, one "<epoch-ms>\t<cause key>" line each. */
static void save_fired(tail *t)
{
    if (!t->args->state)
        return;
    fl_buf b;
    fl_buf_init(&b, 1024 * 1024);
    for (size_t i = 0; i < t->n_fired; i++)
        fl_buf_printf(&b, "%" PRIu64 "\t%s\n", t->fired[i].at_ms, t->fired[i].key);
    char path[4096];
    snprintf(path, sizeof(path), "%s/fired.tsv", t->args->state);
    if (b.len && fl_write_atomic(path, b.data, b.len) != 0)
        tail_message(t, "state: cannot write %s", path);
    fl_buf_free(&b);
}

static void load_fired(tail *t)
{
    char path[4096], *data = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/fired.tsv", t->args->state);
    if (fl_read_small_file(path, 1024 * 1024, &data, &len) != 0)
        return;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line && t->n_fired < TAIL_MAX_FIRED;
         line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        fired_cause *f = &t->fired[t->n_fired++];
        f->at_ms = strtoull(line, NULL, 10);
        fl_copy_str(f->key, sizeof(f->key), tab + 1);
    }
    fl_free(data);
}

/* A cause that newly takes the top rank above the threshold fires once; the same cause does
 * not fire again within the cooldown, however often it loses and regains the top. */
static void check_new_top(tail *t, const fl_result *r)
{
    if (!r->n_causes || r->causes[0].score < r->confidence_threshold) {
        t->top_key[0] = '\0';
        return;
    }
    char key[320];
    cause_key(&r->causes[0], key, sizeof(key));
    if (!strcmp(key, t->top_key))
        return;
    fl_copy_str(t->top_key, sizeof(t->top_key), key);
    /* Wall-clock milliseconds: the cooldown survives restarts through the state dir. */
    uint64_t now = (uint64_t)(wall_now() / 1000);
    fired_cause *slot = NULL;
    for (size_t i = 0; i < t->n_fired; i++)
        if (!strcmp(t->fired[i].key, key))
            slot = &t->fired[i];
    if (slot && now - slot->at_ms < t->cooldown_ms)
        return;
    if (!slot) {
        slot =
            t->n_fired < TAIL_MAX_FIRED ? &t->fired[t->n_fired++] : &t->fired[now % TAIL_MAX_FIRED];
        fl_copy_str(slot->key, sizeof(slot->key), key);
    }
    slot->at_ms = now;
    save_fired(t);
    tail_message(t, "new top cause: %s", r->causes[0].summary);
    if (t->args->on_new_cause)
        fire_command(t, &r->causes[0]);
    if (t->args->webhook)
        fire_webhook(t, &r->causes[0]);
}

/* --- output --- */

static int tail_analyze(tail *t, fl_result **out)
{
    fl_time anchor = t->newest ? t->newest : wall_now();
    fl_agg_expire(t->agg, anchor - t->window_us);
    fl_analyze_opts ao = t->po.analyze;
    ao.rules = t->rules;
    int rc = fl_analyze(t->agg, &ao, out);
    if (!rc)
        rc = fl_cli_add_suspects("tail", &t->args->a, *out);
    if (rc)
        return rc;
    return fl_result_set_input(*out, &t->diag);
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
    fl_term_source hs[TAIL_MAX_SOURCES];
    fl_live_health h[TAIL_MAX_SOURCES];
    size_t n = 0;
    for (size_t i = 0; i < t->n_sources; i++) {
        if (!t->sources[i])
            continue;
        t->sources[i]->ops->health(t->sources[i], &h[n]);
        hs[n] = (fl_term_source){t->sources[i]->label, h[n].records,   h[n].per_sec,   h[n].lag,
                                 h[n].paused,          h[n].connected, h[n].last_error};
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
    fl_term_view v = {t->width,   t->height,
                      t->color,   t->args->a.title,
                      wall_now(), t->args->window ? t->args->window : "30m",
                      hs,         n,
                      is_new,     t->duplicates,
                      t->status};
    fl_result *shown = t->args->a.no_redact ? NULL : fl_result_redacted(r);
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

/* Pauses every source above the memory budget and resumes below 90% of it. */
static void check_memory(tail *t)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    uint64_t rss = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t budget = (uint64_t)t->args->max_memory_mb * 1024 * 1024;
    bool over = rss > budget, under = rss < budget / 10 * 9;
    if (over == t->paused || (!over && !under))
        return;
    t->paused = over;
    for (size_t i = 0; i < t->n_sources; i++) {
        if (!t->sources[i])
            continue;
        if (over)
            t->sources[i]->ops->pause(t->sources[i]);
        else
            t->sources[i]->ops->resume(t->sources[i]);
    }
    tail_message(t,
                 over ? "memory over budget (%" PRIu64 " MiB): sources paused"
                      : "memory back under budget (%" PRIu64 " MiB): sources resumed",
                 rss >> 20);
}

static void tail_stop(tail *t);

/* True when every source is finite and has ended (stdin only). */
static bool sources_ended(const tail *t)
{
    for (size_t i = 0; i < t->n_sources; i++)
        if (t->sources[i] && !t->sources[i]->eof)
            return false;
    return t->n_sources > 0;
}

static void on_tick(uv_timer_t *h)
{
    tail *t = h->data;
    if (sources_ended(t)) {
        tail_stop(t); /* the final report is the last snapshot */
        return;
    }
    check_memory(t);
    fl_result *r = NULL;
    int rc = tail_analyze(t, &r);
    if (rc) {
        tail_message(t, "analysis failed: %s", fl_strerror(rc));
    } else {
        if (t->screen)
            draw_screen(t, r);
        else
            write_json_line(t, r);
        check_new_top(t, r);
    }
    fl_result_free(r);
    if (ferror(stdout)) /* the reader went away (`| head -1`): nobody is watching */
        tail_stop(t);
}

static void on_ckpt(uv_timer_t *h)
{
    tail *t = h->data;
    if (sources_ended(t)) {
        tail_stop(t);
        return;
    }
    tail_checkpoint(t);
    if (t->journal && fl_journal_bytes(t->journal) > TAIL_JOURNAL_COMPACT_BYTES) {
        fl_time anchor = t->newest ? t->newest : wall_now();
        if (fl_journal_compact(t->journal, anchor - t->window_us) != 0)
            tail_message(t, "state: journal compaction failed");
    }
}

static void reload_rules(tail *t)
{
    fl_rules *rules = NULL;
    char err[512];
    if (fl_pipeline_load_rules(&t->po, &rules, err, sizeof(err)) != 0) {
        tail_message(t, "SIGHUP: rules not reloaded: %s", err);
        return;
    }
    fl_matcher *m = fl_matcher_new(rules);
    if (!m || t->n_retired == FL_ARRAY_LEN(t->retired_rules)) {
        fl_matcher_free(m);
        fl_rules_free(rules);
        tail_message(t, "SIGHUP: rules not reloaded (too many reloads or out of memory)");
        return;
    }
    fl_matcher_free(t->matcher);
    t->retired_rules[t->n_retired++] = t->rules;
    t->rules = rules;
    t->matcher = m;
    tail_message(t, "SIGHUP: %zu rules reloaded", fl_rules_count(rules));
}

static void on_signal(uv_signal_t *h, int signum)
{
    tail *t = h->data;
    if (signum == SIGHUP) {
        reload_rules(t);
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

static void source_closed(void *arg)
{
    tail *t = arg;
    t->sources_open--;
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
    check_new_top(t, r);
    fl_result_free(r);
}

/* Ctrl-C, SIGTERM or every source ended: checkpoint, print the final report, close. */
static void tail_stop(tail *t)
{
    if (t->stopping)
        return;
    t->stopping = true;
    tail_checkpoint(t);
    write_final_report(t);
    if (t->duplicates)
        fprintf(stderr,
                "faultline tail: %" PRIu64 " redelivered record(s) recognised and counted "
                "once\n",
                t->duplicates);
    uv_timer_stop(&t->tick);
    uv_timer_stop(&t->ckpt_timer);
    for (size_t i = 0; i < t->n_sources; i++) {
        fl_live_source *s = t->sources[i];
        if (s)
            s->ops->close(s, source_closed, t);
    }
    uv_handle_t *hs[] = {(uv_handle_t *)&t->tick,    (uv_handle_t *)&t->ckpt_timer,
                         (uv_handle_t *)&t->sig_int, (uv_handle_t *)&t->sig_term,
                         (uv_handle_t *)&t->sig_hup, (uv_handle_t *)&t->sig_winch};
    for (size_t i = 0; i < FL_ARRAY_LEN(hs); i++)
        uv_close(hs[i], handle_closed);
}

/* --- setup --- */

static int load_changes(tail *t)
{
    for (size_t i = 0; i < t->po.n_changes_files; i++) {
        const char *path = t->po.changes_files[i];
        FILE *f = fopen(path, "r");
        if (!f) {
            fprintf(stderr, "faultline tail: %s: %s\n", path, strerror(errno));
            return FL_EIO;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        unsigned lineno = 0;
        int rc = 0;
        while (!rc && (n = getline(&line, &cap, f)) > 0) {
            lineno++;
            if (strspn(line, " \t\r\n") == (size_t)n)
                continue;
            fl_change c;
            char err[256];
            if (fl_change_parse_json(line, (size_t)n, &c, err, sizeof(err)) != 0) {
                fprintf(stderr, "faultline tail: %s:%u: %s\n", path, lineno, err);
                rc = FL_EPARSE;
            } else {
                rc = fl_agg_add_change(t->agg, &c);
            }
        }
        free(line);
        fclose(f);
        if (rc)
            return rc;
    }
    return 0;
}

static int add_source(tail *t, const fl_live_ops *ops, const fl_live_config *cfg)
{
    if (t->n_sources == TAIL_MAX_SOURCES) {
        fprintf(stderr, "faultline tail: too many sources (at most %d)\n", TAIL_MAX_SOURCES);
        return FL_EINVAL;
    }
    fl_live_sink sink = {record_cb, event_cb, flush_cb, t};
    char err[512] = "";
    fl_live_source *s = NULL;
    int rc = ops->open(&t->loop, cfg, &sink, &s, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "faultline tail: %s\n", err[0] ? err : fl_strerror(rc));
        return rc;
    }
    t->sources[t->n_sources++] = s;
    t->sources_open++;
    return 0;
}

static int open_sources(tail *t, const fl_strv *positional)
{
    struct tail_args *a = t->args;
    int poll_ms = a->poll ? (int)parse_duration_ms(a->poll) : 0;
    fl_live_config base = {.state_dir = a->state, .poll_ms = poll_ms > 0 ? poll_ms : 0};
    int rc = 0;
    for (size_t i = 0; !rc && i < positional->n; i++) {
        if (strcmp(positional->v[i], "-") != 0) {
            fprintf(stderr,
                    "faultline tail: unexpected argument '%s' (use --follow FILE, or - "
                    "for stdin)\n",
                    positional->v[i]);
            return FL_EINVAL;
        }
        rc = add_source(t, &fl_ingest_stdin, &base);
    }
    for (size_t i = 0; !rc && i < a->follow.n; i++) {
        fl_live_config c = base;
        c.target = a->follow.v[i];
        rc = add_source(t, &fl_ingest_follow, &c);
    }
    if (!rc && (a->kafka || a->topic)) {
        fl_live_config c = base;
        c.target = a->kafka;
        c.topic = a->topic;
        c.group = a->group;
        c.props = a->kafka_props.v;
        c.n_props = a->kafka_props.n;
        rc = add_source(t, &fl_ingest_kafka, &c);
    }
    if (!rc && a->pubsub) {
        fl_live_config c = base;
        c.target = a->pubsub;
        rc = add_source(t, &fl_ingest_pubsub, &c);
    }
    if (!rc && (a->cloud_logging || a->project)) {
        fl_live_config c = base;
        c.target = a->cloud_logging ? a->cloud_logging : "";
        c.project = a->project;
        rc = add_source(t, &fl_ingest_cloudlogging, &c);
    }
    if (!rc && !t->n_sources) {
        fprintf(stderr, "faultline tail: no source: give -, --follow, --kafka, --pubsub or "
                        "--cloud-logging (see --help)\n");
        return FL_EINVAL;
    }
    return rc;
}

static int tail_setup(tail *t, const fl_strv *positional)
{
    struct tail_args *a = t->args;
    int64_t window = parse_duration_ms(a->window ? a->window : "30m");
    int64_t interval = parse_duration_ms(a->interval ? a->interval : "5s");
    int64_t cooldown = parse_duration_ms(a->cooldown ? a->cooldown : "30m");
    int64_t ckpt = parse_duration_ms(a->checkpoint_every ? a->checkpoint_every : "1s");
    if (window <= 0 || interval <= 0 || cooldown < 0 || ckpt <= 0 ||
        (a->poll && parse_duration_ms(a->poll) <= 0)) {
        fprintf(stderr, "faultline tail: durations look like 500ms, 5s, 30m or 2h\n");
        return FL_EINVAL;
    }
    t->window_us = window * 1000;
    t->interval_ms = (uint64_t)interval;
    t->cooldown_ms = (uint64_t)cooldown;
    t->checkpoint_ms = (uint64_t)ckpt;
    if (!a->max_memory_mb)
        a->max_memory_mb = 1024;

    bool tty = isatty(STDOUT_FILENO);
    t->screen = tty && !a->no_screen && !(a->format && !strcmp(a->format, "json"));
    t->final_format = a->format ? a->format : (t->screen ? "text" : "json");
    const char *no_color = getenv("NO_COLOR");
    t->color = !a->a.no_color && !(no_color && *no_color);
    t->width = 100;
    t->height = 40;
    if (t->screen)
        update_size(t);

    fl_analysis_args_to_pipeline(&a->a, &t->po);
    char err[512];
    if (fl_pipeline_load_rules(&t->po, &t->rules, err, sizeof(err)) != 0) {
        fprintf(stderr, "faultline tail: %s\n", err);
        return FL_EINVAL;
    }
    t->matcher = fl_matcher_new(t->rules);
    t->agg = fl_agg_new(NULL);
    t->dedup = fl_dedup_new(a->dedup_max ? (size_t)a->dedup_max : TAIL_DEDUP_DEFAULT);
    if (!t->matcher || !t->agg || !t->dedup)
        return FL_ENOMEM;
    int rc = load_changes(t);
    if (rc)
        return rc;
    if (a->state) {
        if (fl_journal_open(a->state, &t->journal, err, sizeof(err)) != 0) {
            fprintf(stderr, "faultline tail: --state: %s\n", err);
            return FL_EIO;
        }
        if ((rc = fl_journal_replay(t->journal, replay_cb, t)) != 0) {
            fprintf(stderr, "faultline tail: --state: replaying the journal: %s\n",
                    fl_strerror(rc));
            return rc;
        }
        fl_time anchor = t->newest ? t->newest : wall_now();
        fl_journal_compact(t->journal, anchor - t->window_us);
        load_fired(t);
        if (t->diag.entries)
            fprintf(stderr, "faultline tail: resumed %" PRIu64 " entries from %s\n",
                    t->diag.entries, a->state);
    }

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
    return 0;
}

static void tail_free(tail *t)
{
    fl_journal_free(t->journal);
    fl_dedup_free(t->dedup);
    fl_agg_free(t->agg);
    fl_matcher_free(t->matcher);
    fl_rules_free(t->rules);
    for (size_t i = 0; i < t->n_retired; i++)
        fl_rules_free(t->retired_rules[i]);
    for (size_t i = 0; i < t->n_seen_groups; i++)
        fl_free(t->seen_groups[i].key);
    fl_free(t->seen_groups);
    fl_entry_free(&t->entry);
    fl_diag_free(&t->diag);
}

int fl_cmd_tail(int argc, char **argv)
{
    struct tail_args args;
    fl_strv positional = {NULL, 0};
    char err[512];
    memset(&args, 0, sizeof(args));
    int rc = fl_opts_parse(&tail_spec, argc, argv, &args, &positional, err, sizeof(err));
    if (rc == FL_OPTS_HELP) {
        fl_opts_help(&tail_spec, stdout);
        fputs(fl_cli_exit_codes_help, stdout);
        fl_opts_free(&tail_spec, &args);
        fl_strv_free(&positional);
        return FL_EXIT_OK;
    }
    if (rc) {
        fprintf(stderr, "faultline tail: %s\n", err);
        fl_opts_free(&tail_spec, &args);
        fl_strv_free(&positional);
        return FL_EXIT_USAGE;
    }
    static tail t; /* signal and loop callbacks reach it through handle data */
    memset(&t, 0, sizeof(t));
    t.args = &args;
    t.exit_status = FL_EXIT_OK;
    fl_diag_init(&t.diag);
    fl_entry_init(&t.entry);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);

    bool loop_ready = false;
    rc = tail_setup(&t, &positional);
    loop_ready = t.handles_open > 0;
    if (!rc)
        rc = open_sources(&t, &positional);
    if (rc) {
        t.exit_status = rc == FL_EIO ? FL_EXIT_UNREADABLE : FL_EXIT_USAGE;
        if (loop_ready) {
            t.stopping = true;
            for (size_t i = 0; i < t.n_sources; i++)
                t.sources[i]->ops->close(t.sources[i], source_closed, &t);
            uv_handle_t *hs[] = {(uv_handle_t *)&t.tick,    (uv_handle_t *)&t.ckpt_timer,
                                 (uv_handle_t *)&t.sig_int, (uv_handle_t *)&t.sig_term,
                                 (uv_handle_t *)&t.sig_hup, (uv_handle_t *)&t.sig_winch};
            for (size_t i = 0; i < FL_ARRAY_LEN(hs); i++)
                uv_close(hs[i], handle_closed);
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
    tail_free(&t);
    curl_global_cleanup();
    fl_opts_free(&tail_spec, &args);
    fl_strv_free(&positional);
    return t.exit_status;
}
