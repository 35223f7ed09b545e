/* The two-stage Kafka pipeline on the engine's side (docs/scale.md).
 *
 * Stage one (`--summaries-to`): the Kafka source hands every record with its raw partition to
 * the delta sink below, which counts it into that partition's delta aggregate (and into the
 * member's own view, for its screen). At each checkpoint the source takes every delta as summary
 * bytes (correlate/summary.c) and produces it; the partition's delta starts empty again.
 *
 * Stage two (`--summaries-from`): every record is a delta envelope (ingest/kafka/kafka_delta.h).
 * It is applied (merged into the window's aggregate) only when fl_delta_check says it continues
 * the raw partition's high-water mark, so each raw offset range counts at most once. Applied
 * envelopes go to the journal like records do; the marks are written to STATE/summaries.hwm
 * after the journal is synced and before the source commits. A restart replays the journal
 * (whose deltas were all applied: the marks move to their ends) and reads the file (for deltas
 * the journal compacted away). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka_delta.h"
#include "live_internal.h"
#include "summary.h"

#define LIVE_DELTA_MAX_PARTS 4096 /* raw partitions per member; past it: FL_ENOMEM */
#define LIVE_HWM_MAX 65536        /* raw partitions stage two tracks; past it: refused, warned */
#define LIVE_HWM_FILE "summaries.hwm"

struct live_part_delta {
    int32_t partition;
    fl_agg *agg;
    fl_diag diag;
    fl_time newest;
    uint64_t records;
};

struct live_hwm {
    char topic[FL_DELTA_TOPIC_MAX];
    int32_t partition;
    int64_t hwm;
};

/* --- stage one --- */

static live_part_delta *delta_part(fl_live_engine *e, int32_t partition)
{
    for (size_t i = 0; i < e->n_deltas; i++)
        if (e->deltas[i].partition == partition)
            return &e->deltas[i];
    if (e->n_deltas == LIVE_DELTA_MAX_PARTS)
        return NULL;
    live_part_delta *v = fl_realloc(e->deltas, (e->n_deltas + 1) * sizeof(*v));
    if (!v)
        return NULL;
    e->deltas = v;
    live_part_delta *d = &v[e->n_deltas];
    memset(d, 0, sizeof(*d));
    d->partition = partition;
    fl_diag_init(&d->diag);
    if (!(d->agg = fl_agg_new(NULL)))
        return NULL;
    e->n_deltas++;
    return d;
}

static void delta_reset(live_part_delta *d)
{
    fl_agg *fresh = fl_agg_new(NULL);
    if (fresh) { /* out of memory: the old one stays and is reset by the next take */
        fl_agg_free(d->agg);
        d->agg = fresh;
    }
    fl_diag_free(&d->diag);
    fl_diag_init(&d->diag);
    d->newest = 0;
    d->records = 0;
}

static int delta_record(void *ctx, int32_t partition, const char *data, size_t len)
{
    fl_live_engine *e = ctx;
    live_part_delta *d = delta_part(e, partition);
    if (!d)
        return FL_ENOMEM;
    e->records_seen++;
    d->records++;
    char label[48], err[256];
    snprintf(label, sizeof(label), "kafka partition %d", (int)partition);
    int rc = e->o.slow_json ? fl_entry_parse_jansson(data, len, &e->entry, err, sizeof(err))
                            : fl_entry_parse(data, len, &e->entry, err, sizeof(err));
    if (rc) {
        fl_warn_kind kind = rc == FL_ETOOBIG ? FL_WARN_OVERSIZE : FL_WARN_MALFORMED;
        const char *why = rc == FL_ETOOBIG ? "entry too large" : err;
        fl_diag_warn(&e->diag, kind, label, e->records_seen, "%s", why);
        fl_diag_warn(&d->diag, kind, label, d->records, "%s", why);
        return 0;
    }
    fl_match m;
    int c = fl_classify(e->rules, e->matcher, &e->entry, &m);
    if (c < 0)
        return c;
    if ((rc = fl_agg_add(d->agg, &e->entry, c > 0 ? &m : NULL)) != 0 ||
        (rc = fl_agg_add(e->agg, &e->entry, c > 0 ? &m : NULL)) != 0)
        return rc;
    d->diag.entries++;
    d->diag.bytes += len;
    e->diag.entries++;
    e->diag.bytes += len;
    fl_time cap = live_wall_now() + 300 * FL_USEC_PER_SEC;
    if (e->entry.ts < cap) {
        if (e->entry.ts > d->newest)
            d->newest = e->entry.ts;
        if (e->entry.ts > e->newest)
            e->newest = e->entry.ts;
    }
    e->bytes_since_check += len;
    if ((e->records_seen & (LIVE_MEMORY_CHECK_EVERY - 1)) == 0 ||
        e->bytes_since_check >= LIVE_MEMORY_CHECK_BYTES) {
        e->bytes_since_check = 0;
        fl_live_engine_check_memory(e);
    }
    return 0;
}

