/* The fast LogEntry reader: one pass over the bytes, no tree, no allocation. It validates the
 * whole document with jansson's grammar (so it accepts and rejects exactly what
 * fl_entry_parse_jansson does) while it records where the mapped fields are (slots, see
 * json_internal.h). Strings are not copied here: a slot points into the input, and only the
 * fields that are kept are copied (and unescaped) once, into the entry, by map.c.
 *
 * jansson's rules reproduced here, beyond RFC 8259:
 *   - the top level must be an object (an array is valid JSON but not a LogEntry);
 *   - "\u0000" is refused (no JSON_ALLOW_NUL), as are unpaired surrogate escapes;
 *   - every value counts towards the nesting limit of JSON_PARSER_MAX_DEPTH (2048);
 *   - integers must fit in 64 bits; reals must not overflow to infinity;
 *   - duplicate keys: the last one wins (a duplicate object replaces the whole subtree);
 *   - one NUL byte right after a number or true/false/null is skipped (a quirk of jansson's
 *     one-byte push-back), anywhere else a NUL is an error. */
#include "json_internal.h"

#include <errno.h>
#include <limits.h>
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH JSON_PARSER_MAX_DEPTH
/* The depth of the deepest value the parser looks up keys for (parse_object and capture):
 * the root object is depth 1 and the deepest mapped slot ("resource.labels.service_name",
 * "protoPayload.authenticationInfo.principalEmail") is three keys down. Values there cannot
 * reach the nesting limit, so those two functions do not check it (skip_value does). */
#define MAPPED_DEPTH 4
_Static_assert(MAPPED_DEPTH + 1 < MAX_DEPTH, "mapped values are far from the nesting limit");

/* SSE2 scanning, unless FL_NO_SIMD asks for the portable byte loops, and an AVX2 copy of the
 * parser picked at run time, unless FL_JSON_NO_AVX2 leaves it out (unit tests build this file
 * both ways, so that every path stays tested). */
#if defined(__SSE2__) && !defined(FL_NO_SIMD)
#define FL_JSON_SSE2 1
#else
#define FL_JSON_SSE2 0
#endif
#if FL_JSON_SSE2 && defined(__x86_64__) && !defined(FL_JSON_NO_AVX2) &&                            \
    (defined(__GNUC__) || defined(__clang__))
#define FL_JSON_AVX2 1
#else
#define FL_JSON_AVX2 0
#endif

typedef struct fp {
    const char *base;
    const char *p;
    const char *end;
    fl_slots *s;
    const char *err; /* first error message; p is left at its position */
    /* Pretty-printed input (what the array splitter needs to know, fl_entry_parse_fast_prefix):
     * newlines skipped, and the least column of a '{' that starts a line (LONG_MAX: none). */
    uint64_t lines;
    long brace_col;
} fp;

/* Children of each object slot (and of the root), bucketed by key length for lookup: most keys
 * in a LogEntry are not mapped, and most of those are rejected by their length alone. */
#define KEY_LEN_MAX 32
#define KIDS_PER_LEN 6 /* jsonPayload has five mapped 5-byte keys (error, event, level, ...) */

typedef struct kids {
    unsigned char n[KEY_LEN_MAX + 1];
    unsigned char idx[KEY_LEN_MAX + 1][KIDS_PER_LEN];
} kids;

static kids root_kids;
static kids slot_kids[FL_S_COUNT];

/* Each mapped key's first and last 8 bytes (4 when shorter than 8), so that a key is matched
 * with two word compares rather than a byte loop: key matching was a quarter of the parser. */
static uint64_t key_head[FL_S_COUNT], key_tail[FL_S_COUNT];

