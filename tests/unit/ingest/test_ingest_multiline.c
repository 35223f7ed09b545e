/* Multi-line reassembly: Cloud Run's one-entry-per-line stack traces joined back, oldest-first
 * (sink NDJSON) and newest-first (gcloud arrays) alike. */
#include "fl_test.h"
#include "ingest_test_util.h"

typedef struct line {
    const char *instance;
    const char *log;      /* "stderr", "stdout", "requests" */
    int usec;             /* offset from 10:00:00 */
    const char *severity; /* NULL: none */
    const char *text;
} line;

/* Writes the lines as NDJSON in the given order (reverse: newest first). */
static void write_lines(const char *name, const line *ls, size_t n, bool reverse)
{
    static char buf[2 << 20];
    size_t len = 0;
    for (size_t k = 0; k < n; k++) {
        const line *l = &ls[reverse ? n - 1 - k : k];
        char text[4096];
        size_t t = 0;
        for (const char *p = l->text; *p && t < sizeof(text) - 8; p++) {
            if (*p == '"' || *p == '\\')
                text[t++] = '\\';
            if (*p == '\t' || *p == '\n') {
                text[t++] = '\\';
                text[t++] = *p == '\t' ? 't' : 'n';
                continue;
            }
            text[t++] = *p;
        }
        text[t] = '\0';
        char sev[64] = "";
        if (l->severity)
            snprintf(sev, sizeof(sev), "\"severity\":\"%s\",", l->severity);
        len += (size_t)snprintf(
            buf + len, sizeof(buf) - len,
            "{%s\"timestamp\":\"2026-11-20T10:00:%02d.%06dZ\",\"textPayload\":\"%s\","
            "\"logName\":\"projects/p/logs/run.googleapis.com%%2F%s\",\"labels\":{\"instanceId\":"
            "\"%s\"},\"resource\":{\"type\":\"cloud_run_revision\",\"labels\":{\"service_name\":"
            "\"api\",\"revision_name\":\"api-00002-abc\"}}}\n",
            sev, l->usec / 1000000, l->usec % 1000000, text, l->log, l->instance);
    }
    tu_write(tu_path(name), buf, len);
}

static tu_result *read_ml(const char *name, bool no_multiline)
{
    fl_diag d;
    fl_diag_init(&d);
    const char *paths[] = {tu_path(name)};
    fl_reader_opts o = {0};
    o.no_multiline = no_multiline;
    tu_result *r = tu_read(paths, 1, &o, &d);
    fl_diag_free(&d);
    return r;
}

static const line python[] = {
    {"i1", "stdout", 100, "INFO", "handling request 42"},
    {"i1", "stderr", 200100, "ERROR", "Traceback (most recent call last):"},
    {"i1", "stderr", 200200, NULL, "  File \"/app/main.py\", line 10, in handler"},
    {"i1", "stderr", 200300, NULL, "    db.query()"},
    {"i1", "stderr", 200400, NULL, "  File \"/app/db.py\", line 3, in query"},
    {"i1", "stderr", 200500, NULL, "    raise TimeoutError(\"pool\")"},
    {"i1", "stderr", 200600, NULL, "TimeoutError: QueuePool limit of size 5 overflow 10 reached"},
    {"i1", "stdout", 900000, "INFO", "request 43 ok"},
};

static const char python_joined[] = "Traceback (most recent call last):\n"
                                    "  File \"/app/main.py\", line 10, in handler\n"
                                    "    db.query()\n"
                                    "  File \"/app/db.py\", line 3, in query\n"
                                    "    raise TimeoutError(\"pool\")\n"
                                    "TimeoutError: QueuePool limit of size 5 overflow 10 reached";

static const line java[] = {
    {"j1", "stderr", 10, NULL, "java.lang.IllegalStateException: pool closed"},
    {"j1", "stderr", 20, NULL,
     "\tat com.zaxxer.hikari.HikariDataSource.getConnection(Hikari.java:96)"},
    {"j1", "stderr", 30, NULL, "\tat com.example.Repo.find(Repo.java:12)"},
    {"j1", "stderr", 40, NULL, "Caused by: java.sql.SQLTransientConnectionException: timeout"},
    {"j1", "stderr", 50, NULL,
     "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)"},
    {"j1", "stderr", 60, NULL, "\t... 12 more"},
};

