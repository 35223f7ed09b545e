/* Byte streams over files and stdin. The decoder is chosen by the first bytes, never by the
 * file name: gzip starts 1f 8b, zstd starts 28 b5 2f fd; anything else is read as is. A
 * plain regular file is mapped (filemap.c) and its readers take its bytes in place
 * (fl_stream_map); fl_stream_read still works on it, copying. */
#include "ingest_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct fl_stream {
    char *name;
    int fd;
    bool own_fd;
    fl_stream_source src; /* src.read set: bytes come from there, not from fd */
    fl_diag *diag;
    fl_raw raw;
    const fl_codec *codec; /* NULL: plain */
    void *codec_state;
    bool damaged;
    bool failed; /* read error: stop */
    uint64_t decoded;
    fl_filemap *map; /* a plain regular file, mapped: its bytes are read in place */
    size_t map_pos;  /* bytes of map handed out */
};

static const unsigned char gzip_magic[] = {0x1f, 0x8b};
static const unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};

fl_raw *fl_stream_raw(fl_stream *s)
{
    return &s->raw;
}

const char *fl_stream_name(const fl_stream *s)
{
    return s->name;
}

void fl_stream_set_diag(fl_stream *s, fl_diag *diag)
{
    s->diag = diag;
}

bool fl_stream_damaged(fl_stream *s)
{
    if (!s->damaged && s->map && fl_filemap_shrunk(s->map, s->fd))
        fl_stream_map_damage(s);
    return s->damaged;
}

void fl_stream_map_damage(fl_stream *s)
{
    if (s->damaged || !fl_filemap_claim_report(s->map))
        return;
    s->damaged = true;
    fl_filemap_warn_shrunk(s->diag, s->name);
}

fl_filemap *fl_stream_map(const fl_stream *s)
{
    return s->map;
}

size_t fl_stream_map_pos(const fl_stream *s)
{
    return s->map_pos;
}

void fl_stream_take(fl_stream *s, size_t n)
{
    s->map_pos += n;
    s->decoded += n;
    pthread_mutex_lock(&s->diag->lock);
    s->diag->bytes += n;
    pthread_mutex_unlock(&s->diag->lock);
}

uint64_t fl_stream_decoded(const fl_stream *s)
{
    return s->decoded;
}

void fl_stream_damage(fl_stream *s, const char *what)
{
    if (s->damaged)
        return;
    s->damaged = true;
    fl_diag_warn(s->diag, FL_WARN_TRUNCATED, s->name, 0,
                 "%s: %s; %llu bytes decoded from %llu compressed bytes before the damage were "
                 "read",
                 s->name, what, (unsigned long long)s->decoded, (unsigned long long)s->raw.total);
}

void fl_stream_notice(fl_stream *s, const char *what)
{
    fl_diag_warn(s->diag, FL_WARN_OTHER, s->name, 0, "%s: %s", s->name, what);
}

/* One read from the file or the source; < 0 is an error, described in err. */
static ssize_t raw_read(fl_stream *s, char *buf, size_t n, char *err, size_t errlen)
{
    if (s->src.read)
        return s->src.read(s->src.ctx, buf, n, err, errlen);
    for (;;) {
        ssize_t got = read(s->fd, buf, n);
        if (got >= 0 || errno != EINTR) {
            if (got < 0)
                snprintf(err, errlen, "%s", strerror(errno));
            return got;
        }
    }
}

int fl_stream_raw_fill(fl_stream *s)
{
    fl_raw *r = &s->raw;
    if (r->eof)
        return 0;
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    while (r->len < r->cap) {
        char err[256] = "";
        ssize_t got = raw_read(s, (char *)r->buf + r->len, r->cap - r->len, err, sizeof err);
        if (got < 0) {
            fl_diag_warn(s->diag, FL_WARN_TRUNCATED, s->name, 0,
                         "%s: read error after %llu bytes: %s", s->name,
                         (unsigned long long)r->total, err);
            s->damaged = true;
            r->eof = true;
            return FL_EIO;
        }
        if (got == 0) {
            r->eof = true;
            break;
        }
        r->len += (size_t)got;
        r->total += (uint64_t)got;
        break; /* one read per fill: pipes deliver what they have */
    }
    return 0;
}

