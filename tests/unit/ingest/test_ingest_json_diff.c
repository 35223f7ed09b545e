/* Differential test: the fast reader against the jansson reference, on the real samples, the
 * seed corpus of the fuzz target (tricky escapes, UTF-8, numbers, depth, duplicates, jansson's
 * quirks) and thousands of deterministic mutations of all of them. Verdict and every field
 * must agree. */
#include "entry_compare.h"
#include "fl_test.h"
#include "ingest_test_util.h"

#include <dirent.h>
#include <jansson.h>

#ifndef FL_FUZZ_CORPUS
#define FL_FUZZ_CORPUS "tests/fuzz/corpus/entry"
#endif

#define MUTATIONS_PER_INPUT 200

typedef struct input {
    char *data;
    size_t len;
    char name[96];
} input;

static input inputs[16384];
static size_t n_inputs, n_plain_inputs; /* mutated MUTATIONS_PER_INPUT times: the first ones */

static void add_input(const char *name, const char *data, size_t len)
{
    if (n_inputs >= FL_ARRAY_LEN(inputs))
        return;
    input *in = &inputs[n_inputs++];
    in->data = malloc(len + 1);
    memcpy(in->data, data, len);
    in->len = len;
    /* Names are for messages only: a long one is cut (strncpy-free, no truncation warning). */
    size_t k = strnlen(name, sizeof(in->name) - 1);
    memcpy(in->name, name, k);
    in->name[k] = '\0';
}

/* The fast reader remembers the keys it saw at each position of an object (32-byte patterns:
 * the key, its quote and colon) and takes input bytes that equal one as that key. Each layout
 * below is read once as it is (which teaches it) and then with the key or the bytes around the
 * 32-byte window changed: a near-miss must fall back to the full scan, and everything must
 * still agree with jansson. Keys of 1 to 34 bytes, mapped and unmapped, at several positions. */
static void add_key_boundary_inputs(void)
{
    static const char *const mapped[] = {"textPayload", "severity", "receiveTimestamp",
                                         "insertId",    "trace",    "logName"};
    static const char *const variants[] = {
        "%s",         /* as taught */
        "%sX",        /* one byte longer */
        "X%s",        /* shifted */
        "%s\\u0041",  /* an escape where the pattern has its quote */
        "%s\xc3\xa9", /* non-ASCII in the window */
        "%s\xff",     /* invalid UTF-8 in the window */
        "%s\x01",     /* a control byte */
    };
    char key[64], var[96], doc[512];
    for (int len = 1; len <= 34; len++) {
        for (int m = 0; m < 2; m++) {
            if (m == 0) {
                memset(key, 'k', (size_t)len);
                key[len] = '\0';
            } else {
                snprintf(key, sizeof key, "%s", mapped[len % FL_ARRAY_LEN(mapped)]);
            }
            for (size_t v = 0; v < FL_ARRAY_LEN(variants); v++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                snprintf(var, sizeof var, variants[v], key);
#pragma GCC diagnostic pop
                /* The key first, second and after a nested object; then a space before the
                 * colon, a value that breaks right after the pattern, and a document that
                 * ends inside the 32-byte window. */
                int n = snprintf(doc, sizeof doc,
                                 "{\"%s\":\"v1\",\"severity\":\"ERROR\",\"resource\":{\"%s\":"
                                 "\"in\",\"labels\":{\"%s\":1}},\"%s\":\"again\"}",
                                 var, var, var, m ? "textPayload" : var);
                add_input("key window", doc, (size_t)n);
                n = snprintf(doc, sizeof doc, "{\"insertId\":\"i\",\"%s\" :\"v\"}", var);
                add_input("key window, space", doc, (size_t)n);
                n = snprintf(doc, sizeof doc, "{\"insertId\":\"i\",\"%s\":]}", var);
                add_input("key window, bad value", doc, (size_t)n);
                n = snprintf(doc, sizeof doc, "{\"insertId\":\"i\",\"%s\":", var);
                add_input("key window, cut", doc, (size_t)n);
                /* A pattern learnt with a string value holds the value's opening quote: the
                 * same key with another kind of value, a bad string or a string cut short
                 * (more than 32 bytes on, so that the pattern is tried) must agree too. */
                static const char *const values[] = {
                    "\"taught\"", "7",           "{\"a\":\"b\"}", "[\"x\"]",     "\"\x01\"",
                    "\"\\q\"",    "\"\\u00e9\"", "\"\xc3\"",      " \"spaced\"", "\"cut here"};
                for (size_t k = 0; k < FL_ARRAY_LEN(values); k++) {
                    const char *tail = strncmp(values[k], "\"cut", 4) == 0
                                           ? " and nothing closes it after that point at all"
                                           : ",\"textPayload\":\"padding padding padding\"}";
                    n = snprintf(doc, sizeof doc, "{\"insertId\":\"i\",\"%s\":%s%s", var, values[k],
                                 tail);
                    add_input("key window, value kinds", doc, (size_t)n);
                }
            }
        }
    }
}

