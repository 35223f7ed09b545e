/* Rule files into jansson values, quickly (see fl_rules_json_load in fl_patterns_int.h).
 *
 * jansson reads a byte at a time through a stream and a string buffer: about 140 instructions a
 * byte, 14 M of the 29 M a run spent loading the 100 KB of built-in rules before it read one
 * entry (issue 15). Rule files are plain: objects, arrays, ASCII strings with a few escapes,
 * small integers. This reader builds the same values from such text directly and hands every
 * other input (non-ASCII, \u escapes, reals, big or zero-led numbers, duplicate keys, deep
 * nesting, any syntax error) to json_loadb itself, so that what is accepted and how an error
 * reads are jansson's, byte for byte. */
#include "fl_patterns_int.h"

#include <stdlib.h>
#include <string.h>

#define FAST_MAX_DEPTH 64
#define FAST_MAX_DIGITS 18                /* below 2^63: no overflow to report */
#define FAST_MAX_STRING (4 * 1024 * 1024) /* a rule file's own cap */

typedef struct fast_rd {
    const char *p, *end;
    fl_buf str; /* the current string, unescaped */
    int depth;
} fast_rd;

static json_t *fast_value(fast_rd *r);

static void skip_ws(fast_rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r'))
        r->p++;
}

/* Bytes a string holds as they are: printable ASCII but '"' and '\\' (one look-up a byte where
 * four tests were most of this reader's cost). */
static bool plain[256];
static pthread_once_t plain_once = PTHREAD_ONCE_INIT;

static void plain_init(void)
{
    for (int b = 0x20; b < 0x80; b++)
        plain[b] = b != '"' && b != '\\';
}

/* A string at r->p ('"'), unescaped into r->str. False: not one this reader takes. */
static bool fast_string(fast_rd *r)
{
    fl_buf_reset(&r->str);
    const char *p = r->p + 1;
    for (;;) {
        const char *run = p;
        while (p < r->end && plain[(unsigned char)*p])
            p++;
        if (p > run && fl_buf_add(&r->str, run, (size_t)(p - run)))
            return false;
        if (p >= r->end)
            return false;
        if (*p == '"')
            break;
        if (*p != '\\' || p + 1 >= r->end)
            return false; /* a control or non-ASCII byte: jansson decides */
        /* the escapes but \u, and what each stands for */
        static const char esc[8] = {'"', '\\', '/', 'b', 'f', 'n', 'r', 't'};
        static const char val[8] = {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t'};
        const char *k = memchr(esc, p[1], sizeof(esc));
        if (!k)
            return false; /* \u and anything else */
        char c = val[k - esc];
        if (fl_buf_addc(&r->str, c))
            return false;
        p += 2;
    }
    r->p = p + 1;
    return true;
}

static json_t *fast_number(fast_rd *r)
{
    const char *p = r->p;
    bool neg = p < r->end && *p == '-';
    p += neg;
    const char *digits = p;
    while (p < r->end && *p >= '0' && *p <= '9')
        p++;
    size_t n = (size_t)(p - digits);
    if (n == 0 || n > FAST_MAX_DIGITS || (n > 1 && digits[0] == '0'))
        return NULL;
    if (p < r->end && (*p == '.' || *p == 'e' || *p == 'E'))
        return NULL; /* a real: jansson's own conversion */
    json_int_t v = 0;
    for (const char *d = digits; d < p; d++)
        v = v * 10 + (*d - '0');
    r->p = p;
    return json_integer(neg ? -v : v);
}

static bool word(fast_rd *r, const char *w, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return false;
    r->p += n;
    return true;
}

/* After a member of an object or an element of an array: 1 after a ',' (another follows), 0
 * after the closing bracket, -1 for anything else. */
static int list_next(fast_rd *r, char close)
{
    skip_ws(r);
    if (r->p < r->end && (*r->p == ',' || *r->p == close))
        return *r->p++ == ',';
    return -1;
}

static json_t *fast_object(fast_rd *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return o;
    }
    for (;;) {
        skip_ws(r);
        if (r->p >= r->end || *r->p != '"' || !fast_string(r))
            break;
        /* the key is copied out of r->str: the value reads its strings into it too */
        size_t klen = r->str.len;
        char *key = fl_malloc(klen + 1);
        if (!key)
            break;
        memcpy(key, r->str.data ? r->str.data : "", klen);
        key[klen] = '\0';
        skip_ws(r);
        json_t *v = NULL;
        if (r->p < r->end && *r->p == ':') {
            r->p++;
            v = fast_value(r);
        }
        /* A duplicate key is an error that jansson words. setn_new takes v even when it
         * fails. */
        bool ok = v && !json_object_getn(o, key, klen);
        if (ok)
            ok = json_object_setn_new_nocheck(o, key, klen, v) == 0;
        else
            json_decref(v);
        fl_free(key);
        if (!ok)
            break;
        int more = list_next(r, '}');
        if (more == 0)
            return o;
        if (more < 0)
            break;
    }
    json_decref(o);
    return NULL;
}

static json_t *fast_array(fast_rd *r)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return a;
    }
    for (;;) {
        json_t *v = fast_value(r);
        if (!v || json_array_append_new(a, v))
            break;
        int more = list_next(r, ']');
        if (more == 0)
            return a;
        if (more < 0)
            break;
    }
    json_decref(a);
    return NULL;
}

static json_t *fast_value(fast_rd *r)
{
    skip_ws(r);
    if (r->p >= r->end)
        return NULL;
    switch (*r->p) {
    case '{':
    case '[': {
        if (++r->depth > FAST_MAX_DEPTH)
            return NULL;
        json_t *v = *r->p == '{' ? fast_object(r) : fast_array(r);
        r->depth--;
        return v;
    }
    case '"':
        if (!fast_string(r))
            return NULL;
        return json_stringn_nocheck(r->str.data ? r->str.data : "", r->str.len);
    case 't':
        return word(r, "true", 4) ? json_true() : NULL;
    case 'f':
        return word(r, "false", 5) ? json_false() : NULL;
    case 'n':
        return word(r, "null", 4) ? json_null() : NULL;
    default:
        return fast_number(r);
    }
}

json_t *fl_rules_json_fast(const char *text, size_t len)
{
    pthread_once(&plain_once, plain_init);
    fast_rd r = {text, text + len, {0}, 0};
    fl_buf_init(&r.str, FAST_MAX_STRING);
    skip_ws(&r);
    json_t *root = NULL;
    /* jansson takes only an object or an array at the top (no JSON_DECODE_ANY) */
    if (r.p < r.end && (*r.p == '{' || *r.p == '['))
        root = fast_value(&r);
    fl_buf_free(&r.str);
    if (root) {
        skip_ws(&r);
        if (r.p != r.end) { /* more after the value: jansson's error */
            json_decref(root);
            root = NULL;
        }
    }
    return root;
}

json_t *fl_rules_json_load(const char *text, size_t len, json_error_t *err)
{
    json_t *root = fl_rules_json_fast(text, len);
    return root ? root : json_loadb(text, len, JSON_REJECT_DUPLICATES, err);
}
