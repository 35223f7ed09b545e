/* Fuzz target: the fast LogEntry reader must agree with the jansson reference on every input
 * (same accept/reject verdict, same fields). Built two ways:
 *   - with clang and -fsanitize=fuzzer: a libFuzzer binary (LLVMFuzzerTestOneInput);
 *   - with any compiler: a replay program that runs the same check on the files or
 *     directories given (the committed corpus in the unit suite). */
#include "entry_compare.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    if (fl_entry_compare((const char *)data, size, why, sizeof(why)) != 0) {
        fprintf(stderr, "fast reader and jansson disagree: %s\n", why);
        abort();
    }
    return 0;
}

#ifndef FL_LIBFUZZER
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static unsigned char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    char why[512];
    if (fl_entry_compare((const char *)buf, n, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s: fast reader and jansson disagree: %s\n", path, why);
        return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay(const char *path, size_t *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return replay_file(path);
    }
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        return 1;
    }
    char *names[4096];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 4096)
        if (de->d_name[0] != '.')
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", path, names[i]);
        bad |= replay(full, count);
        free(names[i]);
    }
    return bad;
}

int main(int argc, char **argv)
{
    int bad = 0;
    size_t count = 0;
    for (int i = 1; i < argc; i++)
        bad |= replay(argv[i], &count);
    printf("%zu inputs replayed, %s\n", count, bad ? "MISMATCH" : "all agree");
    return bad || count == 0;
}
#endif
