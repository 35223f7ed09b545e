/* Fuzz target for the summary reader (correlate/summary.c). A checksum guards every real
 * file, so random bytes would only ever meet the checksum check: the target takes the input
 * as the body after the header, appends a valid trailer (length and FNV-1a-64), and reads
 * that. Whatever the reader accepts is merged into an aggregate, as `faultline merge` does,
 * and expired, as `tail --summaries-from --window` does.
 * Checks: no crash, no sanitizer report, no leak; a refusal always says why. */
#include "summary.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a file from the corpus is a whole summary: fuzz its body */
    if (size >= 36 && memcmp(data, "FLSUMMRY", 8) == 0) {
        data += 12;
        size -= 36;
    }
    size_t len = 12 + size + 24;
    unsigned char *f = malloc(len);
    if (!f)
        return 0;
    memcpy(f, "FLSUMMRY", 8);
    for (int i = 0; i < 4; i++) /* the version this reader reads, or it reads nothing else */
        f[8 + i] = (unsigned char)((unsigned)FL_SUMMARY_VERSION >> (8 * i));
    memcpy(f + 12, data, size);
    memcpy(f + 12 + size, "FLSUMEND", 8);
    put64(f + 12 + size + 8, 12 + size);
    put64(f + 12 + size + 16, fl_hash64(f, 12 + size, FL_HASH_SEED));

    int fd = memfd_create("fuzz_summary", 0);
    if (fd < 0 || write(fd, f, len) != (ssize_t)len) {
        if (fd >= 0)
            close(fd);
        free(f);
        return 0;
    }
    free(f);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    fl_agg *a = NULL;
    fl_diag d, all;
    fl_summary_meta m;
    char err[512] = "";
    fl_diag_init(&d);
    fl_diag_init(&all);
    int rc = fl_summary_read(path, &a, &d, &m, err, sizeof err);
    if (rc != 0 && (a || !err[0]))
        abort();
    if (rc == 0) {
        fl_agg *total = fl_agg_new(NULL);
        if (total && fl_agg_merge(total, a) == 0 && fl_agg_merge(total, a) == 0 &&
            fl_summary_diag_add(&all, &d) == 0)
            fl_summary_diag_finish(&all);
        /* tail's window: expiry computes minute + width on what was read */
        if (total) {
            fl_agg_expire(total, (fl_time)1767225600 * 1000000); /* 2026-01-01 */
            fl_agg_expire(total, INT64_MAX);
        }
        fl_agg_free(total);
    }
    fl_agg_free(a);
    fl_diag_free(&d);
    fl_diag_free(&all);
    close(fd);
    return 0;
}

#ifndef FL_LIBFUZZER
#include <dirent.h>

/* Replays every file of the corpus directory given as argv[1]. */
int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    DIR *dir = opendir(argv[1]);
    if (!dir)
        return 2;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", argv[1], de->d_name);
        FILE *fp = fopen(p, "rb");
        if (!fp)
            continue;
        static unsigned char buf[1 << 22];
        size_t got = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(buf, got);
        n++;
    }
    closedir(dir);
    printf("%d inputs replayed\n", n);
    return n ? 0 : 1;
}
#endif
