/* The delta envelope of the two-stage Kafka pipeline (docs/scale.md): what stage one
 * (`tail --summaries-to`) produces per raw partition and stage two (`--summaries-from`) applies.
 *
 * A message on the summaries topic is an envelope naming one raw partition and the offset range
 * [from, to) it covers, followed by a summary (docs/summary-format.md) of what was counted from
 * those offsets. Envelopes of one raw partition always go to the same summaries partition
 * (fl_delta_summaries_partition), so they stay in the order they were produced.
 *
 * Both stages decide with fl_delta_check whether a delta continues what was applied: stage two
 * to apply it at most once, stage one (reading the topic back on assignment) to resume a
 * partition exactly where stage two's high-water mark will be. */
#ifndef FL_KAFKA_DELTA_H
#define FL_KAFKA_DELTA_H

#include "fl_common.h"

#define FL_DELTA_MAGIC "FLDELTA1"
#define FL_DELTA_TOPIC_MAX 256

typedef struct fl_delta_header {
    char topic[FL_DELTA_TOPIC_MAX]; /* the raw topic */
    int32_t partition;              /* the raw partition */
    int64_t from, to;               /* offsets [from, to) of the raw partition */
    fl_time newest;                 /* the newest entry's time (0: none) */
    char member[128];               /* who produced it (host:pid), for messages */
} fl_delta_header;

/* Appends the envelope header to out (the summary bytes follow it). 0 or a fl_buf code. */
int fl_delta_header_write(fl_buf *out, const fl_delta_header *h);
/* Parses an envelope: 0 with *h filled and *body, *body_len the summary bytes, or FL_EPARSE
 * (not an envelope, damaged, or an impossible range). */
int fl_delta_parse(const void *data, size_t len, fl_delta_header *h, const void **body,
                   size_t *body_len);

typedef enum {
    FL_DELTA_APPLY,     /* continues the high-water mark (or none was known): apply */
    FL_DELTA_GAP,       /* starts past the mark: apply; offsets [mark, from) were never counted */
    FL_DELTA_DUPLICATE, /* ends at or before the mark: already applied, skip */
    FL_DELTA_OVERLAP,   /* starts before the mark and ends past it: its counts cannot be split,
                         * refuse it; [mark, to) is not counted from this delta */
} fl_delta_verdict;

/* What to do with [from, to) given the partition's high-water mark (-1: none yet). The new mark
 * is `to` after APPLY and GAP and unchanged otherwise. */
fl_delta_verdict fl_delta_check(int64_t hwm, int64_t from, int64_t to);

/* The summaries partition (of n) that carries the deltas of raw topic/partition. */
int32_t fl_delta_summaries_partition(const char *topic, int32_t partition, int32_t n);

#endif
