/* The delta envelope of the two-stage Kafka pipeline (ingest/kafka/kafka_delta.h): round trip,
 * damage refused, the high-water-mark rule both stages share, and the summaries partition. */
#include <string.h>

#include "fl_test.h"
#include "kafka/kafka_delta.h"

static void test_round_trip(void)
{
    fl_delta_header h, back;
    memset(&h, 0, sizeof(h));
    strcpy(h.topic, "cloudrun-logs");
    strcpy(h.member, "host-a:4242");
    h.partition = 7;
    h.from = 1000;
    h.to = 1500;
    h.newest = 1700000000123456;
    fl_buf b;
    fl_buf_init(&b, 1 << 20);
    MUST_OK(fl_delta_header_write(&b, &h));
    MUST_OK(fl_buf_add(&b, "SUMMARYBYTES", 12));
    const void *body = NULL;
    size_t blen = 0;
    CHECK_INT(fl_delta_parse(b.data, b.len, &back, &body, &blen), 0);
    CHECK_STR(back.topic, "cloudrun-logs");
    CHECK_STR(back.member, "host-a:4242");
    CHECK_INT(back.partition, 7);
    CHECK_INT(back.from, 1000);
    CHECK_INT(back.to, 1500);
    CHECK_INT(back.newest, 1700000000123456);
    CHECK_INT(blen, 12);
    CHECK(body && !memcmp(body, "SUMMARYBYTES", 12));

    /* Any flipped header byte fails the header checksum; a cut header is refused. */
    size_t header = b.len - 12;
    for (size_t i = 8; i < header; i++) {
        b.data[i] ^= 0x20;
        CHECK_INT(fl_delta_parse(b.data, b.len, &back, &body, &blen), FL_EPARSE);
        b.data[i] ^= 0x20;
    }
    CHECK_INT(fl_delta_parse(b.data, header - 1, &back, &body, &blen), FL_EPARSE);
    CHECK_INT(fl_delta_parse("FLSUMMRY", 8, &back, &body, &blen), FL_EPARSE);
    CHECK_INT(fl_delta_parse("{\"insertId\":1}", 14, &back, &body, &blen), FL_EPARSE);

    /* An empty or backwards range is not a delta. */
    fl_buf_reset(&b);
    h.to = h.from;
    MUST_OK(fl_delta_header_write(&b, &h));
    CHECK_INT(fl_delta_parse(b.data, b.len, &back, &body, &blen), FL_EPARSE);
    fl_buf_free(&b);
}

static void test_hwm_rule(void)
{
    CHECK_INT(fl_delta_check(-1, 0, 10), FL_DELTA_APPLY);      /* first seen */
    CHECK_INT(fl_delta_check(-1, 500, 510), FL_DELTA_APPLY);   /* first seen, after retention */
    CHECK_INT(fl_delta_check(10, 10, 20), FL_DELTA_APPLY);     /* continues */
    CHECK_INT(fl_delta_check(20, 10, 20), FL_DELTA_DUPLICATE); /* delivered again */
    CHECK_INT(fl_delta_check(20, 0, 10), FL_DELTA_DUPLICATE);
    CHECK_INT(fl_delta_check(20, 15, 20), FL_DELTA_DUPLICATE);
    CHECK_INT(fl_delta_check(20, 25, 30), FL_DELTA_GAP);
    /* A zombie's delta that started before the mark and ends after it cannot be split. */
    CHECK_INT(fl_delta_check(20, 10, 30), FL_DELTA_OVERLAP);
    CHECK_INT(fl_delta_check(20, 19, 21), FL_DELTA_OVERLAP);
}

static void test_summaries_partition(void)
{
    CHECK_INT(fl_delta_summaries_partition("logs", 3, 1), 0);
    int32_t seen[3] = {0, 0, 0};
    for (int32_t p = 0; p < 30; p++) {
        int32_t sp = fl_delta_summaries_partition("logs", p, 3);
        CHECK(sp >= 0 && sp < 3);
        CHECK_INT(fl_delta_summaries_partition("logs", p, 3), sp); /* stable */
        seen[sp]++;
    }
    CHECK(seen[0] == 10 && seen[1] == 10 && seen[2] == 10); /* consecutive partitions spread */
}

int main(void)
{
    test_round_trip();
    test_hwm_rule();
    test_summaries_partition();
    return fl_test_done();
}
