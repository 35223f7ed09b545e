/* The Kafka source against librdkafka's mock cluster (3 brokers, 4 partitions, in process):
 * delivery, at-least-once commits, all brokers down and back, and a second group member
 * joining and leaving with every message delivered, none to both members, and none twice to
 * one member unless the coordinator refused its commit. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>

#include "fl_live.h"
#include "fl_test.h"

#define MAX_IDS 1000

typedef struct counter {
    const char *name;
    int counts[MAX_IDS];
    int records;
    int warns;
    int down_warns;
    int recovered;
    int assigned_events;
    int commit_failures;
    fl_live_source *src;
} counter;

static int total_by_id[MAX_IDS];

static int on_record(void *ctx, fl_live_source *src, const char *data, size_t len)
{
    counter *c = ctx;
    (void)src;
    const char *p = memmem(data, len, "id-", 3);
    int id = p ? atoi(p + 3) : -1;
    if (id >= 0 && id < MAX_IDS) {
        c->counts[id]++;
        total_by_id[id]++;
    }
    c->records++;
    return 0;
}

static void on_event(void *ctx, fl_live_source *src, fl_live_level level, const char *msg)
{
    counter *c = ctx;
    (void)src;
    fprintf(stderr, "[%s] %s\n", c->name, msg);
    if (level >= FL_LIVE_WARN)
        c->warns++;
    if (strstr(msg, "all brokers are down"))
        c->down_warns++;
    if (strstr(msg, "reachable again"))
        c->recovered++;
    if (strstr(msg, "assigned"))
        c->assigned_events++;
    if (strstr(msg, "offset commit failed"))
        c->commit_failures++;
}

static void on_flush(void *ctx, fl_live_source *src)
{
    (void)ctx;
    src->ops->commit(src);
}

static rd_kafka_t *producer;

static void produce(int from, int to)
{
    for (int i = from; i < to; i++) {
        char buf[128], key[16];
        int n = snprintf(buf, sizeof(buf), "{\"insertId\":\"id-%d\",\"severity\":\"ERROR\"}", i);
        snprintf(key, sizeof(key), "k%d", i);
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("logs"), RD_KAFKA_V_VALUE(buf, (size_t)n),
                          RD_KAFKA_V_KEY(key, strlen(key)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    }
    rd_kafka_flush(producer, 10000);
}

/* A handle of group g1 that never joins it: it only reads the group's committed offsets. */
static rd_kafka_t *observer;

/* The group's committed offsets added up over the four partitions: how many messages are
 * committed, as every partition starts at offset 0. */
static long committed_total(void)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    for (int p = 0; p < 4; p++)
        rd_kafka_topic_partition_list_add(l, "logs", p);
    long sum = 0;
    if (rd_kafka_committed(observer, l, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int i = 0; i < l->cnt; i++)
            sum += l->elems[i].err || l->elems[i].offset < 0 ? 0 : (long)l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    return sum;
}

static uv_loop_t loop;
static counter a, b;
static uv_timer_t deadline_timer;

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop until cond() holds or ms pass; returns whether cond held. */
static bool run_until(bool (*cond)(void), int ms)
{
    for (int waited = 0; waited < ms; waited += 50) {
        if (cond && cond())
            return true;
        uv_timer_start(&deadline_timer, stop_loop, 50, 0);
        uv_run(&loop, UV_RUN_DEFAULT);
        /* As faultline tail does after each checkpoint: acknowledge what was counted. */
        if (a.src)
            a.src->ops->commit(a.src);
        if (b.src)
            b.src->ops->commit(b.src);
    }
    return cond ? cond() : true;
}

static int expect_total;

static bool total_reached(void)
{
    return a.records + b.records >= expect_total;
}

static long expect_committed;

static bool all_committed(void)
{
    return committed_total() >= expect_committed;
}

static bool b_assigned(void)
{
    return b.assigned_events > 0;
}

static int a_assigned_since;

static bool a_reassigned(void)
{
    return a.assigned_events > a_assigned_since;
}

static bool a_down(void)
{
    return a.down_warns > 0;
}