static const line node[] = {
    {"n1", "stderr", 500, "ERROR", "Error: connect ECONNREFUSED 10.0.0.5:6379"},
    {"n1", "stderr", 510, NULL,
     "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)"},
    {"n1", "stderr", 520, NULL, "    at Socket.emit (node:events:519:28)"},
    /* Another instance prints at the same moment: not part of n1's trace. */
    {"n2", "stderr", 530, NULL, "    at Other.frame (other.js:1:1)"},
};

static void test_python_both_orders(void)
{
    for (int rev = 0; rev < 2; rev++) {
        write_lines("py.ndjson", python, FL_ARRAY_LEN(python), rev);
        tu_result *r = read_ml("py.ndjson", false);
        CHECK_INT(r->rc, 0);
        CHECK_INT(r->n, 3);
        char want[2048];
        snprintf(want, sizeof(want),
                 rev ? "request 43 ok|%s|handling request 42"
                     : "handling request 42|%s|request 43 ok",
                 python_joined);
        CHECK_STR(r->messages, want);
    }
    /* The joined entry has the first line's metadata and the highest severity. */
    write_lines("py.ndjson", python, FL_ARRAY_LEN(python), true);
    fl_diag d;
    fl_diag_init(&d);
    fl_reader *rd;
    const char *paths[] = {tu_path("py.ndjson")};
    CHECK_INT(fl_reader_open(&rd, paths, 1, NULL, &d), 0);
    fl_entry e;
    fl_entry_init(&e);
    bool seen = false;
    while (fl_reader_next(rd, &e) == 1) {
        if (strncmp(e.message, "Traceback", 9) == 0) {
            seen = true;
            CHECK_INT(e.severity, FL_SEV_ERROR);
            CHECK_INT(e.log_kind, FL_LOG_STDERR);
            CHECK_STR(e.instance_id, "i1");
            CHECK_STR(e.revision, "api-00002-abc");
            CHECK_INT(e.src_line, 7); /* newest first: the Traceback line is line 7 */
            /* the joined message's length is noted (consumers do not strlen it again) */
            CHECK(e.known_at[FL_KNOWN_MESSAGE] == e.message);
            CHECK_INT(e.known_n[FL_KNOWN_MESSAGE], strlen(e.message));
            char ts[40];
            CHECK_STR(fl_time_format(e.ts, true, ts, sizeof(ts)), "2026-11-20T10:00:00.200100Z");
        }
    }
    CHECK(seen);
    CHECK_INT(d.entries, FL_ARRAY_LEN(python));
    fl_entry_free(&e);
    fl_reader_free(rd);
    fl_diag_free(&d);

    /* Off: every line is its own entry. */
    tu_result *r = read_ml("py.ndjson", true);
    CHECK_INT(r->n, FL_ARRAY_LEN(python));
}

/* A chained traceback (the "direct cause" line between two tracebacks) is one error in both
 * orders; before, each order cut it at a different line. */
static const line chained[] = {
    {"c1", "stderr", 100, NULL, "Traceback (most recent call last):"},
    {"c1", "stderr", 200, NULL, "  File \"/usr/lib/httpx/_transports/default.py\", line 72"},
    {"c1", "stderr", 300, NULL, "    yield"},
    {"c1", "stderr", 400, NULL, "httpcore.ReadTimeout: The read operation timed out"},
    {"c1", "stderr", 500, NULL,
     "The above exception was the direct cause of the following exception:"},
    {"c1", "stderr", 600, NULL, "Traceback (most recent call last):"},
    {"c1", "stderr", 700, NULL, "  File \"/app/search/embed.py\", line 51, in embed"},
    {"c1", "stderr", 800, NULL, "openai.APITimeoutError: Request timed out."},
    {"c1", "stdout", 900000, "INFO", "next request"},
};

static void test_chained_traceback(void)
{
    for (int rev = 0; rev < 2; rev++) {
        write_lines("chain.ndjson", chained, FL_ARRAY_LEN(chained), rev);
        tu_result *r = read_ml("chain.ndjson", false);
        CHECK_INT(r->rc, 0);
        CHECK_INT(r->n, 2);
        CHECK(strstr(r->messages, "timed out\nThe above exception was the direct cause of the "
                                  "following exception:\nTraceback (most recent call last):\n") !=
              NULL);
    }
}

