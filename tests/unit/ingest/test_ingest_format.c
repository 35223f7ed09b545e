/* Format detection and record splitting: gcloud arrays (pretty, newest first), NDJSON, `jq .`
 * output, CRLF, BOM, empty inputs, oversize and malformed records with their line numbers,
 * broken arrays, and the directory walk of a sink's layout. */
#include "fl_test.h"
#include "ingest_test_util.h"

#define E(id, msg) "{\"insertId\":\"" id "\",\"textPayload\":\"" msg "\"}"

static tu_result *read_str(const char *name, const char *content, fl_diag *d, size_t record_max)
{
    tu_write_str(tu_path(name), content);
    const char *paths[] = {tu_path(name)};
    fl_reader_opts o = {0};
    o.no_multiline = true;
    o.record_max = record_max;
    return tu_read(paths, 1, &o, d);
}

typedef struct fmt_case {
    const char *name;
    const char *content;
    const char *inserts; /* insertIds read, '|'-joined */
    const char *lines;   /* their starting lines */
    int malformed;
} fmt_case;

static const fmt_case fmt_cases[] = {
    {"ndjson", E("a", "1") "\n" E("b", "2") "\n" E("c", "3") "\n", "a|b|c", "1|2|3", 0},
    {"ndjson-no-final-newline", E("a", "1") "\n" E("b", "2"), "a|b", "1|2", 0},
    {"ndjson-blank-lines", "\n" E("a", "1") "\n\n  \n" E("b", "2") "\n", "a|b", "2|5", 0},
    {"crlf", E("a", "1") "\r\n" E("b", "2") "\r\n", "a|b", "1|2", 0},
    {"bom-ndjson", "\xEF\xBB\xBF" E("a", "1") "\n" E("b", "2") "\n", "a|b", "1|2", 0},
    {"empty", "", "", "", 0},
    {"whitespace-only", " \n\t\r\n  \n", "", "", 0},
    {"empty-array", "[]\n", "", "", 0},
    {"empty-array-pretty", "[\n]\n", "", "", 0},
    {"array-pretty",
     "[\n"
     "  {\n"
     "    \"insertId\": \"c\",\n"
     "    \"resource\": {\"labels\": {\"x\": \"}]\\\"{[\"}},\n"
     "    \"textPayload\": \"newest\"\n"
     "  },\n"
     "  {\n"
     "    \"insertId\": \"b\",\n"
     "    \"errorGroups\": [\n"
     "      {\n"
     "        \"id\": \"x\"\n"
     "      }\n"
     "    ]\n"
     "  },\n"
     "  {\n"
     "    \"insertId\": \"a\"\n"
     "  }\n"
     "]\n",
     "c|b|a", "2|7|15", 0},
    {"array-compact", "[" E("a", "1") "," E("b", "2") "]", "a|b", "1|1", 0},
    {"bom-array", "\xEF\xBB\xBF[\n  " E("a", "1") "\n]\n", "a", "2", 0},
    {"array-crlf",
     "[\r\n  {\r\n    \"insertId\": \"a\"\r\n  },\r\n  {\"insertId\": \"b\"}\r\n]\r\n", "a|b",
     "2|5", 0},
    {"jq-concatenated",
     "{\n  \"insertId\": \"a\",\n  \"textPayload\": \"x\"\n}\n"
     "{\n  \"insertId\": \"b\"\n}\n"
     "{\n  \"insertId\": \"c\",\n  \"labels\": {\n    \"k\": \"{\"\n  }\n}\n",
     "a|b|c", "1|5|8", 0},
    {"one-line-concatenated", E("a", "1") " " E("b", "2") "\n", "a|b", "1|1", 0},
    {"malformed-lines",
     E("a", "1") "\n{\"insertId\": \"x\",\n" E("b", "2") "\nnot json at all\n" E("c", "3") "\n",
     "a|b|c", "1|3|5", 2},
    {"array-element-not-object", "[\n  " E("a", "1") ",\n  42,\n  \"str\",\n  " E("b", "2") "\n]",
     "a|b", "2|5", 2},
    /* The second element never closes: the third starts at the same indentation, so the
     * splitter cuts there, reports the broken one, and goes on. */
    {"array-unbalanced",
     "[\n"
     "  {\n"
     "    \"insertId\": \"a\"\n"
     "  },\n"
     "  {\n"
     "    \"insertId\": \"broken\",\n"
     "    \"labels\": {\n"
     "      \"k\": \"v\"\n"
     "  },\n"
     "  {\n"
     "    \"insertId\": \"c\"\n"
     "  }\n"
     "]\n",
     "a|c", "2|10", 1},
    {"array-unclosed-string",
     "[\n  {\n    \"insertId\": \"a\n  },\n  {\n    \"insertId\": \"b\"\n  }\n]\n", "b", "5", 1},
    {"array-missing-close", "[\n  " E("a", "1") ",\n  " E("b", "2") "\n", "a|b", "2|3", 1},
    {"array-then-garbage", "[" E("a", "1") "]\ntrailing words\n", "a", "1", 1},
    {"two-arrays", "[" E("a", "1") "]\n[" E("b", "2") "]\n", "a|b", "1|2", 0},
};