static bool a_recovered(void)
{
    return a.recovered > 0;
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

static int open_consumer(counter *c, const char *bootstraps)
{
    /* Every broker connected, not only those needed (sparse connections): a broker never
     * connected is not "down", and "all brokers are down" would never be said. */
    static const char *const props[] = {"session.timeout.ms=3000", "heartbeat.interval.ms=200",
                                        "topic.metadata.refresh.interval.ms=1000",
                                        "reconnect.backoff.max.ms=500",
                                        "enable.sparse.connections=false"};
    fl_live_config cfg = {.target = bootstraps,
                          .topic = "logs",
                          .group = "g1",
                          .props = props,
                          .n_props = FL_ARRAY_LEN(props),
                          .debug = getenv("FL_KAFKA_DEBUG") != NULL}; /* commit traces */
    fl_live_sink sink = {on_record, on_event, on_flush, c, NULL};
    char err[256] = "";
    int rc = fl_ingest_kafka.open(&loop, &cfg, &sink, &c->src, err, sizeof(err));
    if (rc)
        fprintf(stderr, "open: %s\n", err);
    return rc;
}

static void close_consumer(counter *c)
{
    int closed = 0;
    fl_live_source *src = c->src;
    c->src = NULL;
    src->ops->close(src, on_closed, &closed);
    run_until(NULL, 100);
    CHECK(closed);
}

int main(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 3);
    CHECK(mc != NULL);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    CHECK_INT(rd_kafka_mock_topic_create(mc, "logs", 4, 3), 0);

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "g1", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    observer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));

    a.name = "A";
    b.name = "B";
    uv_loop_init(&loop);
    uv_timer_init(&loop, &deadline_timer);

    /* 1. One member receives every message. */
    produce(0, 100);
    CHECK_INT(open_consumer(&a, bootstraps), 0);
    expect_total = 100;
    CHECK(run_until(total_reached, 20000));
    CHECK_INT(a.records, 100);
    CHECK_INT(a.src->ops->commit(a.src), 0);

    /* 2. Every broker down for three seconds: one warning, then consumption resumes. */
    for (int id = 1; id <= 3; id++)
        rd_kafka_mock_broker_set_down(mc, id);
    run_until(NULL, 3000);
    /* librdkafka reports "all brokers down" once every connection attempt has failed; on a
     * loaded machine that can take longer than the three seconds (1 of 12 runs). */
    CHECK(run_until(a_down, 20000));
    for (int id = 1; id <= 3; id++)
        rd_kafka_mock_broker_set_up(mc, id);
    produce(100, 150);
    expect_total = 150;
    CHECK(run_until(total_reached, 20000));
    CHECK(run_until(a_recovered, 5000));
    CHECK_INT(a.down_warns, 1);
    CHECK_INT(a.recovered, 1);

    /* 3. A second member joins: partitions are split, nothing is counted twice. Membership
     * changes only once what was counted is committed: librdkafka's mock coordinator refuses
     * every commit while the group is joining (a Kafka broker accepts commits of the current
     * generation until the group completes its rebalance), so a commit still on its way when
     * B joins would be refused and B would read those messages again. A refused commit is
     * sent again at the next checkpoint; this waits for that. */
    expect_committed = 150;
    CHECK(run_until(all_committed, 20000));
    CHECK_INT(open_consumer(&b, bootstraps), 0);
    CHECK(run_until(b_assigned, 20000));
    produce(150, 250);
    expect_total = 250;
    CHECK(run_until(total_reached, 20000));
    CHECK(b.records > 0);
    /* 4. ...and leaves: its partitions go back to A after a commit, again without repeats.
     * Produce once A holds them: librdkafka's mock coordinator refuses every offset commit
     * while the group is joining (a Kafka broker accepts commits of the current generation
     * until the group is completing its rebalance), so messages A counted in that window were
     * committed by nobody and came to A a second time (tail's de-duplication drops such
     * redeliveries to the same process; here the source is tested alone). */
    int assigned_before = a.assigned_events;
    expect_committed = 250;
    CHECK(run_until(all_committed, 20000));
    close_consumer(&b);
    a_assigned_since = assigned_before;
    CHECK(run_until(a_reassigned, 20000));
    produce(250, 300);
    expect_total = 300;
    CHECK(run_until(total_reached, 30000));
    run_until(NULL, 1000);
    int missing = 0, across = 0, again_a = 0, again_b = 0;
    for (int i = 0; i < 300; i++) {
        missing += total_by_id[i] == 0;
        across += a.counts[i] > 0 && b.counts[i] > 0;
        again_a += a.counts[i] > 1;
        again_b += b.counts[i] > 1;
        if (total_by_id[i] != 1)
            fprintf(stderr, "id-%d counted %d times (A %d, B %d)\n", i, total_by_id[i], a.counts[i],
                    b.counts[i]);
    }
    CHECK_INT(missing, 0);
    /* Never by both members: no de-duplication could take that back. */
    CHECK_INT(across, 0);
    /* A member sees a message again only after the coordinator refused its commit (the group
     * was rebalancing, or the member had been expired while every broker was down): its
     * offset stayed behind, and the partition came back to the same member. tail drops such a
     * redelivery from the same source; without a refused commit it is a bug. */
    if (again_a || again_b)
        fprintf(stderr, "redelivered to the same member: A %d (%d refused commits), B %d (%d)\n",
                again_a, a.commit_failures, again_b, b.commit_failures);
    CHECK(again_a == 0 || a.commit_failures > 0);
    CHECK(again_b == 0 || b.commit_failures > 0);
    fprintf(stderr, "A counted %d, B counted %d\n", a.records, b.records);

    close_consumer(&a);
    uv_close((uv_handle_t *)&deadline_timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    rd_kafka_destroy(producer);
    rd_kafka_destroy(observer);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    return fl_test_done();
}
