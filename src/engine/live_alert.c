/* Announcing a new top cause: the --on-new-cause command, the webhook (through src/net, on
 * libuv's thread pool since fl_net_post blocks through its retries), and the cooldown kept in
 * STATE/fired.tsv. Everything announced is built from the redacted result. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_net.h"
#include "fl_reports.h"
#include "live_internal.h"

extern char **environ;

static void cause_key(const fl_cause *c, char *out, size_t size)
{
    snprintf(out, size, "%s|%s|%s|%s", fl_cause_kind_name(c->kind), c->service, c->revision,
             c->error_class);
}

/* --- fired.tsv: one "<epoch-ms>\t<cause key>" line per cause --- */

static void save_fired(fl_live_engine *e)
{
    if (!e->o.state_dir)
        return;
    fl_buf b;
    fl_buf_init(&b, 1024 * 1024);
    int rc = 0;
    for (size_t i = 0; !rc && i < e->n_fired; i++)
        rc = fl_buf_printf(&b, "%" PRIu64 "\t%s\n", e->fired[i].at_ms, e->fired[i].key);
    char path[4096];
    snprintf(path, sizeof(path), "%s/fired.tsv", e->o.state_dir);
    if (rc || (b.len && fl_write_atomic(path, b.data, b.len) != 0))
        live_message(e, "state: cannot write %s", path);
    fl_buf_free(&b);
}

void live_load_fired(fl_live_engine *e)
{
    char path[4096], *data = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/fired.tsv", e->o.state_dir);
    if (fl_read_small_file(path, 1024 * 1024, &data, &len) != 0)
        return;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line && e->n_fired < LIVE_MAX_FIRED;
         line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        fired_cause *f = &e->fired[e->n_fired++];
        f->at_ms = strtoull(line, NULL, 10);
        fl_copy_str(f->key, sizeof(f->key), tab + 1);
    }
    fl_free(data);
}

/* Remembers that the cause with this key was announced now (and saves it with --state). */
static void record_fired(fl_live_engine *e, const char *key)
{
    uint64_t now = (uint64_t)(live_wall_now() / 1000);
    fired_cause *slot = NULL;
    for (size_t i = 0; i < e->n_fired; i++)
        if (!strcmp(e->fired[i].key, key))
            slot = &e->fired[i];
    if (!slot) {
        slot = e->n_fired < LIVE_MAX_FIRED ? &e->fired[e->n_fired++]
                                           : &e->fired[now % LIVE_MAX_FIRED];
        fl_copy_str(slot->key, sizeof(slot->key), key);
    }
    slot->at_ms = now;
    e->command_key[0] = '\0';
    save_fired(e);
}

/* --- the webhook --- */

typedef struct webhook_job {
    uv_work_t req;
    char *url;
    char *body;
    const char *secret;
    char key[LIVE_KEY_MAX];
    int rc;
    fl_net_post_result res;
    fl_live_engine *e;
} webhook_job;

static void webhook_work(uv_work_t *req)
{
    webhook_job *j = req->data;
    fl_net_post_opts o = {.webhook = true, .webhook_secret = j->secret, .timeout_ms = 10000};
    j->rc = fl_net_post(j->url, j->body, &o, &j->res);
}

static void webhook_done(uv_work_t *req, int status)
{
    webhook_job *j = req->data;
    fl_live_engine *e = j->e;
    (void)status;
    e->webhook_in_flight = false;
    if (j->rc == 0) {
        record_fired(e, j->key);
    } else {
        /* Not recorded as fired: the next snapshot that still shows this cause on top tries
         * again, so one bad answer does not lose the page for the whole cooldown. */
        live_message(e, "webhook: %s after %d attempt%s; will try again", j->res.message,
                     j->res.attempts, j->res.attempts == 1 ? "" : "s");
        if (!strcmp(e->top_key, j->key))
            e->top_key[0] = '\0';
    }
    fl_free(j->url);
    fl_free(j->body);
    fl_free(j);
}

static int json_escape(fl_buf *b, const char *s)
{
    int rc = fl_buf_addc(b, '"');
    for (; *s && !rc; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rc = fl_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            rc = fl_buf_printf(b, "\\u%04x", c);
        else
            rc = fl_buf_addc(b, (char)c);
    }
    return rc ? rc : fl_buf_addc(b, '"');
}