static void load_inputs(void)
{
    size_t n;
    char *all = tu_read_file(FL_INGEST_DATA "/logentries.ndjson", &n);
    int line = 1;
    for (char *p = all, *nl; p < all + n; p = nl + 1, line++) {
        nl = memchr(p, '\n', (size_t)(all + n - p));
        if (!nl)
            nl = all + n;
        char name[64];
        snprintf(name, sizeof(name), "sample line %d", line);
        add_input(name, p, (size_t)(nl - p));
        /* Pretty-printed too (gcloud's array elements, `jq .`): the key patterns then hold
         * the newline and indentation before each key. */
        json_t *v = json_loadb(p, (size_t)(nl - p), 0, NULL);
        for (int indent = 2; v && indent <= 4; indent += 2) {
            char *pretty = json_dumps(v, JSON_INDENT(indent) | JSON_PRESERVE_ORDER);
            snprintf(name, sizeof(name), "sample line %d, indent %d", line, indent);
            add_input(name, pretty, strlen(pretty));
            free(pretty);
        }
        json_decref(v);
    }
    free(all);
    /* A repeated key replaces the whole earlier value, children included (the fast reader
     * forgets them only when the key was set before). */
    static const char *const dups[] = {
        "{\"resource\":{\"labels\":{\"service_name\":\"a\",\"revision_name\":\"r\"}},"
        "\"resource\":{\"labels\":{\"service_name\":\"b\"}}}",
        "{\"resource\":{\"labels\":{\"revision_name\":\"r\"},\"labels\":{}},\"textPayload\":\"x\"}",
        "{\"jsonPayload\":{\"error\":{\"stack\":\"s\"},\"error\":\"plain\"},\"severity\":"
        "\"ERROR\"}",
        "{\"httpRequest\":{\"status\":500},\"httpRequest\":\"gone\",\"textPayload\":\"t\"}",
        "{\"textPayload\":\"one\",\"jsonPayload\":{\"message\":\"m\"},\"jsonPayload\":7}",
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(dups); i++)
        add_input("duplicate keys", dups[i], strlen(dups[i]));
    /* The same twice: the second time the repeated key is a remembered pattern that holds the
     * string's opening quote, and the object read before it must still be forgotten. */
    static const char dup_str[] = "{\"jsonPayload\":{\"message\":\"m\",\"level\":\"error\"},"
                                  "\"jsonPayload\":\"a plain string that replaces the object\"}";
    for (int i = 0; i < 2; i++)
        add_input("duplicate key, string after object", dup_str, strlen(dup_str));
    /* Mapped objects are read by the key loop itself (a level per object, no call), and a
     * remembered key may end with the object's brace. Each twice (the second time from the
     * patterns): a repeated object key forgets the first object's children, empty objects,
     * a value that is not an object where one was seen, and errors inside nested objects. */
    static const char *const nested[] = {
        "{\"resource\":{\"labels\":{\"service_name\":\"a\"},\"type\":\"t\"},\"resource\":"
        "{\"type\":\"u\"},\"textPayload\":\"padding padding padding padding\"}",
        "{\"resource\":{},\"labels\":{},\"httpRequest\":{\"status\":500},\"textPayload\":"
        "\"padding padding padding\"}",
        "{\"resource\":{\"labels\":{\"service_name\":\"a\"}},\"jsonPayload\":{\"error\":{"
        "\"message\":\"m\"}},\"textPayload\":\"padding padding padding padding\"}",
        "{\"resource\":{\"labels\":{\"service_name\":\"a\",}},\"jsonPayload\":{\"error\":{"
        "\"message\":\"m\"}},\"textPayload\":\"padding padding padding padding\"}",
        "{\"resource\":{\"labels\":{\"service_name\":\"a\"}},\"jsonPayload\":{\"error\":{"
        "\"message\":\"m\"}}},\"textPayload\":\"padding padding padding padding\"}",
        "{\"resource\":{\"labels\":\"flat\"},\"jsonPayload\":{\"error\":[\"m\"]},"
        "\"textPayload\":\"padding padding padding padding\"}",
        "{\"resource\":{\"labels\":{\"service_name\":\"a\"}},\"jsonPayload\":{\"error\":{"
        "\"message\":\"m\"}},\"textPayload\":\"padding padding padding padding\"",
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(nested); i++)
        for (int k = 0; k < 2; k++)
            add_input("nested mapped objects", nested[i], strlen(nested[i]));
    /* Key positions past the remembered ones (16 per object): the 17th key on share one
     * sentinel position that never learns. Mapped keys there, in the root and in a mapped
     * object, strings and objects, a repeated leaf key (the later one wins without being
     * forgotten first), each layout three times so that the earlier positions hit. */
    for (int layout = 0; layout < 3; layout++) {
        char doc[2048];
        int m = snprintf(doc, sizeof doc, "{\"jsonPayload\":{");
        for (int i = 0; i < 20; i++)
            m += snprintf(doc + m, sizeof doc - (size_t)m, "\"k%02d\":\"v\",", i);
        m += snprintf(doc + m, sizeof doc - (size_t)m,
                      "\"message\":\"deep %d\",\"error\":{\"message\":\"e\"}},", layout);
        for (int i = 0; i < 18 + layout; i++)
            m += snprintf(doc + m, sizeof doc - (size_t)m, "\"r%02d\":%d,", i, i);
        m += snprintf(doc + m, sizeof doc - (size_t)m,
                      "\"severity\":\"INFO\",\"severity\":\"ERROR\",\"resource\":{\"labels\":"
                      "{\"service_name\":\"s\"}},\"textPayload\":\"past sixteen keys\"}");
        for (int k = 0; k < 3; k++)
            add_input("more keys than positions", doc, (size_t)m);
    }
    /* A comma and then '}' (invalid) where the position after the comma has a remembered
     * key, none yet, or is past the remembered ones; in the root and in a mapped object. */
    for (int keys = 1; keys <= 20; keys++) {
        for (int where = 0; where < 2; where++) {
            char doc[1024];
            int m = snprintf(doc, sizeof doc, where ? "{\"jsonPayload\":{" : "{");
            for (int i = 0; i < keys; i++)
                m += snprintf(doc + m, sizeof doc - (size_t)m, "\"c%02d\":\"v\",", i);
            m += snprintf(doc + m, sizeof doc - (size_t)m,
                          where ? " }, \"textPayload\":\"padding padding padding padding\"}"
                                : "}                                                   ");
            add_input("comma before close", doc, (size_t)m);
        }
    }
    /* Pretty-printed objects remember the blanks and '}' that closed them (16 bytes at most):
     * each close taught, then met with other blanks, another bracket, a tab, a CR, a byte
     * after it, or cut short, in the root and in nested mapped objects. */
    static const char *const closes[] = {"\n  }",     "\n   }",           "\n }",    "\n  ]",
                                         "\n  \t}",   "\r\n  }",          "\n  } x", "\n  ,}",
                                         "\n\n\n  }", "\n             }", "\n",      "  }"};
    for (size_t i = 0; i < FL_ARRAY_LEN(closes); i++) {
        for (size_t k = 0; k < 2; k++) {
            const char *c = closes[k ? i : 0]; /* taught with the usual close, then this */
            char doc[512];
            int m = snprintf(doc, sizeof doc,
                             "{\n  \"resource\": {\n    \"labels\": {\n      \"service_name\": "
                             "\"svc\"%s%s,\n  \"textPayload\": \"padding padding padding "
                             "padding padding\"%s",
                             c, closes[0], c);
            add_input("pretty close", doc, (size_t)m);
        }
    }
    static const char rep_leaf[] = "{\"severity\":\"INFO\",\"textPayload\":\"one\",\"severity\":"
                                   "\"ERROR\",\"textPayload\":\"two\",\"insertId\":\"i\"}";
    for (int i = 0; i < 2; i++)
        add_input("repeated leaf keys", rep_leaf, strlen(rep_leaf));
    /* Plain integers take a short path (up to 18 digits, then a byte that ends a number);
     * everything at its edges must still come out as jansson says: 18, 19 and 20 digits
     * (INT64_MAX has 19), a fraction, an exponent, a NUL or the end of input right after the
     * digits, a leading zero, in a mapped key (httpRequest.status) and in an unmapped one. */
    static const char *const ints[] = {"7",
                                       "404",
                                       "123456789012345678",
                                       "999999999999999999",
                                       "1234567890123456789",
                                       "9223372036854775807",
                                       "9223372036854775808",
                                       "99999999999999999999",
                                       "200.5",
                                       "200e2",
                                       "200E-1",
                                       "200\\0", /* a NUL byte, written below */
                                       "0",
                                       "01",
                                       "-5",
                                       "2x"};
    for (size_t i = 0; i < FL_ARRAY_LEN(ints); i++) {
        char num[32], doc[160];
        size_t k = strlen(ints[i]);
        memcpy(num, ints[i], k + 1);
        if (k >= 2 && num[k - 2] == '\\') /* "\\0": the digits, then a NUL byte */
            num[k - 2] = '\0', k--;
        for (int where = 0; where < 3; where++) {
            int m = where == 0 ? snprintf(doc, sizeof doc, "{\"httpRequest\":{\"status\":")
                               : snprintf(doc, sizeof doc, "{\"textPayload\":\"t\",\"n\":");
            memcpy(doc + m, num, k);
            m += (int)k;
            /* where 2: the document ends right after the digits */
            if (where == 0)
                m += snprintf(doc + m, sizeof doc - (size_t)m, "},\"severity\":\"ERROR\"}");
            else if (where == 1)
                m += snprintf(doc + m, sizeof doc - (size_t)m, "}");
            add_input("integer", doc, (size_t)m);
        }
    }
    DIR *d = opendir(FL_FUZZ_CORPUS);
    CHECK(d != NULL);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", FL_FUZZ_CORPUS, de->d_name);
        char *buf = tu_read_file(path, &n);
        add_input(de->d_name, buf, n);
        free(buf);
    }
    if (d)
        closedir(d);
    n_plain_inputs = n_inputs;
    add_key_boundary_inputs();
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char interesting[] = "\"\\{}[],:0-e.utfn \n\t\x01\x7f";
static const unsigned char high[] = {0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF};
static const char *snippets[] = {"\\u",
                                 "\\ud800",
                                 "\\udc00\\ud800",
                                 "\\u0000",
                                 "}",
                                 "{\"a\":1}",
                                 ",",
                                 "\"",
                                 "1e999",
                                 "-",
                                 "null",
                                 "\"message\":",
                                 "\\",
                                 "[[[",
                                 "0.",
                                 "\xc3\xa9",
                                 "\xed\xa0\x80",
                                 "\"textPayload\":\"dup\","};

