/* The scanning half of the fast reader (fast.c), included there once per instruction set: the
 * baseline build (SSE2 on x86-64, or the portable byte loops) and, on x86-64, again for AVX2,
 * picked at run time. Most of a LogEntry's bytes are inside strings, and AVX2 looks at 32 of
 * them per step instead of 16. Everything here is the same code in both copies except
 * plain_bits, scan_str's vector step and predict; the including file defines:
 *   FPN(name)  the copy's name for a function (name_base, name_avx2);
 *   FP_TARGET  the copy's target attribute (empty for the baseline);
 *   FP_WIDE    1 in the AVX2 copy. */

/* Bit i set when p[i] is a plain string byte, one that a string scan passes over: not '"',
 * '\\', a control byte or a byte >= 0x80. (b ^ 0x02) > 0x20, compared signed, fails exactly
 * for the quote (0x22 -> 0x20), the control bytes and the bytes >= 0x80 (negative): one
 * compare for three. Written so that every constant is a memory operand: the vector is loaded
 * once and no constant needs a register in the key loop. */
#if FP_WIDE
#define FP_VEC 32
#define FP_ALL_PLAIN 0xFFFFFFFFu
static inline __attribute__((always_inline)) FP_TARGET unsigned FPN(plain_bits)(const char *p)
{
    __m256i v = _mm256_loadu_si256((const __m256i *)p);
    /* v in a register, so that GCC compares it with the constants in memory rather than
     * load a constant into one to compare with p again */
    __asm__("" : "+x"(v));
    __m256i gt = _mm256_cmpgt_epi8(_mm256_xor_si256(v, *(const __m256i *)vec_two),
                                   *(const __m256i *)vec_x20);
    __m256i bs = _mm256_cmpeq_epi8(v, *(const __m256i *)vec_backslash);
    return (unsigned)_mm256_movemask_epi8(_mm256_andnot_si256(bs, gt));
}
#elif FL_JSON_SSE2
#define FP_VEC 16
#define FP_ALL_PLAIN 0xFFFFu
static inline __attribute__((always_inline)) FP_TARGET unsigned FPN(plain_bits)(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    __asm__("" : "+x"(v)); /* (as above) */
    __m128i gt =
        _mm_cmpgt_epi8(_mm_xor_si128(v, *(const __m128i *)vec_two), *(const __m128i *)vec_x20);
    __m128i bs = _mm_cmpeq_epi8(v, *(const __m128i *)vec_backslash);
    return (unsigned)_mm_movemask_epi8(_mm_andnot_si128(bs, gt));
}
#endif

/* scan_str's end: fewer bytes than a vector are left (the end of a buffer, rare in the batch
 * readers, which parse where the bytes lie). Out of line, so that the string scans do not set
 * up its operands before every string. */
static __attribute__((noinline)) FP_TARGET const char *FPN(plain_tail)(const fp *f, const char *p,
                                                                       const char *end)
{
#ifdef FP_VEC
    const char *base = f->base;
    /* Look at the vector that ends at end, without the bits of the bytes before p. */
    if (p < end && end - base >= FP_VEC) {
        unsigned bits = (~FPN(plain_bits)(end - FP_VEC) & FP_ALL_PLAIN) >> (FP_VEC - (end - p));
        return bits ? p + __builtin_ctz(bits) : end;
    }
#else
    (void)f;
#endif
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
            break;
    }
    return p;
}

/* A byte other than the closing quote that a string scan stopped at (p < end): an escape, a
 * control byte or UTF-8. Returns the position after the escape, or after the run of UTF-8
 * sequences there; NULL on an error, noted at f->p. Out of line: most strings have none, and
 * the checks below cost registers and set-up in the hot loop. */
