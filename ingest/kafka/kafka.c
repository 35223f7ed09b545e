/* The Kafka live source: a librdkafka consumer group driven by the libuv loop.
 *
 * librdkafka signals "the consumer queue became non-empty" by writing a byte to a pipe
 * (rd_kafka_queue_io_event_enable); a uv_poll on the read end wakes the loop, and a slow timer
 * keeps serving the queue (rebalances, errors, max.poll.interval) when nothing arrives.
 *
 * At-least-once: enable.auto.offset.store=false. Each delivered message only moves a
 * per-partition "delivered" mark; ops->commit (called by the consumer once the counts are
 * durable) stores those offsets and commits them asynchronously at once.
 * Before partitions are revoked the sink is asked to flush, then offsets are committed
 * synchronously, so the next owner starts exactly after what this process counted.
 *
 * Only this folder includes rdkafka.h. Stage one of the two-stage pipeline (--summaries-to:
 * delta summaries per partition instead of counts) is in kafka_summaries.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_internal.h"

kafka_part *kafka_part_get(kafka_source *k, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < k->n_parts; i++)
        if (k->parts[i].partition == partition && strcmp(k->parts[i].topic, topic) == 0)
            return &k->parts[i];
    if (k->n_parts == KAFKA_MAX_PARTS)
        return NULL;
    kafka_part *p = &k->parts[k->n_parts++];
    snprintf(p->topic, sizeof(p->topic), "%s", topic);
    p->partition = partition;
    p->delivered = p->stored = -1;
    p->from = p->resume = -1;
    return p;
}

/* Stores "delivered + 1" for every partition that moved, as Kafka's committed offset is the
 * next message to read. */
static int kafka_commit(fl_live_source *s)
{
    kafka_source *k = (kafka_source *)s;
    if (k->stage_one)
        return kafka_s1_commit(k);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < k->n_parts; i++) {
        kafka_part *p = &k->parts[i];
        if (p->assigned && p->delivered > p->stored)
            rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->delivered + 1;
    }
    int rc = 0;
    if (l->cnt) {
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(k->rk, l);
        for (int i = 0; i < l->cnt; i++) {
            kafka_part *p = kafka_part_get(k, l->elems[i].topic, l->elems[i].partition);
            if (p && !l->elems[i].err)
                p->stored = l->elems[i].offset - 1;
        }
        if (err && err != RD_KAFKA_RESP_ERR__STATE)
            rc = FL_EAGAIN;
    }
    /* Send them now rather than on an auto-commit timer: the shorter the gap between counting
     * and committing, the less a rebalance can hand to another member twice. A commit the
     * coordinator refused (a rebalance under way, a member expired while the brokers were
     * down) is sent again at the next checkpoint even if nothing new was counted: left behind,
     * it would hand those messages to the partition's next owner again. */
    if (l->cnt || k->commit_retry) {
        k->commit_retry = false;
        rd_kafka_commit(k->rk, NULL, 1);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Asks the sink to make its counts durable and commit (it calls kafka_commit); without a flush
 * callback, commits directly. */
static void kafka_flush(kafka_source *k)
{
    fl_live_sink *sink = &k->common.base.sink;
    if (sink->flush)
        sink->flush(sink->ctx, &k->common.base);
    else
        kafka_commit(&k->common.base);
}

static void kafka_mark_assigned(kafka_source *k, rd_kafka_topic_partition_list_t *parts,
                                bool assigned)
{
    for (int i = 0; i < parts->cnt; i++) {
        kafka_part *p = kafka_part_get(k, parts->elems[i].topic, parts->elems[i].partition);
        if (!p)
            continue;
        p->assigned = assigned;
        p->delivered = p->stored = p->from = -1;
        p->resync = false;
    }
}

static void kafka_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kafka_source *k = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        kafka_mark_assigned(k, parts, true);
        /* Stage one starts each partition where its last delta ended (read back from the
         * summaries topic), not at the committed offset. */
        bool resume_later = k->stage_one && !kafka_s1_resume(k, parts);
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, parts);
        }
        if (k->common.paused || resume_later)
            rd_kafka_pause_partitions(rk, parts);
        fl_live_common_event(&k->common, FL_LIVE_INFO, "kafka: %d partition(s) assigned",
                             parts->cnt);
        return;
    }
    /* Revoked or lost: make what we counted durable and commit it before another member
     * takes these partitions over, so it starts after our last counted message. */
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk)) {
        kafka_flush(k);
        rd_kafka_commit(rk, NULL, 0);
    }
    if (k->stage_one)
        kafka_s1_release(k, parts);
    kafka_mark_assigned(k, parts, false);
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e)
            rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
    fl_live_common_event(&k->common, FL_LIVE_INFO, "kafka: %d partition(s) revoked", parts->cnt);
}