static void test_java_and_node(void)
{
    const char *java_joined =
        "java.lang.IllegalStateException: pool closed\n"
        "\tat com.zaxxer.hikari.HikariDataSource.getConnection(Hikari.java:96)\n"
        "\tat com.example.Repo.find(Repo.java:12)\n"
        "Caused by: java.sql.SQLTransientConnectionException: timeout\n"
        "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)\n"
        "\t... 12 more";
    for (int rev = 0; rev < 2; rev++) {
        write_lines("java.ndjson", java, FL_ARRAY_LEN(java), rev);
        tu_result *r = read_ml("java.ndjson", false);
        CHECK_INT(r->n, 1);
        CHECK_STR(r->messages, java_joined);

        write_lines("node.ndjson", node, FL_ARRAY_LEN(node), rev);
        r = read_ml("node.ndjson", false);
        CHECK_INT(r->n, 2);
        const char *node_joined = "Error: connect ECONNREFUSED 10.0.0.5:6379\n"
                                  "    at TCPConnectWrap.afterConnect [as oncomplete] "
                                  "(node:net:1555:16)\n"
                                  "    at Socket.emit (node:events:519:28)";
        CHECK(strstr(r->messages, node_joined) != NULL);
        CHECK(strstr(r->messages, "    at Other.frame (other.js:1:1)") != NULL);
    }
}

static void test_not_joined(void)
{
    static const line ls[] = {
        /* More than a second apart: separate. */
        {"i1", "stderr", 0, NULL, "Error: first"},
        {"i1", "stderr", 2500000, NULL, "    at late (x.js:1:1)"},
        /* Plain lines in a burst are not continuations of each other. */
        {"i1", "stdout", 3000000, NULL, "starting worker 1"},
        {"i1", "stdout", 3000001, NULL, "starting worker 2"},
        {"i1", "stdout", 3000002, NULL, "ValueError: this is not after a frame"},
    };
    for (int rev = 0; rev < 2; rev++) {
        write_lines("sep.ndjson", ls, FL_ARRAY_LEN(ls), rev);
        tu_result *r = read_ml("sep.ndjson", false);
        CHECK_INT(r->n, FL_ARRAY_LEN(ls));
    }
}

/* Two tracebacks each logged whole (one entry each) by one instance in the same second stay two
 * errors in both orders: only single-line entries are pieces of a split trace. */
static void test_whole_traces_not_glued(void)
{
    static const line ls[] = {
        {"i1", "stdout", 5000, "ERROR",
         "Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in f\n"
         "redis.exceptions.TimeoutError: Timeout connecting to server"},
        {"i1", "stdout", 90000, "INFO", "cache hit for key session:1"},
        {"i1", "stdout", 112000, "ERROR",
         "Traceback (most recent call last):\n  File \"/app/b.py\", line 2, in g\n"
         "redis.exceptions.TimeoutError: Timeout reading from socket"},
    };
    for (int rev = 0; rev < 2; rev++) {
        write_lines("whole.ndjson", ls, FL_ARRAY_LEN(ls), rev);
        tu_result *r = read_ml("whole.ndjson", false);
        CHECK_INT(r->n, FL_ARRAY_LEN(ls));
    }
}

static void test_request_log_in_between(void)
{
    /* The request log of the failing request lands between the trace lines: it passes
     * through and the trace is still one entry. */
    static const line ls[] = {
        {"i1", "stderr", 100, NULL, "Traceback (most recent call last):"},
        {"i1", "stderr", 200, NULL, "  File \"/app/x.py\", line 1, in f"},
        {"i9", "requests", 250, "ERROR", "GET /api 500"},
        {"i1", "stderr", 300, NULL, "KeyError: 'id'"},
    };
    for (int rev = 0; rev < 2; rev++) {
        write_lines("req.ndjson", ls, FL_ARRAY_LEN(ls), rev);
        tu_result *r = read_ml("req.ndjson", false);
        CHECK_INT(r->n, 2);
        CHECK(strstr(r->messages, "Traceback (most recent call last):\n  File \"/app/x.py\", "
                                  "line 1, in f\nKeyError: 'id'") != NULL);
    }
}

/* Entries that reassembly does not look at skip its queue (fl_multiline_passes), but never
 * overtake what it must release first. A held trace is not closed by another source's entry,
 * however far away in time (issue 17: lagging sources), so it comes out after both request
 * logs, at the end, as through the queue. */