static __attribute__((noinline)) FP_TARGET const char *FPN(str_special)(fp *f, const char *p,
                                                                        const char *end)
{
    unsigned char c = (unsigned char)*p;
    if (c == '\\') {
        if (end - p < 2) {
            f->p = p;
            return fail(f, "premature end of input"), NULL;
        }
        char e = p[1];
        if (e == 'u') {
            int v = hex4(p + 2, end);
            if (v < 0) {
                f->p = p;
                return fail(f, "invalid escape"), NULL;
            }
            if (v >= 0xD800 && v <= 0xDBFF) {
                int lo = (end - p >= 12 && p[6] == '\\' && p[7] == 'u') ? hex4(p + 8, end) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    f->p = p;
                    return fail(f, "invalid Unicode surrogate escape"), NULL;
                }
                return p + 12;
            }
            if ((v >= 0xDC00 && v <= 0xDFFF) || v == 0) {
                f->p = p;
                return fail(f, v ? "invalid Unicode surrogate escape" : "\\u0000 is not allowed"),
                       NULL;
            }
            return p + 6;
        }
        if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
            e == 't')
            return p + 2;
        f->p = p;
        return fail(f, "invalid escape"), NULL;
    }
    if (c < 0x20) {
        f->p = p;
        return fail(f, c == '\n' ? "unexpected newline" : "control character"), NULL;
    }
    /* Non-ASCII text comes in runs: take them here rather than one call per character. */
    do {
        int k = utf8_len((const unsigned char *)p, (const unsigned char *)end);
        if (!k) {
            f->p = p;
            return fail(f, "invalid UTF-8"), NULL;
        }
        p += k;
    } while (p < end && (unsigned char)*p >= 0x80);
    return p;
}

/* p is just past the opening quote, end is f->end. Returns the position past the closing
 * quote, with the body [*body, *body + *n) and *esc saying whether it holds escapes; NULL on
 * an error, noted at f->p. The key loop keeps its position in a register with this (f->p is
 * written only around calls). */
static inline __attribute__((always_inline)) FP_TARGET const char *
FPN(scan_str)(fp *f, const char *p, const char *end, const char **body, size_t *n, bool *esc)
{
    bool has_esc = false;
    *n = 0; /* (set again below; GCC cannot always see that on success) */
    *esc = false;
    *body = p;
    for (;;) {
#ifdef FP_VEC
        /* A whole vector: the byte it stops at is inside [p, end), no end check. (end is at
         * least FP_VEC bytes past address 0, so the bound cannot wrap.) */
        if ((uintptr_t)p <= (uintptr_t)end - FP_VEC) {
            unsigned plain = FPN(plain_bits)(p);
            if (plain == FP_ALL_PLAIN) {
                p += FP_VEC;
                continue;
            }
            p += (uint32_t)__builtin_ctz(~plain);
        } else
#endif
        {
            p = FPN(plain_tail)(f, p, end);
            if (p >= end) {
                f->p = p;
                return fail(f, "premature end of input"), NULL;
            }
        }
        if (*p == '"')
            break;
        has_esc |= *p == '\\';
        p = FPN(str_special)(f, p, end);
        if (!p)
            return NULL;
    }
    *n = (size_t)(p - *body);
    *esc = has_esc;
    return p + 1;
}

/* The same on f->p: 0 with f->p past the closing quote, or -1. */
static inline __attribute__((always_inline)) FP_TARGET int
FPN(scan_string)(fp *f, const char **body, size_t *n, bool *esc)
{
    const char *q = FPN(scan_str)(f, f->p, f->end, body, n, esc);
    if (!q)
        return -1;
    f->p = q;
    return 0;
}

/* Validates any value at f->p (depth: the value's own depth), iteratively. */
static FP_TARGET int FPN(skip_value)(fp *f, int depth)
{
    unsigned char stack[MAX_DEPTH + 2];
    int sp = 0;
    const char *body;
    size_t n;
    bool esc, is_int;
    int64_t iv;

value:
    if (depth > MAX_DEPTH)
        return fail(f, "maximum parsing depth reached");
    if (f->p >= f->end)
        return fail(f, "unexpected end of input");
    switch (*f->p) {
    case '{':
        f->p++;
        skip_ws_line(f);
        if (f->p < f->end && *f->p == '}') {
            f->p++;
            goto after;
        }
        stack[sp++] = C_OBJ;
        depth++;
        goto key;
    case '[':
        f->p++;
        skip_ws_line(f);
        if (f->p < f->end && *f->p == ']') {
            f->p++;
            goto after;
        }
        stack[sp++] = C_ARR;
        depth++;
        goto value;
    case '"':
        f->p++;
        if (FPN(scan_string)(f, &body, &n, &esc) < 0)
            return -1;
        goto after;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if (scan_number(f, &is_int, &iv) < 0)
            return -1;
        goto after;
    default:
        if (scan_literal(f) < 0)
            return -1;
        goto after;
    }

key:
    if (f->p >= f->end || *f->p != '"')
        return fail(f, "string or '}' expected");
    f->p++;
    if (FPN(scan_string)(f, &body, &n, &esc) < 0)
        return -1;
    skip_ws(f);
    if (f->p >= f->end || *f->p != ':')
        return fail(f, "':' expected");
    f->p++;
    skip_ws(f);
    goto value;

after:
    if (sp == 0)
        return 0;
    skip_ws(f);
    if (f->p >= f->end)
        return fail(f, "unexpected end of input");
    if (*f->p == ',') {
        f->p++;
        skip_ws_line(f);
        if (stack[sp - 1] == C_OBJ)
            goto key;
        goto value;
    }
    if ((stack[sp - 1] == C_OBJ && *f->p == '}') || (stack[sp - 1] == C_ARR && *f->p == ']')) {
        f->p++;
        sp--;
        depth--;
        goto after;
    }
    return fail(f, stack[sp - 1] == C_OBJ ? "'}' expected" : "']' expected");
}

