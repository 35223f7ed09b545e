/* Stage one of the two-stage Kafka pipeline (`tail --kafka B --topic T --group G
 * --summaries-to S`, docs/scale.md).
 *
 * Each member of the group counts its partitions into one delta per partition (the consumer's
 * fl_live_delta_sink) and, at every checkpoint, produces each delta to S as an envelope naming
 * the raw partition and the offsets [from, to) it covers (kafka_delta.h), with acks=all and an
 * idempotent producer. The summaries topic is the record of progress ("store offsets with the
 * output"): a member assigned a partition reads S back and starts at the end of the deltas stage
 * two will have applied for it (the same fl_delta_check rule), not at the committed offset. The
 * committed offset is still written after each delta, as a hint for monitoring (lag).
 *
 * Delta ranges stay consistent through every failure this process can see:
 *  - revoked: the final delta is produced before the partitions are given up;
 *  - lost (session timeout) or killed: what was counted since the last delta is dropped, and
 *    the next owner reads it again from where the last delta ended;
 *  - a delta not acknowledged: the partition is paused, read back again, and resumes after
 *    whatever of it did reach the topic.
 * The producer and the read-back consumer block the loop (bounded by their timeouts) while they
 * wait; they run once per checkpoint and per assignment. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_internal.h"

#define S1_PRODUCE_TIMEOUT_MS 30000
#define S1_READBACK_TIMEOUT_MS 30000
#define S1_METADATA_TIMEOUT_MS 10000
/* A delta is bounded like any summary (services x revisions x buckets x groups); past this the
 * delta is not produced and its partition is read again (a warning says so). */
#define S1_DELTA_MAX_BYTES ((size_t)256 << 20)

static void s1_set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
    char err[256];
    rd_kafka_conf_set(conf, key, val, err, sizeof(err));
}

/* A client configuration with the user's properties (security settings apply to every client;
 * a property of another client type is ignored by librdkafka). */
static rd_kafka_conf_t *s1_conf(const fl_live_config *cfg, const char *client_id)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    s1_set(conf, "bootstrap.servers", cfg->target);
    s1_set(conf, "client.id", client_id);
    s1_set(conf, "log_level", "0");
    for (size_t i = 0; i < cfg->n_props; i++) {
        const char *eq = strchr(cfg->props[i], '=');
        char key[128];
        if (!eq)
            continue;
        snprintf(key, sizeof(key), "%.*s", (int)(eq - cfg->props[i]), cfg->props[i]);
        s1_set(conf, key, eq + 1);
    }
    return conf;
}

static void s1_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    kafka_part *p = m->_private;
    if (p)
        p->dr_err = m->err;
}

static int s1_partition_count(kafka_source *k, char *errbuf, size_t errlen)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(k->producer, k->sum_topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = t ? rd_kafka_metadata(k->producer, 0, t, &md, S1_METADATA_TIMEOUT_MS)
                                : RD_KAFKA_RESP_ERR__INVALID_ARG;
    if (!err && md->topic_cnt == 1)
        err = md->topics[0].err;
    int n = !err && md ? md->topics[0].partition_cnt : 0;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (t)
        rd_kafka_topic_destroy(t);
    if (err || n <= 0) {
        snprintf(errbuf, errlen,
                 "kafka: --summaries-to %s: cannot read the topic's partitions (%s): create it "
                 "first (any number of partitions, replication 3)",
                 k->sum_topic, err ? rd_kafka_err2str(err) : "no partitions");
        return FL_EINVAL;
    }
    k->sum_parts = n;
    return 0;
}

