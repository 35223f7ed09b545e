/* The live engine: counting, de-duplication, the journal and checkpoints, the memory budget,
 * rule reload and the sources' lifecycle (fl_live_engine.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl_changes_file.h"
#include "live_internal.h"

#define LIVE_JOURNAL_COMPACT_BYTES (256u * 1024 * 1024)

void live_message(fl_live_engine *e, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (e->o.message)
        e->o.message(e->o.message_arg, msg);
}

fl_time live_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (fl_time)ts.tv_sec * FL_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* --- counting --- */

/* The key a redelivered record is recognised by: the gate's (insertId, logName, timestamp),
 * or, for an entry without an insertId, a hash of the raw record. */
static uint64_t record_key(const fl_entry *en, const char *data, size_t len)
{
    if (en->insert_id[0])
        return fl_gate_dedup_key(en);
    return fl_hash64(data, len, UINT64_C(0x84222325cbf29ce4));
}

/* Parses and de-duplicates one record, journals it, and hands it on to reassembly, the gate
 * and the counts (live_assemble.c). Returns 1 taken, 0 duplicate or malformed, negative on a
 * fatal error. */
static int live_count(fl_live_engine *e, const char *label, const char *data, size_t len,
                      unsigned tag)
{
    bool replay = tag == LIVE_TAG_JOURNAL;
    char err[256];
    e->records_seen++;
    int rc = e->o.slow_json ? fl_entry_parse_jansson(data, len, &e->entry, err, sizeof(err))
                            : fl_entry_parse(data, len, &e->entry, err, sizeof(err));
    if (rc == FL_ETOOBIG) {
        fl_diag_warn(&e->diag, FL_WARN_OVERSIZE, label, e->records_seen,
                     "%s:%" PRIu64 ": entry fields exceed %d bytes", label, e->records_seen,
                     FL_ENTRY_MAX_STORE);
        return 0;
    }
    if (rc) {
        /* Worded as analyze words it: "file:line: what". */
        fl_diag_warn(&e->diag, FL_WARN_MALFORMED, label, e->records_seen, "%s:%" PRIu64 ": %s",
                     label, e->records_seen, err);
        return 0;
    }
    /* Seen before: from the same source (or before a restart) it was delivered again; from
     * another source the data holds it twice, as when analyze reads two overlapping exports. */
    int first = fl_dedup_check_add_tag(e->dedup, record_key(&e->entry, data, len), tag);
    if (first >= 0) {
        if (first == (int)tag || first == LIVE_TAG_JOURNAL)
            e->duplicates++;
        else
            live_assemble_count_duplicate(e);
        return 0;
    }
    e->diag.entries++;
    e->diag.bytes += len;
    if (e->entry.fixes) { /* kept after a repair: a warning, as analyze gives it */
        char what[256];
        fl_entry_fixes_text(e->entry.fixes, what, sizeof(what));
        fl_diag_warn(&e->diag, FL_WARN_OTHER, label, e->records_seen, "%s:%" PRIu64
                     ": entry kept: %s", label, e->records_seen, what);
    }
    /* A clock far ahead must not move the window. */
    fl_time cap = live_wall_now() + 300 * FL_USEC_PER_SEC;
    if (e->entry.ts > e->newest && e->entry.ts < cap)
        e->newest = e->entry.ts;
    /* Journaled before it is assembled: a trace still held is then in the journal. */
    if (e->journal && !replay && (rc = fl_journal_append(e->journal, e->entry.ts, data, len)))
        return rc;
    /* Named in warnings as analyze names file:line; the label outlives the entry (sources
     * close after the last entry is counted). */
    e->entry.src_file = label;
    e->entry.src_line = e->records_seen;
    if ((rc = live_assemble_take(e)) != 0)
        return rc;
    return 1;
}

