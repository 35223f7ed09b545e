/* The tail consumer's journal of counted records (see fl_live.h for why it exists).
 *
 * Format: a first line "FLJ2\n", then for each record a header line "R <ts-usec> <len> <crc>\n",
 * the raw bytes, then "\n". <crc> is the CRC-32 (zlib's) of "R <ts-usec> <len>" followed by the
 * bytes, in 8 hex digits, so a garbled byte anywhere in a record is caught. A record whose bytes
 * run past the end of the file was never fsynced as a whole (a crash mid-write): it is a torn
 * tail, cut off quietly, because its source was not acknowledged and delivers it again. Anything
 * else that does not verify is damage: the scan skips to the next record that verifies, and the
 * damaged file is kept aside, never truncated (fl_journal_replay). Journals from before the
 * checksum (no "FLJ2" line, headers "R <ts> <len>") are still read. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "fl_live.h"

#define JOURNAL_MAGIC "FLJ2\n"
#define JOURNAL_MAGIC_LEN 5

struct fl_journal {
    char *path;
    char *dir;
    FILE *f;
    int lock_fd;
    uint64_t bytes;
};

static uint32_t record_crc(fl_time ts, size_t len, const char *data)
{
    char head[64];
    int n = snprintf(head, sizeof(head), "R %" PRId64 " %zu", ts, len);
    uLong c = crc32(0L, (const Bytef *)head, (uInt)n);
    /* crc32 takes uInt lengths; records are at most FL_RECORD_MAX_LIVE. */
    return (uint32_t)crc32(c, (const Bytef *)data, (uInt)len);
}

static int write_record(FILE *f, fl_time ts, const char *data, size_t len, uint64_t *bytes)
{
    int n = fprintf(f, "R %" PRId64 " %zu %08" PRIx32 "\n", ts, len, record_crc(ts, len, data));
    if (n < 0 || fwrite(data, 1, len, f) != len || fputc('\n', f) == EOF)
        return FL_EIO;
    if (bytes)
        *bytes += (uint64_t)n + len + 1;
    return 0;
}

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

/* One tail per state directory: two would append to one journal and rename it under each other
 * (compaction). flock is released by the kernel when the process dies, so a crash leaves no
 * stale lock. */
static int journal_lock(fl_journal *j, char *errbuf, size_t errlen)
{
    size_t n = strlen(j->dir) + 8;
    char *path = fl_malloc(n);
    if (!path)
        return FL_ENOMEM;
    snprintf(path, n, "%s/lock", j->dir);
    j->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (j->lock_fd < 0) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        fl_free(path);
        return FL_EIO;
    }
    if (flock(j->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char owner[32] = "";
        ssize_t r = pread(j->lock_fd, owner, sizeof(owner) - 1, 0);
        owner[r > 0 ? r : 0] = '\0';
        owner[strcspn(owner, "\n")] = '\0';
        if (err == EWOULDBLOCK)
            snprintf(errbuf, errlen,
                     "%s is in use by another faultline tail%s%s%s; one state directory serves "
                     "one tail at a time (give this one its own --state)",
                     j->dir, owner[0] ? " (pid " : "", owner, owner[0] ? ")" : "");
        else
            snprintf(errbuf, errlen, "%s: cannot lock: %s", path, strerror(err));
        fl_free(path);
        return FL_EIO;
    }
    char pid[32];
    int pn = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(j->lock_fd, 0) != 0 || pwrite(j->lock_fd, pid, (size_t)pn, 0) != pn) {
        /* The pid is only a courtesy for the message above; the lock itself holds. */
    }
    fl_free(path);
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
    j->lock_fd = -1;
    size_t n = strlen(dir) + 32;
    j->path = fl_malloc(n);
    j->dir = fl_malloc(n);
    if (!j->path || !j->dir) {
        fl_journal_free(j);
        return FL_ENOMEM;
    }
    snprintf(j->dir, n, "%s", dir);
    snprintf(j->path, n, "%s/journal.dat", dir);
    int rc = journal_lock(j, errbuf, errlen);
    if (rc) {
        fl_journal_free(j);
        return rc;
    }
    struct stat st;
    bool fresh = stat(j->path, &st) != 0 && errno == ENOENT;
    if (journal_reopen(j) != 0) {
        snprintf(errbuf, errlen, "%s: %s", j->path, strerror(errno));
        fl_journal_free(j);
        return FL_EIO;
    }
    if (fresh) {
        /* The magic line makes an emptied journal recognisable as damage. */
        if (fputs(JOURNAL_MAGIC, j->f) == EOF || fflush(j->f) != 0 || fsync(fileno(j->f)) != 0) {
            snprintf(errbuf, errlen, "%s: %s", j->path, strerror(errno));
            fl_journal_free(j);
            return FL_EIO;
        }
        j->bytes = JOURNAL_MAGIC_LEN;
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
    if (j->lock_fd >= 0)
        close(j->lock_fd); /* releases the flock */
    fl_free(j->path);
    fl_free(j->dir);
    fl_free(j);
}

