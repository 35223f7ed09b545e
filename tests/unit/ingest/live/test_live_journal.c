/* The tail consumer's journal: records come back in order after a restart, a torn last record
 * (crash mid-write) is dropped and cut off, and compaction keeps only the window. */
#include <stdlib.h>
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
    fputs("R 400 50\n{\"torn", f);
    fclose(f);

    CHECK_INT(fl_journal_open(dir, &j, err, sizeof(err)), 0);
    seen s = {0};
    CHECK_INT(fl_journal_replay(j, collect, &s), 0);
    CHECK_INT(s.n, 3);
    CHECK_STR(s.data[1], "{\"b\":\n2}");
    CHECK_INT(s.ts[2], 300);
    /* New records follow the last complete one. */
    CHECK_INT(fl_journal_append(j, 500, "{\"d\":4}", 7), 0);
    CHECK_INT(fl_journal_sync(j), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(fl_journal_replay(j, collect, &s), 0);
    CHECK_INT(s.n, 4);
    CHECK_STR(s.data[3], "{\"d\":4}");

    /* Compaction keeps the records inside the window. */
    CHECK_INT(fl_journal_compact(j, 250), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(fl_journal_replay(j, collect, &s), 0);
    CHECK_INT(s.n, 2);
    CHECK_INT(s.ts[0], 300);
    CHECK_INT(s.ts[1], 500);
    CHECK_INT(fl_journal_append(j, 600, "{}", 2), 0);
    CHECK_INT(fl_journal_sync(j), 0);
    memset(&s, 0, sizeof(s));
    CHECK_INT(fl_journal_replay(j, collect, &s), 0);
    CHECK_INT(s.n, 3);
    fl_journal_free(j);
    fl_journal_free(NULL);

    CHECK_INT(fl_journal_open("/proc/nonexistent/x", &j, err, sizeof(err)), FL_EIO);
    unlink(path);
    rmdir(dir);
    return fl_test_done();
}