static void test_formats(void)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(fmt_cases); i++) {
        const fmt_case *c = &fmt_cases[i];
        fl_diag d;
        fl_diag_init(&d);
        tu_result *res = read_str(c->name, c->content, &d, 0);
        bool ok = res->rc == 0 && strcmp(res->inserts, c->inserts) == 0 &&
                  strcmp(res->lines, c->lines) == 0 && (int)d.malformed == c->malformed;
        if (!ok) {
            fprintf(stderr, "case %s: rc %d inserts \"%s\" lines \"%s\" malformed %llu\n", c->name,
                    res->rc, res->inserts, res->lines, (unsigned long long)d.malformed);
            tu_dump_warnings(&d);
        }
        CHECK(ok);
        CHECK_INT(d.oversize, 0);
        fl_diag_free(&d);
    }
}

static void test_malformed_named(void)
{
    fl_diag d;
    fl_diag_init(&d);
    tu_result *res = read_str("bad.ndjson", E("a", "1") "\n{\"x\":\n" E("b", "2") "\n", &d, 0);
    CHECK_INT(res->n, 2);
    CHECK_INT(d.malformed, 1);
    CHECK_INT(d.entries, 2);
    CHECK(d.n_warnings == 1 && d.warnings[0].line == 2);
    char want[600];
    snprintf(want, sizeof(want), "%s:2: ", tu_path("bad.ndjson"));
    CHECK(d.n_warnings == 1 && strncmp(d.warnings[0].message, want, strlen(want)) == 0);
    CHECK_INT(fl_diag_exit_status(&d), 3);
    fl_diag_free(&d);
}

static void test_oversize(void)
{
    char big[4096];
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    static char content[20000];
    /* Line 3 is over the cap (1000 bytes); lines after it keep their numbers. */
    snprintf(content, sizeof(content),
             E("a", "1") "\n" E("b", "2") "\n" E("big", "%s") "\n" E("c", "3") "\n", big);
    fl_diag d;
    fl_diag_init(&d);
    tu_result *res = read_str("oversize.ndjson", content, &d, 1000);
    CHECK_STR(res->inserts, "a|b|c");
    CHECK_STR(res->lines, "1|2|4");
    CHECK_INT(d.oversize, 1);
    CHECK(d.n_warnings == 1 && d.warnings[0].kind == FL_WARN_OVERSIZE && d.warnings[0].line == 3);
    fl_diag_free(&d);

    /* The same inside a pretty array: the element starting on line 6 is skipped. */
    snprintf(
        content, sizeof(content),
        "[\n  " E("a", "1") ",\n  {\n    \"insertId\": \"b\"\n  },\n  {\n    \"insertId\": "
                            "\"big\",\n    \"textPayload\": \"%s\"\n  },\n  " E("c", "3") "\n]\n",
        big);
    fl_diag_init(&d);
    res = read_str("oversize.json", content, &d, 1000);
    CHECK_STR(res->inserts, "a|b|c");
    CHECK_STR(res->lines, "2|3|10");
    CHECK_INT(d.oversize, 1);
    CHECK(d.n_warnings == 1 && d.warnings[0].line == 6);
    fl_diag_free(&d);

    /* A last line over the cap with no newline is skipped too, and nothing else is lost. */
    snprintf(content, sizeof(content), E("a", "1") "\n" E("big", "%s"), big);
    fl_diag_init(&d);
    res = read_str("oversize-last.ndjson", content, &d, 1000);
    CHECK_STR(res->inserts, "a");
    CHECK_INT(d.oversize, 1);
    fl_diag_free(&d);
}