/* The string value of a mapped key, p just past its opening quote: the position after it,
 * or NULL on an error (noted at f->p). */
static inline __attribute__((always_inline)) FP_TARGET const char *
FPN(capture_str)(fp *f, const char *p, const char *end, fl_slot *v, int slot)
{
    const char *body;
    size_t n;
    bool esc;
    p = FPN(scan_str)(f, p, end, &body, &n, &esc);
    if (!p)
        return NULL;
    v[slot].p = body;
    v[slot].n = n;
    v[slot].t = esc ? FL_V_STR_ESC : FL_V_STR;
    return p;
}

/* The value of a mapped key at p (end: f->end): its type and where it is. Returns the
 * position after the value, or NULL on an error (noted at f->p). */
static inline __attribute__((always_inline)) FP_TARGET const char *
FPN(capture)(fp *f, const char *p, const char *end, fl_slot *v, int slot, int depth)
{
    slot_forget(v, slot);
    /* Blanks before the value are rare (a remembered key's pattern takes those after the
     * colon), so they are looked for only when the value does not start right here. No depth
     * check: a mapped key is at most MAPPED_DEPTH deep, far below the limit. */
    if (p >= end || (unsigned char)*p <= ' ') {
        f->p = p;
        skip_ws(f);
        p = f->p;
        if (p >= end)
            return fail(f, "unexpected end of input"), NULL;
    }
    char c = *p;
    if (c == '"')
        return FPN(capture_str)(f, p + 1, end, v, slot);
    f->p = p;
    if (c == '{') {
        /* (An object with mapped keys inside never gets here: parse_object reads its keys.) */
        if (FPN(skip_value)(f, depth) != 0)
            return NULL;
        v[slot].t = FL_V_OBJ;
        return f->p;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        bool is_int;
        int64_t iv = 0;
        if (small_int(f, &iv)) {
            v[slot].t = FL_V_INT;
            v[slot].i = iv;
            return f->p;
        }
        if (scan_number(f, &is_int, &iv) < 0)
            return NULL;
        v[slot].t = is_int ? FL_V_INT : FL_V_OTHER;
        v[slot].i = iv;
        return f->p;
    }
    if (FPN(skip_value)(f, depth) < 0)
        return NULL;
    v[slot].t = FL_V_OTHER;
    return f->p;
}

/* The remembered key that the 32 bytes at p start with, or NULL. An empty way (mask 0, len
 * 0) matches anything: the caller sends such a hit to the miss path (way 0 is filled first,
 * so an empty way 0 means both are empty). */
static inline FP_TARGET const key_way *FPN(predict)(const key_pred *kp, const char *p)
{
#if FP_WIDE
    __m256i a = _mm256_loadu_si256((const __m256i *)p);
    for (int i = 0; i < 2; i++) {
        const key_way *w = &kp->way[i];
        uint32_t eq = (uint32_t)_mm256_movemask_epi8(
            _mm256_cmpeq_epi8(a, _mm256_loadu_si256((const __m256i *)w->pat)));
        if ((eq & w->mask) == w->mask)
            return w;
    }
#elif FL_JSON_SSE2
    __m128i a = _mm_loadu_si128((const __m128i *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
    for (int i = 0; i < 2; i++) {
        const key_way *w = &kp->way[i];
        uint32_t eq = (uint32_t)_mm_movemask_epi8(
                          _mm_cmpeq_epi8(a, _mm_loadu_si128((const __m128i *)w->pat))) |
                      (uint32_t)_mm_movemask_epi8(
                          _mm_cmpeq_epi8(b, _mm_loadu_si128((const __m128i *)(w->pat + 16))))
                          << 16;
        if ((eq & w->mask) == w->mask)
            return w;
    }
#else
    for (int i = 0; i < 2; i++) {
        const key_way *w = &kp->way[i];
        if (memcmp(p, w->pat, w->len) == 0)
            return w;
    }
#endif
    return NULL;
}

/* True when the 16 bytes at p start with the blanks and '}' remembered at kp. */
static inline FP_TARGET bool FPN(predict_close)(const key_pred *kp, const char *p)
{
#if FL_JSON_SSE2
    unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
        _mm_loadu_si128((const __m128i *)p), _mm_loadu_si128((const __m128i *)kp->close)));
    return (eq & kp->close_mask) == kp->close_mask;
#else
    return memcmp(p, kp->close, kp->close_len) == 0;
#endif
}