static void test_pass_through_order(void)
{
    static const line ls[] = {
        {"i1", "stderr", 100, NULL, "Traceback (most recent call last):"},
        {"i1", "stderr", 200, NULL, "  File \"/app/x.py\", line 1, in f"},
        {"i9", "requests", 300, "INFO", "GET /early 200"},
        {"i1", "stderr", 400, NULL, "KeyError: 'id'"},
        {"i9", "requests", 2500000, "INFO", "GET /late 200"},
    };
    write_lines("order.ndjson", ls, FL_ARRAY_LEN(ls), false);
    fl_diag d;
    fl_diag_init(&d);
    fl_reader *rd;
    const char *paths[] = {tu_path("order.ndjson")};
    CHECK_INT(fl_reader_open(&rd, paths, 1, NULL, &d), 0);
    fl_entry e;
    fl_entry_init(&e);
    const char *want[] = {"GET /early 200", "GET /late 200", "Traceback"};
    size_t n = 0;
    while (fl_reader_next(rd, &e) == 1) {
        if (n < FL_ARRAY_LEN(want) && strncmp(e.message, want[n], strlen(want[n])) != 0)
            fprintf(stderr, "entry %zu: got \"%.40s\", want \"%s\"\n", n, e.message, want[n]);
        CHECK(n < FL_ARRAY_LEN(want) && strncmp(e.message, want[n], strlen(want[n])) == 0);
        n++;
    }
    CHECK_INT(n, 3);
    fl_entry_free(&e);
    fl_reader_free(rd);
    fl_diag_free(&d);
}

static void test_cap(void)
{
    static line ls[2001];
    static char texts[2001][400];
    ls[0] = (line){"i1", "stderr", 0, NULL, "Error: huge"};
    for (int i = 1; i < 2001; i++) {
        snprintf(texts[i], sizeof(texts[i]),
                 "    at frame%04d (/app/node_modules/some/rather/long/path/to/a/dependency/"
                 "that/is/nested/deeply/inside/the/container/image/build/output/and/then/some/"
                 "more/directories/because/real/node/paths/are/like/that/when/bundled/by/a/"
                 "toolchain/with/many/layers/file.js:%d:%d)",
                 i, i, i);
        ls[i] = (line){"i1", "stderr", i, NULL, texts[i]};
    }
    write_lines("cap.ndjson", ls, 2001, false);
    fl_diag d;
    fl_diag_init(&d);
    fl_reader *rd;
    const char *paths[] = {tu_path("cap.ndjson")};
    CHECK_INT(fl_reader_open(&rd, paths, 1, NULL, &d), 0);
    fl_entry e;
    fl_entry_init(&e);
    size_t n = 0, total = 0;
    bool truncated_seen = false;
    while (fl_reader_next(rd, &e) == 1) {
        n++;
        size_t len = strlen(e.message);
        total += len;
        CHECK(len <= 64 * 1024 + 32);
        if (strstr(e.message, "[truncated]"))
            truncated_seen = true;
    }
    /* 2001 long lines: runs close at the 64 KiB cap (with a marker) or at 256 entries. */
    CHECK(n >= 8 && n <= 16);
    CHECK(truncated_seen);
    fl_entry_free(&e);
    fl_reader_free(rd);
    fl_diag_free(&d);
}

/* A run stays open for at most 4096 further entries (ML_MAX_AGE): a trace header held that
 * long is closed, so a frame of its source that comes later (within its second) starts anew
 * instead of joining. The header and a closed-and-reopened run of another source both age;
 * request logs in between pass by without counting. */