uint64_t kafka_now_ms(kafka_source *k)
{
    return uv_now(k->common.loop);
}

static void kafka_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    kafka_source *k = opaque;
    if (k->debug) {
        for (int i = 0; offsets && i < offsets->cnt; i++)
            fprintf(stderr, "commit %s[%d]@%lld: %s\n", offsets->elems[i].topic,
                    offsets->elems[i].partition, (long long)offsets->elems[i].offset,
                    rd_kafka_err2name(offsets->elems[i].err));
    }
    bool refused = err && err != RD_KAFKA_RESP_ERR__NO_OFFSET;
    for (int i = 0; offsets && i < offsets->cnt; i++)
        refused |= offsets->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
    if (refused)
        k->commit_retry = true;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET &&
        fl_ratelimit_allow(&k->err_limit, kafka_now_ms(k)))
        fl_live_common_event(&k->common, FL_LIVE_WARN, "kafka: offset commit failed: %s",
                             rd_kafka_err2str(err));
}

static bool kafka_err_is_down(int err)
{
    return err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
           err == RD_KAFKA_RESP_ERR__RESOLVE;
}

/* Served from rd_kafka_consumer_poll (the main queue is forwarded), so on the loop thread. */
static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    kafka_source *k = opaque;
    uint64_t now = kafka_now_ms(k);
    if (kafka_err_is_down(err)) {
        /* A single broker dropping a connection is routine; only "all down" is worth a line. */
        if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || k->down)
            return;
        k->down = true;
        k->down_since_ms = now;
        if (fl_ratelimit_allow(&k->down_limit, now))
            fl_live_common_event(&k->common, FL_LIVE_WARN,
                                 "kafka: all brokers are down (%s); retrying in the background",
                                 reason);
        return;
    }
    if (fl_ratelimit_allow(&k->err_limit, now))
        fl_live_common_event(&k->common, FL_LIVE_WARN, "kafka: %s: %s", rd_kafka_err2name(err),
                             reason);
}

static void kafka_recovered(kafka_source *k)
{
    if (!k->down)
        return;
    k->down = false;
    fl_live_common_event(&k->common, FL_LIVE_INFO,
                         "kafka: brokers reachable again after %.1f s, consuming",
                         (double)(kafka_now_ms(k) - k->down_since_ms) / 1000.0);
    k->common.last_error[0] = '\0';
}