/* Reads one record at the current position: REC_OK, REC_END (the file ends inside it or before
 * it), REC_BAD (it does not parse or verify) or FL_ENOMEM. */
enum { REC_OK = 1, REC_END = 0, REC_BAD = -100 };

static int read_record(FILE *f, bool legacy, char **buf, size_t *cap, fl_time *ts_out,
                       size_t *len_out)
{
    char head[80];
    if (!fgets(head, sizeof(head), f))
        return REC_END;
    size_t hl = strlen(head);
    if (hl == 0 || head[hl - 1] != '\n')
        return feof(f) ? REC_END : REC_BAD;
    long long ts;
    unsigned long long len;
    unsigned int crc = 0;
    int consumed = 0;
    if (legacy) {
        if (sscanf(head, "R %lld %llu%n", &ts, &len, &consumed) != 2 || head[consumed] != '\n')
            return REC_BAD;
    } else if (sscanf(head, "R %lld %llu %8x%n", &ts, &len, &crc, &consumed) != 3 ||
               head[consumed] != '\n') {
        return REC_BAD;
    }
    if (len > FL_RECORD_MAX_LIVE)
        return REC_BAD;
    if (len + 1 > *cap) {
        char *nb = fl_realloc(*buf, (size_t)len + 1);
        if (!nb)
            return FL_ENOMEM;
        *buf = nb;
        *cap = (size_t)len + 1;
    }
    size_t got = fread(*buf, 1, (size_t)len + 1, f);
    if (got != len + 1)
        return REC_END;
    if ((*buf)[len] != '\n')
        return REC_BAD;
    if (!legacy && record_crc((fl_time)ts, (size_t)len, *buf) != crc)
        return REC_BAD;
    *ts_out = (fl_time)ts;
    *len_out = (size_t)len;
    return REC_OK;
}

/* Moves f to the start of the next line after pos that begins with "R ". Returns
 * false at the end of the file. */
static bool resync(FILE *f, uint64_t pos)
{
    /* A record starts after a newline, so searching from pos itself skips the one at pos. */
    if (fseeko(f, (off_t)pos, SEEK_SET) != 0)
        return false;
    int prev = 0, c;
    while ((c = getc(f)) != EOF) {
        if (prev == '\n' && c == 'R') {
            int next = getc(f);
            if (next == ' ')
                return fseeko(f, -2, SEEK_CUR) == 0;
            if (next == EOF)
                return false;
            ungetc(next, f);
        }
        prev = c;
    }
    return false;
}

/* Reads the records of path in order, calling cb for each one that verifies, and describes in
 * *d what could not be read. */
static int journal_scan(const char *path, int (*cb)(void *, fl_time, const char *, size_t),
                        void *arg, fl_journal_damage *d)
{
    memset(d, 0, sizeof(*d));
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : FL_EIO;
    struct stat st;
    d->file_bytes = fstat(fileno(f), &st) == 0 ? (uint64_t)st.st_size : 0;
    char magic[JOURNAL_MAGIC_LEN];
    size_t mn = fread(magic, 1, sizeof(magic), f);
    bool legacy = !(mn == sizeof(magic) && !memcmp(magic, JOURNAL_MAGIC, sizeof(magic)));
    if (legacy) {
        /* Before the checksum, a journal started with its first record (or was empty). */
        if (d->file_bytes == 0)
            d->emptied = true;
        rewind(f);
    }
    char *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    uint64_t pos = legacy ? 0 : JOURNAL_MAGIC_LEN, bad_from = 0;
    bool in_bad = false, bad_is_torn = false;
    d->good_end = pos;
    for (;;) {
        fl_time ts;
        size_t len;
        int r = read_record(f, legacy, &buf, &cap, &ts, &len);
        if (r == FL_ENOMEM) {
            rc = r;
            break;
        }
        if (r == REC_OK) {
            if (in_bad) {
                /* Something verifies after the unreadable part: that part is damage. */
                if (!d->regions)
                    d->ts_after = ts;
                d->bad_bytes += pos - bad_from;
                d->regions++;
                in_bad = false;
            }
            if (cb && (rc = cb(arg, ts, buf, len)) < 0)
                break;
            d->records++;
            if (!d->regions)
                d->ts_before = ts;
            pos = (uint64_t)ftello(f);
            d->good_end = pos;
            continue;
        }
        if (r == REC_END && !in_bad && pos >= d->file_bytes)
            break; /* the clean end */
        if (!in_bad) {
            in_bad = true;
            bad_is_torn = r == REC_END;
            bad_from = pos;
            if (!d->regions)
                d->first_bad = pos;
        }
        if (!resync(f, pos)) {
            if (bad_is_torn) {
                /* The file ends inside a record and nothing verifies after it: a torn tail. */
                d->torn_bytes = d->file_bytes - bad_from;
            } else {
                d->bad_bytes += d->file_bytes - bad_from;
                d->regions++;
            }
            break;
        }
        pos = (uint64_t)ftello(f);
    }
    fl_free(buf);
    fclose(f);
    return rc;
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
    if (write_record(c->out, ts, data, len, NULL) != 0) {
        c->err = FL_EIO;
        return FL_EIO;
    }
    return 0;
}