static inline uint64_t load_word(const char *p, size_t n)
{
    if (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Key prediction. A source's entries mostly repeat one or two key layouts, so the key at a
 * given position of an object is usually the one seen there before. Each object context
 * (the root and each object slot with mapped children) remembers, per key position, the last
 * two keys seen there as byte patterns of up to 32 bytes: the blanks before the key (in
 * pretty-printed input, the newline and indentation), the key in quotes, the colon and the
 * blanks after it. When the input bytes equal a pattern, the key is known (and known valid:
 * the same bytes were checked when the pattern was learnt) without skipping blanks, scanning
 * the string or looking it up: keys were half of the parser's work. */
#define PRED_POS 16 /* key positions remembered per object */

/* What a remembered pattern ends with, and so how its value is read after a hit. */
enum {
    K_OTHER = 0, /* pat ends after the colon's blanks: the general value path (an empty way,
                  * mask 0 and len 0, is one too: it matches anything and is sent to the
                  * miss path) */
    K_STR,       /* a mapped leaf's string: pat ends with its opening quote */
    K_SKIP_STR,  /* an unmapped key's string: pat ends with its opening quote */
    K_OBJ,       /* a mapped object with mapped keys inside: pat ends with its '{' */
};

typedef struct key_way {
    char pat[32];
    uint32_t mask; /* bit i: pat[i] must match; 0: empty (then len is 0 too) */
    unsigned char len;
    signed char slot;
    unsigned char lines; /* newlines in pat */
    unsigned char kind;  /* K_* */
} key_way;

/* One key position of an object context. next is the following position; the last entry of
 * a context is a sentinel whose next is itself and whose ways stay empty (keys past PRED_POS
 * are not predicted), so the key loop follows next without a bound check. */
typedef struct key_pred {
    key_way way[2];
    struct key_pred *next;
    /* Pretty-printed input: the blanks and the '}' seen after the last value of an object
     * that ended at this position (a newline and the indentation), compared 16 bytes at
     * once. Never empty: "}" until a longer one is learnt. */
    char close[16];
    uint16_t close_mask;
    unsigned char close_len, close_lines;
    unsigned char victim; /* the way the next miss replaces */
} key_pred;

static signed char ctx_index[FL_S_COUNT]; /* prediction context of an object slot */
static int n_ctx = 1;                     /* 0 is the root */
#define PRED_CTX 16

static _Thread_local key_pred preds[PRED_CTX][PRED_POS + 1];
static _Thread_local bool preds_linked;

/* The next pointers of this thread's table (once per thread, before its first parse). */
static __attribute__((noinline)) void preds_link(void)
{
    for (int c = 0; c < PRED_CTX; c++) {
        for (int i = 0; i <= PRED_POS; i++) {
            key_pred *kp = &preds[c][i];
            kp->next = &preds[c][i < PRED_POS ? i + 1 : PRED_POS];
            kp->close[0] = '}';
            kp->close_mask = 1;
            kp->close_len = 1;
        }
    }
    preds_linked = true;
}

/* Byte vectors for the string scan (fast_body.h), filled at start-up: written as constants,
 * GCC rebuilt each of them in a register (three instructions) before every string. */
static char vec_backslash[32] __attribute__((aligned(32)));
static char vec_two[32] __attribute__((aligned(32)));
static char vec_x20[32] __attribute__((aligned(32)));

__attribute__((constructor(200))) static void kids_init(void)
{
    memset(vec_backslash, '\\', sizeof vec_backslash);
    memset(vec_two, 0x02, sizeof vec_two);
    memset(vec_x20, 0x20, sizeof vec_x20);
    for (int i = 0; i < FL_S_COUNT; i++) {
        ctx_index[i] = -1;
        if (fl_slot_defs[i].last > i) {
            /* parse_object reads every object slot with mapped keys inside with a table */
            if (n_ctx >= PRED_CTX)
                abort();
            ctx_index[i] = (signed char)n_ctx++;
        }
    }
    for (int i = 0; i < FL_S_COUNT; i++) {
        int parent = fl_slot_defs[i].parent;
        kids *k = parent == FL_S_ROOT ? &root_kids : &slot_kids[parent];
        unsigned len = fl_slot_defs[i].key_len;
        /* A key that did not fit would be silently unmapped, a value deeper than MAPPED_DEPTH
         * would escape the nesting limit: fail loudly instead. */
        int value_depth = 2; /* a key of the root object */
        for (int a = parent; a != FL_S_ROOT; a = fl_slot_defs[a].parent)
            value_depth++;
        if (len > KEY_LEN_MAX || k->n[len] >= KIDS_PER_LEN || value_depth > MAPPED_DEPTH)
            abort();
        k->idx[len][k->n[len]++] = (unsigned char)i;
        if (len >= 4) {
            key_head[i] = load_word(fl_slot_defs[i].key, len);
            key_tail[i] = load_word(fl_slot_defs[i].key + len - (len >= 8 ? 8 : 4), len);
        }
    }
}

static int fail(fp *f, const char *msg)
{
    if (!f->err)
        f->err = msg;
    return -1;
}

#if FL_JSON_SSE2
#include <emmintrin.h>
#endif

static inline bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Notes a '{' at p that follows a whitespace run [start, p) holding a newline: when only blanks
 * are between them, the brace starts a line, and the array splitter needs its column. */
static void note_brace(fp *f, const char *start, const char *p)
{
    const char *q = p;
    while (q > start && (q[-1] == ' ' || q[-1] == '\t'))
        q--;
    if (q > start && q[-1] == '\n' && p - q < f->brace_col)
        f->brace_col = p - q;
}

/* A run of whitespace that is more than one blank (pretty-printed input: a newline and the
 * indentation), skipped 16 bytes at a time; newlines are counted and a '{' that starts a line
 * is noted (fp.lines, fp.brace_col). Out of line: NDJSON never gets here. */
static __attribute__((noinline)) void skip_ws_run(fp *f)
{
    const char *start = f->p, *p = start, *end = f->end;
    uint64_t lines = 0;
#if FL_JSON_SSE2
    if (end - p >= 16) {
        /* The usual run: one newline, then spaces, then a token within 16 bytes. */
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        unsigned nls = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
        unsigned blanks = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
        unsigned other = ~(blanks | nls) & 0xFFFFu;
        if (other) {
            int k = __builtin_ctz(other);
            if ((nls & ((1u << k) - 1)) == 1 && (unsigned char)p[k] > ' ') {
                f->p = p + k;
                f->lines++;
                if (p[k] == '{')
                    note_brace(f, start, p + k);
                return;
            }
        }
    }
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i nl = _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'));
        __m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), nl),
                                  _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                                               _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
        unsigned other = ~(unsigned)_mm_movemask_epi8(ws) & 0xFFFFu;
        unsigned nls = (unsigned)_mm_movemask_epi8(nl);
        int k = other ? __builtin_ctz(other) : 16;
        for (nls &= (unsigned)((1ul << k) - 1); nls; nls &= nls - 1)
            lines++;
        p += k;
        if (k < 16)
            break;
    }
    if (end - p < 16)
