/* gzip decoding with zlib. Concatenated members (as `cat a.gz b.gz` or pigz produce) are read
 * one after another; a member that ends early or fails its checks marks the stream damaged. */
#include "ingest_internal.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

typedef struct gz_state {
    z_stream z;
    bool member_done; /* between members: the next bytes decide whether another follows */
    bool finished;
} gz_state;

static int gz_init(fl_stream *s, void **state)
{
    (void)s;
    gz_state *g = fl_calloc(1, sizeof(*g));
    if (!g)
        return FL_ENOMEM;
    /* 15 + 16: gzip wrapper only, so a zlib or raw stream is not silently accepted. */
    if (inflateInit2(&g->z, 15 + 16) != Z_OK) {
        fl_free(g);
        return FL_ENOMEM;
    }
    *state = g;
    return 0;
}

static void gz_free(void *state)
{
    gz_state *g = state;
    if (!g)
        return;
    inflateEnd(&g->z);
    fl_free(g);
}

/* After a member: another member must start with the gzip magic. Zero padding to the end of
 * the file (tape-style) ends the stream quietly. Anything else after the last member is input
 * faultline could not read, so the stream is marked damaged (partial input, exit 3): a
 * truncated second archive appended to the first must not pass as a clean read. */
static int gz_next_member(fl_stream *s, gz_state *g)
{
    fl_raw *r = fl_stream_raw(s);
    while (r->len - r->pos < 2 && !r->eof)
        if (fl_stream_raw_fill(s) < 0)
            return -1;
    size_t avail = r->len - r->pos;
    if (avail == 0)
        return 0;
    if (avail >= 2 && r->buf[r->pos] == 0x1f && r->buf[r->pos + 1] == 0x8b) {
        inflateReset(&g->z);
        g->member_done = false;
        return 1;
    }
    for (;;) {
        for (; r->pos < r->len; r->pos++)
            if (r->buf[r->pos] != 0) {
                fl_stream_damage(s, "bytes after the last gzip member are not gzip data "
                                    "(appended or damaged archive)");
                return 0;
            }
        if (r->eof || fl_stream_raw_fill(s) < 0 || r->pos == r->len)
            return 0;
    }
}

static ssize_t gz_read(fl_stream *s, void *state, char *buf, size_t n)
{
    gz_state *g = state;
    fl_raw *r = fl_stream_raw(s);
    if (g->finished)
        return 0;
    g->z.next_out = (Bytef *)buf;
    g->z.avail_out = (uInt)FL_MIN(n, (size_t)UINT32_MAX);
    while (g->z.avail_out == (uInt)FL_MIN(n, (size_t)UINT32_MAX)) {
        if (g->member_done) {
            int more = gz_next_member(s, g);
            if (more <= 0) {
                g->finished = true;
                break;
            }
        }
        if (r->pos == r->len && !r->eof && fl_stream_raw_fill(s) < 0) {
            g->finished = true;
            break;
        }
        uInt out_before = g->z.avail_out;
        g->z.next_in = r->buf + r->pos;
        g->z.avail_in = (uInt)(r->len - r->pos);
        int rc = inflate(&g->z, Z_NO_FLUSH);
        r->pos = r->len - g->z.avail_in;
        if (rc == Z_STREAM_END) {
            g->member_done = true;
        } else if (rc == Z_OK || rc == Z_BUF_ERROR) {
            /* Input all used, the file is over, and zlib has nothing more to give. */
            if (r->pos == r->len && r->eof && g->z.avail_out == out_before) {
                fl_stream_damage(s, "gzip data ends before the end of the stream (truncated)");
                g->finished = true;
                break;
            }
        } else {
            char what[160];
            snprintf(what, sizeof(what), "corrupt gzip data (%s)",
                     g->z.msg ? g->z.msg : "inflate error");
            fl_stream_damage(s, what);
            g->finished = true;
            break;
        }
    }
    return (ssize_t)(FL_MIN(n, (size_t)UINT32_MAX) - g->z.avail_out);
}

const fl_codec fl_codec_gzip = {"gzip", gz_init, gz_read, gz_free};
