/* The follow source: `tail -F` for one file of NDJSON LogEntries.
 *
 * A timer checks the file a few times a second: new bytes are read and split into lines; a
 * file that shrank was truncated (start again at 0); a path that now names another inode was
 * rotated (finish the old file to its end, then open the new one from 0). With a state dir the
 * position {inode, offset} of the last line the consumer counted is checkpointed atomically on
 * every commit, and a restart resumes from it when the inode still matches.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "live_common.h"

#define FOLLOW_TICK_MS 200
#define FOLLOW_READ_MAX (4 * 1024 * 1024) /* bytes per tick, so one huge file can't hog the loop   \
                                           */

typedef struct follow_source {
    fl_live_common common; /* first */
    uv_timer_t timer;
    char *path;
    char *ckpt_path; /* NULL without a state dir */
    int fd;
    uint64_t ino;
    uint64_t read_off; /* bytes of the current file fed to the line splitter */
    uint64_t committed_ino, committed_off;
    fl_lines lines;
    bool missing_reported;
    int64_t lag;
} follow_source;

/* The checkpointable position: the end of the last complete line handed to the sink. */
static uint64_t follow_line_end(const follow_source *f)
{
    return f->read_off - f->lines.pending;
}

static int follow_on_line(void *arg, const char *line, size_t len, bool oversize)
{
    follow_source *f = arg;
    if (oversize) {
        fl_live_common_oversize(&f->common, f->path);
        return 0;
    }
    /* Blank lines carry nothing; skip them without bothering the consumer. */
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return 0;
    return fl_live_common_deliver(&f->common, line, len);
}

static void follow_close_fd(follow_source *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    fl_lines_free(&f->lines);
    fl_lines_init(&f->lines, FL_RECORD_MAX_LIVE);
}

static int follow_open_fd(follow_source *f, uint64_t resume_ino, uint64_t resume_off)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FL_ENOTFOUND;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return FL_EIO;
    }
    follow_close_fd(f);
    f->fd = fd;
    f->ino = (uint64_t)st.st_ino;
    f->read_off = 0;
    if (resume_ino == f->ino && resume_off <= (uint64_t)st.st_size)
        f->read_off = resume_off;
    if (lseek(fd, (off_t)f->read_off, SEEK_SET) < 0)
        f->read_off = 0;
    return 0;
}

