/* Helpers every live source and the tail consumer share: the de-duplication set, atomic
 * checkpoint writes, log rate limiting, delivery rates and line splitting. They live beside the
 * follow source because it is the simplest user of all of them. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl_live.h"

/* Open addressing over a power-of-two table, plus a ring that remembers insertion order so the
 * oldest key is evicted first. Key 0 is remapped because 0 marks an empty slot. Deletion uses
 * backward-shift so probes stay short without tombstones. */
struct fl_dedup {
    uint64_t *slots;
    size_t mask;
    uint64_t *ring;
    size_t cap;
    size_t head; /* oldest entry in ring */
    size_t count;
};

/* A slot holds the key with its low bits replaced by the caller's tag (0 marks a free slot);
 * the probe position depends on the key bits only, so a key is found whatever its tag. */
#define DEDUP_TAG_MASK ((uint64_t)FL_DEDUP_TAG_MAX)

static uint64_t dedup_fix(uint64_t k)
{
    k &= ~DEDUP_TAG_MASK;
    return k ? k : (UINT64_C(0x9e3779b97f4a7c15) & ~DEDUP_TAG_MASK);
}

static size_t dedup_home(const fl_dedup *d, uint64_t slot)
{
    uint64_t k = slot & ~DEDUP_TAG_MASK;
    return (size_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> 17) & d->mask;
}

int fl_dedup_new(fl_dedup **out, size_t capacity)
{
    *out = NULL;
    if (capacity < 16)
        capacity = 16;
    fl_dedup *d = fl_calloc(1, sizeof(*d));
    if (!d)
        return FL_ENOMEM;
    size_t n = 32;
    while (n < capacity * 2)
        n <<= 1;
    d->slots = fl_calloc(n, sizeof(uint64_t));
    d->ring = fl_calloc(capacity, sizeof(uint64_t));
    if (!d->slots || !d->ring) {
        fl_dedup_free(d);
        return FL_ENOMEM;
    }
    d->mask = n - 1;
    d->cap = capacity;
    *out = d;
    return 0;
}

void fl_dedup_free(fl_dedup *d)
{
    if (!d)
        return;
    fl_free(d->slots);
    fl_free(d->ring);
    fl_free(d);
}

static void dedup_remove(fl_dedup *d, uint64_t k)
{
    size_t i = dedup_home(d, k);
    while (d->slots[i] != k) {
        if (!d->slots[i])
            return;
        i = (i + 1) & d->mask;
    }
    /* Backward-shift deletion: pull later members of the probe chain into the hole. */
    size_t hole = i;
    for (size_t j = (i + 1) & d->mask; d->slots[j]; j = (j + 1) & d->mask) {
        size_t home = dedup_home(d, d->slots[j]);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            d->slots[hole] = d->slots[j];
            hole = j;
        }
    }
    d->slots[hole] = 0;
}

bool fl_dedup_check_add(fl_dedup *d, uint64_t key)
{
    return fl_dedup_check_add_tag(d, key, 0) >= 0;
}

int fl_dedup_check_add_tag(fl_dedup *d, uint64_t key, unsigned tag)
{
    uint64_t k = dedup_fix(key);
    size_t i = dedup_home(d, k);
    while (d->slots[i]) {
        if ((d->slots[i] & ~DEDUP_TAG_MASK) == k)
            return (int)(d->slots[i] & DEDUP_TAG_MASK);
        i = (i + 1) & d->mask;
    }
    k |= tag & DEDUP_TAG_MASK;
    if (d->count == d->cap) {
        dedup_remove(d, d->ring[d->head]);
        d->head = (d->head + 1) % d->cap;
        d->count--;
        /* The removal may have shifted the chain we probed; find the free slot again. */
        i = dedup_home(d, k);
        while (d->slots[i])
            i = (i + 1) & d->mask;
    }
    d->slots[i] = k;
    d->ring[(d->head + d->count) % d->cap] = k;
    d->count++;
    return -1;
}

size_t fl_dedup_count(const fl_dedup *d)
{
    return d ? d->count : 0;
}

void fl_copy_str(char *dst, size_t size, const char *src)
{
    if (!size)
        return;
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int fl_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return FL_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return FL_EIO;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return FL_EIO;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return FL_EIO;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return FL_EIO;
    }
    /* The rename itself is only durable once the directory is synced. */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int fl_read_small_file(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? FL_ENOTFOUND : FL_EIO;
    fl_buf b;
    fl_buf_init(&b, max);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if ((rc = fl_buf_add(&b, chunk, n)) != 0)
            break;
    }
    if (!rc && ferror(f))
        rc = FL_EIO;
    fclose(f);
    if (rc) {
        fl_buf_free(&b);
        return rc;
    }
    *len = b.len;
    if (!b.data) {
        *out = fl_strdup("");
        return *out ? 0 : FL_ENOMEM;
    }
    *out = fl_buf_detach(&b);
    return 0;
}

