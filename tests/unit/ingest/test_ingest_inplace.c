/* The splitter's in-place parse (fl_splitter_next_entry: the parser reads a gcloud-array
 * element or an NDJSON line where it lies and says where it ended) against the bracket
 * scanner or the '\n' cut followed by fl_entry_parse, and for NDJSON also against a worker's
 * cut and parse of a chunk (fl_batch_parse). On every input, valid or broken, both must give the
 * same records (line, bytes), the same entries or error texts, and the same warnings. Inputs: the
 * real samples pretty-printed as a gcloud array and as `jq .` output, hand cases where the scanner
 * cuts a valid object (a '{' that starts a line at the element's column), CRLF and tabs, records
 * straddling read chunks, small record caps, and thousands of deterministic mutations. */
#include "fl_test.h"
#include "ingest_test_util.h"
#include "split_compare.h"

#include <jansson.h>

/* Both ways on content; returns the number of records parsed in place. */
static size_t agree(const char *what, const char *content, size_t n, size_t record_max)
{
    const char *path = tu_path("inplace.json");
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return 0;
    fwrite(content, 1, n, f);
    fclose(f);
    size_t in_place = 0;
    CHECK(fl_split_compare(what, path, record_max, &in_place) == 0);
    return in_place;
}

static size_t agree_str(const char *what, const char *content)
{
    return agree(what, content, strlen(content), 0);
}

/* The samples as one gcloud array (jansson's 2-space indent, like gcloud's) or as objects one
 * after another (`jq .`), repeated until the text is at least min_len bytes. */
static char *samples_as(bool array, size_t min_len, size_t *out_len)
{
    size_t n;
    char *all = tu_read_file(FL_INGEST_DATA "/logentries.ndjson", &n);
    json_t *arr = json_array();
    for (char *p = all, *nl; p < all + n; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(all + n - p));
        if (!nl)
            nl = all + n;
        json_t *v = json_loadb(p, (size_t)(nl - p), 0, NULL);
        if (v)
            json_array_append_new(arr, v);
    }
    free(all);
    size_t len = 0, cap = 0;
    char *out = NULL;
    do {
        char *text = NULL;
        if (array) {
            text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        } else {
            size_t k = 0, tl = 0;
            for (size_t i = 0; i < json_array_size(arr); i++) {
                char *one =
                    json_dumps(json_array_get(arr, i), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                size_t ol = strlen(one);
                text = realloc(text, tl + ol + 2);
                memcpy(text + tl, one, ol);
                tl += ol;
                text[tl++] = '\n';
                text[tl] = '\0';
                free(one);
                k++;
            }
        }
        size_t tl = strlen(text);
        if (len + tl + 2 > cap) {
            cap = (len + tl + 2) * 2;
            out = realloc(out, cap);
        }
        memcpy(out + len, text, tl);
        len += tl;
        out[len++] = '\n';
        out[len] = '\0';
        free(text);
    } while (len < min_len);
    json_decref(arr);
    *out_len = len;
    return out;
}

static void test_samples(void)
{
    size_t n;
    char *arr = samples_as(true, 0, &n);
    CHECK(agree("samples as an array", arr, n, 0) > 20);
    free(arr);
    char *cat = samples_as(false, 0, &n);
    CHECK(agree("samples as jq output", cat, n, 0) > 20);
    free(cat);
    /* Several read chunks: elements straddle the chunk ends. */
    char *big = samples_as(true, 3 * FL_READ_CHUNK, &n);
    CHECK(agree("samples, many chunks", big, n, 0) > 100);
    /* A cap that some samples exceed: those are the scanner's (oversize), the rest in place. */
    CHECK(agree("samples, small cap", big, n, 2048) > 20);
    free(big);
}

/* Valid JSON that the scanner still cuts: a '{' that starts a line no deeper than its element.
 * The in-place parse must not hide the scanner's warning. */