/* One deterministic mutation of in into out (capacity cap); returns the new length. */
static size_t mutate(const input *in, char *out, size_t cap)
{
    size_t len = FL_MIN(in->len, cap - 64);
    memcpy(out, in->data, len);
    if (len == 0)
        return 0;
    size_t pos = (size_t)(next_rand() % len);
    switch (next_rand() % 7) {
    case 0: /* overwrite one byte with something syntactically interesting */
        out[pos] = interesting[next_rand() % (sizeof(interesting) - 1)];
        return len;
    case 1: /* overwrite with a non-ASCII or control byte */
        uint64_t pick = next_rand();
        out[pos] = (char)(pick % 3 ? high[(pick >> 8) % sizeof(high)] : (pick >> 8) % 32);
        return len;
    case 2: /* truncate */
        return pos;
    case 3: { /* insert a snippet */
        const char *s = snippets[next_rand() % FL_ARRAY_LEN(snippets)];
        size_t k = strlen(s);
        memmove(out + pos + k, out + pos, len - pos);
        memcpy(out + pos, s, k);
        return len + k;
    }
    case 4: { /* delete 1-4 bytes */
        size_t k = (size_t)(1 + next_rand() % 4);
        k = FL_MIN(k, len - pos);
        memmove(out + pos, out + pos + k, len - pos - k);
        return len - k;
    }
    case 5: { /* insert a run of 1-40 whitespace bytes (the reader skips 16 at a time),
               * now and then ending in a byte JSON does not count as whitespace */
        static const char ws[] = " \n\r\t";
        static const char not_ws[] = "\v\f\x1c\xa0";
        size_t k = (size_t)(1 + next_rand() % 40);
        memmove(out + pos + k, out + pos, len - pos);
        for (size_t j = 0; j < k; j++)
            out[pos + j] = ws[next_rand() % 4];
        if (next_rand() % 4 == 0)
            out[pos + k - 1] = not_ws[next_rand() % 4];
        return len + k;
    }
    default: { /* insert a NUL byte (jansson drops one after numbers and literals) */
        memmove(out + pos + 1, out + pos, len - pos);
        out[pos] = '\0';
        return len + 1;
    }
    }
}

