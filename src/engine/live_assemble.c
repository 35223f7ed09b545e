/* What happens to a live entry between its record and the aggregate: multi-line reassembly,
 * the gate (the user's filter), classification and counting. The same assembler
 * (ingest/multiline.c) and the same gate (src/engine/gate.c) as `analyze`, so that tail and
 * analyze give the same answer for the same entries (docs/tail.md lists what may still differ).
 *
 * live.c parses a record, recognises a redelivered one by its key and journals it; then it comes
 * here. Journaling before reassembly is what carries a half-assembled trace through a restart:
 * its records are in the journal (so they may be acknowledged), and the replay runs them through
 * the assembler again in the same order, so the trace is half-assembled again and the rest of it
 * joins when it arrives. Nothing is lost and nothing counted twice.
 *
 * A trace is held until batch's rules close it (its instance prints something else, the input
 * moves a second of entry time away, a cap) or, because a live stream may stop moving at all
 * (a Kafka partition goes quiet), until it has been held --multiline-hold (2 s) of wall time
 * since its first line arrived: it is then released as it is. That release depends on the wall
 * clock, which a replay does not have, so it is journaled as a marker ("#flush <age>", age counted
 * in entries pushed, fl_multiline_flush_age) and the replay cuts the trace at the same place. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_internal.h"

/* A relative --since counts back from the newest entry seen so far. */
static void move_since(fl_live_engine *e, const fl_entry *en)
{
    if (fl_gate_needs_newest(e->gate)) {
        fl_gate_consider(e->gate, en);
        fl_gate_resolve(e->gate);
    }
}

void live_assemble_count_duplicate(fl_live_engine *e)
{
    move_since(e, &e->entry);
    fl_gate_count_duplicate(e->gate, &e->entry);
}

/* The gate, then classification and the aggregate. Returns 0 or a negative code. */
static int admit(fl_live_engine *e, const fl_entry *en)
{
    move_since(e, en);
    if (!fl_gate_admit(e->gate, en))
        return 0;
    fl_match m;
    memset(&m, 0, sizeof m);
    int c = fl_classify(e->rules, e->matcher, en, &m);
    if (c < 0)
        return c;
    return fl_agg_add(e->agg, en, c > 0 ? &m : NULL);
}

/* Counts every entry the assembler has finished. */
static int drain(fl_live_engine *e)
{
    int rc = 0;
    while (rc == 0 && fl_multiline_pop(e->ml, &e->out))
        rc = admit(e, &e->out);
    return rc;
}

int live_assemble_take(fl_live_engine *e)
{
    if (!e->ml)
        return admit(e, &e->entry);
    int rc = fl_multiline_push(e->ml, &e->entry);
    return rc ? rc : drain(e);
}

int live_assemble_flush_all(fl_live_engine *e)
{
    if (!e->ml)
        return 0;
    int rc = fl_multiline_flush(e->ml);
    return rc ? rc : drain(e);
}

int live_assemble_replay_mark(fl_live_engine *e, const char *data, size_t len)
{
    if (!len || data[0] != '#')
        return 0;
    size_t n = strlen(LIVE_MARK_FLUSH);
    if (!e->ml || len <= n || len > 40 || memcmp(data, LIVE_MARK_FLUSH, n) != 0)
        return 1; /* a marker this version does not know, or reassembly is off: nothing to do */
    char num[48];
    memcpy(num, data + n, len - n);
    num[len - n] = '\0';
    uint64_t age = strtoull(num, NULL, 10);
    int rc = fl_multiline_flush_age(e->ml, age);
    if (rc >= 0)
        rc = drain(e);
    return rc < 0 ? rc : 1;
}

/* Every tick: releases the traces held hold_ms or longer. The ring remembers how many
 * entries had been pushed at each of the last ticks; a trace that started before the count of
 * the newest tick at least hold_ms old has waited long enough. */