static int record_cb(void *ctx, fl_live_source *src, const char *data, size_t len)
{
    fl_live_engine *e = ctx;
    int rc;
    if (e->o.summaries_from) {
        rc = live_delta_apply(e, src->label, data, len, false);
    } else {
        unsigned tag = 0;
        while (tag < e->n_sources && e->sources[tag] != src)
            tag++;
        rc = live_count(e, src->label, data, len, tag);
    }
    /* A fast source can read a lot between two ticks: look at the budget on the way too. */
    e->bytes_since_check += len;
    if ((e->records_seen & (LIVE_MEMORY_CHECK_EVERY - 1)) == 0 ||
        e->bytes_since_check >= LIVE_MEMORY_CHECK_BYTES) {
        e->bytes_since_check = 0;
        fl_live_engine_check_memory(e);
    }
    if (rc < 0 && rc != FL_EPARSE) {
        live_message(e, "%s: %s", src->label, fl_strerror(rc));
        return rc;
    }
    return 0;
}

static void oversize_cb(void *ctx, fl_live_source *src)
{
    fl_live_engine *e = ctx;
    e->records_seen++;
    fl_diag_warn(&e->diag, FL_WARN_OVERSIZE, src->label, e->records_seen,
                 "record over the %d KiB limit skipped", FL_RECORD_MAX_LIVE / 1024);
}

static int replay_cb(void *arg, fl_time ts, const char *data, size_t len)
{
    (void)ts;
    fl_live_engine *e = arg;
    if (e->o.summaries_from) {
        int rc = live_delta_apply(e, "journal", data, len, true);
        return rc < 0 ? rc : 0;
    }
    int rc = live_assemble_replay_mark(e, data, len);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    rc = live_count(e, "journal", data, len, LIVE_TAG_JOURNAL);
    return rc < 0 ? rc : 0;
}

static void flush_cb(void *ctx, fl_live_source *src)
{
    fl_live_engine *e = ctx;
    if (e->journal)
        fl_journal_sync(e->journal);
    live_deltas_save_hwm(e);
    src->ops->commit(src);
}

static void event_cb(void *ctx, fl_live_source *src, fl_live_level level, const char *msg)
{
    (void)src;
    (void)level;
    live_message(ctx, "%s", msg);
}

/* --- checkpoints, budget, reload --- */

fl_time live_window_anchor(const fl_live_engine *e)
{
    return e->newest ? e->newest : live_wall_now();
}

void fl_live_engine_checkpoint(fl_live_engine *e)
{
    if (e->journal && fl_journal_sync(e->journal) != 0) {
        live_message(e, "state: cannot sync the journal (%s); not acknowledging",
                     strerror(errno));
        return;
    }
    live_deltas_save_hwm(e);
    for (size_t i = 0; i < e->n_sources; i++)
        if (e->sources[i])
            e->sources[i]->ops->commit(e->sources[i]);
    if (e->journal && fl_journal_bytes(e->journal) > LIVE_JOURNAL_COMPACT_BYTES &&
        fl_journal_compact(e->journal, live_window_anchor(e) - e->o.window_us) != 0)
        live_message(e, "state: journal compaction failed");
}

void fl_live_engine_reload_rules(fl_live_engine *e)
{
    fl_rules *rules = NULL;
    char err[512];
    if (fl_pipeline_load_rules(&e->o.pipeline, &rules, err, sizeof(err)) != 0) {
        live_message(e, "SIGHUP: rules not reloaded: %s", err);
        return;
    }
    fl_matcher *m = fl_matcher_new(rules);
    if (m)
        fl_matcher_set_prefilter(m, !e->o.pipeline.no_prefilter);
    if (!m || e->n_retired == FL_ARRAY_LEN(e->retired_rules)) {
        fl_matcher_free(m);
        fl_rules_free(rules);
        live_message(e, "SIGHUP: rules not reloaded (too many reloads or out of memory)");
        return;
    }
    fl_matcher_free(e->matcher);
    e->retired_rules[e->n_retired++] = e->rules;
    e->rules = rules;
    e->matcher = m;
    live_message(e, "SIGHUP: %zu rules reloaded", fl_rules_count(rules));
}