static int delta_take(void *ctx, int32_t partition, fl_buf *out, fl_time *newest)
{
    fl_live_engine *e = ctx;
    live_part_delta *d = delta_part(e, partition);
    *newest = 0;
    if (!d)
        return FL_ENOMEM;
    fl_summary_meta m;
    memset(&m, 0, sizeof(m));
    m.rules_digest = fl_summary_rules_digest(d->agg, e->rules);
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    if (!f)
        return FL_ENOMEM;
    char err[256];
    int rc = fl_summary_write(f, d->agg, &d->diag, &m, err, sizeof(err));
    if (fclose(f) != 0 && !rc)
        rc = FL_ENOMEM;
    if (!rc)
        rc = fl_buf_add(out, mem, size);
    free(mem);
    if (rc) {
        live_message(e, "summaries: partition %d: %s", (int)partition,
                     err[0] && rc != FL_ENOMEM ? err : fl_strerror(rc));
        return rc;
    }
    *newest = d->newest;
    delta_reset(d);
    return 0;
}

static void delta_drop(void *ctx, int32_t partition)
{
    fl_live_engine *e = ctx;
    for (size_t i = 0; i < e->n_deltas; i++)
        if (e->deltas[i].partition == partition)
            delta_reset(&e->deltas[i]);
}

const fl_live_delta_sink *live_deltas_sink(fl_live_engine *e)
{
    e->delta_sink = (fl_live_delta_sink){delta_record, delta_take, delta_drop, e};
    return &e->delta_sink;
}

/* --- stage two --- */

static live_hwm *hwm_get(fl_live_engine *e, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < e->n_hwms; i++)
        if (e->hwms[i].partition == partition && !strcmp(e->hwms[i].topic, topic))
            return &e->hwms[i];
    if (e->n_hwms == LIVE_HWM_MAX)
        return NULL;
    live_hwm *v = fl_realloc(e->hwms, (e->n_hwms + 1) * sizeof(*v));
    if (!v)
        return NULL;
    e->hwms = v;
    live_hwm *w = &v[e->n_hwms++];
    fl_copy_str(w->topic, sizeof(w->topic), topic);
    w->partition = partition;
    w->hwm = -1;
    return w;
}

/* Adds a delta's diagnostics, keeping at most FL_DIAG_MAX_WARNINGS warnings (the rest are
 * counted as dropped). */
static int diag_add_capped(fl_diag *dst, fl_diag *src)
{
    size_t room =
        dst->n_warnings < FL_DIAG_MAX_WARNINGS ? FL_DIAG_MAX_WARNINGS - dst->n_warnings : 0;
    size_t all = src->n_warnings;
    if (all > room) {
        dst->warnings_dropped += all - room;
        src->n_warnings = room;
    }
    int rc = fl_summary_diag_add(dst, src);
    src->n_warnings = all;
    return rc;
}

