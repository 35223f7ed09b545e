/* The bookkeeping every live source shares; see live_common.h. */
#include "live_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fl_live_common_init(fl_live_common *c, const fl_live_ops *ops, const fl_live_sink *sink,
                         uv_loop_t *loop, void (*free_source)(void *source))
{
    c->base.ops = ops;
    c->base.sink = *sink;
    c->loop = loop;
    c->free_source = free_source;
}

void fl_live_common_event(fl_live_common *c, fl_live_level lvl, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (lvl >= FL_LIVE_WARN)
        fl_copy_str(c->last_error, sizeof(c->last_error), msg);
    if (lvl >= FL_LIVE_WARN && c->warn_limit.period_ms &&
        !fl_ratelimit_allow(&c->warn_limit, uv_now(c->loop)))
        return;
    if (c->base.sink.event)
        c->base.sink.event(c->base.sink.ctx, &c->base, lvl, msg);
}

int fl_live_common_deliver(fl_live_common *c, const char *data, size_t len)
{
    c->records++;
    fl_rate_tick(&c->rate, uv_now(c->loop), 1);
    if (!data || !len)
        return 0;
    return c->base.sink.record(c->base.sink.ctx, &c->base, data, len);
}

void fl_live_common_health(fl_live_common *c, fl_live_health *h)
{
    memset(h, 0, sizeof(*h));
    h->records = c->records;
    h->per_sec = fl_rate_get(&c->rate, uv_now(c->loop));
    h->paused = c->paused;
    fl_copy_str(h->last_error, sizeof(h->last_error), c->last_error);
}

void fl_live_common_closing(fl_live_common *c, void (*done)(void *), void *arg, int n_handles)
{
    c->done = done;
    c->done_arg = arg;
    c->open_handles = n_handles;
}

void fl_live_common_handle_closed(uv_handle_t *h)
{
    fl_live_common_release(h->data);
}

void fl_live_common_release(void *source)
{
    fl_live_common *c = source;
    if (--c->open_handles > 0)
        return;
    void (*done)(void *) = c->done;
    void *arg = c->done_arg;
    c->free_source(source);
    if (done)
        done(arg);
}

void fl_live_common_oversize(fl_live_common *c, const char *what)
{
    if (c->base.sink.oversize)
        c->base.sink.oversize(c->base.sink.ctx, &c->base);
    fl_live_common_event(c, FL_LIVE_WARN, "%s: a record over the %d KiB limit was skipped", what,
                         FL_RECORD_MAX_LIVE / 1024);
}