int main(void)
{
    load_inputs();
    CHECK(n_inputs > 50);
    char why[512];
    size_t accepted = 0, rejected = 0, mismatches = 0;
    for (size_t i = 0; i < n_inputs; i++) {
        if (fl_entry_compare(inputs[i].data, inputs[i].len, why, sizeof(why)) != 0) {
            fprintf(stderr, "%s: %s\n", inputs[i].name, why);
            mismatches++;
        }
    }
    static char buf[1 << 20];
    for (size_t i = 0; i < n_inputs; i++) {
        int mutations = i < n_plain_inputs ? MUTATIONS_PER_INPUT : 8;
        for (int m = 0; m < mutations; m++) {
            size_t len = mutate(&inputs[i], buf, sizeof(buf));
            fl_entry e;
            fl_entry_init(&e);
            int rc = fl_entry_parse_jansson(buf, len, &e, NULL, 0);
            fl_entry_free(&e);
            if (rc == 0)
                accepted++;
            else
                rejected++;
            if (fl_entry_compare(buf, len, why, sizeof(why)) != 0) {
                if (mismatches < 10) {
                    fprintf(stderr, "%s, mutation %d: %s\n  input: ", inputs[i].name, m, why);
                    fwrite(buf, 1, FL_MIN(len, (size_t)300), stderr);
                    fputc('\n', stderr);
                }
                mismatches++;
            }
        }
    }
    printf("%zu inputs, %zu mutations (%zu accepted, %zu rejected by jansson), %zu mismatches\n",
           n_inputs, accepted + rejected, accepted, rejected, mismatches);
    CHECK_INT(mismatches, 0);
    /* Mutations must exercise both verdicts, or the test proves little. */
    CHECK(accepted > 1000 && rejected > 1000);
    for (size_t i = 0; i < n_inputs; i++)
        free(inputs[i].data);
    return fl_test_done();
}
