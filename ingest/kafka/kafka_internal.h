/* Internal to ingest/kafka: the Kafka source's state, shared by kafka.c (the consumer) and
 * kafka_summaries.c (stage one of the two-stage pipeline). */
#ifndef FL_KAFKA_INTERNAL_H
#define FL_KAFKA_INTERNAL_H

#include <librdkafka/rdkafka.h>

#include "kafka_delta.h"
#include "live_common.h"

#define KAFKA_MAX_PARTS 1024
#define KAFKA_BATCH 2000 /* messages per loop turn, so other sources get a turn */
#define KAFKA_TICK_MS 100
#define KAFKA_WARN_PERIOD_MS 30000

typedef struct kafka_part {
    char topic[128];
    int32_t partition;
    int64_t delivered; /* offset of the last message handed to the sink, -1 none */
    int64_t stored;    /* last offset stored (committed position - 1), -1 none */
    bool assigned;
    /* stage one (kafka_summaries.c) */
    int64_t from;         /* first offset of the delta being counted, -1 none yet */
    int64_t resume;       /* where stage two's high-water mark is, as read back; -1 none */
    int64_t pending_to;   /* end of the delta waiting for its delivery report */
    size_t pending_bytes; /* and its size (FL_KAFKA_DEBUG traces) */
    int dr_err;           /* its delivery report: 0 delivered, -1 none yet, else the error */
    bool pending;
    bool resync; /* paused until its resume point is read back */
} kafka_part;

typedef struct kafka_source {
    fl_live_common common; /* first */
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    int pipe_fds[2];
    uv_poll_t poll;
    uv_timer_t timer;
    bool closing;
    bool debug; /* commit traces on stderr (the CLI sets it from FL_KAFKA_DEBUG) */
    bool down;  /* all brokers down reported, waiting for recovery */
    bool commit_retry; /* the coordinator refused a commit: send the stored offsets again */
    uint64_t down_since_ms;
    fl_ratelimit down_limit;
    fl_ratelimit err_limit;
    kafka_part parts[KAFKA_MAX_PARTS];
    size_t n_parts;
    /* stage one (--summaries-to, kafka_summaries.c) */
    bool stage_one;
    bool resync; /* some partition waits for its resume point */
    fl_live_delta_sink deltas;
    char raw_topic[FL_DELTA_TOPIC_MAX];
    char sum_topic[FL_DELTA_TOPIC_MAX];
    char member[128];
    rd_kafka_t *producer; /* acks=all, idempotent */
    rd_kafka_t *reader;   /* reads the summaries topic back, no group */
    int32_t sum_parts;
    int64_t *scan_pos; /* [sum_parts]: next summaries offset to read back */
    fl_ratelimit resync_limit;
} kafka_source;

kafka_part *kafka_part_get(kafka_source *k, const char *topic, int32_t partition);
uint64_t kafka_now_ms(kafka_source *k);

/* --- stage one (kafka_summaries.c) --- */

/* Creates the producer and the read-back consumer and learns the summaries topic's partition
 * count. 0, or a code with errbuf filled. */
int kafka_s1_open(kafka_source *k, const fl_live_config *cfg, char *errbuf, size_t errlen);
void kafka_s1_free(kafka_source *k);
/* Partitions being assigned: reads the summaries topic back and sets each one's starting offset
 * to where stage two's high-water mark for it is. False when the topic could not be read (the
 * caller pauses those partitions and kafka_s1_resync retries). */
bool kafka_s1_resume(kafka_source *k, rd_kafka_topic_partition_list_t *parts);
/* Produces the delta of every partition that counted something, waits for acks=all, then
 * stores and commits the consumer offsets (a hint). A delta that fails is dropped and its
 * partition re-read from its resume point. */
int kafka_s1_commit(kafka_source *k);
/* Retries reading back the resume points of paused partitions, seeks and resumes them. */
void kafka_s1_resync(kafka_source *k);
/* Partitions revoked or lost: what they counted since their last delta is dropped. */
void kafka_s1_release(kafka_source *k, rd_kafka_topic_partition_list_t *parts);

#endif