static void test_scanner_cuts(void)
{
    static const char *const cases[] = {
        "[\n  {\"textPayload\": \"a\", \"jsonPayload\":\n  {\"message\": \"m\"}},\n"
        "  {\"textPayload\": \"b\"}\n]\n",
        "[\n  {\"textPayload\": \"a\", \"labels\":\n{\"k\": \"v\"}}\n]\n",
        "[\n  {\"textPayload\": \"a\", \"labels\":\n \t{\"k\": \"v\"}}\n]\n",
        /* deeper than the element: no cut, read in place */
        "[\n  {\"textPayload\": \"a\", \"labels\":\n   {\"k\": \"v\"}}\n]\n",
        /* '\r' before the brace: not a line start for the scanner */
        "[\n  {\"textPayload\": \"a\", \"labels\":\n\r{\"k\": \"v\"}}\n]\n",
        "{\"textPayload\": \"a\",\n\"labels\":\n{\"k\": \"v\"}}\n{\"textPayload\": \"b\"}\n",
        "[\n  {\"textPayload\": \"a\", \"x\": [\n  {\"k\": \"v\"}]}\n]\n",
        /* the same layout twice: the second time the parser knows the key bytes before the
         * brace (key prediction) and must still note the brace */
        "[\n  {\"textPayload\": \"a\", \"labels\":\n  {\"k\": \"v\"}},\n"
        "  {\"textPayload\": \"a\", \"labels\":\n  {\"k\": \"v\"}},\n"
        "  {\"textPayload\": \"a\", \"labels\":\n  {\"k\": \"v\"}}\n]\n",
        "{\"textPayload\": \"a\", \"labels\":\n{\"k\": \"v\"}}\n"
        "{\"textPayload\": \"a\", \"labels\":\n{\"k\": \"v\"}}\n"
        "{\"textPayload\": \"a\", \"labels\":\n{\"k\": \"v\"}}\n",
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        char what[32];
        snprintf(what, sizeof what, "cut case %zu", i);
        agree_str(what, cases[i]);
    }
    CHECK_INT(agree_str("deeper brace", cases[3]), 1);
    CHECK_INT(agree_str("cut brace", cases[0]), 1); /* the second element only */
}

static void test_layouts(void)
{
    agree_str("crlf", "[\r\n  {\r\n    \"textPayload\": \"a\",\r\n    \"severity\": \"ERROR\"\r\n"
                      "  },\r\n  {\r\n    \"textPayload\": \"b\"\r\n  }\r\n]\r\n");
    agree_str("tabs", "[\n\t{\n\t\t\"textPayload\": \"a\",\n\t\t\"severity\": \"ERROR\"\n\t}\n]\n");
    agree_str("one line", "[{\"textPayload\":\"a\"},{\"textPayload\":\"b\"}]");
    agree_str("blank lines", "[\n\n  {\n\n    \"textPayload\": \"a\"\n\n  }\n\n]\n");
    agree_str("long indentation",
              "[\n  {\n                                        \"textPayload\": \"a\",\n"
              "                                        \"severity\":    \"INFO\"\n  }\n]\n");
    agree_str("unclosed", "[\n  {\n    \"textPayload\": \"a\"\n");
    agree_str("unclosed string",
              "[\n  {\n    \"textPayload\": \"a\n  },\n  {\"textPayload\": \"b\"}\n]");
    agree_str("repaired", "[\n  {\n    \"textPayload\": \"bad \xff byte\"\n  }\n]\n");
    agree_str("trailing garbage",
              "[\n  {\"textPayload\": \"a\"} x,\n  {\"textPayload\": \"b\"}\n]\n");
    agree_str("envelope", "[\n  {\"message\": {\"data\": \"eyJ0ZXh0UGF5bG9hZCI6ImluIn0=\"}}\n]\n");
    agree_str("scalars", "[\n  1,\n  \"x\",\n  {\"textPayload\": \"a\"}\n]\n");
}

/* What lies between elements (commas, newlines, blanks: read 16 bytes at a time on the in-place
 * path, byte by byte by the scanner) decides the line numbers and the element's column, and so
 * whether a '{' inside that starts a line at that column cuts it. Runs of 0 to 40 blanks
 * before the element, a comma on its own line or after the blanks, tabs and CRs, each with an
 * inner brace at the element's column (cut) and one deeper (read in place). */