#endif
        for (; p < end && is_ws(*p); p++)
            lines += *p == '\n';
    f->p = p;
    if (!lines)
        return;
    f->lines += lines;
    if (p < end && *p == '{')
        note_brace(f, start, p);
}

/* Most calls find no whitespace at all (NDJSON); in pretty-printed input most runs are the
 * one blank after a colon. */
static inline void skip_ws(fp *f)
{
    const char *p = f->p, *end = f->end;
    if (p >= end || (unsigned char)*p > ' ')
        return;
    if (*p == ' ' && end - p >= 2 && (unsigned char)p[1] > ' ') {
        f->p = p + 1;
        return;
    }
    skip_ws_run(f);
}

/* Whitespace after '{', '[' or ',': in pretty-printed input a newline and the indentation,
 * checked inline (one compare of the 16 bytes after the newline against blanks). */
static inline void skip_ws_line(fp *f)
{
    const char *p = f->p, *end = f->end;
    if (p >= end || (unsigned char)*p > ' ')
        return;
#if FL_JSON_SSE2
    if (*p == '\n' && end - p > 16) {
        unsigned blanks = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 1)), _mm_set1_epi8(' ')));
        int k = __builtin_ctz(~blanks); /* 16 when all are blanks */
        if (k < 16 && (unsigned char)p[1 + k] > ' ') {
            f->p = p + 1 + k;
            f->lines++;
            if (p[1 + k] == '{')
                note_brace(f, p, p + 1 + k);
            return;
        }
    }
#endif
    skip_ws_run(f);
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int hex4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Length of a valid UTF-8 sequence at p (first byte >= 0x80), or 0. Same rules as jansson:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (end - p < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

static locale_t c_locale;

__attribute__((constructor)) static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* True when the decimal text [p, p+n) overflows a double (strtod gives +-HUGE_VAL). */
static bool real_overflows(const char *p, size_t n)
{
    char small[128];
    char *buf = n < sizeof(small) ? small : malloc(n + 1);
    if (!buf)
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    errno = 0;
    double v = c_locale ? strtod_l(buf, NULL, c_locale) : strtod(buf, NULL);
    bool over = errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL);
    if (buf != small)
        free(buf);
    return over;
}