/* Reads until at least n bytes are buffered or the input ends (for the magic check). */
static int fill_at_least(fl_stream *s, size_t n)
{
    while (s->raw.len - s->raw.pos < n && !s->raw.eof) {
        int rc = fl_stream_raw_fill(s);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static bool starts_with(const fl_raw *r, const unsigned char *magic, size_t n)
{
    return r->len - r->pos >= n && memcmp(r->buf + r->pos, magic, n) == 0;
}

static int stream_start(fl_stream *s, fl_stream **out, fl_diag *diag);

static fl_stream *stream_new(const char *name, fl_diag *diag)
{
    fl_stream *s = fl_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->diag = diag;
    s->fd = -1;
    s->name = fl_strdup(name);
    s->raw.cap = FL_READ_CHUNK;
    s->raw.buf = fl_malloc(s->raw.cap);
    if (!s->name || !s->raw.buf) {
        fl_stream_close(s);
        return NULL;
    }
    return s;
}

int fl_stream_open_source(fl_stream **out, const char *name, fl_stream_source src,
                          fl_diag *diag)
{
    *out = NULL;
    fl_stream *s = stream_new(name, diag);
    if (!s) {
        src.close(src.ctx);
        return FL_ENOMEM;
    }
    s->src = src;
    return stream_start(s, out, diag);
}

int fl_stream_open(fl_stream **out, const char *path, bool no_mmap, fl_diag *diag)
{
    *out = NULL;
    fl_stream *s = stream_new(path, diag);
    if (!s)
        return FL_ENOMEM;
    if (strcmp(path, "-") == 0) {
        s->fd = STDIN_FILENO;
    } else {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            int err = errno;
            fl_diag_warn(diag, FL_WARN_UNREADABLE, path, 0, "%s: cannot open: %s", path,
                         strerror(err));
            fl_stream_close(s);
            return err == ENOENT ? FL_ENOTFOUND : FL_EIO;
        }
        s->own_fd = true;
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
        /* A regular file that is not compressed is read in place (filemap.c). */
        s->map = no_mmap ? NULL : fl_filemap_open(s->fd);
        if (s->map) {
            const unsigned char *d = (const unsigned char *)fl_filemap_data(s->map);
            size_t n = fl_filemap_len(s->map);
            if ((n >= sizeof(gzip_magic) && memcmp(d, gzip_magic, sizeof(gzip_magic)) == 0) ||
                (n >= sizeof(zstd_magic) && memcmp(d, zstd_magic, sizeof(zstd_magic)) == 0)) {
                fl_filemap_unref(s->map);
                s->map = NULL;
            }
        }
    }
    return stream_start(s, out, diag);
}

/* Peeks at the first bytes to pick the decoder and counts the file. */
static int stream_start(fl_stream *s, fl_stream **out, fl_diag *diag)
{
    if (s->map)
        goto counted;
    if (fill_at_least(s, sizeof(zstd_magic)) < 0) {
        fl_stream_close(s);
        return FL_EIO;
    }
    if (starts_with(&s->raw, gzip_magic, sizeof(gzip_magic)))
        s->codec = &fl_codec_gzip;
    else if (starts_with(&s->raw, zstd_magic, sizeof(zstd_magic)))
        s->codec = &fl_codec_zstd;
    if (s->codec) {
        int rc = s->codec->init(s, &s->codec_state);
        if (rc < 0) {
            fl_stream_close(s);
            return rc;
        }
    }
counted:
    pthread_mutex_lock(&diag->lock);
    diag->files++;
    pthread_mutex_unlock(&diag->lock);
    *out = s;
    return 0;
}

static ssize_t plain_read(fl_stream *s, char *buf, size_t n)
{
    fl_raw *r = &s->raw;
    if (s->map) {
        size_t k = FL_MIN(n, fl_filemap_len(s->map) - s->map_pos);
        memcpy(buf, fl_filemap_data(s->map) + s->map_pos, k);
        s->map_pos += k;
        return (ssize_t)k;
    }
    if (r->pos < r->len) { /* bytes peeked for the magic check */
        size_t k = FL_MIN(n, r->len - r->pos);
        memcpy(buf, r->buf + r->pos, k);
        r->pos += k;
        return (ssize_t)k;
    }
    if (r->eof)
        return 0;
    for (;;) {
        char err[256] = "";
        ssize_t got = raw_read(s, buf, n, err, sizeof err);
        if (got < 0) {
            fl_diag_warn(s->diag, FL_WARN_TRUNCATED, s->name, 0,
                         "%s: read error after %llu bytes: %s", s->name,
                         (unsigned long long)r->total, err);
            s->damaged = true;
            r->eof = true;
            return 0;
        }
        if (got == 0)
            r->eof = true;
        r->total += (uint64_t)got;
        return got;
    }
}

ssize_t fl_stream_read(fl_stream *s, char *buf, size_t n)
{
    if (s->failed || n == 0)
        return 0;
    ssize_t got = s->codec ? s->codec->read(s, s->codec_state, buf, n) : plain_read(s, buf, n);
    if (got <= 0) {
        s->failed = true;
        return 0;
    }
    s->decoded += (uint64_t)got;
    pthread_mutex_lock(&s->diag->lock);
    s->diag->bytes += (uint64_t)got;
    pthread_mutex_unlock(&s->diag->lock);
    return got;
}

void fl_stream_close(fl_stream *s)
{
    if (!s)
        return;
    if (s->codec && s->codec_state)
        s->codec->free(s->codec_state);
    fl_filemap_unref(s->map);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    if (s->src.close)
        s->src.close(s->src.ctx);
    fl_free(s->raw.buf);
    fl_free(s->name);
    fl_free(s);
}
