/* The ranker's side of the two-stage Kafka pipeline (src/engine/live_deltas.c), driven through
 * a fake source: every raw offset range is applied once, a delta overlapping what was applied
 * is refused, a gap is said, marks are per topic and partition, and the marks survive a restart
 * (from the journal, and from STATE/summaries.hwm once the journal is gone). */
#include "fl_live_engine.h"
#include "fl_test.h"
#include "kafka/kafka_delta.h"
#include "summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static fl_live_sink sink;
static fl_live_source fake;
static char messages[8192];

static int fake_open(uv_loop_t *loop, const fl_live_config *cfg, const fl_live_sink *s,
                     fl_live_source **out, char *errbuf, size_t errlen);
static int fake_commit(fl_live_source *s)
{
    (void)s;
    return 0;
}
static void fake_nop(fl_live_source *s)
{
    (void)s;
}
static void fake_health(fl_live_source *s, fl_live_health *h)
{
    (void)s;
    memset(h, 0, sizeof(*h));
}
static void fake_close(fl_live_source *s, void (*done)(void *), void *arg)
{
    (void)s;
    done(arg);
}
static const fl_live_ops fake_ops = {.name = "fake",
                                     .open = fake_open,
                                     .pause = fake_nop,
                                     .resume = fake_nop,
                                     .commit = fake_commit,
                                     .health = fake_health,
                                     .close = fake_close};

static int fake_open(uv_loop_t *loop, const fl_live_config *cfg, const fl_live_sink *s,
                     fl_live_source **out, char *errbuf, size_t errlen)
{
    (void)loop;
    (void)cfg;
    (void)errbuf;
    (void)errlen;
    memset(&fake, 0, sizeof(fake));
    fake.ops = &fake_ops;
    strcpy(fake.label, "kafka:sums");
    fake.sink = *s;
    sink = *s;
    *out = &fake;
    return 0;
}

static void on_message(void *arg, const char *msg)
{
    (void)arg;
    size_t n = strlen(messages);
    snprintf(messages + n, sizeof(messages) - n, "%s\n", msg);
}

/* An envelope of raw topic[partition] offsets [from, to) holding n entries. */
static void deliver(const char *topic, int partition, int64_t from, int64_t to, int n)
{
    static int serial;
    fl_agg *a = fl_agg_new(NULL);
    fl_diag d;
    fl_diag_init(&d);
    fl_entry en;
    fl_entry_init(&en);
    char line[256], err[256];
    for (int i = 0; i < n; i++) {
        int len = snprintf(line, sizeof(line),
                           "{\"insertId\":\"x%d\",\"timestamp\":\"2026-11-20T10:%02d:00Z\","
                           "\"severity\":\"INFO\",\"textPayload\":\"handled %d\"}",
                           serial, serial % 60, serial);
        serial++;
        MUST_OK(fl_entry_parse(line, (size_t)len, &en, err, sizeof(err)));
        MUST_OK(fl_agg_add(a, &en, NULL));
        d.entries++;
    }
    fl_entry_free(&en);
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    fl_summary_meta m;
    memset(&m, 0, sizeof(m));
    MUST_OK(fl_summary_write(f, a, &d, &m, err, sizeof(err)));
    fclose(f);
    fl_delta_header h;
    memset(&h, 0, sizeof(h));
    snprintf(h.topic, sizeof(h.topic), "%s", topic);
    snprintf(h.member, sizeof(h.member), "test:1");
    h.partition = partition;
    h.from = from;
    h.to = to;
    h.newest = 1795168800000000; /* 2026-11-20T10:00:00Z */
    fl_buf b;
    fl_buf_init(&b, 1 << 24);
    MUST_OK(fl_delta_header_write(&b, &h));
    MUST_OK(fl_buf_add(&b, mem, size));
    CHECK_INT(sink.record(sink.ctx, &fake, b.data, b.len), 0);
    fl_buf_free(&b);
    free(mem);
    fl_diag_free(&d);
    fl_agg_free(a);
}

static uv_loop_t loop;