static void test_between_elements(void)
{
    static const char *const seps[] = {",\n", ",\r\n", "\n,\n", ",\n\t", "\n  ,", ", ", ",\n\n\n"};
    char doc[1024], what[64];
    for (size_t s = 0; s < FL_ARRAY_LEN(seps); s++) {
        for (int blanks = 0; blanks <= 40; blanks += (blanks < 20 ? 1 : 7)) {
            for (int deeper = 0; deeper < 2; deeper++) {
                int n = snprintf(doc, sizeof doc, "[\n  {\"textPayload\": \"first\"}%s%*s", seps[s],
                                 blanks, "");
                const char *sep_end = seps[s] + strlen(seps[s]);
                /* the element's column as the scanner counts it: -1 after a comma on the
                 * element's line, else the blanks (and tabs, CRs) since the last newline */
                const char *nl = strrchr(seps[s], '\n');
                long col = strchr(nl ? nl : seps[s], ',') ? -1
                           : nl ? (long)(sep_end - nl - 1) + blanks
                                : -1;
                int indent = col < 0 ? 0 : (int)col + deeper;
                n += snprintf(doc + n, sizeof doc - (size_t)n,
                              "{\"textPayload\": \"a\", \"labels\":\n%*s{\"k\": \"v\"}}"
                              ",\n  {\"textPayload\": \"last\"}\n]\n",
                              indent, "");
                snprintf(what, sizeof what, "between %zu, %d blanks, deeper %d", s, blanks, deeper);
                agree(what, doc, (size_t)n, 0);
            }
        }
    }
}

/* The samples as NDJSON, repeated until at least min_len bytes. */
static char *samples_ndjson(size_t min_len, size_t *out_len)
{
    size_t n;
    char *all = tu_read_file(FL_INGEST_DATA "/logentries.ndjson", &n);
    size_t len = 0, cap = min_len + 2 * n + 1;
    char *out = malloc(cap);
    do {
        memcpy(out + len, all, n);
        len += n;
        if (out[len - 1] != '\n')
            out[len++] = '\n';
    } while (len < min_len);
    out[len] = '\0';
    free(all);
    *out_len = len;
    return out;
}

/* NDJSON lines parsed where they lie: the parse finds the line's end. A line that does not
 * parse as one LogEntry followed by blanks and '\n' is cut and parsed the usual way, with the
 * same error text and line number. */