static void kafka_drain(kafka_source *k)
{
    if (k->closing)
        return;
    char scratch[64];
    while (read(k->pipe_fds[0], scratch, sizeof(scratch)) > 0) {
    }
    int delivered = 0;
    for (int n = 0; n < KAFKA_BATCH; n++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 0);
        if (!m)
            break;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                uint64_t now = kafka_now_ms(k);
                if (fl_ratelimit_allow(&k->err_limit, now))
                    fl_live_common_event(&k->common, FL_LIVE_WARN, "kafka: %s",
                                         rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        kafka_recovered(k);
        kafka_part *p = kafka_part_get(k, rd_kafka_topic_name(m->rkt), m->partition);
        if (k->stage_one) {
            /* A partition waiting for its resume point, or a message already in a delta
             * (fetched before a seek), is not counted. */
            if (p && !p->resync && m->offset > p->delivered) {
                if (p->from < 0)
                    p->from = m->offset;
                k->common.records++;
                fl_rate_tick(&k->common.rate, kafka_now_ms(k), 1);
                p->delivered = m->offset;
                if (k->deltas.record(k->deltas.ctx, m->partition, m->payload ? m->payload : "",
                                     m->len) < 0)
                    fl_live_common_event(&k->common, FL_LIVE_ERROR, "kafka: counting failed");
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        int rc = fl_live_common_deliver(&k->common, m->payload, m->len);
        if (p && rc == 0 && m->offset > p->delivered)
            p->delivered = m->offset;
        delivered++;
        rd_kafka_message_destroy(m);
    }
    /* Checkpoint and commit at the end of every batch: the shorter the time between counting
     * and committing, the fewer messages a rebalance can hand to another member uncommitted
     * (a coordinator may refuse commits once a rebalance has begun). */
    if (delivered && !k->closing && !k->stage_one) /* stage one: a delta every checkpoint */
        kafka_flush(k);
}

static void kafka_on_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    kafka_drain(h->data);
}

static void kafka_on_timer(uv_timer_t *t)
{
    kafka_source *k = t->data;
    if (k->resync && !k->closing)
        kafka_s1_resync(k);
    kafka_drain(k);
}

static int kafka_set(rd_kafka_conf_t *conf, const char *key, const char *val, char *errbuf,
                     size_t errlen)
{
    if (rd_kafka_conf_set(conf, key, val, errbuf, errlen) != RD_KAFKA_CONF_OK)
        return FL_EINVAL;
    return 0;
}

static void kafka_free(void *source)
{
    kafka_source *k = source;
    kafka_s1_free(k);
    if (k->queue)
        rd_kafka_queue_destroy(k->queue);
    if (k->rk)
        rd_kafka_destroy(k->rk);
    if (k->pipe_fds[0] >= 0)
        close(k->pipe_fds[0]);
    if (k->pipe_fds[1] >= 0)
        close(k->pipe_fds[1]);
    fl_free(k);
}

static int kafka_open(uv_loop_t *loop, const fl_live_config *cfg, const fl_live_sink *sink,
                      fl_live_source **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    bool ranker = cfg->summaries_from != NULL; /* stage two reads the summaries topic */
    const char *topic = ranker ? cfg->summaries_from : cfg->topic;
    if (ranker && (cfg->topic || cfg->summaries_to)) {
        snprintf(errbuf, errlen,
                 "kafka: --summaries-from ranks the summaries in its topic: give it without "
                 "--topic and --summaries-to (those are stage one's)");
        return FL_EINVAL;
    }
    if (!cfg->target || !*cfg->target || !topic || !*topic) {
        snprintf(errbuf, errlen, "kafka: --kafka BROKERS and --topic TOPIC are both required");
        return FL_EINVAL;
    }
    if (cfg->summaries_to && (!cfg->deltas || !*cfg->summaries_to)) {
        snprintf(errbuf, errlen, "kafka: --summaries-to needs a topic and a consumer of deltas");
        return FL_EINVAL;
    }
    kafka_source *k = fl_calloc(1, sizeof(*k));
    if (!k)
        return FL_ENOMEM;
    fl_live_common_init(&k->common, &fl_ingest_kafka, sink, loop, kafka_free);
    snprintf(k->common.base.label, sizeof(k->common.base.label), "kafka:%s", topic);
    k->debug = cfg->debug;
    k->pipe_fds[0] = k->pipe_fds[1] = -1;
    k->down_limit.period_ms = 60000;
    k->err_limit.period_ms = KAFKA_WARN_PERIOD_MS;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *group = cfg->group && *cfg->group ? cfg->group
                        : ranker                    ? "faultline-ranker"
                                                    : "faultline";
    int rc = 0;
    if (kafka_set(conf, "bootstrap.servers", cfg->target, errbuf, errlen) ||
        kafka_set(conf, "group.id", group, errbuf, errlen) ||
        kafka_set(conf, "client.id", "faultline", errbuf, errlen) ||
        kafka_set(conf, "enable.auto.offset.store", "false", errbuf, errlen) ||
        kafka_set(conf, "enable.auto.commit", "false", errbuf, errlen) ||
        kafka_set(conf, "auto.offset.reset", "earliest", errbuf, errlen) ||
        kafka_set(conf, "log_level", "0", errbuf, errlen))
        rc = FL_EINVAL;
    /* User properties last so they can override the defaults above. */
    for (size_t i = 0; !rc && i < cfg->n_props; i++) {
        const char *eq = strchr(cfg->props[i], '=');
        if (!eq) {
            snprintf(errbuf, errlen, "kafka: property \"%s\" is not key=value", cfg->props[i]);
            rc = FL_EINVAL;
            break;
        }
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - cfg->props[i]), cfg->props[i]);
        if (kafka_set(conf, key, eq + 1, errbuf, errlen))
            rc = FL_EINVAL;
    }
    if (rc) {
        rd_kafka_conf_destroy(conf);
        fl_free(k);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_rebalance_cb(conf, kafka_rebalance);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, kafka_commit_cb);

    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errbuf, errlen);
    if (!k->rk) {
        rd_kafka_conf_destroy(conf);
        fl_free(k);
        return FL_EINVAL;
    }
    rd_kafka_poll_set_consumer(k->rk);
    if (cfg->summaries_to && (rc = kafka_s1_open(k, cfg, errbuf, errlen)) != 0) {
        kafka_free(k);
        return rc;
    }
    k->queue = rd_kafka_queue_get_consumer(k->rk);
    if (pipe2(k->pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(errbuf, errlen, "kafka: pipe: %s", strerror(errno));
        kafka_free(k);
        return FL_EIO;
    }
    rd_kafka_queue_io_event_enable(k->queue, k->pipe_fds[1], "1", 1);

    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(k->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errbuf, errlen, "kafka: subscribe to %s: %s", topic, rd_kafka_err2str(err));
        kafka_free(k);
        return FL_EINVAL;
    }
    uv_poll_init(loop, &k->poll, k->pipe_fds[0]);
    uv_timer_init(loop, &k->timer);
    k->poll.data = k->timer.data = k;
    uv_poll_start(&k->poll, UV_READABLE, kafka_on_poll);
    uv_timer_start(&k->timer, kafka_on_timer, KAFKA_TICK_MS, KAFKA_TICK_MS);
    *out = &k->common.base;
    return 0;
}