static bool fire_webhook(fl_live_engine *e, const fl_cause *c, const char *key)
{
    fl_buf b;
    fl_buf_init(&b, 64 * 1024);
    char text[600];
    snprintf(text, sizeof(text), "faultline: new top cause (%.2f): %s", c->score, c->summary);
    /* 64 KiB holds any cause (its fields are short); past it nothing is sent. */
    int rc = fl_buf_addstr(&b, "{\"text\":");
    rc = rc ? rc : json_escape(&b, text);
    rc = rc ? rc : fl_buf_addstr(&b, ",\"cause\":{\"kind\":");
    rc = rc ? rc : json_escape(&b, fl_cause_kind_name(c->kind));
    rc = rc ? rc : fl_buf_printf(&b, ",\"score\":%.4f,\"service\":", c->score);
    rc = rc ? rc : json_escape(&b, c->service);
    rc = rc ? rc : fl_buf_addstr(&b, ",\"revision\":");
    rc = rc ? rc : json_escape(&b, c->revision);
    rc = rc ? rc : fl_buf_addstr(&b, ",\"error_class\":");
    rc = rc ? rc : json_escape(&b, c->error_class);
    rc = rc ? rc : fl_buf_addstr(&b, ",\"summary\":");
    rc = rc ? rc : json_escape(&b, c->summary);
    rc = rc ? rc : fl_buf_addstr(&b, "}}");
    webhook_job *j = rc ? NULL : fl_calloc(1, sizeof(*j));
    if (!j || !b.data) {
        fl_free(j);
        fl_buf_free(&b);
        return false;
    }
    j->url = fl_strdup(e->o.webhook);
    j->body = fl_buf_detach(&b);
    j->secret = e->o.webhook_secret;
    fl_copy_str(j->key, sizeof(j->key), key);
    j->e = e;
    j->req.data = j;
    if (!j->url || uv_queue_work(e->loop, &j->req, webhook_work, webhook_done) != 0) {
        fl_free(j->url);
        fl_free(j->body);
        fl_free(j);
        return false;
    }
    e->webhook_in_flight = true;
    return true;
}

/* --- the command --- */

static void spawn_closed(uv_handle_t *h)
{
    fl_free(h);
}

static void spawn_exit(uv_process_t *p, int64_t status, int sig)
{
    fl_live_engine *e = p->data;
    if (status || sig)
        live_message(e, "--on-new-cause command exited with status %" PRId64, status);
    uv_close((uv_handle_t *)p, spawn_closed);
}

static void fire_command(fl_live_engine *e, const fl_cause *c)
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
    char *argv[] = {"/bin/sh", "-c", (char *)e->o.on_new_cause, NULL};
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
        p->data = e;
        int rc = uv_spawn(e->loop, p, &o);
        if (rc) {
            live_message(e, "--on-new-cause: %s", uv_strerror(rc));
            uv_close((uv_handle_t *)p, spawn_closed);
        }
    }
    fl_free(env);
}

/* --- announcing --- */

/* A cause that newly takes the top rank above the threshold fires once; the same cause does
 * not fire again within the cooldown, however often it loses and regains the top. With a
 * webhook, "fired" is recorded only once the webhook answered 2xx; until then the cause fires
 * again on a later snapshot (the --on-new-cause command runs once all the same). */
void fl_live_engine_announce(fl_live_engine *e, const fl_result *r)
{
    if (!r->n_causes || r->causes[0].score < r->confidence_threshold) {
        e->top_key[0] = '\0';
        return;
    }
    if (e->webhook_in_flight)
        return; /* decided when the delivery ends */
    char key[LIVE_KEY_MAX];
    cause_key(&r->causes[0], key, sizeof(key));
    if (!strcmp(key, e->top_key))
        return;
    fl_copy_str(e->top_key, sizeof(e->top_key), key);
    /* Wall-clock milliseconds: the cooldown survives restarts through the state dir. */
    uint64_t now = (uint64_t)(live_wall_now() / 1000);
    for (size_t i = 0; i < e->n_fired; i++)
        if (!strcmp(e->fired[i].key, key) && now - e->fired[i].at_ms < e->o.cooldown_ms)
            return;
    fl_result *redacted = e->o.no_redact ? NULL : fl_result_redacted_with(r, e->o.redact);
    /* The redacted result keeps service and revision names as they are (they are names, not
     * text); what goes to a command or a third party passes them through the redactor too. */
    char *service = redacted ? fl_redact_with(redacted->causes[0].service, e->o.redact) : NULL;
    char *revision = redacted ? fl_redact_with(redacted->causes[0].revision, e->o.redact) : NULL;
    if (!e->o.no_redact && (!redacted || !service || !revision)) {
        live_message(e, "new top cause: out of memory while redacting; not announced");
        e->top_key[0] = '\0';
        goto out;
    }
    fl_cause shown = redacted ? redacted->causes[0] : r->causes[0];
    if (redacted) {
        shown.service = service;
        shown.revision = revision;
    }
    if (strcmp(e->command_key, key) != 0) {
        live_message(e, "new top cause: %s", shown.summary);
        if (e->o.on_new_cause)
            fire_command(e, &shown);
        fl_copy_str(e->command_key, sizeof(e->command_key), key);
    }
    if (!e->o.webhook) {
        record_fired(e, key);
    } else if (!fire_webhook(e, &shown, key)) {
        live_message(e, "webhook: out of memory; will try again");
        e->top_key[0] = '\0';
    }
out:
    fl_free(service);
    fl_free(revision);
    fl_result_free(redacted);
}