/* A number at f->p; is_int and ival describe integers. Follows jansson's lexer, including its
 * overflow errors. */
static int scan_number(fp *f, bool *is_int, int64_t *ival)
{
    const char *p = f->p, *end = f->end, *start = p;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') {
        f->p = p;
        return fail(f, "invalid number");
    }
    const char *digits = p;
    uint64_t v = 0; /* the digits' value, exact while there are at most 19 of them */
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9') {
            f->p = p;
            return fail(f, "invalid number (leading zero)");
        }
    } else {
        for (unsigned d; p < end && (d = (unsigned)(unsigned char)*p - '0') <= 9; p++)
            v = v * 10 + d;
    }
    size_t int_digits = (size_t)(p - digits);
    bool real = false, has_exp = false;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') {
            f->p = p;
            return fail(f, "invalid number (fraction)");
        }
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        real = true;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9') {
            f->p = p;
            return fail(f, "invalid number (exponent)");
        }
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        real = has_exp = true;
    }
    f->p = p;
    *is_int = !real;
    if (!real) {
        /* 19 digits never overflow 64 bits unsigned (the largest is below 10^19 < 2^64). */
        if (int_digits > 19) {
            return fail(f, neg ? "too big negative integer" : "too big integer");
        }
        if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
            return fail(f, neg ? "too big negative integer" : "too big integer");
        *ival = neg ? (int64_t)(0 - v) : (int64_t)v;
    } else if ((has_exp || int_digits > 300) && real_overflows(start, (size_t)(p - start))) {
        return fail(f, "real number overflow");
    }
    /* jansson pushes back the byte after a number; a NUL pushed back is lost. */
    if (f->p < end && *f->p == '\0')
        f->p++;
    return 0;
}

/* The usual number in a LogEntry, an HTTP status or a code: 1 to 18 digits without a sign, a
 * leading zero, a fraction or an exponent, followed by something that ends a number (neither
 * a NUL nor the end of the input, which scan_number treats specially). Read here without
 * scan_number's call and general checks; anything else returns false with f->p unchanged. */
static inline __attribute__((always_inline)) bool small_int(fp *f, int64_t *ival)
{
    const char *p = f->p, *end = f->end;
    if (p >= end || (unsigned)(unsigned char)*p - '1' > 8)
        return false;
    const char *stop = end - p > 18 ? p + 18 : end;
    uint64_t v = 0;
    for (unsigned d; p < stop && (d = (unsigned)(unsigned char)*p - '0') <= 9; p++)
        v = v * 10 + d;
    if (p >= end)
        return false;
    unsigned char c = (unsigned char)*p;
    if ((unsigned)c - '0' <= 9 || c == '.' || c == 'e' || c == 'E' || c == '\0')
        return false;
    f->p = p;
    *ival = (int64_t)v;
    return true;
}

static int scan_literal(fp *f)
{
    const char *p = f->p;
    size_t left = (size_t)(f->end - p);
    size_t n = 0;
    if (left >= 4 && memcmp(p, "true", 4) == 0)
        n = 4;
    else if (left >= 5 && memcmp(p, "false", 5) == 0)
        n = 5;
    else if (left >= 4 && memcmp(p, "null", 4) == 0)
        n = 4;
    if (!n)
        return fail(f, "invalid token");
    p += n;
    if (p < f->end) {
        unsigned char c = (unsigned char)*p;
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            return fail(f, "invalid token"); /* "truex" is one bad identifier */
        if (c == '\0')
            p++; /* the same lost push-back as after numbers */
    }
    f->p = p;
    return 0;
}

/* Decoded key compared with the keys mapped in this object. */
static inline int match_key(const kids *k, const char *key, size_t n)
{
    if (n > KEY_LEN_MAX || !k->n[n])
        return -1;
    if (n < 4) {
        for (int i = 0; i < k->n[n]; i++)
            if (memcmp(fl_slot_defs[k->idx[n][i]].key, key, n) == 0)
                return k->idx[n][i];
        return -1;
    }
    /* Head and tail words overlap for n < 16 and cover the key up to 16 bytes. */
    uint64_t head = load_word(key, n), tail = load_word(key + n - (n >= 8 ? 8 : 4), n);
    for (int i = 0; i < k->n[n]; i++) {
        int slot = k->idx[n][i];
        if (key_head[slot] == head && key_tail[slot] == tail &&
            (n <= 16 || memcmp(fl_slot_defs[slot].key + 8, key + 8, n - 16) == 0))
            return slot;
    }
    return -1;
}

