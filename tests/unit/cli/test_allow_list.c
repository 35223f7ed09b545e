/* --allow-list files: comments, blanks and trimming; over-long values skipped, not fatal. */
#include "allow_list.h"
#include "fl_test.h"

#include <stdlib.h>
#include <unistd.h>

int main(void)
{
    char path[] = "/tmp/fl-allow-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# revisions and SHAs faultline must never redact\n\n  checkout-api-00082-5u4  \n");
    fprintf(f, "51f6a1d7bc391701fbfa586f75cf898f6816f5df\n");
    for (int i = 0; i < 300; i++)
        fputc('x', f);
    fputs("\n\ttrace-1\t\n", f);
    /* A credential by its shape is never released: the line is skipped (with a warning). */
    fputs("ghp_"
          "Q7vB2rK9lM4xZ8tY1nW6pC3hD5gF0jS7uA2e\n",
          f);
    /* A glob that releases every address is kept, with a warning. */
    fputs("*@*\n", f);
    fclose(f);
    fl_allow_list al = {0};
    CHECK_INT(fl_allow_list_load(&al, "test", path), 0);
    CHECK_INT(al.n, 4);
    if (al.n == 4) {
        CHECK_STR(al.v[0], "checkout-api-00082-5u4");
        CHECK_STR(al.v[1], "51f6a1d7bc391701fbfa586f75cf898f6816f5df");
        CHECK_STR(al.v[2], "trace-1");
        CHECK_STR(al.v[3], "*@*");
    }
    fl_allow_list_free(&al);
    CHECK_INT(fl_allow_list_load(&al, "test", "/nonexistent/allow"), -1);
    CHECK_INT(al.n, 0);
    unlink(path);
    return fl_test_done();
}