/* The input section: what reading reported plus traces cut at a cap, rules that hit the PCRE2
 * limits, the aggregate's caps and far-away timestamps, as the batch pipeline adds them. On a
 * copy of the diag, since every snapshot judges the aggregate afresh. */
static int set_input(fl_live_engine *e, fl_result *r)
{
    const fl_diag *d = &e->diag;
    fl_diag snap;
    fl_diag_init(&snap);
    for (size_t i = 0; i < d->n_warnings; i++)
        fl_diag_warn(&snap, d->warnings[i].kind, d->warnings[i].file, d->warnings[i].line, "%s",
                     d->warnings[i].message);
    snap.entries = d->entries;
    snap.malformed = d->malformed;
    snap.oversize = d->oversize;
    snap.bytes = d->bytes;
    snap.files = d->files;
    snap.unreadable = d->unreadable;
    snap.warnings_dropped = d->warnings_dropped;
    /* In the order analyze adds them once its input has ended. */
    fl_multiline_warn_caps(e->ml, &snap);
    fl_matcher_warn_limits(e->matcher, &snap);
    fl_agg_warn_caps(e->agg, &snap);
    int rc = fl_result_set_input(r, &snap);
    fl_diag_free(&snap);
    return rc;
}

int fl_live_engine_analyze(fl_live_engine *e, fl_result **out)
{
    /* The window, and a --since bound that has moved forward since entries were counted. */
    fl_time cutoff = live_window_anchor(e) - e->o.window_us;
    fl_agg_expire(e->agg, FL_MAX(cutoff, fl_gate_since_at(e->gate)));
    fl_analyze_opts ao = e->o.pipeline.analyze;
    ao.rules = e->rules;
    int rc = fl_analyze(e->agg, &ao, out);
    if (rc)
        return rc;
    if ((rc = set_input(e, *out)) != 0)
        return rc;
    /* The filter, named as analyze's report names it, and what it left out. */
    fl_gate_annotate(e->gate, &(*out)->input);
    return 0;
}

int fl_live_engine_finish(fl_live_engine *e)
{
    int rc = live_assemble_flush_all(e);
    if (rc)
        live_message(e, "releasing held stack traces: %s", fl_strerror(rc));
    return rc;
}

/* --- sources --- */

int fl_live_engine_add_source(fl_live_engine *e, const fl_live_ops *ops,
                              const fl_live_config *cfg, char *errbuf, size_t errlen)
{
    if (e->n_sources == FL_LIVE_MAX_SOURCES) {
        snprintf(errbuf, errlen, "too many sources (at most %d)", FL_LIVE_MAX_SOURCES);
        return FL_EINVAL;
    }
    fl_live_sink sink = {record_cb, event_cb, flush_cb, e, oversize_cb};
    fl_live_source *s = NULL;
    errbuf[0] = '\0';
    fl_live_config c = *cfg;
    if (e->o.summaries_from != (cfg->summaries_from != NULL)) {
        snprintf(errbuf, errlen, "--summaries-from reads delta summaries only: give no other "
                                 "source with it");
        return FL_EINVAL;
    }
    if (cfg->summaries_to) {
        if (e->journal) {
            snprintf(errbuf, errlen, "--summaries-to keeps its progress in the summaries topic: "
                                     "--state is for stage two (--summaries-from)");
            return FL_EINVAL;
        }
        c.deltas = live_deltas_sink(e);
    }
    int rc = ops->open(e->loop, &c, &sink, &s, errbuf, errlen);
    if (rc) {
        if (!errbuf[0])
            snprintf(errbuf, errlen, "%s", fl_strerror(rc));
        return rc;
    }
    e->sources[e->n_sources++] = s;
    e->sources_open++;
    return 0;
}

