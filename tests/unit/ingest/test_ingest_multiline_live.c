/* Multi-line reassembly driven one entry at a time, as `tail` drives it (src/engine/
 * live_assemble.c): interleaved instances and lagging sources, slot pressure, the hold-time
 * release (fl_multiline_flush_age) and its replay, the caps. */
#include "fl_test.h"
#include "ingest_internal.h"
#include "ingest_test_util.h"

typedef struct ml_line {
    const char *instance;
    int usec; /* offset from 10:00:00 */
    const char *text;
} ml_line;

/* Parses one stderr container entry of service api into e. */
static void make_entry(fl_entry *e, const ml_line *l)
{
    char text[2048];
    size_t t = 0;
    for (const char *p = l->text; *p && t < sizeof(text) - 4; p++) {
        if (*p == '\t') {
            text[t++] = '\\';
            text[t++] = 't';
            continue;
        }
        if (*p == '"' || *p == '\\')
            text[t++] = '\\';
        text[t++] = *p;
    }
    text[t] = '\0';
    char json[4096];
    int n = snprintf(json, sizeof(json),
                     "{\"timestamp\":\"2026-11-20T10:00:%02d.%06dZ\",\"textPayload\":\"%s\","
                     "\"logName\":\"projects/p/logs/run.googleapis.com%%2Fstderr\",\"labels\":{"
                     "\"instanceId\":\"%s\"},\"resource\":{\"type\":\"cloud_run_revision\","
                     "\"labels\":{\"service_name\":\"api\",\"revision_name\":\"api-00002-abc\"}}}",
                     l->usec / 1000000, l->usec % 1000000, text, l->instance);
    char err[128];
    CHECK_INT(fl_entry_parse(json, (size_t)n, e, err, sizeof(err)), 0);
}

/* What came out so far, "|"-separated, appended to out. */
static size_t drain(fl_multiline *ml, char *out, size_t cap)
{
    fl_entry e;
    fl_entry_init(&e);
    size_t n = 0;
    while (fl_multiline_pop(ml, &e)) {
        tu_append(out, cap, e.message); /* "|"-separated */
        n++;
    }
    fl_entry_free(&e);
    return n;
}

static void push(fl_multiline *ml, const ml_line *l)
{
    fl_entry e;
    fl_entry_init(&e);
    make_entry(&e, l);
    CHECK_INT(fl_multiline_push(ml, &e), 0);
    fl_entry_free(&e);
}

/* A Python traceback split one frame per entry (a QueuePool timeout, as SQLAlchemy raises it)
 * and a Node trace from another instance, interleaved line by line. */
static const ml_line interleaved[] = {
    {"a", 100, "Traceback (most recent call last):"},
    {"b", 110, "Error: connect ECONNREFUSED 10.0.0.5:6379"},
    {"a", 120, "  File \"/app/main.py\", line 10, in handler"},
    {"b", 130, "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)"},
    {"a", 140, "    db.query()"},
    {"a", 160, "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached"},
};

static void test_interleaved_one_at_a_time(void)
{
    fl_multiline *ml;
    CHECK_INT(fl_multiline_new(&ml), 0);
    char out[4096] = "";
    for (size_t i = 0; i < FL_ARRAY_LEN(interleaved); i++) {
        push(ml, &interleaved[i]);
        /* Nothing comes out while both traces may still grow. */
        CHECK_INT(drain(ml, out, sizeof(out)), 0);
    }
    CHECK_INT(fl_multiline_held(ml), 6);
    CHECK_INT(fl_multiline_pushed(ml), 6);
    /* A line of another instance minutes away (a lagging Kafka partition) closes neither: the
     * trace of b still takes its next line. */
    push(ml, &(ml_line){"c", 59000000, "listening on :8080"});
    CHECK_INT(drain(ml, out, sizeof(out)), 0);
    push(ml, &(ml_line){"b", 170, "    at Socket.emit (node:events:519:28)"});
    CHECK_INT(drain(ml, out, sizeof(out)), 0);
    CHECK_INT(fl_multiline_held(ml), 8);
    CHECK_INT(fl_multiline_flush(ml), 0);
    CHECK_INT(drain(ml, out, sizeof(out)), 3); /* oldest first */
    CHECK_STR(out, "Traceback (most recent call last):\n"
                   "  File \"/app/main.py\", line 10, in handler\n"
                   "    db.query()\n"
                   "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached|"
                   "Error: connect ECONNREFUSED 10.0.0.5:6379\n"
                   "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n"
                   "    at Socket.emit (node:events:519:28)|"
                   "listening on :8080");
    CHECK_INT(fl_multiline_held(ml), 0);
    fl_multiline_free(ml);
}

