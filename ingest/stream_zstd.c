/* zstd decoding with the streaming API. Several frames in a row decode as one stream; input
 * that ends inside a frame, or fails a check, marks the stream damaged. */
#include "ingest_internal.h"

#include <stdio.h>
#include <zstd.h>

typedef struct zs_state {
    ZSTD_DCtx *dctx;
    size_t last; /* last return of ZSTD_decompressStream: 0 means "at a frame boundary" */
    bool finished;
} zs_state;

static int zs_init(fl_stream *s, void **state)
{
    (void)s;
    zs_state *z = fl_calloc(1, sizeof(*z));
    if (!z)
        return FL_ENOMEM;
    z->dctx = ZSTD_createDCtx();
    if (!z->dctx) {
        fl_free(z);
        return FL_ENOMEM;
    }
    /* Refuse frames that would need an enormous window (memory stays bounded). */
    ZSTD_DCtx_setParameter(z->dctx, ZSTD_d_windowLogMax, 27);
    *state = z;
    return 0;
}

static void zs_free(void *state)
{
    zs_state *z = state;
    if (!z)
        return;
    ZSTD_freeDCtx(z->dctx);
    fl_free(z);
}

static ssize_t zs_read(fl_stream *s, void *state, char *buf, size_t n)
{
    zs_state *z = state;
    fl_raw *r = fl_stream_raw(s);
    /* At most one block's worth per call: on a decoding error zstd reports nothing of what the
     * same call had decoded, so small steps keep the most data from before the damage. */
    ZSTD_outBuffer out = {buf, FL_MIN(n, ZSTD_DStreamOutSize()), 0};
    while (out.pos == 0 && !z->finished) {
        if (r->pos == r->len && !r->eof && fl_stream_raw_fill(s) < 0) {
            z->finished = true;
            break;
        }
        ZSTD_inBuffer in = {r->buf + r->pos, r->len - r->pos, 0};
        size_t rc = ZSTD_decompressStream(z->dctx, &out, &in);
        r->pos += in.pos;
        if (ZSTD_isError(rc)) {
            char what[160];
            snprintf(what, sizeof(what), "corrupt zstd data (%s)", ZSTD_getErrorName(rc));
            fl_stream_damage(s, what);
            z->finished = true;
            break;
        }
        if (in.pos > 0 || out.pos > 0)
            z->last = rc; /* an idle call (no input, no output) only hints at a next frame */
        if (out.pos == 0 && r->pos == r->len && r->eof) {
            if (z->last != 0)
                fl_stream_damage(s, "zstd data ends inside a frame (truncated)");
            z->finished = true;
        }
    }
    return (ssize_t)out.pos;
}

const fl_codec fl_codec_zstd = {"zstd", zs_init, zs_read, zs_free};
