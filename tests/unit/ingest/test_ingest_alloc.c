/* Allocation failure (curl's torture habit): the Nth allocation fails, for every N that the
 * reader reaches on a mixed input (directory, gzip, array, stack traces). The reader must
 * return an error or finish, never crash, and (under ASan) never leak. */
#include "fl_test.h"
#include "ingest_test_util.h"

int main(void)
{
    const char *trace =
        "{\"timestamp\":\"2026-11-20T10:00:00.1Z\",\"textPayload\":\"Traceback (most recent call "
        "last):\",\"labels\":{\"instanceId\":\"i\"},\"logName\":\"p/logs/"
        "run.googleapis.com%2Fstderr\"}\n"
        "{\"timestamp\":\"2026-11-20T10:00:00.2Z\",\"textPayload\":\"  File "
        "\\\"x.py\\\"\",\"labels\":"
        "{\"instanceId\":\"i\"},\"logName\":\"p/logs/run.googleapis.com%2Fstderr\"}\n"
        "{\"timestamp\":\"2026-11-20T10:00:00.3Z\",\"textPayload\":\"KeyError: 1\",\"labels\":"
        "{\"instanceId\":\"i\"},\"logName\":\"p/logs/run.googleapis.com%2Fstderr\"}\n"
        "not json\n";
    tu_write_str(tu_path("dir/a/trace.json"), trace);
    size_t gzn;
    unsigned char *gz = tu_gzip(trace, strlen(trace), &gzn);
    tu_write(tu_path("dir/b/trace.json.gz"), gz, gzn);
    free(gz);
    tu_write_str(tu_path("dir/c/array.json"),
                 "[\n  {\"insertId\": \"a\", \"jsonPayload\": {\"message\": \"m\", "
                 "\"stack_trace\": \"at x\"}},\n  {\"insertId\": \"b\"}\n]\n");

    const char *paths[] = {tu_path("dir")};
    /* The clean run: how many entries there are. */
    fl_diag d;
    fl_diag_init(&d);
    tu_result *res = tu_read(paths, 1, NULL, &d);
    size_t clean = res->n, clean_warnings = d.n_warnings;
    CHECK_INT(res->rc, 0);
    CHECK_INT(clean_warnings, 2); /* "not json" in the plain and the gzip copy */
    CHECK_INT(clean, 4);          /* two joined traces, two array entries */
    fl_diag_free(&d);

    int completed = 0;
    for (long n = 0; n < 400; n++) {
        fl_diag_init(&d);
        fl_alloc_fail_after(n);
        fl_reader *r;
        int rc = fl_reader_open(&r, paths, 1, NULL, &d);
        size_t got = 0;
        if (rc == 0) {
            fl_entry e;
            fl_entry_init(&e);
            while ((rc = fl_reader_next(r, &e)) == 1)
                got++;
            fl_entry_free(&e);
            fl_reader_free(r);
        }
        fl_alloc_fail_after(-1);
        CHECK(rc == 0 || rc == FL_ENOMEM || rc == FL_ENOTFOUND);
        CHECK(got <= clean + 2); /* a failed join may leave lines separate */
        if (rc == 0 && d.n_warnings == clean_warnings && got == clean)
            completed++;
        fl_diag_free(&d);
    }
    CHECK(completed > 0); /* enough budget eventually lets the run finish */
    if (!getenv("KEEP"))
        tu_cleanup();
    return fl_test_done();
}
