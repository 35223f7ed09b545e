/* Multi-line reassembly driven one entry at a time, as `tail` drives it (src/engine/
 * live_assemble.c): interleaved instances and lagging sources, slot pressure, the hold-time
 * release (fl_multiline_flush_age) and its replay, the caps. */
#include "fl_test.h"
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

int main(void)
{
    test_slot_pressure_keeps_the_trace();
    test_interleaved_one_at_a_time();
    test_hold_release_and_replay();
    test_flush_age_zero();
    test_cap_counted_and_warned();
    if (!getenv("KEEP"))
        tu_cleanup();
    return fl_test_done();
}