/* The hold-time release: a trace whose first line came more than `age` pushes ago is released
 * as it is, the younger one stays; the rest of the released trace no longer joins it. The same
 * pushes with the same release replay to the same entries (what tail's journal relies on). */
static void run_hold(char *out, size_t cap)
{
    fl_multiline *ml;
    CHECK_INT(fl_multiline_new(&ml), 0);
    push(ml, &interleaved[0]); /* a: pushed 1 */
    push(ml, &interleaved[2]); /* a: pushed 2 */
    push(ml, &interleaved[1]); /* b starts: pushed 3 */
    push(ml, &interleaved[3]); /* pushed 4 */
    /* Traces started more than 2 pushes ago: a (born at 0), not b (born at 2). */
    CHECK_INT(fl_multiline_flush_age(ml, 2), 1);
    CHECK_INT(drain(ml, out, cap), 1);
    CHECK_INT(fl_multiline_held(ml), 2);
    CHECK_INT(fl_multiline_flush_age(ml, 2), 0); /* b is younger */
    push(ml, &interleaved[4]);
    push(ml, &interleaved[5]);
    CHECK_INT(fl_multiline_flush(ml), 0);
    CHECK_INT(drain(ml, out, cap), 2); /* b, and the rest of a as a trace of its own */
    CHECK_INT(fl_multiline_held(ml), 0);
    fl_multiline_free(ml);
}

static void test_hold_release_and_replay(void)
{
    char first[4096] = "", again[4096] = "";
    run_hold(first, sizeof(first));
    CHECK_STR(first, "Traceback (most recent call last):\n"
                     "  File \"/app/main.py\", line 10, in handler|"
                     "Error: connect ECONNREFUSED 10.0.0.5:6379\n"
                     "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)|"
                     "    db.query()\n"
                     "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached");
    run_hold(again, sizeof(again));
    CHECK_STR(again, first);
}

/* Age 0 releases everything, like the end of input. */
static void test_flush_age_zero(void)
{
    fl_multiline *ml;
    CHECK_INT(fl_multiline_new(&ml), 0);
    push(ml, &interleaved[0]);
    push(ml, &interleaved[1]);
    CHECK_INT(fl_multiline_flush_age(ml, 0), 2);
    char out[1024] = "";
    CHECK_INT(drain(ml, out, sizeof(out)), 2);
    CHECK_INT(fl_multiline_held(ml), 0);
    fl_multiline_free(ml);
}

/* 300 frames: the run closes at 256 entries, the cut is counted and warned about once. */
static void test_cap_counted_and_warned(void)
{
    fl_multiline *ml;
    CHECK_INT(fl_multiline_new(&ml), 0);
    push(ml, &(ml_line){"a", 0, "java.lang.StackOverflowError"});
    char frame[128];
    for (int i = 1; i < 300; i++) {
        snprintf(frame, sizeof(frame), "\tat com.example.Recursive.call(Recursive.java:%d)", i);
        push(ml, &(ml_line){"a", i, frame});
    }
    CHECK_INT(fl_multiline_flush(ml), 0);
    static char out[64 * 1024];
    out[0] = '\0';
    CHECK_INT(drain(ml, out, sizeof(out)), 2);
    CHECK(fl_multiline_capped(ml) >= 1);
    fl_diag d;
    fl_diag_init(&d);
    fl_multiline_warn_caps(ml, &d);
    CHECK_INT(d.n_warnings, 1);
    CHECK(tu_has_warning(&d, FL_WARN_OTHER, "256 lines"));
    CHECK_INT(fl_diag_exit_status(&d), 0); /* a cut trace is not partial input */
    fl_diag_free(&d);
    fl_multiline_free(ml);

    /* No cut, no warning. */
    CHECK_INT(fl_multiline_new(&ml), 0);
    push(ml, &interleaved[0]);
    CHECK_INT(fl_multiline_flush(ml), 0);
    fl_diag_init(&d);
    fl_multiline_warn_caps(ml, &d);
    CHECK_INT(d.n_warnings, 0);
    fl_diag_free(&d);
    fl_multiline_free(ml);
}