static void test_stale_run_closes(void)
{
    enum { TICKS = 4100 };
    static line ls[TICKS + 6];
    static const char *const others[] = {"i2", "i3", "i4", "i5"};
    size_t n = 0;
    ls[n++] = (line){"i1", "stderr", 100, NULL, "Traceback (most recent call last):"};
    ls[n++] = (line){"i6", "stderr", 150, NULL, "Traceback (most recent call last):"};
    ls[n++] = (line){"i1", "stderr", 160, NULL, "worker restarted"};
    ls[n++] = (line){"i9", "requests", 170, "INFO", "GET /ok 200"};
    for (int k = 0; k < TICKS; k++)
        ls[n++] = (line){others[k % 4], "stdout", 200 + k, "INFO", "tick"};
    ls[n++] = (line){"i6", "stderr", 900000, NULL, "  File \"/app/x.py\", line 1, in f"};
    ls[n++] = (line){"i1", "stderr", 900100, NULL, "  File \"/app/y.py\", line 2, in g"};
    write_lines("stale.ndjson", ls, n, false);
    fl_diag d;
    fl_diag_init(&d);
    fl_reader *rd;
    const char *paths[] = {tu_path("stale.ndjson")};
    CHECK_INT(fl_reader_open(&rd, paths, 1, NULL, &d), 0);
    fl_entry e;
    fl_entry_init(&e);
    size_t got = 0, headers = 0, frames = 0;
    bool frame_before_header = false;
    while (fl_reader_next(rd, &e) == 1) {
        got++;
        if (strcmp(e.message, "Traceback (most recent call last):") == 0)
            headers++;
        if (strncmp(e.message, "  File ", 7) == 0) {
            frames++;
            frame_before_header = frame_before_header || headers < 2;
        }
    }
    CHECK_INT(got, n);
    CHECK_INT(headers, 2);
    CHECK_INT(frames, 2);
    CHECK(!frame_before_header);
    fl_entry_free(&e);
    fl_reader_free(rd);
    fl_diag_free(&d);
}

/* Two instances fail at the same moment; their lines interleave in the export. Each trace is
 * still joined on its own. */
static void test_interleaved_instances(void)
{
    static const line ls[] = {
        {"a", "stderr", 100, NULL, "Traceback (most recent call last):"},
        {"b", "stderr", 110, NULL, "java.lang.RuntimeException: boom"},
        {"a", "stderr", 120, NULL, "  File \"/app/a.py\", line 1, in f"},
        {"b", "stderr", 130, NULL, "\tat com.example.B.run(B.java:1)"},
        {"c", "stdout", 135, "INFO", "unrelated line from a third instance"},
        {"a", "stderr", 140, NULL, "KeyError: 'id'"},
        {"b", "stderr", 150, NULL, "\tat com.example.Main.main(Main.java:2)"},
    };
    for (int rev = 0; rev < 2; rev++) {
        write_lines("interleaved.ndjson", ls, FL_ARRAY_LEN(ls), rev);
        tu_result *r = read_ml("interleaved.ndjson", false);
        CHECK_INT(r->n, 3);
        CHECK(strstr(r->messages, "Traceback (most recent call last):\n  File \"/app/a.py\", line "
                                  "1, in f\nKeyError: 'id'") != NULL);
        CHECK(strstr(r->messages, "java.lang.RuntimeException: boom\n\tat "
                                  "com.example.B.run(B.java:1)\n\tat "
                                  "com.example.Main.main(Main.java:2)") != NULL);
    }
}

/* Runs are found by a digest of the source (lengths and last bytes of the names, issue 15):
 * instances whose ids agree in length and last eight bytes still keep their traces apart,
 * because the names decide once the digests agree. */
static void test_same_digest_instances(void)
{
    static const line ls[] = {
        {"00a8f322aaaaaaaa-tail8888", "stderr", 100, NULL, "Traceback (most recent call last):"},
        {"00a8f322bbbbbbbb-tail8888", "stderr", 110, NULL, "  File \"/app/b.py\", line 9, in g"},
        {"00a8f322aaaaaaaa-tail8888", "stderr", 120, NULL, "  File \"/app/a.py\", line 1, in f"},
        {"00a8f322bbbbbbbb-tail8888", "stderr", 130, NULL, "ValueError: b"},
        {"00a8f322aaaaaaaa-tail8888", "stderr", 140, NULL, "KeyError: 'id'"},
    };
    for (int rev = 0; rev < 2; rev++) {
        write_lines("digest.ndjson", ls, FL_ARRAY_LEN(ls), rev);
        tu_result *r = read_ml("digest.ndjson", false);
        CHECK_INT(r->n, 2);
        CHECK(strstr(r->messages, "Traceback (most recent call last):\n  File \"/app/a.py\", "
                                  "line 1, in f\nKeyError: 'id'") != NULL);
        CHECK(strstr(r->messages, "  File \"/app/b.py\", line 9, in g\nValueError: b") != NULL);
    }
}

int main(void)
{
    test_same_digest_instances();
    test_whole_traces_not_glued();
    test_interleaved_instances();
    test_python_both_orders();
    test_chained_traceback();
    test_java_and_node();
    test_not_joined();
    test_request_log_in_between();
    test_pass_through_order();
    test_cap();
    test_stale_run_closes();
    if (!getenv("KEEP"))
        tu_cleanup();
    return fl_test_done();
}
