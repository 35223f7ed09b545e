/* A summary round trip for the aggregate tests: the aggregate written to a summary file and read
 * back, as stage two of tail's Kafka pipeline and `merge` see it. Include after fl_test.h. */
#ifndef SUMMARY_TRIP_H
#define SUMMARY_TRIP_H

#include "summary.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What reading back a summary of a gives, or NULL (a failed check says why). */
static fl_agg *summary_trip(fl_agg *a)
{
    char path[] = "/tmp/fl-trip-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "wb");
    fl_diag d, d2;
    fl_diag_init(&d);
    fl_diag_init(&d2);
    fl_summary_meta meta;
    memset(&meta, 0, sizeof meta);
    char err[512] = "";
    CHECK_INT(fl_summary_write(f, a, &d, &meta, err, sizeof err), 0);
    fclose(f);
    fl_agg *back = NULL;
    int rc = fl_summary_read(path, &back, &d2, &meta, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(rc, 0);
    unlink(path);
    fl_diag_free(&d);
    fl_diag_free(&d2);
    return back;
}

#endif