/* Ten instances print plain lines while a traceback is in progress: with every slot busy, a
 * lone plain line is closed before the trace, which still joins its exception line. */
static void test_slot_pressure_keeps_the_trace(void)
{
    fl_multiline *ml;
    CHECK_INT(fl_multiline_new(&ml), 0);
    push(ml, &interleaved[0]);
    push(ml, &interleaved[2]);
    static const char *const inst[] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"};
    for (int i = 0; i < 10; i++)
        push(ml, &(ml_line){inst[i], 300 + i, "GET /api/v1/orders 200 9ms"});
    push(ml, &interleaved[5]);
    CHECK_INT(fl_multiline_flush(ml), 0);
    static char out[8192];
    out[0] = '\0';
    CHECK_INT(drain(ml, out, sizeof(out)), 11);
    CHECK(strstr(out, "Traceback (most recent call last):\n"
                      "  File \"/app/main.py\", line 10, in handler\n"
                      "sqlalchemy.exc.TimeoutError") != NULL);
    fl_multiline_free(ml);
}

/* Reassembly holds entries by pointer (issue 15): a line is copied into the assembler once
 * and out of it once, however it leaves (its run closed by the source's next line, evicted
 * when all eight slots are busy, joined into a trace, at the end); closing a run and queueing
 * its entry copied the struct a third time. */
static void test_two_copies_per_line(void)
{
    fl_multiline *ml;
    CHECK_INT(fl_multiline_new(&ml), 0);
    static char out[16384];
    out[0] = '\0';
    size_t popped = 0;
    for (int i = 0; i < 120; i++) { /* twelve instances: more sources than slots */
        char inst[8], text[64];
        snprintf(inst, sizeof inst, "i%d", i % 12);
        snprintf(text, sizeof text, "served request %d", i);
        push(ml, &(ml_line){inst, i * 1000, text});
        popped += drain(ml, out, sizeof out);
    }
    CHECK_INT(fl_multiline_flush(ml), 0);
    popped += drain(ml, out, sizeof out);
    CHECK_INT(popped, 120);
    CHECK_INT(fl_multiline_moved(ml), 2 * 120);
    fl_multiline_free(ml);

    /* Six lines in, two joined traces out: eight copies. */
    CHECK_INT(fl_multiline_new(&ml), 0);
    out[0] = '\0';
    for (size_t i = 0; i < FL_ARRAY_LEN(interleaved); i++)
        push(ml, &interleaved[i]);
    CHECK_INT(fl_multiline_flush(ml), 0);
    CHECK_INT(drain(ml, out, sizeof out), 2);
    CHECK_INT(fl_multiline_moved(ml), 6 + 2);
    fl_multiline_free(ml);
}

/* Pushes LINES lines of five sources (traces and plain lines) with allocation number budget
 * failing (-1: none) and collects what comes out in out; returns how many pushes failed. */
enum { LINES = 30 };
static int oom_run(long budget, char *out, size_t cap, size_t *popped)
{
    static const char *texts[] = {"Traceback (most recent call last):",
                                  "  File \"/app/main.py\", line 10, in handler",
                                  "ValueError: bad", "listening on :8080"};
    fl_entry in[LINES];
    for (int i = 0; i < LINES; i++) {
        char inst[8];
        snprintf(inst, sizeof inst, "x%d", i / 4 % 5); /* four lines a source in a row */
        fl_entry_init(&in[i]);
        make_entry(&in[i], &(ml_line){inst, i * 1000, texts[i % 4]});
    }
    fl_multiline *ml;
    CHECK_INT(fl_multiline_new(&ml), 0);
    fl_alloc_fail_after(budget);
    int failed = 0;
    *popped = 0;
    out[0] = '\0';
    for (int i = 0; i < LINES; i++) {
        int rc = fl_multiline_push(ml, &in[i]);
        CHECK(rc == 0 || rc == FL_ENOMEM);
        failed += rc != 0;
        *popped += drain(ml, out, cap);
    }
    fl_alloc_fail_after(-1);
    CHECK_INT(fl_multiline_flush(ml), 0);
    *popped += drain(ml, out, cap);
    fl_multiline_free(ml);
    for (int i = 0; i < LINES; i++)
        fl_entry_free(&in[i]);
    return failed;
}

