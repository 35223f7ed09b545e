/* The tail consumer's journal of counted records (see fl_live.h for why it exists).
 *
 * Format: for each record a header line "R <ts-usec> <len>\n", the raw bytes, then "\n". The
 * header makes a torn write detectable: a record whose bytes or trailing newline are missing
 * was never fsynced as a whole, so it is dropped (its source was not acknowledged either). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl_live.h"

struct fl_journal {
    char *path;
    FILE *f;
    uint64_t bytes;
};

static int journal_reopen(fl_journal *j)
{
    if (j->f)
        fclose(j->f);
    /* The journal holds raw log records, which can hold secrets: owner-only. */
    int fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    j->f = fd >= 0 ? fdopen(fd, "ab") : NULL;
    if (!j->f) {
        if (fd >= 0)
            close(fd);
        return FL_EIO;
    }
    struct stat st;
    j->bytes = fstat(fileno(j->f), &st) == 0 ? (uint64_t)st.st_size : 0;
    return 0;
}

int fl_journal_open(const char *dir, fl_journal **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(errbuf, errlen, "%s: cannot create the state directory: %s", dir, strerror(errno));
        return FL_EIO;
    }
    fl_journal *j = fl_calloc(1, sizeof(*j));
    if (!j)
        return FL_ENOMEM;
    size_t n = strlen(dir) + 32;
    j->path = fl_malloc(n);
    if (!j->path) {
        fl_free(j);
        return FL_ENOMEM;
    }
    snprintf(j->path, n, "%s/journal.dat", dir);
    if (journal_reopen(j) != 0) {
        snprintf(errbuf, errlen, "%s: %s", j->path, strerror(errno));
        fl_journal_free(j);
        return FL_EIO;
    }
    *out = j;
    return 0;
}

void fl_journal_free(fl_journal *j)
{
    if (!j)
        return;
    if (j->f)
        fclose(j->f);
    fl_free(j->path);
    fl_free(j);
}

/* Reads the records of path in order; stops quietly at a torn record and reports through
 * *good_end where the last complete one ended. */
static int journal_scan(const char *path, int (*cb)(void *, fl_time, const char *, size_t),
                        void *arg, uint64_t *good_end)
{
    *good_end = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : FL_EIO;
    char *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    for (;;) {
        char head[64];
        if (!fgets(head, sizeof(head), f))
            break;
        long long ts;
        unsigned long long len;
        if (sscanf(head, "R %lld %llu", &ts, &len) != 2 || len > FL_RECORD_MAX_LIVE)
            break;
        if (len + 1 > cap) {
            char *nb = fl_realloc(buf, (size_t)len + 1);
            if (!nb) {
                rc = FL_ENOMEM;
                break;
            }
            buf = nb;
            cap = (size_t)len + 1;
        }
        if (fread(buf, 1, (size_t)len + 1, f) != len + 1 || buf[len] != '\n')
            break;
        if (cb && (rc = cb(arg, (fl_time)ts, buf, (size_t)len)) < 0)
            break;
        *good_end = (uint64_t)ftello(f);
    }
    fl_free(buf);
    fclose(f);
    return rc;
}

int fl_journal_replay(fl_journal *j, int (*cb)(void *, fl_time, const char *, size_t), void *arg)
{
    fflush(j->f);
    uint64_t good_end;
    int rc = journal_scan(j->path, cb, arg, &good_end);
    if (rc < 0)
        return rc;
    struct stat st;
    if (stat(j->path, &st) == 0 && (uint64_t)st.st_size > good_end) {
        /* Cut the torn tail so new records follow a complete one. */
        if (truncate(j->path, (off_t)good_end) != 0)
            return FL_EIO;
        return journal_reopen(j);
    }
    return 0;
}

int fl_journal_append(fl_journal *j, fl_time ts, const char *data, size_t len)
{
    int n = fprintf(j->f, "R %" PRId64 " %zu\n", ts, len);
    if (n < 0 || fwrite(data, 1, len, j->f) != len || fputc('\n', j->f) == EOF)
        return FL_EIO;
    j->bytes += (uint64_t)n + len + 1;
    return 0;
}

int fl_journal_sync(fl_journal *j)
{
    if (fflush(j->f) != 0 || fsync(fileno(j->f)) != 0)
        return FL_EIO;
    return 0;
}

typedef struct compact_ctx {
    FILE *out;
    fl_time cutoff;
    int err;
} compact_ctx;

static int compact_one(void *arg, fl_time ts, const char *data, size_t len)
{
    compact_ctx *c = arg;
    if (ts && ts < c->cutoff)
        return 0;
    if (fprintf(c->out, "R %" PRId64 " %zu\n", ts, len) < 0 ||
        fwrite(data, 1, len, c->out) != len || fputc('\n', c->out) == EOF) {
        c->err = FL_EIO;
        return FL_EIO;
    }
    return 0;
}

int fl_journal_compact(fl_journal *j, fl_time cutoff)
{
    if (fl_journal_sync(j) != 0)
        return FL_EIO;
    size_t n = strlen(j->path) + 8;
    char *tmp = fl_malloc(n);
    if (!tmp)
        return FL_ENOMEM;
    snprintf(tmp, n, "%s.tmp", j->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    compact_ctx c = {fd >= 0 ? fdopen(fd, "wb") : NULL, cutoff, 0};
    if (fd >= 0 && !c.out)
        close(fd);
    int rc = c.out ? 0 : FL_EIO;
    uint64_t good_end;
    if (!rc)
        rc = journal_scan(j->path, compact_one, &c, &good_end);
    if (c.out) {
        if (fflush(c.out) != 0 || fsync(fileno(c.out)) != 0)
            rc = FL_EIO;
        fclose(c.out);
    }
    if (!rc && !c.err && rename(tmp, j->path) == 0) {
        /* The rename is durable only once the directory is synced. */
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", j->path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        rc = journal_reopen(j);
    } else {
        unlink(tmp);
        rc = rc ? rc : FL_EIO;
    }
    fl_free(tmp);
    return rc;
}

uint64_t fl_journal_bytes(const fl_journal *j)
{
    return j ? j->bytes : 0;
}
