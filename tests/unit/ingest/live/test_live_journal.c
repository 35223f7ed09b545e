/* The tail consumer's journal: records come back in order after a restart, a torn last record
 * (crash mid-write) is dropped and cut off, compaction keeps only the window; a garbled byte,
 * an emptied or a garbage journal is damage: what verifies is kept, the rest is reported and
 * the damaged file is kept aside whole; a second user of the directory is refused. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl_live.h"
#include "fl_test.h"

typedef struct seen {
    int n;
    fl_time ts[16];
    char data[16][32];
} seen;

static int collect(void *arg, fl_time ts, const char *data, size_t len)
{
    seen *s = arg;
    if (s->n < 16) {
        s->ts[s->n] = ts;
        snprintf(s->data[s->n], 32, "%.*s", (int)len, data);
        s->n++;
    }
    return 0;
}

int main(void)
{
    char dir[] = "/tmp/fl_journal_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char err[256];
    fl_journal *j;
    CHECK_INT(fl_journal_open(dir, &j, err, sizeof(err)), 0);
    /* Records may hold newlines: the length header, not the newline, delimits them. */
    CHECK_INT(fl_journal_append(j, 100, "{\"a\":1}", 7), 0);
    CHECK_INT(fl_journal_append(j, 200, "{\"b\":\n2}", 8), 0);
    CHECK_INT(fl_journal_append(j, 300, "{\"c\":3}", 7), 0);
    CHECK_INT(fl_journal_sync(j), 0);
    fl_journal_free(j);

    /* A crash in the middle of a write leaves a torn record. */
    char path[256];
    snprintf(path, sizeof(path), "%s/journal.dat", dir);
    FILE *f = fopen(path, "a");
    fputs("R 400 50 0badc0de\n{\"torn", f);
    fclose(f);

    CHECK_INT(fl_journal_open(dir, &j, err, sizeof(err)), 0);
    seen s = {0};
    fl_journal_damage d;
    CHECK_INT(fl_journal_replay(j, collect, &s, &d), 0);
    CHECK_INT(s.n, 3);
    CHECK_INT(d.bad_bytes, 0);
    CHECK_INT(d.torn_bytes, 24);
    CHECK_STR(d.kept_as, "");
    CHECK_STR(s.data[1], "{\"b\":\n2}");
    CHECK_INT(s.ts[2], 300);
    /* New records follow the last complete one. */
    CHECK_INT(fl_journal_append(j, 500, "{\"d\":4}", 7), 0);
    CHECK_INT(fl_journal_sync(j), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(fl_journal_replay(j, collect, &s, &d), 0);
    CHECK_INT(s.n, 4);
    CHECK_STR(s.data[3], "{\"d\":4}");

    /* Compaction keeps the records inside the window. */
    CHECK_INT(fl_journal_compact(j, 250), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(fl_journal_replay(j, collect, &s, &d), 0);
    CHECK_INT(s.n, 2);
    CHECK_INT(s.ts[0], 300);
    CHECK_INT(s.ts[1], 500);
    CHECK_INT(fl_journal_append(j, 600, "{}", 2), 0);
    CHECK_INT(fl_journal_sync(j), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(fl_journal_replay(j, collect, &s, &d), 0);
    CHECK_INT(s.n, 3);

    /* A second user of the directory is refused while the first holds it. */
    fl_journal *j2 = NULL;
    CHECK_INT(fl_journal_open(dir, &j2, err, sizeof(err)), FL_EIO);
    CHECK(strstr(err, "in use by another faultline tail") != NULL);
    CHECK(j2 == NULL);
    fl_journal_free(j);
    fl_journal_free(NULL);

    /* One garbled byte in the middle record: the records around it still count, the damage is
     * reported with its offset and size, and the damaged file is kept whole aside. */
    char big[200];
    memset(big, 'x', sizeof(big));
    big[0] = '{';
    big[sizeof(big) - 1] = '}';
    unlink(path);
    CHECK_INT(fl_journal_open(dir, &j, err, sizeof(err)), 0);
    for (int i = 0; i < 10; i++)
        CHECK_INT(fl_journal_append(j, 1000 + i, big, sizeof(big)), 0);
    CHECK_INT(fl_journal_sync(j), 0);
    fl_journal_free(j);
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    off_t size_before = st.st_size;
    FILE *g = fopen(path, "r+b");
    fseek(g, (long)(size_before / 2), SEEK_SET);
    fputc('#', g);
    fclose(g);
    CHECK_INT(fl_journal_open(dir, &j, err, sizeof(err)), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(fl_journal_replay(j, collect, &s, &d), 0);
    CHECK_INT(s.n, 9);
    CHECK_INT(d.records, 9);
    CHECK_INT(d.regions, 1);
    CHECK(d.bad_bytes > sizeof(big) && d.bad_bytes < 2 * sizeof(big));
    CHECK_INT(d.ts_before, 1003);
    CHECK_INT(d.ts_after, 1005);
    CHECK(strstr(d.kept_as, "/journal.damaged-") != NULL);
    CHECK_INT(stat(d.kept_as, &st), 0);
    CHECK_INT(st.st_size, size_before); /* the evidence, untouched */
    CHECK_INT(unlink(d.kept_as), 0);
    /* The journal goes on with the 9 verified records and reads clean. */
    CHECK_INT(fl_journal_append(j, 2000, "{}", 2), 0);
    CHECK_INT(fl_journal_sync(j), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(fl_journal_replay(j, collect, &s, &d), 0);
    CHECK_INT(s.n, 10);
    CHECK_INT(d.bad_bytes, 0);
    CHECK_STR(d.kept_as, "");
    /* Damage that appears while running is not compacted away: the next replay keeps it. */
    CHECK_INT(stat(path, &st), 0);
    g = fopen(path, "r+b");
    fseek(g, 300, SEEK_SET);
    fputc('#', g);
    fclose(g);
    CHECK_INT(fl_journal_compact(j, 0), FL_EIO);
    struct stat st2;
    CHECK_INT(stat(path, &st2), 0);
    CHECK_INT(st2.st_size, st.st_size);
    fl_journal_free(j);

    /* An emptied journal (a header is always written) and a garbage one are damage too. */
    CHECK(truncate(path, 0) == 0);
    CHECK_INT(fl_journal_open(dir, &j, err, sizeof(err)), 0);
    CHECK_INT(fl_journal_replay(j, collect, &s, &d), 0);
    CHECK(d.emptied);
    CHECK(d.kept_as[0] != '\0');
    unlink(d.kept_as);
    fl_journal_free(j);
    g = fopen(path, "wb");
    fputs("this is not a journal\nR nonsense\n", g);
    fclose(g);
    CHECK_INT(fl_journal_open(dir, &j, err, sizeof(err)), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(fl_journal_replay(j, collect, &s, &d), 0);
    CHECK_INT(s.n, 0);
    CHECK_INT(d.bad_bytes, 33);
    CHECK(d.kept_as[0] != '\0');
    unlink(d.kept_as);
    fl_journal_free(j);

    CHECK_INT(fl_journal_open("/proc/nonexistent/x", &j, err, sizeof(err)), FL_EIO);
    unlink(path);
    char lock[256];
    snprintf(lock, sizeof(lock), "%s/lock", dir);
    unlink(lock);
    CHECK_INT(rmdir(dir), 0);
    return fl_test_done();
}