int live_delta_apply(fl_live_engine *e, const char *label, const char *data, size_t len,
                     bool replay)
{
    e->records_seen++;
    fl_delta_header h;
    const void *body;
    size_t blen;
    if (fl_delta_parse(data, len, &h, &body, &blen) != 0) {
        fl_diag_warn(&e->diag, FL_WARN_MALFORMED, label, e->records_seen,
                     "not a faultline delta summary (is this the --summaries-to topic?)");
        return 0;
    }
    live_hwm *w = hwm_get(e, h.topic, h.partition);
    if (!w) {
        live_message(e,
                     "summaries: more than %d raw partitions: the delta of %s[%d] is not "
                     "counted",
                     LIVE_HWM_MAX, h.topic, (int)h.partition);
        return 0;
    }
    /* The journal holds only deltas that were applied: replaying them needs no check. */
    fl_delta_verdict v = replay ? FL_DELTA_APPLY : fl_delta_check(w->hwm, h.from, h.to);
    if (v == FL_DELTA_DUPLICATE) {
        e->deltas_duplicate++;
        return 0;
    }
    if (v == FL_DELTA_OVERLAP) {
        e->deltas_refused++;
        live_message(e,
                     "summaries: refused the delta of %s[%d] offsets [%" PRId64 ", %" PRId64
                     ") from %s: offsets up to %" PRId64 " were already applied from another "
                     "delta (a member cut off from its group?); entries of [%" PRId64 ", %" PRId64
                     ") are not counted from it",
                     h.topic, (int)h.partition, h.from, h.to, h.member, w->hwm, w->hwm, h.to);
        return 0;
    }
    fl_agg *part = NULL;
    fl_diag d;
    fl_diag_init(&d);
    fl_summary_meta m;
    char err[512];
    int rc = fl_summary_read_mem(label, body, blen, &part, &d, &m, err, sizeof(err));
    if (rc) {
        fl_diag_free(&d);
        if (rc == FL_ENOMEM)
            return rc;
        fl_diag_warn(&e->diag, FL_WARN_MALFORMED, label, e->records_seen, "%s", err);
        return 0;
    }
    if (v == FL_DELTA_GAP) {
        e->deltas_gap++;
        live_message(e,
                     "summaries: offsets [%" PRId64 ", %" PRId64 ") of %s[%d] are in no delta: "
                     "not counted",
                     w->hwm, h.from, h.topic, (int)h.partition);
    }
    if (m.rules_digest && !e->digest_warned &&
        m.rules_digest != fl_summary_rules_digest(part, e->rules)) {
        e->digest_warned = true;
        live_message(e,
                     "summaries: %s counts with other rules than this process (give both "
                     "stages the same --patterns)",
                     h.member);
    }
    rc = fl_agg_merge(e->agg, part);
    fl_agg_free(part);
    if (!rc)
        rc = diag_add_capped(&e->diag, &d);
    fl_diag_free(&d);
    if (rc)
        return rc;
    fl_time cap = live_wall_now() + 300 * FL_USEC_PER_SEC;
    if (h.newest > e->newest && h.newest < cap)
        e->newest = h.newest;
    w->hwm = h.to > w->hwm ? h.to : w->hwm;
    e->hwm_dirty = true;
    if (!replay)
        e->deltas_applied++;
    if (e->journal && !replay &&
        (rc = fl_journal_append(e->journal, h.newest ? h.newest : live_wall_now(), data, len)))
        return rc;
    return 1;
}

/* STATE/summaries.hwm: one line per raw partition, "PARTITION<TAB>MARK<TAB>TOPIC". */
int live_deltas_load_hwm(fl_live_engine *e)
{
    char path[4096], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s", e->o.state_dir, LIVE_HWM_FILE);
    int rc = fl_read_small_file(path, (size_t)64 << 20, &text, &len);
    if (rc == FL_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        int partition;
        long long mark;
        int off = 0;
        if (sscanf(line, "%d\t%lld\t%n", &partition, &mark, &off) != 2 || !off || partition < 0) {
            live_message(e, "state: %s: a damaged line is ignored", path);
            continue;
        }
        live_hwm *w = hwm_get(e, line + off, partition);
        if (w && mark > w->hwm)
            w->hwm = mark;
    }
    fl_free(text);
    return 0;
}

void live_deltas_save_hwm(fl_live_engine *e)
{
    if (!e->o.summaries_from || !e->o.state_dir || !e->hwm_dirty)
        return;
    fl_buf b;
    fl_buf_init(&b, (size_t)64 << 20);
    int rc = 0;
    for (size_t i = 0; !rc && i < e->n_hwms; i++)
        rc = fl_buf_printf(&b, "%d\t%" PRId64 "\t%s\n", (int)e->hwms[i].partition, e->hwms[i].hwm,
                           e->hwms[i].topic);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", e->o.state_dir, LIVE_HWM_FILE);
    if (!rc)
        rc = fl_write_atomic(path, b.data ? b.data : "", b.len);
    fl_buf_free(&b);
    if (rc)
        live_message(e, "state: cannot write %s (%s): the marks are rebuilt from the journal", path,
                     strerror(errno));
    else
        e->hwm_dirty = false;
}

void live_deltas_free(fl_live_engine *e)
{
    for (size_t i = 0; i < e->n_deltas; i++) {
        fl_agg_free(e->deltas[i].agg);
        fl_diag_free(&e->deltas[i].diag);
    }
    fl_free(e->deltas);
    fl_free(e->hwms);
}