/* Many records whose boundaries fall at every offset of the read chunks. */
static void test_chunk_boundaries(void)
{
    size_t cap = 3u << 20, len = 0;
    char *buf = malloc(cap);
    int n = 0;
    len += (size_t)snprintf(buf, cap, "[\n");
    /* Strings with brackets, escaped quotes and backslashes, and nested pretty objects, so
     * both the 64-byte block scanner and the byte loop see every kind of content. */
    static const char *texts[] = {
        "plain text",
        "braces { and } and [ brackets ] in a string",
        "escaped \\\" quote and \\\\ backslash then } and ]",
        "a long line with nothing special in it, long enough to fill a block or two of scanning",
        "ends with a backslash pair \\\\",
    };
    static const char *decoded[] = {
        "plain text",
        "braces { and } and [ brackets ] in a string",
        "escaped \" quote and \\ backslash then } and ]",
        "a long line with nothing special in it, long enough to fill a block or two of scanning",
        "ends with a backslash pair \\",
    };
    while (len < cap - 600) {
        len += (size_t)snprintf(buf + len, cap - len,
                                "%s  {\n    \"insertId\": \"%d\",\n    \"labels\": {\n      \"k\": "
                                "[1, {\"x\": \"]\"}]\n    },\n    \"textPayload\": \"%.*s%s\"\n  }",
                                n ? ",\n" : "", n, n % 97,
                                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
                                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
                                texts[n % 5]);
        n++;
    }
    len += (size_t)snprintf(buf + len, cap - len, "\n]\n");
    tu_write(tu_path("big-array.json"), buf, len);
    free(buf);
    fl_diag d;
    fl_diag_init(&d);
    fl_reader *r;
    const char *paths[] = {tu_path("big-array.json")};
    fl_reader_opts o = {0};
    o.no_multiline = true;
    CHECK_INT(fl_reader_open(&r, paths, 1, &o, &d), 0);
    fl_entry e;
    fl_entry_init(&e);
    int k = 0;
    bool ok = true;
    while (fl_reader_next(r, &e) == 1) {
        char want[32];
        snprintf(want, sizeof(want), "%d", k);
        if (strcmp(e.insert_id, want) != 0 || e.src_line != 2 + (uint64_t)k * 7)
            ok = false;
        if (ok && !strstr(e.message, decoded[k % 5])) {
            fprintf(stderr, "entry %d: message \"%s\"\n", k, e.message);
            ok = false;
        }
        k++;
    }
    CHECK(ok);
    CHECK_INT(k, n);
    CHECK_INT(d.malformed, 0);
    fl_entry_free(&e);
    fl_reader_free(r);
    fl_diag_free(&d);
}