int kafka_s1_open(kafka_source *k, const fl_live_config *cfg, char *errbuf, size_t errlen)
{
    k->stage_one = true;
    k->deltas = *cfg->deltas;
    k->resync_limit.period_ms = KAFKA_WARN_PERIOD_MS;
    fl_copy_str(k->raw_topic, sizeof(k->raw_topic), cfg->topic);
    fl_copy_str(k->sum_topic, sizeof(k->sum_topic), cfg->summaries_to);
    char host[64] = "";
    gethostname(host, sizeof(host) - 1);
    snprintf(k->member, sizeof(k->member), "%s:%ld", host, (long)getpid());

    rd_kafka_conf_t *conf = s1_conf(cfg, "faultline-summaries");
    /* Every delta written to all in-sync replicas, once, in order. */
    s1_set(conf, "acks", "all");
    s1_set(conf, "enable.idempotence", "true");
    s1_set(conf, "linger.ms", "0");
    rd_kafka_conf_set_dr_msg_cb(conf, s1_delivery);
    char err[512];
    if (!(k->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)))) {
        rd_kafka_conf_destroy(conf);
        snprintf(errbuf, errlen, "kafka: summaries producer: %s", err);
        return FL_EINVAL;
    }
    conf = s1_conf(cfg, "faultline-readback");
    /* Assigned by hand, never committing: the group is only a name librdkafka wants. */
    s1_set(conf, "group.id", "faultline-readback");
    s1_set(conf, "enable.auto.commit", "false");
    s1_set(conf, "enable.partition.eof", "true");
    s1_set(conf, "auto.offset.reset", "earliest");
    if (!(k->reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err)))) {
        rd_kafka_conf_destroy(conf);
        snprintf(errbuf, errlen, "kafka: summaries reader: %s", err);
        return FL_EINVAL;
    }
    int rc = s1_partition_count(k, errbuf, errlen);
    if (rc)
        return rc;
    if (!(k->scan_pos = fl_calloc((size_t)k->sum_parts, sizeof(*k->scan_pos))))
        return FL_ENOMEM;
    return 0;
}

void kafka_s1_free(kafka_source *k)
{
    if (k->producer) {
        rd_kafka_flush(k->producer, 5000);
        rd_kafka_destroy(k->producer);
    }
    if (k->reader) {
        rd_kafka_consumer_close(k->reader);
        rd_kafka_destroy(k->reader);
    }
    fl_free(k->scan_pos);
    k->producer = k->reader = NULL;
    k->scan_pos = NULL;
}

/* One envelope read back: moves the raw partition's resume point as stage two's high-water mark
 * moves. */
static void s1_read_one(kafka_source *k, const rd_kafka_message_t *m)
{
    fl_delta_header h;
    const void *body;
    size_t blen;
    if (!m->payload || fl_delta_parse(m->payload, m->len, &h, &body, &blen) != 0 ||
        strcmp(h.topic, k->raw_topic) != 0)
        return;
    kafka_part *p = kafka_part_get(k, h.topic, h.partition);
    if (!p)
        return;
    fl_delta_verdict v = fl_delta_check(p->resume, h.from, h.to);
    if (v == FL_DELTA_APPLY || v == FL_DELTA_GAP)
        p->resume = h.to;
}

/* Reads every summaries partition from where the last read-back stopped to its current end.
 * True when all were read to the end. */
static bool s1_read_back(kafka_source *k)
{
    int64_t *hi = fl_calloc((size_t)k->sum_parts, sizeof(*hi));
    if (!hi)
        return false;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(k->sum_parts);
    bool ok = true;
    int waiting = 0;
    for (int32_t sp = 0; ok && sp < k->sum_parts; sp++) {
        int64_t lo = 0;
        if (rd_kafka_query_watermark_offsets(k->reader, k->sum_topic, sp, &lo, &hi[sp],
                                             S1_METADATA_TIMEOUT_MS) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            ok = false;
            break;
        }
        if (k->scan_pos[sp] < lo) /* deleted by retention: what is left is all there is */
            k->scan_pos[sp] = lo;
        if (k->scan_pos[sp] < hi[sp]) {
            rd_kafka_topic_partition_list_add(l, k->sum_topic, sp)->offset = k->scan_pos[sp];
            waiting++;
        }
    }
    if (ok && waiting && rd_kafka_assign(k->reader, l) != RD_KAFKA_RESP_ERR_NO_ERROR)
        ok = false;
    uint64_t deadline = uv_hrtime() / 1000000 + S1_READBACK_TIMEOUT_MS;
    while (ok && waiting > 0) {
        if (uv_hrtime() / 1000000 > deadline) {
            ok = false;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->reader, 200);
        if (!m)
            continue;
        int32_t sp = m->partition;
        if (sp >= 0 && sp < k->sum_parts && k->scan_pos[sp] < hi[sp]) {
            if (!m->err) {
                s1_read_one(k, m);
                k->scan_pos[sp] = m->offset + 1;
            } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->offset > k->scan_pos[sp]) {
                k->scan_pos[sp] = m->offset;
            }
            if (k->scan_pos[sp] >= hi[sp] || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                k->scan_pos[sp] = k->scan_pos[sp] > hi[sp] ? k->scan_pos[sp] : hi[sp];
                waiting--;
            }
        }
        rd_kafka_message_destroy(m);
    }
    if (l->cnt)
        rd_kafka_assign(k->reader, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    fl_free(hi);
    return ok;
}