size_t fl_live_engine_n_sources(const fl_live_engine *e)
{
    return e->n_sources;
}

fl_live_source *fl_live_engine_source(const fl_live_engine *e, size_t i)
{
    return i < e->n_sources ? e->sources[i] : NULL;
}

bool fl_live_engine_sources_ended(const fl_live_engine *e)
{
    for (size_t i = 0; i < e->n_sources; i++)
        if (e->sources[i] && !e->sources[i]->eof)
            return false;
    return e->n_sources > 0;
}

void live_source_closed(void *arg)
{
    fl_live_engine *e = arg;
    if (--e->sources_open == 0 && e->closed)
        e->closed(e->closed_arg);
}

void fl_live_engine_close(fl_live_engine *e, void (*done)(void *arg), void *arg)
{
    e->closed = done;
    e->closed_arg = arg;
    live_assemble_close(e);
    if (e->sources_open == 0) {
        if (done)
            done(arg);
        return;
    }
    for (size_t i = 0; i < e->n_sources; i++)
        if (e->sources[i])
            e->sources[i]->ops->close(e->sources[i], live_source_closed, e);
}

/* --- setup --- */

static void format_ts(fl_time ts, char *out, size_t size)
{
    time_t sec = (time_t)(ts / FL_USEC_PER_SEC);
    struct tm tm;
    if (!ts || !gmtime_r(&sec, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        fl_copy_str(out, size, "none");
}

/* Says loudly what a damaged journal lost: the counts in it came from records the sources have
 * acknowledged, so nothing delivers them again. */
static void report_journal_damage(fl_live_engine *e, const fl_journal_damage *d)
{
    const char *dir = e->o.state_dir;
    if (d->torn_bytes && !d->bad_bytes)
        live_message(e,
                     "state: cut a torn last journal record (%" PRIu64 " bytes, a crash while "
                     "writing it); its source was not acknowledged and delivers it again",
                     d->torn_bytes);
    if (!d->bad_bytes && !d->emptied)
        return;
    e->journal_damaged = true; /* lost counts: the run's result is partial (exit 3) */
    const char *resume = "the sources go on from their own checkpoints (Kafka offsets, Pub/Sub "
                         "acks, file offsets), past the lost records: those are not read again";
    if (d->emptied) {
        live_message(e,
                     "state: %s/journal.dat is empty, but a journal always starts with a header: "
                     "every count from before this start is LOST; kept the empty file as %s",
                     dir, d->kept_as);
        live_message(e, "state: %s", resume);
        return;
    }
    char before[32], after[32];
    format_ts(d->ts_before, before, sizeof(before));
    format_ts(d->ts_after, after, sizeof(after));
    uint64_t good = d->good_end > d->bad_bytes ? d->good_end - d->bad_bytes : 0;
    uint64_t avg = d->records ? good / d->records : 0;
    live_message(e,
                 "state: the journal %s/journal.dat is DAMAGED: %" PRIu64 " of %" PRIu64
                 " bytes in %" PRIu64 " part(s), the first at offset %" PRIu64
                 " (after the record stamped %s, before %s), did not verify",
                 dir, d->bad_bytes, d->file_bytes, d->regions, d->first_bad, before, after);
    char about[48] = "an unknown number of";
    if (avg)
        snprintf(about, sizeof(about), "about %" PRIu64, (d->bad_bytes + avg / 2) / avg);
    live_message(e,
                 "state: the counts in them (%s entries) are LOST; %" PRIu64
                 " records verified and count; the damaged file is kept whole as %s",
                 about, d->records, d->kept_as);
    live_message(e, "state: %s", resume);
}

int fl_live_engine_new(fl_live_engine **out, uv_loop_t *loop, const fl_live_engine_opts *opts,
                       char *errbuf, size_t errlen)
{
    *out = NULL;
    fl_live_engine *e = fl_calloc(1, sizeof(*e));
    if (!e)
        return FL_ENOMEM;
    e->o = *opts;
    if (!e->o.max_memory_mb)
        e->o.max_memory_mb = 1024;
    e->loop = loop;
    fl_diag_init(&e->diag);
    fl_entry_init(&e->entry);
    fl_entry_init(&e->out);
    *out = e;
    int rc = fl_pipeline_load_rules(&e->o.pipeline, &e->rules, errbuf, errlen);
    if (rc)
        return FL_EINVAL;
    e->matcher = fl_matcher_new(e->rules);
    if (e->matcher)
        fl_matcher_set_prefilter(e->matcher, !e->o.pipeline.no_prefilter);
    e->agg = fl_agg_new(NULL);
    fl_dedup_new(&e->dedup, e->o.dedup_max ? e->o.dedup_max : FL_LIVE_DEDUP_DEFAULT);
    if (!e->matcher || !e->agg || !e->dedup) {
        snprintf(errbuf, errlen, "%s", fl_strerror(FL_ENOMEM));
        return FL_ENOMEM;
    }
    if ((rc = live_assemble_init(e, errbuf, errlen)) != 0)
        return rc;
    for (size_t i = 0; i < e->o.pipeline.n_changes_files; i++)
        if ((rc = fl_changes_file_load(e->o.pipeline.changes_files[i], e->agg, &e->diag, errbuf,
                                       errlen)) != 0)
            return rc;
    if (!e->o.state_dir)
        return 0;
    char err[400];
    if (fl_journal_open(e->o.state_dir, &e->journal, err, sizeof(err)) != 0) {
        snprintf(errbuf, errlen, "--state: %s", err);
        return FL_EIO;
    }
    if (e->o.summaries_from && (rc = live_deltas_load_hwm(e)) != 0) {
        snprintf(errbuf, errlen, "--state: reading the summaries' high-water marks: %s",
                 fl_strerror(rc));
        return rc;
    }
    fl_journal_damage dmg;
    if ((rc = fl_journal_replay(e->journal, replay_cb, e, &dmg)) != 0) {
        snprintf(errbuf, errlen, "--state: replaying the journal: %s", fl_strerror(rc));
        return rc;
    }
    report_journal_damage(e, &dmg);
    fl_journal_compact(e->journal, live_window_anchor(e) - e->o.window_us);
    live_load_fired(e);
    e->resumed = e->diag.entries;
    return 0;
}

void fl_live_engine_free(fl_live_engine *e)
{
    if (!e)
        return;
    fl_journal_free(e->journal);
    live_assemble_free(e);
    live_deltas_free(e);
    fl_dedup_free(e->dedup);
    fl_agg_free(e->agg);
    fl_matcher_free(e->matcher);
    fl_rules_free(e->rules);
    for (size_t i = 0; i < e->n_retired; i++)
        fl_rules_free(e->retired_rules[i]);
    fl_entry_free(&e->entry);
    fl_diag_free(&e->diag);
    fl_free(e);
}

int fl_live_engine_exit_status(const fl_live_engine *e)
{
    int status = fl_diag_exit_status(&e->diag);
    return status == 0 && e->journal_damaged ? 3 : status;
}

uint64_t fl_live_engine_resumed(const fl_live_engine *e)
{
    return e->resumed;
}

uint64_t fl_live_engine_duplicates(const fl_live_engine *e)
{
    return e->duplicates;
}

const fl_diag *fl_live_engine_diag(const fl_live_engine *e)
{
    return &e->diag;
}

void fl_live_engine_delta_counts(const fl_live_engine *e, uint64_t *applied, uint64_t *duplicate,
                                 uint64_t *refused, uint64_t *gaps)
{
    *applied = e->deltas_applied;
    *duplicate = e->deltas_duplicate;
    *refused = e->deltas_refused;
    *gaps = e->deltas_gap;
}