/* Reads whatever is new in the open file. Returns the bytes read. */
static size_t follow_read(follow_source *f)
{
    char chunk[65536];
    size_t total = 0;
    while (total < FOLLOW_READ_MAX && !f->common.paused) {
        ssize_t n = read(f->fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        f->read_off += (uint64_t)n;
        total += (size_t)n;
        if (fl_lines_feed(&f->lines, chunk, (size_t)n, follow_on_line, f) < 0)
            break;
    }
    return total;
}

static void follow_tick(uv_timer_t *t)
{
    follow_source *f = t->data;
    if (f->common.paused)
        return;
    if (f->fd < 0) {
        if (follow_open_fd(f, f->committed_ino, f->committed_off) != 0) {
            if (!f->missing_reported)
                fl_live_common_event(&f->common, FL_LIVE_WARN,
                                     "%s: cannot open (%s); waiting for it", f->path,
                                     strerror(errno));
            f->missing_reported = true;
            return;
        }
        if (f->missing_reported)
            fl_live_common_event(&f->common, FL_LIVE_INFO, "%s: appeared, following", f->path);
        f->missing_reported = false;
    }
    follow_read(f);
    struct stat fst, pst;
    if (fstat(f->fd, &fst) == 0 && (uint64_t)fst.st_size < f->read_off) {
        fl_live_common_event(&f->common, FL_LIVE_INFO, "%s: truncated, reading from the start",
                             f->path);
        fl_lines_free(&f->lines);
        fl_lines_init(&f->lines, FL_RECORD_MAX_LIVE);
        f->read_off = 0;
        lseek(f->fd, 0, SEEK_SET);
        follow_read(f);
    }
    if (stat(f->path, &pst) == 0 && (uint64_t)pst.st_ino != f->ino) {
        /* Rotated: the old file is complete once we have read it to the end (done above; a
         * writer still appending to it through an old descriptor is given one more read). */
        follow_read(f);
        fl_live_common_event(&f->common, FL_LIVE_INFO, "%s: rotated, following the new file",
                             f->path);
        if (follow_open_fd(f, 0, 0) == 0)
            follow_read(f);
    }
    f->lag = fstat(f->fd, &fst) == 0 && (uint64_t)fst.st_size > f->read_off
                 ? (int64_t)((uint64_t)fst.st_size - f->read_off)
                 : 0;
}

static int follow_commit(fl_live_source *s)
{
    follow_source *f = (follow_source *)s;
    if (f->fd < 0)
        return 0;
    uint64_t off = follow_line_end(f);
    if (f->ino == f->committed_ino && off == f->committed_off)
        return 0;
    if (f->ckpt_path) {
        char buf[8192];
        char *esc_path = f->path; /* paths with quotes are refused at open */
        int n = snprintf(buf, sizeof(buf),
                         "{\"path\":\"%s\",\"inode\":%" PRIu64 ",\"offset\":%" PRIu64 "}\n",
                         esc_path, f->ino, off);
        if (n < 0 || (size_t)n >= sizeof(buf) || fl_write_atomic(f->ckpt_path, buf, (size_t)n))
            return FL_EIO;
    }
    f->committed_ino = f->ino;
    f->committed_off = off;
    return 0;
}

static void follow_free(void *source)
{
    follow_source *f = source;
    if (f->fd >= 0)
        close(f->fd);
    fl_lines_free(&f->lines);
    fl_free(f->path);
    fl_free(f->ckpt_path);
    fl_free(f);
}

static uint64_t json_u64(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(json, pat);
    return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

static int follow_open(uv_loop_t *loop, const fl_live_config *cfg, const fl_live_sink *sink,
                       fl_live_source **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (!cfg->target || !*cfg->target || strpbrk(cfg->target, "\"\\\n")) {
        snprintf(errbuf, errlen, "follow: a file path (without quotes) is required");
        return FL_EINVAL;
    }
    follow_source *f = fl_calloc(1, sizeof(*f));
    if (!f)
        return FL_ENOMEM;
    fl_live_common_init(&f->common, &fl_ingest_follow, sink, loop, follow_free);
    snprintf(f->common.base.label, sizeof(f->common.base.label), "follow:%.80s", cfg->target);
    f->fd = -1;
    f->lag = -1;
    fl_lines_init(&f->lines, FL_RECORD_MAX_LIVE);
    f->path = fl_strdup(cfg->target);
    if (!f->path) {
        fl_free(f);
        return FL_ENOMEM;
    }
    if (cfg->state_dir) {
        char name[600];
        uint64_t h = fl_hash64(cfg->target, strlen(cfg->target), FL_HASH_SEED);
        snprintf(name, sizeof(name), "%s/follow-%016" PRIx64 ".json", cfg->state_dir, h);
        f->ckpt_path = fl_strdup(name);
        char *data = NULL;
        size_t len;
        if (f->ckpt_path && fl_read_small_file(f->ckpt_path, 65536, &data, &len) == 0) {
            f->committed_ino = json_u64(data, "inode");
            f->committed_off = json_u64(data, "offset");
            fl_free(data);
        }
    }
    if (follow_open_fd(f, f->committed_ino, f->committed_off) == 0 && f->committed_ino &&
        f->committed_ino != f->ino)
        fl_live_common_event(&f->common, FL_LIVE_INFO,
                             "%s: rotated while stopped, reading the new file", f->path);
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    int period = cfg->poll_ms > 0 ? cfg->poll_ms : FOLLOW_TICK_MS;
    uv_timer_start(&f->timer, follow_tick, 0, (uint64_t)period);
    *out = &f->common.base;
    return 0;
}

static void follow_pause(fl_live_source *s)
{
    ((follow_source *)s)->common.paused = true;
}

static void follow_resume(fl_live_source *s)
{
    ((follow_source *)s)->common.paused = false;
}

static void follow_health(fl_live_source *s, fl_live_health *h)
{
    follow_source *f = (follow_source *)s;
    fl_live_common_health(&f->common, h);
    h->lag = f->lag;
    h->connected = f->fd >= 0;
}

static void follow_close(fl_live_source *s, void (*done)(void *), void *arg)
{
    follow_source *f = (follow_source *)s;
    fl_live_common_closing(&f->common, done, arg, 1);
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, fl_live_common_handle_closed);
}

static const fl_live_option follow_options[] = {
    {"follow", 'F', FL_LIVE_OPT_STRINGS, "FILE", "follow FILE like tail -F (rotation, truncation)",
     0, FL_LIVE_OPT_OPENS | FL_LIVE_OPT_EACH},
    {NULL, 0, FL_LIVE_OPT_STRING, NULL, NULL, 0, 0},
};

const fl_live_ops fl_ingest_follow = {
    .name = "follow",
    .options = follow_options,
    .open = follow_open,
    .pause = follow_pause,
    .resume = follow_resume,
    .commit = follow_commit,
    .health = follow_health,
    .close = follow_close,
};