bool kafka_s1_resume(kafka_source *k, rd_kafka_topic_partition_list_t *parts)
{
    bool ok = s1_read_back(k);
    for (int i = 0; i < parts->cnt; i++) {
        kafka_part *p = kafka_part_get(k, parts->elems[i].topic, parts->elems[i].partition);
        if (!p)
            continue;
        if (!ok) {
            p->resync = true;
            k->resync = true;
            continue;
        }
        /* No delta yet: from the start of the partition (what stage two has never seen). */
        parts->elems[i].offset = p->resume >= 0 ? p->resume : RD_KAFKA_OFFSET_BEGINNING;
        p->from = p->resume;
        p->delivered = p->resume - 1;
        if (k->debug)
            fprintf(stderr, "resume %s[%d]@%" PRId64 "\n", p->topic, p->partition, p->resume);
    }
    if (!ok)
        fl_live_common_event(&k->common, FL_LIVE_WARN,
                             "kafka: cannot read %s back to find where %d partition(s) resume; "
                             "they wait and it is tried again",
                             k->sum_topic, parts->cnt);
    else
        fl_live_common_event(&k->common, FL_LIVE_INFO,
                             "kafka: %d partition(s) resume where their last delta in %s ended",
                             parts->cnt, k->sum_topic);
    return ok;
}

void kafka_s1_resync(kafka_source *k)
{
    if (!s1_read_back(k)) {
        if (fl_ratelimit_allow(&k->resync_limit, kafka_now_ms(k)))
            fl_live_common_event(&k->common, FL_LIVE_WARN,
                                 "kafka: still cannot read %s back; partitions stay paused",
                                 k->sum_topic);
        return;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < k->n_parts; i++) {
        kafka_part *p = &k->parts[i];
        if (!p->assigned || !p->resync)
            continue;
        k->deltas.drop(k->deltas.ctx, p->partition);
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset =
            p->resume >= 0 ? p->resume : RD_KAFKA_OFFSET_BEGINNING;
        p->from = p->resume;
        p->delivered = p->resume - 1;
        p->resync = false;
    }
    k->resync = false;
    if (l->cnt) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(k->rk, l, S1_METADATA_TIMEOUT_MS);
        if (e)
            rd_kafka_error_destroy(e);
        if (!k->common.paused)
            rd_kafka_resume_partitions(k->rk, l);
        fl_live_common_event(&k->common, FL_LIVE_INFO,
                             "kafka: %d partition(s) resume after their last delta", l->cnt);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

void kafka_s1_release(kafka_source *k, rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++)
        k->deltas.drop(k->deltas.ctx, parts->elems[i].partition);
}