static void hold_tick(uv_timer_t *h)
{
    fl_live_engine *e = h->data;
    uint64_t now = uv_now(e->loop) + 1; /* 0 marks an empty sample */
    uint64_t pushed = fl_multiline_pushed(e->ml);
    uint64_t best = 0, before = 0;
    for (size_t i = 0; i < LIVE_HOLD_SAMPLES; i++) {
        const hold_sample *s = &e->hold[i];
        if (s->ms && s->ms + e->hold_ms <= now && s->ms > best) {
            best = s->ms;
            before = s->pushed;
        }
    }
    e->hold[e->hold_next] = (hold_sample){now, pushed};
    e->hold_next = (e->hold_next + 1) % LIVE_HOLD_SAMPLES;
    if (!best || !fl_multiline_held(e->ml))
        return;
    uint64_t age = pushed - before;
    int rc = fl_multiline_flush_age(e->ml, age);
    if (rc > 0 && e->journal) {
        char mark[48];
        int n = snprintf(mark, sizeof mark, LIVE_MARK_FLUSH "%" PRIu64, age);
        if (fl_journal_append(e->journal, e->newest, mark, (size_t)n) != 0)
            live_message(e, "state: cannot write to the journal: a restart may join a trace "
                            "that this run released");
    }
    if (rc >= 0)
        rc = drain(e);
    if (rc < 0)
        live_message(e, "releasing held stack traces: %s", fl_strerror(rc));
}

int live_assemble_init(fl_live_engine *e, char *errbuf, size_t errlen)
{
    fl_filter_spec spec = e->o.pipeline.filter;
    if (spec.no_dedup) {
        snprintf(errbuf, errlen,
                 "--keep-duplicates: tail counts every record once, because its sources deliver "
                 "records again (after a restart, Cloud Logging's overlap, Pub/Sub redelivery)");
        return FL_EINVAL;
    }
    fl_time back;
    if (spec.until && fl_duration_parse(spec.until, &back) == 0) {
        snprintf(errbuf, errlen,
                 "--until: give a time (2026-07-25T04:00:00Z); a duration back from the newest "
                 "entry would move as entries arrive and leave out every new one");
        return FL_EINVAL;
    }
    /* Redelivered records are recognised per record, before reassembly (live.c), by the
     * gate's key: the gate itself only filters. */
    spec.no_dedup = true;
    int rc = fl_gate_new(&e->gate, &spec, errbuf, errlen);
    if (rc)
        return rc;
    /* Stage two of the Kafka pipeline takes summaries, never entries: nothing to assemble. */
    bool assemble = !e->o.pipeline.reader.no_multiline && !e->o.summaries_from;
    if (assemble && fl_multiline_new(&e->ml) != 0) {
        snprintf(errbuf, errlen, "%s", fl_strerror(FL_ENOMEM));
        return FL_ENOMEM;
    }
    e->hold_ms = e->o.hold_ms ? e->o.hold_ms : FL_LIVE_HOLD_DEFAULT_MS;
    if (e->loop && e->ml) {
        uint64_t tick = FL_MAX(e->hold_ms / LIVE_HOLD_TICKS, (uint64_t)1);
        if (!(e->hold_timer = fl_calloc(1, sizeof(*e->hold_timer)))) {
            snprintf(errbuf, errlen, "%s", fl_strerror(FL_ENOMEM));
            return FL_ENOMEM;
        }
        uv_timer_init(e->loop, e->hold_timer);
        e->hold_timer->data = e;
        uv_timer_start(e->hold_timer, hold_tick, tick, tick);
        uv_unref((uv_handle_t *)e->hold_timer); /* never what keeps the loop running */
    }
    return 0;
}

static void hold_closed(uv_handle_t *h)
{
    fl_free(h);
}

void live_assemble_close(fl_live_engine *e)
{
    if (!e->hold_timer)
        return;
    /* The timer lives apart from the engine and frees itself once closed: the engine may be
     * freed before the loop runs the close callback. */
    uv_timer_stop(e->hold_timer);
    e->hold_timer->data = NULL;
    uv_close((uv_handle_t *)e->hold_timer, hold_closed);
    e->hold_timer = NULL;
}

void live_assemble_free(fl_live_engine *e)
{
    live_assemble_close(e);
    fl_multiline_free(e->ml);
    fl_gate_free(e->gate);
    fl_entry_free(&e->out);
}
