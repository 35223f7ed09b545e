/* The rule-file JSON reader (patterns/rules_json.c) against jansson: the same values with keys
 * in the same order, the same errors word for word, for the built-in rule files, for text it
 * hands to jansson (non-ASCII, \u escapes, reals, big numbers, duplicate keys, deep nesting)
 * and for thousands of damaged copies of a rule file. Usage: test_rules_json RULES_DIR */
#include "fl_patterns_int.h"
#include "fl_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* load's answer equals json_loadb's (flags as rule loading uses them). */
static bool same_as_jansson(const char *text, size_t len)
{
    json_error_t e1, e2;
    memset(&e1, 0, sizeof(e1));
    memset(&e2, 0, sizeof(e2));
    json_t *a = fl_rules_json_load(text, len, &e1);
    json_t *b = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e2);
    bool same;
    if (!a || !b) {
        same = !a && !b && strcmp(e1.text, e2.text) == 0 && e1.line == e2.line &&
               e1.column == e2.column && e1.position == e2.position;
    } else {
        /* json_equal ignores key order; the compact dump does not */
        char *da = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
        char *db = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
        same = json_equal(a, b) && da && db && strcmp(da, db) == 0;
        free(da);
        free(db);
    }
    json_decref(a);
    json_decref(b);
    return same;
}

static bool fast_takes(const char *text)
{
    json_t *v = fl_rules_json_fast(text, strlen(text));
    json_decref(v);
    return v != NULL;
}

/* Every built-in rule file is read directly (that is the speed-up) and as jansson reads it. */
static void test_builtin_files(const char *dir, char **first, size_t *first_len)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        size_t len = 0;
        char *text = fl_test_read_file(NULL, path, &len);
        CHECK(text != NULL);
        if (!text)
            continue;
        files++;
        json_t *v = fl_rules_json_fast(text, len);
        if (!v)
            fprintf(stderr, "left to jansson: %s\n", path);
        CHECK(v != NULL);
        json_decref(v);
        CHECK(same_as_jansson(text, len));
        if (!*first) {
            *first = text;
            *first_len = len;
        } else {
            free(text);
        }
    }
    closedir(d);
    CHECK(files >= 10);
}

static void test_cases(void)
{
    static const struct {
        const char *text;
        bool fast; /* read directly, not by jansson */
    } cases[] = {
        {"{}", true},
        {"[]", true},
        {" \n\t{\"a\":[1,-2,0,true,false,null,\"x\",{},[]]} \r\n", true},
        {"{\"a\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t.\"}", true},
        {"{\"k\\n\\\"ey\":{\"\":\"\"}}", true},
        {"{\"a\":-0,\"b\":123456789012345678,\"c\":-123456789012345678}", true},
        {"{\"a\":\"\\u00e9\\ud83d\\ude00\"}", false},
        {"{\"a\":\"\xc3\xa9\"}", false}, /* raw UTF-8 */
        {"{\"a\":\"\xff\"}", false},     /* invalid UTF-8 */
        {"{\"a\":\"\\u0000\"}", false},  /* NUL is refused */
        {"{\"a\":\"\\ud800\"}", false},  /* lone surrogate */
        {"{\"a\":1.5,\"b\":1e3,\"c\":-2E-2}", false},
        {"{\"a\":01}", false},
        {"{\"a\":12345678901234567890}", false}, /* too big */
        {"{\"a\":1234567890123456789}", false},  /* 19 digits: left to jansson */
        {"{\"a\":-}", false},
        {"{\"a\":+1}", false},
        {"{\"a\":1,\"a\":2}", false}, /* duplicate key */
        {"{\"a\":1,}", false},
        {"[1,2,]", false},
        {"[1,2", false},
        {"{\"a\" 1}", false},
        {"{\"a\":tru}", false},
        {"{\"a\":truex}", false},
        {"{\"a\":1} x", false},
        {"{\"a\":1}{}", false},
        {"\"top\"", false},
        {"17", false},
        {"", false},
        {"   ", false},
        {"{\"a\":\"b", false},
        {"{\"a\":\"tab\there\"}", false}, /* a raw control byte */
        {"{\"a\":\"\\x\"}", false},
        {"\xef\xbb\xbf{}", false}, /* BOM */
        {"{'a':1}", false},
        {"{\"a\":1 /* c */}", false},
        {"{\"a\":NaN}", false},
        {"[1,[2,[3,[4]]],{\"b\":{\"c\":[true]}}]", true},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        if (fast_takes(cases[i].text) != cases[i].fast ||
            !same_as_jansson(cases[i].text, strlen(cases[i].text)))
            fprintf(stderr, "case %zu: %s\n", i, cases[i].text);
        CHECK(fast_takes(cases[i].text) == cases[i].fast);
        CHECK(same_as_jansson(cases[i].text, strlen(cases[i].text)));
    }
    /* Deeper than the direct reader goes: jansson reads it. */
    char deep[400];
    size_t n = 0;
    for (int k = 0; k < 100; k++)
        deep[n++] = '[';
    for (int k = 0; k < 100; k++)
        deep[n++] = ']';
    deep[n] = '\0';
    CHECK(!fast_takes(deep));
    CHECK(same_as_jansson(deep, n));
}

/* Damaged copies of a rule file: a byte replaced by one that matters to JSON, deleted, or the
 * text cut short. Each gives what jansson gives. */
static void test_mutations(const char *text, size_t len)
{
    static const char pick[] = "{}[]\",:\\ 0a-.e\n\xc3\x01";
    char *buf = malloc(len + 1);
    uint64_t x = 0x9e3779b97f4a7c15u;
    int diffs = 0, direct = 0;
    for (int round = 0; round < 3000 && buf; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t at = (size_t)(x % len), n = len;
        memcpy(buf, text, len);
        switch ((x >> 32) % 3) {
        case 0:
            buf[at] = pick[(x >> 40) % (sizeof(pick) - 1)];
            break;
        case 1:
            memmove(buf + at, buf + at + 1, len - at - 1);
            n = len - 1;
            break;
        default:
            n = at;
            break;
        }
        if (!same_as_jansson(buf, n))
            diffs++;
        json_t *v = fl_rules_json_fast(buf, n);
        direct += v != NULL;
        json_decref(v);
    }
    free(buf);
    CHECK_INT(diffs, 0);
    CHECK(direct > 100); /* a changed letter in a string keeps the text plain */
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s RULES_DIR\n", argv[0]);
        return 2;
    }
    char *first = NULL;
    size_t first_len = 0;
    test_builtin_files(argv[1], &first, &first_len);
    test_cases();
    if (first)
        test_mutations(first, first_len);
    free(first);
    return fl_test_done();
}