/* An object whose keys are looked up (ctx: FL_S_ROOT or an object slot), f->p at its '{'. The
 * mapped objects inside it (resource, resource.labels, httpRequest, ...) are read by this same
 * loop, one entry of up[] each, rather than by a call per object: the calls, with this
 * function's large frame, cost about as much as reading the object's keys. */
static FP_TARGET int FPN(parse_object)(fp *f, int ctx, int depth)
{
    struct {
        int ctx;
        key_pred *kp;
    } up[MAPPED_DEPTH]; /* the objects this one is inside of */
    int levels = 0;
    fl_slot *v = f->s->v;
    key_pred *kp; /* this key's position (a sentinel past PRED_POS, see key_pred) */
    const key_way *hit;
    const char *body;
    size_t n;
    bool esc;
    int slot;
    /* The position is kept in p; f->p is written before anything that reads it (the blank
     * skippers, the out-of-line scanners, an error) and read back after. */
    const char *p = f->p + 1, *end = f->end; /* past the '{' */
    /* p <= lim: a pattern's 32 bytes can be read at p (end is far above address 32). */
    const uintptr_t lim = (uintptr_t)end - 32;
    /* The newlines of the patterns that hit, added to f->lines on success (only a success
     * reads it): a local adds them without the load and store through f. */
    uint64_t hit_lines = 0;
enter:
    /* Here: p just past the '{' of an object of context ctx, at depth + levels. Every object slot
     * with mapped keys inside has a table (kids_init). */
    kp = preds[ctx == FL_S_ROOT ? 0 : ctx_index[ctx]];
    if ((uintptr_t)p <= lim) {
        hit = FPN(predict)(kp, p);
        if (hit)
            goto dispatch;
    }
    goto miss;

after_value:
    /* The usual end of a value, NDJSON or pretty-printed: a comma right after it, and the
     * next key's pattern right after that (one bound check for both). */
    if ((uintptr_t)p < lim) {
        if (*p == ',') {
            p++;
            hit = FPN(predict)(kp, p);
            if (hit)
                goto dispatch;
            goto miss;
        }
        if (*p == '}') {
            p++;
            goto close;
        }
        /* pretty-printed: the newline and indentation before the '}', as remembered */
        if (FPN(predict_close)(kp, p)) {
            p += kp->close_len;
            hit_lines += kp->close_lines;
            goto close;
        }
    }
    {
        uint64_t ws_lines = f->lines;
        f->p = p;
        skip_ws_line(f); /* pretty-printed: the newline and indentation before a '}' */
        if (f->p >= end)
            return fail(f, "'}' expected");
        if (*f->p == '}' && f->p - p < 16)
            learn_close(kp, p, (size_t)(f->p + 1 - p), f->lines - ws_lines);
    }
    if (*f->p == ',') {
        p = f->p + 1;
        if ((uintptr_t)p <= lim) {
            hit = FPN(predict)(kp, p);
            if (hit)
                goto dispatch;
        }
        goto miss;
    }
    if (*f->p != '}')
        return fail(f, "'}' expected");
    p = f->p + 1;
close:
    /* p is past the '}' of the object of ctx. */
    if (levels == 0) {
        f->p = p;
        f->lines += hit_lines;
        return 0;
    }
    v[ctx].t = FL_V_OBJ; /* (an object slot is marked only once it has been read) */
    levels--;
    ctx = up[levels].ctx;
    kp = up[levels].kp;
    goto after_value;

dispatch:
    /* A remembered key at p (hit); kp is its position. */
    {
        unsigned kind = hit->kind;
        slot = hit->slot;
        if (kind == K_STR) {
            /* A mapped leaf's string (the most common key): nothing under it to forget, and
             * what a repeated key set before is overwritten here. */
            p += hit->len;
            hit_lines += hit->lines;
            kp = kp->next;
            p = FPN(capture_str)(f, p, end, v, slot);
            if (!p)
                return -1;
            goto after_value;
        }
        if (kind == K_SKIP_STR) {
            p += hit->len;
            hit_lines += hit->lines;
            kp = kp->next;
            p = FPN(scan_str)(f, p, end, &body, &n, &esc);
            if (!p)
                return -1;
            goto after_value;
        }
        if (kind == K_OBJ) {
            p += hit->len;
            hit_lines += hit->lines;
            kp = kp->next;
            goto descend;
        }
        if (hit->len) {
            /* past the colon and the blanks after it */
            p += hit->len;
            hit_lines += hit->lines;
            kp = kp->next;
            goto value;
        }
        /* an empty way: not a key seen here before */
    }

miss:
    /* p just after the '{' or a ','. Only here does it matter which: a '}' may follow the
     * '{' (p[-1], read on this rare path only: a flag would cost every key a store). */
    {
        const char *start = p;
        uint64_t lines_before = f->lines;
        f->p = p;
        skip_ws_line(f);
        if (p[-1] == '{' && f->p < end && *f->p == '}') {
            p = f->p + 1;
            goto close;
        }
        if (f->p >= end || *f->p != '"')
            return fail(f, "string or '}' expected");
        f->p++;
        if (FPN(scan_string)(f, &body, &n, &esc) < 0)
            return -1;
        const kids *k = ctx == FL_S_ROOT ? &root_kids : &slot_kids[ctx];
        slot = -1;
        if (!esc) {
            slot = match_key(k, body, n);
        } else if (n <= 256) {
            char key[256];
            size_t m = fl_json_unescape(body, n, key);
            slot = match_key(k, key, m);
        }
        skip_ws(f);
        if (f->p >= end || *f->p != ':')
            return fail(f, "':' expected");
        p = ++f->p;
        /* The blanks after the colon go into the pattern (no newline: a '{' after one is
         * noted by skip_ws for the array splitter). */
        const char *q = p;
        while (q < end && *q == ' ' && q - start < 32)
            q++;
        /* A string value's opening quote (a leaf's or an unmapped key's), or the brace of a
         * mapped object's value, goes in too when it fits: a hit then says what the value
         * is, and its reading starts at once. (p stays before it here.) The sentinel past
         * PRED_POS learns nothing. */
        if (!esc && kp->next != kp) {
            char o = q < end && q + 1 - start <= 32 ? *q : 0;
            bool leaf = slot < 0 || fl_slot_defs[slot].last == slot;
            if (o == '"' && leaf)
                learn(kp, start, (size_t)(q + 1 - start), slot, f->lines - lines_before,
                      slot >= 0 ? K_STR : K_SKIP_STR);
            else if (o == '{' && !leaf)
                learn(kp, start, (size_t)(q + 1 - start), slot, f->lines - lines_before, K_OBJ);
            else if (q - start <= 32)
                learn(kp, start, (size_t)(q - start), slot, f->lines - lines_before, K_OTHER);
        }
        kp = kp->next;
    }

value:
    /* Here: p past the colon (and maybe blanks), slot the key's or -1. */
    if (slot >= 0) {
        if (fl_slot_defs[slot].last > slot) {
            if (p >= end || (unsigned char)*p <= ' ') {
                f->p = p;
                skip_ws(f);
                p = f->p;
            }
            if (p < end && *p == '{') {
                p++;
                goto descend;
            }
        }
        p = FPN(capture)(f, p, end, v, slot, depth + levels + 1); /* skips blanks first */
        if (!p)
            return -1;
    } else if (p < end && *p == '"') {
        /* most unmapped values are strings: no call into the general skipper */
        p = FPN(scan_str)(f, p + 1, end, &body, &n, &esc);
        if (!p)
            return -1;
    } else {
        /* (depth + levels + 1 is at most MAPPED_DEPTH + 1: a string or a number here is within the
         * nesting limit.) */
        f->p = p;
        skip_ws(f);
        int rc;
        if (f->p < end && *f->p == '"') {
            f->p++;
            rc = FPN(scan_string)(f, &body, &n, &esc);
        } else if (small_int(f, &(int64_t){0})) {
            rc = 0;
        } else {
            rc = FPN(skip_value)(f, depth + levels + 1);
        }
        if (rc < 0)
            return rc;
        p = f->p;
    }
    goto after_value;

descend:
    /* p is past the '{' of the value of slot, an object with mapped keys inside: a repeated
     * key replaces what the earlier one set (capture's rule), then its keys are read. No
     * depth check: a mapped key is at most MAPPED_DEPTH deep, far below the limit. */
    slot_forget(v, slot);
    up[levels].ctx = ctx;
    up[levels].kp = kp;
    levels++;
    ctx = slot;
    goto enter;
}

#undef FP_VEC
#undef FP_ALL_PLAIN