static void test_directory_walk(void)
{
    /* Created out of order on purpose; read order must be strcmp order of the full paths. */
    const char *root = tu_path("sink");
    static const char *files[][2] = {
        {"run.googleapis.com/stderr/2026/11/20/11:00:00_11:59:59_S0.json", "e3"},
        {"run.googleapis.com/stderr/2026/11/20/10:00:00_10:59:59_S0.json", "e2"},
        {"cloudaudit.googleapis.com/activity/2026/11/20/10:00:00_10:59:59_S0.json", "e1"},
        {"run.googleapis.com/stdout/2026/11/20/10:00:00_10:59:59_S0.json.gz", "e5"},
        {"run.googleapis.com/stderr/2026/11/21/00:00:00_00:59:59_S0.json", "e4"},
        {".hidden/skip.json", "hidden1"},
        {"run.googleapis.com/stderr/2026/11/20/.10:00:00_10:59:59_S0.json.swp", "hidden2"},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(files); i++) {
        char path[600], line[128];
        snprintf(path, sizeof(path), "%s/%s", root, files[i][0]);
        snprintf(line, sizeof(line), "{\"insertId\":\"%s\"}\n", files[i][1]);
        if (strstr(path, ".gz")) {
            size_t n;
            unsigned char *gz = tu_gzip(line, strlen(line), &n);
            tu_write(path, gz, n);
            free(gz);
        } else {
            tu_write_str(path, line);
        }
    }
    tu_write_str(tu_path("single.json"), "{\"insertId\":\"f0\"}\n");
    fl_diag d;
    fl_diag_init(&d);
    const char *paths[] = {tu_path("single.json"), root};
    tu_result *res = tu_read(paths, 2, NULL, &d);
    CHECK_INT(res->rc, 0);
    CHECK_STR(res->inserts, "f0|e1|e2|e3|e4|e5");
    CHECK_INT(d.files, 6);
    CHECK_INT(d.n_warnings, 0);
    fl_diag_free(&d);
}

/* Backslash runs of every length at every offset from the scanner's 64-byte blocks: an escaped
 * quote (odd run) stays inside the string and brackets after it do not count; an even run
 * right before the closing quote ends the string. Checked against the decoded messages. */
static void test_backslash_runs(void)
{
    for (int k = 0; k <= 5; k++) {
        fl_buf in, want;
        fl_buf_init(&in, 1 << 20);
        fl_buf_init(&want, 1 << 20);
        MUST_OK(fl_buf_addstr(&in, "[\n"));
        int n = 0;
        for (int shift = 0; shift < 70; shift++) {
            for (int quoted = 0; quoted < 2; quoted++, n++) {
                char pad[80];
                memset(pad, 'x', (size_t)shift);
                pad[shift] = '\0';
                MUST_OK(fl_buf_printf(&in,
                                      "%s  {\n    \"insertId\": \"k%d-%d-%d\",\n"
                                      "    \"textPayload\": \"%s",
                                      n ? ",\n" : "", k, shift, quoted, pad));
                if (want.len)
                    MUST_OK(fl_buf_addc(&want, '|'));
                MUST_OK(fl_buf_addstr(&want, pad));
                for (int j = 0; j < k; j++) {
                    MUST_OK(fl_buf_addstr(&in, "\\\\"));
                    MUST_OK(fl_buf_addc(&want, '\\'));
                }
                if (quoted) {
                    MUST_OK(fl_buf_addstr(&in, "\\\"{]}["));
                    MUST_OK(fl_buf_addstr(&want, "\"{]}["));
                }
                MUST_OK(fl_buf_addstr(&in, "\"\n  }"));
            }
        }
        MUST_OK(fl_buf_addstr(&in, "\n]\n"));
        fl_diag d;
        fl_diag_init(&d);
        tu_result *r = read_str("bs.json", in.data, &d, 0);
        CHECK_INT(r->rc, 0);
        CHECK_INT(r->n, n);
        CHECK_INT(d.malformed, 0);
        CHECK_STR(r->messages, want.data);
        fl_diag_free(&d);
        fl_buf_free(&in);
        fl_buf_free(&want);
    }
}

int main(void)
{
    test_formats();
    test_backslash_runs();
    test_malformed_named();
    test_oversize();
    test_chunk_boundaries();
    test_directory_walk();
    if (!getenv("KEEP"))
        tu_cleanup();
    return fl_test_done();
}
