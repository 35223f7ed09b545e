/* The delta envelope: writing, parsing and the high-water-mark rule (kafka_delta.h).
 *
 *   "FLDELTA1"  topic str  partition u32  from i64  to i64  newest i64  member str
 *   header_checksum u64 (FNV-1a 64 of everything before it)   then the summary bytes
 *
 * Integers little-endian, str = u32 length + bytes. The summary carries its own checksum. */
#include "kafka_delta.h"

#include <string.h>

static void put_u32(fl_buf *b, uint32_t v, int *rc)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    if (!*rc)
        *rc = fl_buf_add(b, x, 4);
}

static void put_u64(fl_buf *b, uint64_t v, int *rc)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    if (!*rc)
        *rc = fl_buf_add(b, x, 8);
}

static void put_str(fl_buf *b, const char *s, int *rc)
{
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n, rc);
    if (!*rc)
        *rc = fl_buf_add(b, s, n);
}

int fl_delta_header_write(fl_buf *out, const fl_delta_header *h)
{
    size_t start = out->len;
    int rc = fl_buf_add(out, FL_DELTA_MAGIC, 8);
    put_str(out, h->topic, &rc);
    put_u32(out, (uint32_t)h->partition, &rc);
    put_u64(out, (uint64_t)h->from, &rc);
    put_u64(out, (uint64_t)h->to, &rc);
    put_u64(out, (uint64_t)h->newest, &rc);
    put_str(out, h->member, &rc);
    if (!rc)
        put_u64(out, fl_hash64(out->data + start, out->len - start, FL_HASH_SEED), &rc);
    return rc;
}

typedef struct rd {
    const unsigned char *p, *end;
    bool bad;
} rd;

static uint64_t get_n(rd *r, int n)
{
    if (r->bad || r->end - r->p < n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}

static void get_str(rd *r, char *dst, size_t cap)
{
    uint64_t n = get_n(r, 4);
    if (r->bad || n >= cap || n > (uint64_t)(r->end - r->p) || memchr(r->p, '\0', n)) {
        r->bad = true;
        dst[0] = '\0';
        return;
    }
    memcpy(dst, r->p, n);
    dst[n] = '\0';
    r->p += n;
}

int fl_delta_parse(const void *data, size_t len, fl_delta_header *h, const void **body,
                   size_t *body_len)
{
    memset(h, 0, sizeof(*h));
    const unsigned char *p = data;
    if (len < 8 || memcmp(p, FL_DELTA_MAGIC, 8) != 0)
        return FL_EPARSE;
    rd r = {p + 8, p + len, false};
    get_str(&r, h->topic, sizeof(h->topic));
    h->partition = (int32_t)get_n(&r, 4);
    h->from = (int64_t)get_n(&r, 8);
    h->to = (int64_t)get_n(&r, 8);
    h->newest = (fl_time)get_n(&r, 8);
    get_str(&r, h->member, sizeof(h->member));
    size_t covered = (size_t)(r.p - p);
    uint64_t sum = get_n(&r, 8);
    if (r.bad || sum != fl_hash64(p, covered, FL_HASH_SEED) || h->partition < 0 || h->from < 0 ||
        h->to <= h->from)
        return FL_EPARSE;
    *body = r.p;
    *body_len = (size_t)(r.end - r.p);
    return 0;
}

fl_delta_verdict fl_delta_check(int64_t hwm, int64_t from, int64_t to)
{
    if (hwm < 0 || from == hwm)
        return FL_DELTA_APPLY;
    if (to <= hwm)
        return FL_DELTA_DUPLICATE;
    if (from > hwm)
        return FL_DELTA_GAP;
    return FL_DELTA_OVERLAP;
}

int32_t fl_delta_summaries_partition(const char *topic, int32_t partition, int32_t n)
{
    if (n <= 1)
        return 0;
    uint64_t h = fl_hash64(topic, strlen(topic), FL_HASH_SEED);
    return (int32_t)((h + (uint64_t)(uint32_t)partition) % (uint64_t)n);
}
