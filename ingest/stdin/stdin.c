/* The stdin source (`faultline tail -`): LogEntries from a pipe, a terminal or a redirected
 * file, as NDJSON or as the JSON array `gcloud logging read --format=json` prints. Pipes and
 * terminals are watched with uv_poll; anything else (a regular file, /dev/null, another device)
 * is read with plain reads in slices from a timer, because epoll refuses those descriptors with
 * EPERM. End of input marks the source finished; there is nothing to acknowledge. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "live_common.h"

#define STDIN_SLICE (1024 * 1024)

typedef struct stdin_source {
    fl_live_common common; /* first */
    uv_poll_t poll;
    uv_timer_t timer;
    bool use_poll;
    bool polling;
    fl_objects objs;
} stdin_source;

static int stdin_on_line(void *arg, const char *line, size_t len, bool oversize)
{
    stdin_source *s = arg;
    if (oversize) {
        fl_live_common_oversize(&s->common, "stdin");
        return 0;
    }
    if (!len)
        return 0;
    return fl_live_common_deliver(&s->common, line, len);
}

static void stdin_stop(stdin_source *s)
{
    if (s->use_poll && s->polling)
        uv_poll_stop(&s->poll);
    if (!s->use_poll)
        uv_timer_stop(&s->timer);
    s->polling = false;
}

/* Reads up to one slice; returns false at end of input. */
static bool stdin_read_some(stdin_source *s)
{
    static char chunk[65536];
    size_t total = 0;
    while (total < STDIN_SLICE) {
        ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return true;
        if (n <= 0) {
            /* A last record without a newline still counts (a torn one is malformed). */
            fl_objects_finish(&s->objs, stdin_on_line, s);
            s->common.base.eof = true;
            stdin_stop(s);
            return false;
        }
        total += (size_t)n;
        fl_objects_feed(&s->objs, chunk, (size_t)n, stdin_on_line, s);
        if (s->use_poll)
            return true; /* one read per readiness event, so read() never blocks */
    }
    return true;
}

static void stdin_on_poll(uv_poll_t *h, int status, int events)
{
    (void)events;
    stdin_source *s = h->data;
    if (status < 0) {
        s->common.base.eof = true;
        stdin_stop(s);
        return;
    }
    stdin_read_some(s);
}

static void stdin_on_timer(uv_timer_t *t)
{
    stdin_read_some(t->data);
}

static void stdin_start(stdin_source *s)
{
    if (s->common.base.eof || s->common.paused)
        return;
    if (s->use_poll && !s->polling) {
        uv_poll_start(&s->poll, UV_READABLE | UV_DISCONNECT, stdin_on_poll);
        s->polling = true;
    } else if (!s->use_poll) {
        uv_timer_start(&s->timer, stdin_on_timer, 0, 1);
    }
}

static void stdin_free(void *source)
{
    stdin_source *s = source;
    fl_objects_free(&s->objs);
    fl_free(s);
}

static int stdin_open(uv_loop_t *loop, const fl_live_config *cfg, const fl_live_sink *sink,
                      fl_live_source **out, char *errbuf, size_t errlen)
{
    (void)cfg;
    *out = NULL;
    stdin_source *s = fl_calloc(1, sizeof(*s));
    if (!s)
        return FL_ENOMEM;
    fl_live_common_init(&s->common, &fl_ingest_stdin, sink, loop, stdin_free);
    snprintf(s->common.base.label, sizeof(s->common.base.label), "stdin");
    fl_objects_init(&s->objs, FL_RECORD_MAX_LIVE);
    struct stat st;
    if (fstat(STDIN_FILENO, &st) != 0) {
        snprintf(errbuf, errlen, "stdin: %s", strerror(errno));
        fl_objects_free(&s->objs);
        fl_free(s);
        return FL_EIO;
    }
    s->use_poll = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(STDIN_FILENO);
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    if (s->use_poll) {
        int rc = uv_poll_init(loop, &s->poll, STDIN_FILENO);
        if (rc == UV_EPERM) {
            s->use_poll = false; /* epoll cannot watch it: plain reads from the timer */
        } else if (rc) {
            snprintf(errbuf, errlen, "stdin: %s", uv_strerror(rc));
            uv_close((uv_handle_t *)&s->timer, NULL);
            uv_run(loop, UV_RUN_NOWAIT);
            fl_objects_free(&s->objs);
            fl_free(s);
            return FL_EIO;
        }
        s->poll.data = s;
    }
    stdin_start(s);
    *out = &s->common.base;
    return 0;
}

static void stdin_pause(fl_live_source *src)
{
    stdin_source *s = (stdin_source *)src;
    s->common.paused = true;
    stdin_stop(s);
}

static void stdin_resume(fl_live_source *src)
{
    stdin_source *s = (stdin_source *)src;
    s->common.paused = false;
    stdin_start(s);
}

static int stdin_commit(fl_live_source *src)
{
    (void)src;
    return 0;
}

static void stdin_health(fl_live_source *src, fl_live_health *h)
{
    stdin_source *s = (stdin_source *)src;
    fl_live_common_health(&s->common, h);
    h->lag = -1;
    h->connected = !s->common.base.eof;
}

static void stdin_close(fl_live_source *src, void (*done)(void *), void *arg)
{
    stdin_source *s = (stdin_source *)src;
    stdin_stop(s);
    fl_live_common_closing(&s->common, done, arg, s->use_poll ? 2 : 1);
    uv_close((uv_handle_t *)&s->timer, fl_live_common_handle_closed);
    if (s->use_poll)
        uv_close((uv_handle_t *)&s->poll, fl_live_common_handle_closed);
}

const fl_live_ops fl_ingest_stdin = {
    .name = "stdin",
    .open = stdin_open,
    .pause = stdin_pause,
    .resume = stdin_resume,
    .commit = stdin_commit,
    .health = stdin_health,
    .close = stdin_close,
};