static void kafka_pause_resume(fl_live_source *s, bool pause)
{
    kafka_source *k = (kafka_source *)s;
    if (k->common.paused == pause)
        return;
    k->common.paused = pause;
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(k->rk, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR && parts) {
        for (int i = 0; !pause && i < parts->cnt; i++) {
            kafka_part *p = kafka_part_get(k, parts->elems[i].topic, parts->elems[i].partition);
            if (p && p->resync) /* stays paused until its resume point is known */
                rd_kafka_topic_partition_list_del_by_idx(parts, i--);
        }
        if (pause)
            rd_kafka_pause_partitions(k->rk, parts);
        else
            rd_kafka_resume_partitions(k->rk, parts);
        rd_kafka_topic_partition_list_destroy(parts);
    }
}

static void kafka_pause(fl_live_source *s)
{
    kafka_pause_resume(s, true);
}

static void kafka_resume(fl_live_source *s)
{
    kafka_pause_resume(s, false);
}

static void kafka_health(fl_live_source *s, fl_live_health *h)
{
    kafka_source *k = (kafka_source *)s;
    fl_live_common_health(&k->common, h);
    h->connected = !k->down;
    /* Lag from the watermarks librdkafka caches from fetch responses (no broker round trip). */
    int64_t lag = 0;
    bool known = false;
    for (size_t i = 0; i < k->n_parts; i++) {
        kafka_part *p = &k->parts[i];
        int64_t lo, hi;
        if (!p->assigned ||
            rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0)
            continue;
        known = true;
        int64_t pos = p->delivered >= 0 ? p->delivered + 1 : lo;
        if (hi > pos)
            lag += hi - pos;
    }
    h->lag = known ? lag : -1;
}

static void kafka_close(fl_live_source *s, void (*done)(void *), void *arg)
{
    kafka_source *k = (kafka_source *)s;
    fl_live_common_closing(&k->common, done, arg, 2);
    /* consumer_close serves the final revoke (which flushes and commits) before leaving the
     * group, so a clean exit hands the partitions over without re-delivery. */
    rd_kafka_consumer_close(k->rk);
    k->closing = true;
    uv_poll_stop(&k->poll);
    uv_timer_stop(&k->timer);
    uv_close((uv_handle_t *)&k->poll, fl_live_common_handle_closed);
    uv_close((uv_handle_t *)&k->timer, fl_live_common_handle_closed);
}

static const fl_live_option kafka_options[] = {
    {"kafka", 0, FL_LIVE_OPT_STRING, "BROKERS", "consume LogEntry JSON from Kafka (host:port,...)",
     offsetof(fl_live_config, target), FL_LIVE_OPT_OPENS},
    {"topic", 0, FL_LIVE_OPT_STRING, "TOPIC", "Kafka topic", offsetof(fl_live_config, topic),
     FL_LIVE_OPT_OPENS},
    {"group", 0, FL_LIVE_OPT_STRING, "GROUP", "Kafka consumer group (default faultline)",
     offsetof(fl_live_config, group), 0},
    {"kafka-property", 0, FL_LIVE_OPT_STRINGS, "KEY=VALUE",
     "librdkafka client property (security.protocol=ssl, ...)", 0, 0},
    {"summaries-to", 0, FL_LIVE_OPT_STRING, "TOPIC",
     "two stages, stage one: produce this member's counts as delta summaries to TOPIC",
     offsetof(fl_live_config, summaries_to), 0},
    {"summaries-from", 0, FL_LIVE_OPT_STRING, "TOPIC",
     "two stages, stage two: rank the delta summaries in TOPIC, each offset range once",
     offsetof(fl_live_config, summaries_from), FL_LIVE_OPT_OPENS},
    {NULL, 0, FL_LIVE_OPT_STRING, NULL, NULL, 0, 0},
};

const fl_live_ops fl_ingest_kafka = {
    .name = "kafka",
    .options = kafka_options,
    .open = kafka_open,
    .pause = kafka_pause,
    .resume = kafka_resume,
    .commit = kafka_commit,
    .health = kafka_health,
    .close = kafka_close,
};
