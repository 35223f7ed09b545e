/* Fuzz target for the batch reader below the JSON level: stream detection (plain, gzip, zstd
 * by magic bytes), format detection and record splitting (NDJSON, arrays, concatenated
 * objects, broken brackets), multi-line reassembly. The input is served through a memfd, so
 * the reader runs exactly as on a file. Checks: no crash or sanitizer report, every entry's
 * line is within the input, entries come out of one file in a sane count, and gcloud-array
 * elements parsed in place come out exactly as the bracket scanner would cut them. */
#include "fl_ingest.h"
#include "split_compare.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_reader", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    lseek(fd, 0, SEEK_SET);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    uint64_t newlines = 1;
    for (size_t i = 0; i < size; i++)
        newlines += data[i] == '\n';

    for (int ml = 0; ml < 2; ml++) {
        lseek(fd, 0, SEEK_SET);
        fl_diag d;
        fl_diag_init(&d);
        fl_reader *r;
        fl_reader_opts o = {0};
        o.record_max = 4096; /* small, so the oversize paths run too */
        o.no_multiline = ml == 0;
        const char *paths[] = {path};
        if (fl_reader_open(&r, paths, 1, &o, &d) == 0) {
            fl_entry e;
            fl_entry_init(&e);
            uint64_t n = 0;
            while (fl_reader_next(r, &e) == 1) {
                n++;
                /* Decompressed input can have more lines than the raw bytes. */
                if (e.src_line == 0 || (d.bytes == size && e.src_line > newlines))
                    abort();
            }
            if (n > d.entries)
                abort();
            fl_entry_free(&e);
            fl_reader_free(r);
        }
        fl_diag_free(&d);
    }
    /* The array splitter's in-place parse must cut and read exactly what its bracket scanner
     * and fl_entry_parse do (split_compare.h). */
    size_t in_place;
    if (fl_split_compare("fuzz input", path, 4096, &in_place) != 0)
        abort();
    close(fd);
    return 0;
}

#ifndef FL_LIBFUZZER
#include <dirent.h>
#include <sys/stat.h>

static int replay(const char *path, size_t *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (S_ISDIR(st.st_mode)) {
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);
        int bad = n < 0;
        for (int i = 0; i < n; i++) {
            if (names[i]->d_name[0] != '.') {
                char full[4096];
                snprintf(full, sizeof(full), "%s/%s", path, names[i]->d_name);
                bad |= replay(full, count);
            }
            free(names[i]);
        }
        free(n >= 0 ? names : NULL);
        return bad;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return 1;
    static uint8_t buf[1 << 22];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    (*count)++;
    return 0;
}

int main(int argc, char **argv)
{
    int bad = 0;
    size_t count = 0;
    for (int i = 1; i < argc; i++)
        bad |= replay(argv[i], &count);
    printf("%zu inputs replayed%s\n", count, bad ? ", errors" : "");
    return bad || count == 0;
}
#endif