/* Out of memory at any allocation while lines are pushed: push says FL_ENOMEM or takes the
 * line, nothing leaks or is freed twice (the sanitizer builds check), no more comes out than
 * went in. With room for every allocation the result is the usual one. */
static void test_out_of_memory(void)
{
    static char want[16384], got[16384];
    size_t want_n = 0, got_n = 0;
    CHECK_INT(oom_run(-1, want, sizeof want, &want_n), 0);
    CHECK(want_n > 10 && want_n < LINES); /* some lines were joined */
    bool whole_run = false;
    for (long k = 0; k < 300 && !whole_run; k++) {
        int failed = oom_run(k, got, sizeof got, &got_n);
        CHECK(got_n <= want_n);
        if (!failed) { /* the budget outlasted the run */
            whole_run = true;
            CHECK_INT(got_n, want_n);
            CHECK_STR(got, want);
        }
    }
    CHECK(whole_run);
}

/* fl_multiline_offer is fl_multiline_passes then fl_multiline_push in one call (the readers'
 * loop, issue 15): a request log with nothing queued passes (1) and is left as it was; a
 * container line is taken (0), the entry left with storage of its own to refill (not
 * cleared: its readers refill it at once); a request log behind a queued entry is taken
 * too, so that the order holds. */
static void test_offer(void)
{
    fl_multiline *ml;
    CHECK_INT(fl_multiline_new(&ml), 0);
    fl_entry e;
    fl_entry_init(&e);
    static const char req[] =
        "{\"timestamp\":\"2026-11-20T10:00:00.5Z\",\"logName\":\"projects/p/logs/"
        "run.googleapis.com%2Frequests\",\"httpRequest\":{\"status\":200},\"resource\":{\"type\":"
        "\"cloud_run_revision\",\"labels\":{\"service_name\":\"api\"}}}";
    char err[128];
    CHECK_INT(fl_entry_parse(req, strlen(req), &e, err, sizeof err), 0);
    CHECK(fl_multiline_passes(ml, &e));
    CHECK_INT(fl_multiline_offer(ml, &e), 1);
    CHECK_INT(e.http_status, 200);
    CHECK_INT(fl_multiline_pushed(ml), 0);

    make_entry(&e, &(ml_line){"a", 100, "listening on :8080"});
    CHECK(!fl_multiline_passes(ml, &e));
    const char *taken_store = e.store;
    CHECK_INT(fl_multiline_offer(ml, &e), 0);
    CHECK(e.store != taken_store && e.store_len == 0); /* its storage went with the line */
    CHECK_INT(fl_multiline_held(ml), 1);
    make_entry(&e, &(ml_line){"a", 200, "ready"}); /* closes the first line's run */
    CHECK_INT(fl_multiline_offer(ml, &e), 0);
    CHECK_INT(fl_entry_parse(req, strlen(req), &e, err, sizeof err), 0);
    CHECK(!fl_multiline_passes(ml, &e)); /* "listening" is queued: the request goes after it */
    CHECK_INT(fl_multiline_offer(ml, &e), 0);
    char out[256] = "";
    CHECK_INT(drain(ml, out, sizeof out), 2);
    CHECK_STR(out, "listening on :8080|");
    fl_entry_free(&e);
    fl_multiline_free(ml);
}

int main(void)
{
    test_slot_pressure_keeps_the_trace();
    test_interleaved_one_at_a_time();
    test_hold_release_and_replay();
    test_flush_age_zero();
    test_cap_counted_and_warned();
    test_two_copies_per_line();
    test_out_of_memory();
    test_offer();
    if (!getenv("KEEP"))
        tu_cleanup();
    return fl_test_done();
}