static fl_live_engine *open_engine(const char *state)
{
    fl_live_engine_opts o;
    memset(&o, 0, sizeof(o));
    o.state_dir = state;
    o.window_us = (fl_time)400 * 24 * 3600 * FL_USEC_PER_SEC;
    o.summaries_from = true;
    o.message = on_message;
    fl_live_engine *e = NULL;
    char err[512];
    int rc = fl_live_engine_new(&e, &loop, &o, err, sizeof(err));
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "%s\n", err);
    fl_live_config c;
    memset(&c, 0, sizeof(c));
    c.summaries_from = "sums";
    CHECK_INT(fl_live_engine_add_source(e, &fake_ops, &c, err, sizeof(err)), 0);
    return e;
}

static void close_engine(fl_live_engine *e)
{
    fl_live_engine_checkpoint(e);
    fl_live_engine_close(e, NULL, NULL);
    fl_live_engine_free(e);
}

static uint64_t entries(fl_live_engine *e)
{
    return fl_live_engine_diag(e)->entries;
}

int main(void)
{
    char state[] = "/tmp/fl-test-deltas-XXXXXX";
    if (!mkdtemp(state))
        return 1;
    uv_loop_init(&loop);

    fl_live_engine *e = open_engine(state);
    /* Stage two takes deltas only. */
    fl_live_config other;
    memset(&other, 0, sizeof(other));
    char err[512];
    CHECK_INT(fl_live_engine_add_source(e, &fake_ops, &other, err, sizeof(err)), FL_EINVAL);

    deliver("logs", 0, 0, 10, 10);
    CHECK_INT(entries(e), 10);
    deliver("logs", 0, 0, 10, 10); /* delivered again */
    CHECK_INT(entries(e), 10);
    deliver("logs", 0, 10, 20, 5);
    CHECK_INT(entries(e), 15);
    messages[0] = '\0';
    deliver("logs", 0, 15, 30, 7); /* a zombie's delta over [15, 20): refused whole */
    CHECK_INT(entries(e), 15);
    CHECK(strstr(messages, "refused the delta of logs[0] offsets [15, 30)") != NULL);
    messages[0] = '\0';
    deliver("logs", 0, 30, 40, 3); /* [20, 30) is in no delta: applied, said */
    CHECK_INT(entries(e), 18);
    CHECK(strstr(messages, "offsets [20, 30) of logs[0] are in no delta") != NULL);
    deliver("logs", 1, 0, 10, 2);  /* marks are per partition */
    deliver("other", 0, 0, 10, 2); /* and per topic */
    CHECK_INT(entries(e), 22);
    CHECK_INT(sink.record(sink.ctx, &fake, "{\"insertId\":\"raw\"}", 18), 0); /* not a delta */
    CHECK_INT(entries(e), 22);
    CHECK_INT(fl_live_engine_diag(e)->n_warnings, 1);
    uint64_t applied, dup, refused, gaps;
    fl_live_engine_delta_counts(e, &applied, &dup, &refused, &gaps);
    CHECK_INT(applied, 5);
    CHECK_INT(dup, 1);
    CHECK_INT(refused, 1);
    CHECK_INT(gaps, 1);
    close_engine(e);

    /* Restart: the journal brings the counts and the marks back. */
    e = open_engine(state);
    CHECK_INT(entries(e), 22);
    deliver("logs", 0, 10, 20, 5);
    deliver("logs", 1, 0, 10, 2);
    CHECK_INT(entries(e), 22);
    deliver("logs", 0, 40, 45, 4);
    CHECK_INT(entries(e), 26);
    close_engine(e);

    /* Without the journal (compacted away) the marks still come from summaries.hwm. */
    char path[512];
    snprintf(path, sizeof(path), "%s/journal.dat", state);
    CHECK_INT(unlink(path), 0);
    e = open_engine(state);
    CHECK_INT(entries(e), 0);
    deliver("logs", 0, 40, 45, 4);
    deliver("other", 0, 0, 10, 2);
    CHECK_INT(entries(e), 0);
    deliver("logs", 0, 45, 50, 1);
    CHECK_INT(entries(e), 1);
    close_engine(e);

    uv_loop_close(&loop);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", state);
    return fl_test_done();
}