bool fl_ratelimit_allow(fl_ratelimit *r, uint64_t now_ms)
{
    if (r->last_ms && now_ms - r->last_ms < r->period_ms) {
        r->suppressed++;
        return false;
    }
    r->last_ms = now_ms ? now_ms : 1;
    return true;
}

/* The rate is recomputed over windows of about two seconds. */
void fl_rate_tick(fl_rate *r, uint64_t now_ms, uint64_t n)
{
    (void)fl_rate_get(r, now_ms);
    r->count += n;
}

double fl_rate_get(fl_rate *r, uint64_t now_ms)
{
    if (!r->window_start_ms) {
        r->window_start_ms = now_ms;
        return r->per_sec;
    }
    uint64_t span = now_ms - r->window_start_ms;
    if (span >= 2000) {
        r->per_sec = (double)r->count * 1000.0 / (double)span;
        r->count = 0;
        r->window_start_ms = now_ms;
    }
    return r->per_sec;
}

void fl_lines_init(fl_lines *l, size_t max)
{
    memset(l, 0, sizeof(*l));
    l->max = max ? max : (1024 * 1024);
    fl_buf_init(&l->partial, l->max);
}

void fl_lines_free(fl_lines *l)
{
    fl_buf_free(&l->partial);
    l->pending = 0;
    l->skipping = false;
}

int fl_lines_feed(fl_lines *l, const char *p, size_t n,
                  int (*cb)(void *arg, const char *line, size_t len, bool oversize), void *arg)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (!l->skipping && l->partial.len + take > l->max) {
            l->skipping = true;
            fl_buf_reset(&l->partial);
        }
        if (!l->skipping && take && fl_buf_add(&l->partial, p, take) != 0) {
            l->skipping = true;
            fl_buf_reset(&l->partial);
        }
        l->pending += take;
        if (!nl)
            return 0;
        int rc;
        if (l->skipping) {
            rc = cb(arg, "", 0, true);
        } else {
            size_t len = l->partial.len;
            const char *line = l->partial.data ? l->partial.data : "";
            if (len && line[len - 1] == '\r')
                len--;
            rc = cb(arg, line, len, false);
        }
        fl_buf_reset(&l->partial);
        l->skipping = false;
        l->pending = 0;
        if (rc < 0)
            return rc;
        p += take + 1;
        n -= take + 1;
    }
    return 0;
}

void fl_objects_init(fl_objects *o, size_t max)
{
    memset(o, 0, sizeof(*o));
    o->max = max ? max : (1024 * 1024);
    fl_buf_init(&o->cur, o->max);
}

void fl_objects_free(fl_objects *o)
{
    fl_buf_free(&o->cur);
}

static int objects_emit(fl_objects *o, int (*cb)(void *, const char *, size_t, bool), void *arg)
{
    int rc;
    if (o->skipping)
        rc = cb(arg, "", 0, true);
    else
        rc = cb(arg, o->cur.data ? o->cur.data : "", o->cur.len, false);
    fl_buf_reset(&o->cur);
    o->skipping = o->junk = false;
    o->str = (fl_json_str){0};
    o->depth = 0;
    return rc;
}

static void objects_keep(fl_objects *o, char c)
{
    if (!o->skipping && fl_buf_addc(&o->cur, c) != 0) {
        o->skipping = true;
        fl_buf_reset(&o->cur);
    }
}

int fl_objects_feed(fl_objects *o, const char *p, size_t n,
                    int (*cb)(void *, const char *, size_t, bool), void *arg)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (o->junk) {
            if (c == '\n') {
                int rc = objects_emit(o, cb, arg);
                if (rc < 0)
                    return rc;
            } else {
                objects_keep(o, c);
            }
            continue;
        }
        if (o->depth == 0) {
            if (c == '{') {
                o->depth = 1;
                objects_keep(o, c);
            } else if (!(c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '[' || c == ']' ||
                         c == ',')) {
                o->junk = true; /* not JSON: hand the rest of the line over as malformed */
                objects_keep(o, c);
            }
            continue;
        }
        if (c == '\n' && o->str.in_str) {
            /* JSON never holds a raw newline inside a string: the object was cut off (a broken
             * NDJSON line). Hand it over as it is, as analyze cuts it at the line's end, rather
             * than swallow the lines that follow. */
            int rc = objects_emit(o, cb, arg);
            if (rc < 0)
                return rc;
            continue;
        }
        objects_keep(o, c);
        if (fl_json_str_step(&o->str, c)) {
            continue;
        } else if (c == '{' || c == '[') {
            o->depth++;
        } else if ((c == '}' || c == ']') && --o->depth == 0) {
            int rc = objects_emit(o, cb, arg);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int fl_objects_finish(fl_objects *o, int (*cb)(void *, const char *, size_t, bool), void *arg)
{
    if (!o->junk && !o->depth)
        return 0;
    return objects_emit(o, cb, arg);
}