/* Remembers the bytes [start, start + n) (blanks, the key in quotes, the colon, blanks and,
 * unless kind is K_OTHER, the value's opening quote or brace) that were read as a key with
 * that slot, and the newlines among them (counted by the blank skippers while they were
 * read). n is at least 3 (a key in quotes and its colon): only empty ways have len 0. */
static void learn(key_pred *kp, const char *start, size_t n, int slot, uint64_t lines,
                  unsigned kind)
{
    key_way *w = &kp->way[kp->victim];
    kp->victim ^= 1;
    memset(w->pat, 0, sizeof(w->pat));
    memcpy(w->pat, start, n);
    w->len = (unsigned char)n;
    w->mask = n >= 32 ? UINT32_MAX : (UINT32_C(1) << n) - 1;
    w->slot = (signed char)slot;
    w->lines = (unsigned char)lines; /* at most n <= 32 */
    w->kind = (unsigned char)kind;
}

/* Remembers the n bytes at start (blanks, then the '}' that closed an object; n <= 16) with
 * the newlines among them. */
static void learn_close(key_pred *kp, const char *start, size_t n, uint64_t lines)
{
    memset(kp->close, 0, sizeof kp->close);
    memcpy(kp->close, start, n);
    kp->close_len = (unsigned char)n;
    kp->close_mask = (uint16_t)((1u << n) - 1);
    kp->close_lines = (unsigned char)lines;
}

/* A repeated key replaces everything the earlier one set. Nothing under a slot can be set
 * while the slot itself is unset (an object slot is marked only once it has been read), so
 * the usual first sight of a key has nothing to forget. */
static inline __attribute__((always_inline)) void slot_forget(fl_slot *v, int slot)
{
    if (v[slot].t != FL_V_NONE)
        for (int i = slot; i <= fl_slot_defs[slot].last; i++)
            v[i].t = FL_V_NONE;
}

enum { C_OBJ = 1, C_ARR = 2 };

/* The parser proper, once for the baseline instruction set and once for AVX2 (fast_body.h). */
#define FPN(name) name##_base
#define FP_TARGET
#define FP_WIDE 0
#include "fast_body.h"
#undef FPN
#undef FP_TARGET
#undef FP_WIDE

#if FL_JSON_AVX2
#include <immintrin.h>
#define FPN(name) name##_avx2
#define FP_TARGET __attribute__((target("avx2")))
#define FP_WIDE 1
#include "fast_body.h"
#undef FPN
#undef FP_TARGET
#undef FP_WIDE

static bool use_avx2;

__attribute__((constructor)) static void use_avx2_init(void)
{
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2");
}
#endif

/* A LogEntry object at f->p, with the widest scanner this CPU has. */
static int parse_root(fp *f)
{
    if (__builtin_expect(!preds_linked, 0))
        preds_link();
#if FL_JSON_AVX2
    if (use_avx2)
        return parse_object_avx2(f, FL_S_ROOT, 1);
#endif
    return parse_object_base(f, FL_S_ROOT, 1);
}