/* Builds and produces the envelope of p's delta; false when nothing could be queued. */
static bool s1_produce(kafka_source *k, kafka_part *p)
{
    fl_delta_header h;
    memset(&h, 0, sizeof(h));
    fl_copy_str(h.topic, sizeof(h.topic), p->topic);
    fl_copy_str(h.member, sizeof(h.member), k->member);
    h.partition = p->partition;
    h.from = p->from;
    h.to = p->delivered + 1;
    fl_buf body, env;
    fl_buf_init(&body, S1_DELTA_MAX_BYTES);
    fl_buf_init(&env, S1_DELTA_MAX_BYTES + 4096);
    int rc = k->deltas.take(k->deltas.ctx, p->partition, &body, &h.newest);
    if (!rc)
        rc = fl_delta_header_write(&env, &h);
    if (!rc)
        rc = fl_buf_add(&env, body.data, body.len);
    fl_buf_free(&body);
    char key[FL_DELTA_TOPIC_MAX + 16];
    snprintf(key, sizeof(key), "%s/%d", p->topic, (int)p->partition);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__FAIL;
    while (!rc && (err = rd_kafka_producev(
                       k->producer, RD_KAFKA_V_TOPIC(k->sum_topic),
                       RD_KAFKA_V_PARTITION(
                           fl_delta_summaries_partition(p->topic, p->partition, k->sum_parts)),
                       RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(env.data, env.len),
                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(p),
                       RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(k->producer, 100);
    p->pending_bytes = env.len;
    fl_buf_free(&env);
    p->pending_to = h.to;
    p->dr_err = -1;
    p->pending = true;
    if (rc || err) {
        p->dr_err = rc ? RD_KAFKA_RESP_ERR__FAIL : (int)err;
        return false;
    }
    return true;
}

/* The delta of p was not acknowledged: its counts are gone from this process; pause p and
 * find out from the topic where it resumes. */
static void s1_failed(kafka_source *k, kafka_part *p, rd_kafka_topic_partition_list_t *pause)
{
    fl_live_common_event(&k->common, FL_LIVE_WARN,
                         "kafka: the delta of %s[%d] offsets [%" PRId64 ", %" PRId64
                         ") was not acknowledged (%s): reading the partition again after its "
                         "last delta in %s",
                         p->topic, p->partition, p->from, p->pending_to,
                         rd_kafka_err2str((rd_kafka_resp_err_t)p->dr_err), k->sum_topic);
    p->resync = true;
    k->resync = true;
    rd_kafka_topic_partition_list_add(pause, p->topic, p->partition);
}

int kafka_s1_commit(kafka_source *k)
{
    int produced = 0;
    for (size_t i = 0; i < k->n_parts; i++) {
        kafka_part *p = &k->parts[i];
        p->pending = false;
        if (!p->assigned || p->resync || p->from < 0 || p->delivered < p->from)
            continue;
        produced += s1_produce(k, p);
    }
    if (produced && rd_kafka_flush(k->producer, S1_PRODUCE_TIMEOUT_MS) != 0) {
        /* Not acknowledged in time: take them back (a message already sent may still be
         * written; the read-back after this sees it if it was). */
        rd_kafka_purge(k->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(k->producer, 0);
    }
    rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(8);
    rd_kafka_topic_partition_list_t *pause = rd_kafka_topic_partition_list_new(1);
    for (size_t i = 0; i < k->n_parts; i++) {
        kafka_part *p = &k->parts[i];
        if (!p->pending)
            continue;
        p->pending = false;
        if (p->dr_err != 0) {
            s1_failed(k, p, pause);
            continue;
        }
        if (k->debug)
            fprintf(stderr, "delta %s[%d] [%" PRId64 ", %" PRId64 ") %zu bytes\n", p->topic,
                    p->partition, p->from, p->pending_to, p->pending_bytes);
        /* p->resume is left to the read-back, so that it follows stage two's rule over the
         * topic exactly (a zombie's delta before ours changes where stage two's mark is). */
        p->from = p->pending_to;
        rd_kafka_topic_partition_list_add(commit, p->topic, p->partition)->offset = p->pending_to;
    }
    if (pause->cnt)
        rd_kafka_pause_partitions(k->rk, pause);
    rd_kafka_topic_partition_list_destroy(pause);
    int rc = 0;
    if (commit->cnt) {
        /* The committed offset is only a hint (lag, monitoring): resuming reads the summaries. */
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(k->rk, commit);
        for (int i = 0; i < commit->cnt; i++) {
            kafka_part *p = kafka_part_get(k, commit->elems[i].topic, commit->elems[i].partition);
            if (p && !commit->elems[i].err)
                p->stored = commit->elems[i].offset - 1;
        }
        if (err && err != RD_KAFKA_RESP_ERR__STATE)
            rc = FL_EAGAIN;
        rd_kafka_commit(k->rk, NULL, 1);
    }
    rd_kafka_topic_partition_list_destroy(commit);
    return rc;
}