static void sync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

/* Writes the verified records of the journal with ts >= cutoff to path.tmp and, if keep_as is
 * given, first hard-links the current journal there so it survives the rename. */
static int journal_rewrite(fl_journal *j, fl_time cutoff, const char *keep_as)
{
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
    fl_journal_damage d = {0};
    if (!rc && fputs(JOURNAL_MAGIC, c.out) == EOF)
        rc = FL_EIO;
    if (!rc)
        rc = journal_scan(j->path, compact_one, &c, &d);
    if (c.out) {
        if (fflush(c.out) != 0 || fsync(fileno(c.out)) != 0)
            rc = FL_EIO;
        fclose(c.out);
    }
    if (!rc && !keep_as && (d.bad_bytes || d.emptied))
        rc = FL_EIO; /* damaged since the replay: compaction must not drop it (next replay will) */
    if (!rc && !c.err && keep_as && link(j->path, keep_as) != 0)
        rc = FL_EIO; /* never replace a journal whose unreadable part was not kept */
    if (!rc && !c.err && rename(tmp, j->path) == 0) {
        /* The rename is durable only once the directory is synced. */
        sync_dir(j->dir);
        rc = journal_reopen(j);
    } else {
        unlink(tmp);
        rc = rc ? rc : FL_EIO;
    }
    fl_free(tmp);
    return rc;
}

int fl_journal_replay(fl_journal *j, int (*cb)(void *, fl_time, const char *, size_t), void *arg,
                      fl_journal_damage *d)
{
    fflush(j->f);
    int rc = journal_scan(j->path, cb, arg, d);
    if (rc < 0)
        return rc;
    if (d->bad_bytes || d->emptied) {
        /* Keep the evidence: the damaged file moves aside whole, the journal goes on with what
         * verified. */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        size_t n = strlen(j->path) + 64;
        char *aside = fl_malloc(n);
        if (!aside)
            return FL_ENOMEM;
        int len = snprintf(aside, n, "%s/journal.damaged-", j->dir);
        strftime(aside + len, n - (size_t)len, "%Y%m%dT%H%M%SZ", &tm);
        struct stat st;
        if (stat(aside, &st) == 0) /* damaged twice in one second */
            snprintf(aside + strlen(aside), n - strlen(aside), ".%ld", (long)getpid());
        rc = journal_rewrite(j, INT64_MIN, aside);
        if (rc == 0)
            fl_copy_str(d->kept_as, sizeof(d->kept_as), aside);
        fl_free(aside);
        return rc;
    }
    struct stat st;
    if (d->torn_bytes && stat(j->path, &st) == 0 && (uint64_t)st.st_size > d->good_end) {
        /* Cut the torn tail so new records follow a complete one. */
        if (truncate(j->path, (off_t)d->good_end) != 0)
            return FL_EIO;
        return journal_reopen(j);
    }
    return 0;
}

int fl_journal_append(fl_journal *j, fl_time ts, const char *data, size_t len)
{
    return write_record(j->f, ts, data, len, &j->bytes);
}

int fl_journal_sync(fl_journal *j)
{
    if (fflush(j->f) != 0 || fsync(fileno(j->f)) != 0)
        return FL_EIO;
    return 0;
}

int fl_journal_compact(fl_journal *j, fl_time cutoff)
{
    if (fl_journal_sync(j) != 0)
        return FL_EIO;
    return journal_rewrite(j, cutoff, NULL);
}

uint64_t fl_journal_bytes(const fl_journal *j)
{
    return j ? j->bytes : 0;
}