static void format_error(const fp *f, char *errbuf, size_t errlen)
{
    if (!errbuf || !errlen)
        return;
    const char *at = f->p < f->end ? f->p : f->end;
    int line = 1, col = 1;
    for (const char *q = f->base; q < at; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(errbuf, errlen, "line %d column %d: %s", line, col, f->err ? f->err : "invalid JSON");
}

/* Every slot unset: one store per slot, written out (a loop over the ~70 slots cost four times
 * the instructions; tracking the slots a record set cost more than it saved). */
static inline void slots_clear(fl_slots *s)
{
#define FL_SLOT_CLEAR(name, parent, key) s->v[FL_S_##name].t = FL_V_NONE;
    FL_SLOT_LIST(FL_SLOT_CLEAR)
#undef FL_SLOT_CLEAR
}

/* The whole of buf as one LogEntry object into f's slots; 0 or FL_EPARSE (errbuf filled). */
static int read_document(fp *f, char *errbuf, size_t errlen)
{
    skip_ws(f);
    if (f->p >= f->end || (*f->p != '{' && *f->p != '[')) {
        fail(f, "'[' or '{' expected");
        format_error(f, errbuf, errlen);
        return FL_EPARSE;
    }
    if (*f->p == '[') {
        fail(f, "a LogEntry must be a JSON object");
        format_error(f, errbuf, errlen);
        return FL_EPARSE;
    }
    if (parse_root(f) < 0) {
        format_error(f, errbuf, errlen);
        return FL_EPARSE;
    }
    skip_ws(f);
    if (f->p != f->end) {
        fail(f, "end of file expected");
        format_error(f, errbuf, errlen);
        return FL_EPARSE;
    }
    return 0;
}

/* A top-level object read into s, as an entry: a Pub/Sub push envelope is unwrapped and its
 * message parsed as the entry, anything else mapped from the slots. */
static int slots_finish(fl_slots *s, fl_entry *e)
{
    return fl_slots_envelope(s) ? fl_unwrap_envelope(s, fl_entry_parse_fast_depth, e, NULL, 0, 0)
                                : fl_slots_to_entry(s, e);
}

int fl_entry_parse_fast_depth(const char *buf, size_t len, fl_entry *e, char *errbuf, size_t errlen,
                              int depth)
{
    fl_entry_clear(e);
    fl_slots s;
    slots_clear(&s);
    fp f = {.base = buf, .p = buf, .end = buf + len, .s = &s, .brace_col = LONG_MAX};
    if (read_document(&f, errbuf, errlen) != 0)
        return FL_EPARSE;
    if (depth == 0 && fl_slots_envelope(&s))
        return fl_unwrap_envelope(&s, fl_entry_parse_fast_depth, e, errbuf, errlen, depth);
    return fl_slots_to_entry(&s, e);
}

int fl_entry_parse_fast_prefix(const char *buf, size_t avail, fl_entry *e, fl_json_extent *x)
{
    fl_entry_clear(e);
    if (avail == 0 || *buf != '{')
        return FL_EPARSE;
    fl_slots s;
    slots_clear(&s);
    fp f = {.base = buf, .p = buf, .end = buf + avail, .s = &s, .brace_col = LONG_MAX};
    /* Nothing past the object's closing brace is looked at (the lexer never reads ahead of a
     * token), so parsing the object inside a longer buffer is parsing it alone. */
    if (parse_root(&f) < 0)
        return FL_EPARSE;
    x->len = (size_t)(f.p - buf);
    x->lines = f.lines;
    x->brace_col = f.brace_col;
    return slots_finish(&s, e);
}

/* The blanks an NDJSON line may have around its object, other than its '\n' (fl_json_ws). */
static inline bool line_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

int fl_entry_parse_fast_line(const char *buf, size_t avail, size_t record_max, fl_entry *e,
                             size_t *obj, size_t *obj_len, size_t *line_len)
{
    size_t i = 0;
    if (avail == 0)
        return FL_EPARSE;
    if (*buf != '{') {
        while (i < avail && line_blank(buf[i]))
            i++;
        if (i >= avail || buf[i] != '{')
            return FL_EPARSE;
    }
    /* What fl_entry_parse_fast_prefix does, without its extent: this runs once per line. */
    fl_entry_clear(e);
    fl_slots s;
    slots_clear(&s);
    const char *start = buf + i;
    fp f = {.base = start,
            .p = start,
            .end = start + FL_MIN(avail - i, record_max),
            .s = &s,
            .brace_col = LONG_MAX};
    /* A newline inside the object (JSON allows one between tokens) would end the line there. */
    if (parse_root(&f) < 0 || f.lines != 0)
        return FL_EPARSE;
    size_t j = (size_t)(f.p - buf);
    while (j < avail && line_blank(buf[j]))
        j++;
    if (j >= avail || buf[j] != '\n')
        return FL_EPARSE; /* trailing bytes, or no '\n' yet: the usual cut decides */
    int rc = slots_finish(&s, e);
    if (rc != 0)
        return rc;
    *obj = i;
    *obj_len = (size_t)(f.p - start);
    *line_len = j;
    return 0;
}

int fl_entry_parse_fast(const char *buf, size_t len, fl_entry *e, char *errbuf, size_t errlen)
{
    return fl_entry_parse_fast_depth(buf, len, e, errbuf, errlen, 0);
}