static void test_ndjson(void)
{
    size_t n;
    char *nd = samples_ndjson(0, &n);
    CHECK(agree("ndjson samples", nd, n, 0) > 20);
    free(nd);
    nd = samples_ndjson(3 * FL_READ_CHUNK, &n);
    CHECK(agree("ndjson, many chunks", nd, n, 0) > 100); /* lines straddle the reads */
    CHECK(agree("ndjson, small cap", nd, n, 1500) > 20); /* some lines are over it */
    free(nd);

    static const char *const cases[] = {
        /* lines that fail to parse, between good ones */
        "{\"textPayload\":\"a\"}\n{\"textPayload\":\"b\"\n{\"textPayload\":\"c\"}\n",
        "{\"textPayload\":\"a\"}\n{\"textPayload\":tru}\n[1,2]\n\"x\"\n{\"textPayload\":\"d\"}\n",
        /* blank lines, blanks-only lines, leading and trailing blanks */
        "{\"textPayload\":\"a\"}\n\n   \n\t\r\n  {\"textPayload\":\"b\"}  \t\n\n",
        /* CRLF */
        "{\"textPayload\":\"a\"}\r\n{\"textPayload\":\"b\"}\r\n\r\n{\"textPayload\":\"c\"}\r\n",
        /* a newline as an escape inside a string; a raw one ends the line there */
        "{\"textPayload\":\"a\\nb\\\\n\"}\n{\"textPayload\":\"raw\nnewline\"}\n",
        /* trailing garbage, a second object, a comma after the object, "\r\r" */
        "{\"textPayload\":\"a\"} x\n{\"textPayload\":\"b\"}{\"textPayload\":\"c\"}\n"
        "{\"textPayload\":\"d\"},\n{\"textPayload\":\"e\"}\r\r\n",
        /* an object split over lines at a blank between tokens: each line on its own */
        "{\"textPayload\":\"a\"}\n{\"textPayload\":\n\"b\"}\n{\"textPayload\":\"c\"}\n",
        /* the last line without '\n', valid and invalid, or only blanks */
        "{\"textPayload\":\"a\"}\n{\"textPayload\":\"b\"}",
        "{\"textPayload\":\"a\"}\n{\"textPayload\":\"b\"  ",
        "{\"textPayload\":\"a\"}\n   ",
        /* repaired (invalid UTF-8), an envelope, an empty object */
        "{\"textPayload\":\"a\"}\n{\"textPayload\":\"bad \xff byte\"}\n"
        "{\"message\":{\"data\":\"eyJ0ZXh0UGF5bG9hZCI6ImluIn0=\"}}\n{}\n",
        /* nesting, a duplicate key, unmapped nested values */
        "{\"textPayload\":\"a\"}\n{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]"
        "]]}\n"
        "{\"textPayload\":\"a\",\"textPayload\":\"b\",\"y\":{\"z\":[1,{\"w\":null}]}}\n",
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        char what[32];
        snprintf(what, sizeof what, "ndjson case %zu", i);
        agree_str(what, cases[i]);
    }
    CHECK_INT(agree_str("ndjson good lines", cases[2]), 2);
    CHECK_INT(agree_str("ndjson last line", cases[7]), 1); /* the one without '\n' is cut */
    CHECK_INT(agree_str("ndjson crlf", cases[3]), 3);
    /* A NUL after an object: the line is cut as before (NUL is not a blank). */
    static const char nul_line[] = "{\"textPayload\":\"a\"}\n{\"textPayload\":\"b\"}\0\n";
    CHECK_INT(agree("ndjson nul", nul_line, sizeof nul_line - 1, 0), 1);
    /* An object over the cap: the splitter's oversize warning, not a parse. */
    CHECK_INT(agree("ndjson cap", cases[0], strlen(cases[0]), 18), 0);
    CHECK_INT(agree("ndjson at cap", cases[0], strlen(cases[0]), 19), 2);
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Byte edits that matter to either side: brackets, quotes, backslashes, newlines, blanks,
 * invalid UTF-8, NUL. 600 mutated copies of input (1-3 edits each) must agree. */
static void mutate_and_agree(const char *label, const char *input, size_t n)
{
    static const char bytes[] = "{}[]\",:\\\n \t\r\x01\xff\xc3";
    char *buf = malloc(n + 64);
    for (int m = 0; m < 600; m++) {
        memcpy(buf, input, n);
        size_t len = n;
        int edits = 1 + (int)(next_rand() % 3);
        for (int k = 0; k < edits; k++) {
            size_t pos = (size_t)(next_rand() % len);
            switch (next_rand() % 3) {
            case 0:
                buf[pos] = bytes[next_rand() % (sizeof(bytes) - 1)];
                break;
            case 1:
                memmove(buf + pos, buf + pos + 1, len - pos - 1);
                len--;
                break;
            default:
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = bytes[next_rand() % (sizeof(bytes) - 1)];
                len++;
                break;
            }
        }
        char what[48];
        snprintf(what, sizeof what, "%s %d", label, m);
        agree(what, buf, len, m % 4 == 0 ? 1500 : 0);
    }
    free(buf);
}

static void test_mutations(void)
{
    size_t n;
    char *arr = samples_as(true, 0, &n);
    mutate_and_agree("mutation", arr, n);
    free(arr);
}

/* The same edits on NDJSON: every line that still parses must be found where it ends, every
 * other one cut and reported as before. */
static void test_ndjson_mutations(void)
{
    size_t n;
    char *nd = samples_ndjson(0, &n);
    mutate_and_agree("ndjson mutation", nd, n);
    free(nd);
}

int main(void)
{
    test_samples();
    test_scanner_cuts();
    test_layouts();
    test_between_elements();
    test_mutations();
    test_ndjson();
    test_ndjson_mutations();
    tu_cleanup();
    return fl_test_done();
}
