/* Token formats and look-alikes (issue 10): every row of tests/data/redact/tokens.txt loses
 * its secret (no 12-character piece of it survives), every line of lookalikes.txt comes back
 * unchanged, and redacting twice changes nothing more. argv[1] is the data directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_reports.h"
#include "fl_test.h"

/* True when any 12-byte piece of secret (at steps of 4) is in text. */
static bool piece_survives(const char *text, const char *secret)
{
    size_t n = strlen(secret);
    char piece[13];
    for (size_t at = 0; at + 12 <= n; at += 4) {
        memcpy(piece, secret + at, 12);
        piece[12] = 0;
        if (strstr(text, piece))
            return true;
    }
    return n < 12 && strstr(text, secret);
}

static void test_tokens(const char *dir)
{
    char *data = fl_test_read_file(dir, "tokens.txt", NULL);
    CHECK(data != NULL);
    if (!data)
        return;
    size_t rows = 0;
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        CHECK(t1 && t2);
        if (!t1 || !t2)
            continue;
        *t1 = *t2 = 0;
        const char *kind = line, *text = t1 + 1, *secret = t2 + 1;
        rows++;
        char *red = fl_redact(text);
        CHECK(red != NULL);
        if (red && piece_survives(red, secret)) {
            fl_test_failed++;
            fprintf(stderr, "%s survived: %s\n  -> %s\n", kind, text, red);
        }
        char *twice = red ? fl_redact(red) : NULL;
        if (red && twice)
            CHECK_STR(twice, red);
        fl_free(twice);
        fl_free(red);
    }
    CHECK(rows >= 25);
    free(data);
}

static void test_lookalikes(const char *dir)
{
    char *data = fl_test_read_file(dir, "lookalikes.txt", NULL);
    CHECK(data != NULL);
    if (!data)
        return;
    size_t rows = 0;
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        rows++;
        char *red = fl_redact(line);
        CHECK_STR(red, line);
        fl_free(red);
    }
    CHECK(rows >= 25);
    free(data);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/data/redact";
    test_tokens(dir);
    test_lookalikes(dir);
    return fl_test_done();
}
