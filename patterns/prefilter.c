/* The literal prefilter: one pass over a message finds every rule literal in it, so only the
 * regexes those literals admit run.
 *
 * Each literal gets an anchor: its rarest window of 4 bytes, judged by a letter-frequency
 * table. The scan hashes every 4-byte window of the message, ASCII case folded, into an 8 KiB
 * bitmap of the anchors. The lookups of successive windows do
 * not depend on each other, unlike a DFA walk, so the CPU overlaps them; on a hit the few literals
 * with that anchor are compared in full. Literals of 1-2 bytes (only user rules have them) are
 * searched directly. Against the Aho-Corasick DFA this replaced, it scans random text about 1.5x
 * faster (the DFA's 1.5 MB table did not stay in cache and its walk is one dependent load per byte)
 * and is on par on the realistic bench_classify mix; its tables are a few KiB instead of MiB, which
 * matters with one matcher per thread.
 *
 * Issue 15 made it cheaper per byte, reporting exactly the same: with AVX2 (checked at run time)
 * eight windows are hashed and looked up per step (one gather); a window whose bit is set is
 * checked against a second bitmap under another hash before the anchors are searched; and an
 * anchor avoids windows many literals share ("requ" of request/required), which common text
 * hits often and which then had to be compared with every literal sharing it. */
#include "fl_patterns_int.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PF_AVX2 1
#endif

#define HASH_BITS 16
#define HASH_SIZE (1u << HASH_BITS)

typedef struct anchor {
    uint32_t hash;
    uint32_t lit;    /* index into lits */
    uint32_t offset; /* of the anchor window within the literal */
} anchor;

typedef struct literal {
    char *text; /* folded */
    uint32_t len;
    uint32_t first_regex, n_regex; /* into regex_ids */
} literal;

struct fl_prefilter {
    uint8_t fold[256];
    /* Hashes of every anchor window: the one test made at each position. */
    uint64_t bits[HASH_SIZE / 64];
    /* The same windows under a second hash, tested only where bits hit: 1.5% of positions hit
     * bits, nearly all by chance, and each cost a binary search (issue 15). */
    uint64_t bits2[HASH_SIZE / 64];
    literal *lits;
    size_t n_lits;
    uint32_t *regex_ids;
    anchor *anchors; /* sorted by hash */
    size_t n_anchors;
    /* Where the anchors of a hash start, by its rank among the hashes set in bits: a bit's
     * rank is rank_base of its word plus the bits set below it there. Replaced a binary search
     * over all anchors at every hit (issue 15). group_start has one more entry at the end. */
    uint32_t rank_base[HASH_SIZE / 64];
    uint32_t *group_start;
    uint32_t *lits3; /* 3-byte literals, also checked directly at the very end of the text */
    size_t n_lits3;
    uint32_t *short_lits; /* literals of 1-2 bytes */
    size_t n_short;
    /* Windows tested: those at multiples of stride (1: every one). See sparse_stride. */
    uint32_t stride;
    bool simd; /* scan 8 windows a step with AVX2 (fold is ASCII and the CPU has it) */
};

static inline uint32_t hash4(uint32_t x)
{
    return (x * UINT32_C(2654435761)) >> (32 - HASH_BITS);
}

static inline uint32_t hash4b(uint32_t x)
{
    return (x * UINT32_C(0x85ebca77)) >> (32 - HASH_BITS);
}

/* Bits set in x. __builtin_popcountll is a libgcc call without -mpopcnt (a generic x86-64
 * build): 21 instructions and a call at every bitmap hit; this is 12, inline. */
static inline uint32_t popcount64(uint64_t x)
{
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (uint32_t)((x * UINT64_C(0x0101010101010101)) >> 56);
}

static inline bool has_bit(const uint64_t *bits, uint32_t h)
{
    return bits[h >> 6] & (UINT64_C(1) << (h & 63));
}

/* The sparse scan's first test folds a window by setting bit 5 of each byte (one OR): lossy
 * ('@' and '`' agree), exact for what fold maps, checked exactly by verify. */
#define SPARSE_FOLD UINT32_C(0x20202020)

static void add_anchor(fl_prefilter *pf, uint32_t x, uint32_t lit, uint32_t offset)
{
    uint32_t h = hash4(pf->stride > 1 ? x | SPARSE_FOLD : x), h2 = hash4b(x);
    pf->anchors[pf->n_anchors++] = (anchor){h, lit, offset};
    pf->bits[h >> 6] |= UINT64_C(1) << (h & 63);
    pf->bits2[h2 >> 6] |= UINT64_C(1) << (h2 & 63);
}

/* How unusual a byte is in log text: higher is rarer. */
static int rarity(unsigned char c)
{
    if (c == ' ')
        return 0;
    if (strchr("etaoinsrhl", c))
        return 1;
    if (strchr(".:/-\",='", c))
        return 2;
    /* q is rare but nearly always in "qu" of words logs use a lot: request, required, query */
    if (strchr("dcumfpgwybvq", c))
        return 3;
    if (isdigit(c))
        return 4;
    return 6; /* k x j z, '_', brackets, other punctuation */
}

void fl_prefilter_free(fl_prefilter *pf)
{
    if (!pf)
        return;
    for (size_t i = 0; i < pf->n_lits; i++)
        fl_free(pf->lits[i].text);
    fl_free(pf->lits);
    fl_free(pf->regex_ids);
    fl_free(pf->anchors);
    fl_free(pf->group_start);
    fl_free(pf->lits3);
    fl_free(pf->short_lits);
    fl_free(pf);
}

size_t fl_prefilter_literals(const fl_prefilter *pf)
{
    return pf ? pf->n_lits : 0;
}

static inline bool anchor_less(const anchor *x, const anchor *y)
{
    return x->hash < y->hash || (x->hash == y->hash && x->lit < y->lit);
}

/* Sorts anchors by hash, then literal (the order of anchors of one literal in one group does
 * not matter: verify marks candidates, which are sorted). qsort with a comparator moved these
 * 12-byte elements a byte at a time: most of building a prefilter (issue 15). Quicksort on the
 * median of three, insertion sort below 16; the larger part is looped on, the smaller
 * recursed into, so the depth stays logarithmic. */
static void sort_anchors(anchor *v, size_t n)
{
    while (n > 16) {
        size_t mid = n / 2, last = n - 1;
        if (anchor_less(&v[mid], &v[0])) {
            anchor t = v[mid];
            v[mid] = v[0];
            v[0] = t;
        }
        if (anchor_less(&v[last], &v[0])) {
            anchor t = v[last];
            v[last] = v[0];
            v[0] = t;
        }
        if (anchor_less(&v[last], &v[mid])) {
            anchor t = v[last];
            v[last] = v[mid];
            v[mid] = t;
        }
        anchor pivot = v[mid];
        size_t i = 0, j = last;
        for (;;) {
            while (anchor_less(&v[i], &pivot))
                i++;
            while (anchor_less(&pivot, &v[j]))
                j--;
            if (i >= j)
                break;
            anchor t = v[i];
            v[i++] = v[j];
            v[j--] = t;
        }
        /* v[0, j] <= pivot <= v[j + 1, n) */
        size_t left = j + 1;
        if (left < n - left) {
            sort_anchors(v, left);
            v += left;
            n -= left;
        } else {
            sort_anchors(v + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        anchor t = v[i];
        size_t j = i;
        for (; j > 0 && anchor_less(&t, &v[j - 1]); j--)
            v[j] = v[j - 1];
        v[j] = t;
    }
}

typedef struct pair {
    const char *text;
    uint32_t regex;
} pair;

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->regex > y->regex) - (x->regex < y->regex);
}

static uint32_t window_at(const unsigned char *t)
{
    return (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
}

/* Windows of the literals with how many times each occurs: open addressing, cap a power of
 * two at least twice the windows, count 0 = free slot. */
typedef struct window_counts {
    uint32_t *win, *count;
    size_t mask;
} window_counts;

static size_t window_slot(const window_counts *wc, uint32_t w)
{
    size_t i = (size_t)((w * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & wc->mask;
    while (wc->count[i] && wc->win[i] != w)
        i = (i + 1) & wc->mask;
    return i;
}
/* The sparse scan. A literal of len >= stride + 3 bytes, wherever it occurs, has a 4-byte
 * window starting at a multiple of stride, at an offset of each remainder mod stride: testing
 * only the windows at multiples of stride finds it if it has one anchor per remainder. When
 * every literal is that long (the any_severity rules' are 11 bytes and more), the scan tests a
 * window every stride bytes instead of every byte: most INFO lines are a few dozen bytes, and
 * the dense scan's cost there was mostly its per-call setup and its tail (issue 15). Capped:
 * each literal adds stride anchors, and more anchors are more windows of common text. */
#define STRIDE_MAX 8

static uint32_t sparse_stride(const fl_prefilter *pf)
{
    if (pf->n_short || !pf->n_lits)
        return 1;
    for (int b = 0; b < 256; b++)
        if (pf->fold[b] != b && pf->fold[b] != (b | 0x20))
            return 1; /* SPARSE_FOLD would not agree with fold */
    uint32_t min = UINT32_MAX;
    for (size_t i = 0; i < pf->n_lits; i++)
        min = FL_MIN(min, pf->lits[i].len);
    return min >= 5 ? FL_MIN(min - 3, (uint32_t)STRIDE_MAX) : 1;
}

/* How good an anchor the window at t makes: rare bytes, few literals sharing it. */
static int window_score(const window_counts *wc, const int8_t rare[256], const unsigned char *t)
{
    int score = -3 * (int)(wc->count[window_slot(wc, window_at(t))] - 1);
    for (uint32_t k = 0; k < 4; k++)
        score += rare[t[k]];
    return score;
}

/* rank_base and group_start, from the sorted anchors: the hashes in bits are exactly theirs. */
static int index_groups(fl_prefilter *pf)
{
    pf->group_start = fl_calloc(pf->n_anchors + 2, sizeof(*pf->group_start));
    if (!pf->group_start)
        return FL_ENOMEM;
    uint32_t rank = 0;
    for (size_t w = 0; w < HASH_SIZE / 64; w++) {
        pf->rank_base[w] = rank;
        rank += popcount64(pf->bits[w]);
    }
    uint32_t g = 0;
    for (size_t k = 0; k < pf->n_anchors; k++)
        if (k == 0 || pf->anchors[k].hash != pf->anchors[k - 1].hash)
            pf->group_start[g++] = (uint32_t)k;
    pf->group_start[g] = (uint32_t)pf->n_anchors;
    return 0;
}

int fl_prefilter_build(fl_prefilter **out, const fl_pf_literal *in, size_t n)
{
    *out = NULL;
    window_counts wc = {NULL, NULL, 0};
    fl_prefilter *pf = fl_calloc(1, sizeof(*pf));
    pair *pairs = fl_calloc(n + 1, sizeof(*pairs));
    if (!pf || !pairs)
        goto nomem;
    for (int c = 0; c < 256; c++)
        pf->fold[c] = (uint8_t)tolower(c);

    /* One entry per distinct literal, with the list of regexes it admits. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i].text[0])
            pairs[m++] = (pair){in[i].text, in[i].regex};
    qsort(pairs, m, sizeof(*pairs), cmp_pair);
    pf->lits = fl_calloc(m + 1, sizeof(*pf->lits));
    pf->regex_ids = fl_calloc(m + 1, sizeof(*pf->regex_ids));
    pf->short_lits = fl_calloc(m + 1, sizeof(*pf->short_lits));
    if (!pf->lits || !pf->regex_ids || !pf->short_lits)
        goto nomem;
    for (size_t i = 0; i < m; i++) {
        if (i == 0 || strcmp(pairs[i].text, pairs[i - 1].text) != 0) {
            literal *l = &pf->lits[pf->n_lits++];
            l->len = (uint32_t)strlen(pairs[i].text);
            l->text = fl_strndup(pairs[i].text, l->len);
            if (!l->text)
                goto nomem;
            for (uint32_t k = 0; k < l->len; k++)
                l->text[k] = (char)pf->fold[(unsigned char)l->text[k]];
            l->first_regex = (uint32_t)i;
        }
        pf->regex_ids[i] = pairs[i].regex;
        pf->lits[pf->n_lits - 1].n_regex++;
    }

    /* How many literals share each 4-byte window. A window many literals have is a common
     * piece of log language ("requ" of request/required): as an anchor it would be hit often
     * and then verified against every literal sharing it, so the choice below avoids it. */
    size_t n_wins = 0, cap = 64;
    for (size_t i = 0; i < pf->n_lits; i++)
        n_wins += pf->lits[i].len >= 4 ? pf->lits[i].len - 3 : 0;
    while (cap < 2 * n_wins)
        cap *= 2;
    wc.win = fl_calloc(cap, sizeof(*wc.win));
    wc.count = fl_calloc(cap, sizeof(*wc.count));
    wc.mask = cap - 1;
    if (!wc.win || !wc.count)
        goto nomem;
    for (size_t i = 0; i < pf->n_lits; i++)
        for (uint32_t o = 0; o + 4 <= pf->lits[i].len; o++) {
            uint32_t w = window_at((const unsigned char *)pf->lits[i].text + o);
            size_t k = window_slot(&wc, w);
            wc.win[k] = w;
            wc.count[k]++;
        }

    /* Anchors are 4-byte windows. A 3-byte literal gets one anchor for every byte that can
     * follow it (fold[b] == b), so one test per position covers it too; only the text's last
     * 3 bytes, which have no fourth, are compared directly. */
    size_t n3 = 0, followers = 0;
    int8_t rare[256]; /* rarity of each byte, looked up once (strchr per window byte was a tenth
                       * of building the prefilter) */
    for (int b = 0; b < 256; b++) {
        followers += pf->fold[b] == b;
        rare[b] = (int8_t)rarity((unsigned char)b);
    }
    for (size_t i = 0; i < pf->n_lits; i++)
        n3 += pf->lits[i].len == 3;
    for (size_t i = 0; i < pf->n_lits; i++)
        if (pf->lits[i].len < 3)
            pf->short_lits[pf->n_short++] = (uint32_t)i;
    pf->stride = sparse_stride(pf);
    pf->anchors = fl_calloc(pf->n_lits * pf->stride + n3 * followers + 1, sizeof(*pf->anchors));
    pf->lits3 = fl_calloc(n3 + 1, sizeof(*pf->lits3));
    if (!pf->anchors || !pf->lits3)
        goto nomem;
    for (size_t i = 0; i < pf->n_lits; i++) {
        literal *l = &pf->lits[i];
        const unsigned char *t = (const unsigned char *)l->text;
        if (l->len < 3)
            continue; /* short_lits */
        if (pf->stride > 1) {
            /* The rarest window of each remainder (len >= stride + 3: each has one). */
            for (uint32_t r = 0; r < pf->stride; r++) {
                uint32_t best = r;
                int best_score = INT_MIN;
                for (uint32_t o = r; o + 4 <= l->len; o += pf->stride) {
                    int score = window_score(&wc, rare, t + o);
                    if (score > best_score) {
                        best_score = score;
                        best = o;
                    }
                }
                add_anchor(pf, window_at(t + best), (uint32_t)i, best);
            }
            continue;
        }
        uint32_t x = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16;
        if (l->len == 3) {
            pf->lits3[pf->n_lits3++] = (uint32_t)i;
            for (int b = 0; b < 256; b++) {
                if (pf->fold[b] != b)
                    continue;
                add_anchor(pf, x | (uint32_t)b << 24, (uint32_t)i, 0);
            }
            continue;
        }
        uint32_t best = 0;
        int best_score = INT_MIN;
        for (uint32_t o = 0; o + 4 <= l->len; o++) {
            int score = window_score(&wc, rare, t + o);
            if (score > best_score) {
                best_score = score;
                best = o;
            }
        }
        add_anchor(pf, window_at(t + best), (uint32_t)i, best);
    }
    sort_anchors(pf->anchors, pf->n_anchors);
    if (index_groups(pf))
        goto nomem;
    fl_prefilter_set_simd(pf, true);
    fl_free(wc.win);
    fl_free(wc.count);
    fl_free(pairs);
    *out = pf;
    return 0;
nomem:
    fl_free(wc.win);
    fl_free(wc.count);
    fl_free(pairs);
    fl_prefilter_free(pf);
    return FL_ENOMEM;
}

typedef struct scan_ctx {
    const fl_prefilter *pf;
    const unsigned char *s;
    size_t n;
    void (*mark)(void *ctx, uint32_t regex);
    void *ctx;
} scan_ctx;

static void report(const scan_ctx *c, const literal *l)
{
    for (uint32_t k = 0; k < l->n_regex; k++)
        c->mark(c->ctx, c->pf->regex_ids[l->first_regex + k]);
}

static bool equal_folded(const uint8_t *fold, const unsigned char *s, const char *lit, uint32_t len)
{
    for (uint32_t k = 0; k < len; k++)
        if (fold[s[k]] != (unsigned char)lit[k])
            return false;
    return true;
}

/* The window at position i hashed to h, whose bit is set in bits and whose second hash's is in
 * bits2: compare the literals anchored there. */
static void verify_anchors(const scan_ctx *c, uint32_t h, size_t i)
{
    const fl_prefilter *pf = c->pf;
    const uint8_t *fold = pf->fold;
    uint64_t below = pf->bits[h >> 6] & ((UINT64_C(1) << (h & 63)) - 1);
    uint32_t rank = pf->rank_base[h >> 6] + popcount64(below);
    for (uint32_t k = pf->group_start[rank]; k < pf->group_start[rank + 1]; k++) {
        const anchor *a = &pf->anchors[k];
        const literal *l = &pf->lits[a->lit];
        if (i < a->offset)
            continue;
        size_t start = i - a->offset;
        if (start + l->len <= c->n && equal_folded(fold, c->s + start, l->text, l->len))
            report(c, l);
    }
}

/* The window at position i hashed to h, whose bit is set: the second test, then the anchors. */
static void verify(const scan_ctx *c, uint32_t h, size_t i)
{
    const uint8_t *fold = c->pf->fold;
    const unsigned char *w = c->s + i;
    uint32_t x = (uint32_t)fold[w[0]] | (uint32_t)fold[w[1]] << 8 | (uint32_t)fold[w[2]] << 16 |
                 (uint32_t)fold[w[3]] << 24;
    if (has_bit(c->pf->bits2, hash4b(x)))
        verify_anchors(c, h, i);
}

/* The portable scan of the windows at positions from, from + 1, ..., n - 4. */
static void scan_windows(const scan_ctx *c, size_t from)
{
    const fl_prefilter *pf = c->pf;
    const uint8_t *fold = pf->fold;
    const unsigned char *s = c->s;
    if (from + 4 > c->n)
        return;
    uint32_t x = (uint32_t)fold[s[from]] << 8 | (uint32_t)fold[s[from + 1]] << 16 |
                 (uint32_t)fold[s[from + 2]] << 24;
    for (size_t i = from; i + 4 <= c->n; i++) {
        x = x >> 8 | (uint32_t)fold[s[i + 3]] << 24;
        uint32_t h = hash4(x);
        if (has_bit(pf->bits, h))
            verify(c, h, i);
    }
}

/* scan_sparse from the hit at window i on: verifies it and the windows after it. */
static __attribute__((noinline)) void scan_sparse_from(const fl_prefilter *pf,
                                                       const unsigned char *s, size_t n,
                                                       void (*mark)(void *, uint32_t), void *ctx,
                                                       size_t i)
{
    scan_ctx c = {pf, s, n, mark, ctx};
    for (; i + 4 <= n; i += pf->stride) {
        uint32_t h = hash4(window_at(s + i) | SPARSE_FOLD);
        if (has_bit(pf->bits, h))
            verify(&c, h, i);
    }
}

/* The windows at multiples of pf->stride (> 1): no literal is shorter than stride + 3. Until
 * a window hits, a loop that calls nothing, so it saves no registers: most INFO lines have no
 * hit at all (issue 15). */
static __attribute__((noinline)) void scan_sparse(const fl_prefilter *pf, const unsigned char *s,
                                                  size_t n, void (*mark)(void *, uint32_t),
                                                  void *ctx)
{
    const uint64_t *bits = pf->bits;
    const size_t step = pf->stride;
    for (size_t i = 0; i + 4 <= n; i += step)
        if (has_bit(bits, hash4(window_at(s + i) | SPARSE_FOLD))) {
            scan_sparse_from(pf, s, n, mark, ctx, i);
            return;
        }
}

#ifdef PF_AVX2
/* The same test for eight windows at a time: 16 bytes are loaded and folded (ASCII), shuffled
 * into the eight 4-byte windows at i..i+7 (lane j = bytes i+j..i+j+3, little-endian as x
 * above), hashed with the same multiply and looked up in the bitmap with one gather. Lanes
 * that hit are verified in position order, as the portable loop does. Returns the first
 * position not scanned. Instructions per byte drop about fourfold (issue 15). */
/* Shuffle masks: 16 bytes from shift_down + d move a vector's bytes down by d (0x80: zero). */
static const unsigned char shift_down[32] = {0,    1,    2,    3,    4,    5,    6,    7,
                                             8,    9,    10,   11,   12,   13,   14,   15,
                                             0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                             0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};

/* verify's second test (bits2 under hash4b) for the eight folded windows of x: the lanes
 * that pass, as a movemask. Most first hits are chance, and this rejects them without a call
 * each (issue 15). */
__attribute__((target("avx2"))) static inline unsigned second_test(__m256i x, const int *bits2)
{
    const __m256i mul2 = _mm256_set1_epi32((int)UINT32_C(0x85ebca77));
    __m256i h = _mm256_srli_epi32(_mm256_mullo_epi32(x, mul2), 32 - HASH_BITS);
    __m256i w = _mm256_i32gather_epi32(bits2, _mm256_srli_epi32(h, 5), 4);
    __m256i low5 = _mm256_set1_epi32(31);
    __m256i top = _mm256_sllv_epi32(w, _mm256_sub_epi32(low5, _mm256_and_si256(h, low5)));
    return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(top));
}

__attribute__((target("avx2"))) static size_t scan_windows_avx2(const scan_ctx *c)
{
    const fl_prefilter *pf = c->pf;
    const unsigned char *s = c->s;
    const size_t n = c->n;
    const __m256i windows = _mm256_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, 4, 5,
                                             6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10);
    const __m256i before_a = _mm256_set1_epi8('A' - 1), after_z = _mm256_set1_epi8('Z' + 1);
    const __m256i case_bit = _mm256_set1_epi8(0x20);
    const __m256i mul = _mm256_set1_epi32((int)UINT32_C(2654435761));
    const __m256i low5 = _mm256_set1_epi32(31);
    const int *bits = (const int *)pf->bits; /* 32-bit words: bit h is bit h & 31 of word h >> 5 */
    const int *bits2 = (const int *)pf->bits2;
    uint32_t hs[16];
    size_t i = 0;
    /* Sixteen windows a step while 24 bytes remain: the 16 bytes at i and at i + 8 are folded
     * together, and each half makes the eight windows it starts. */
    for (; i + 24 <= n; i += 16) {
        __m256i v = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(s + i))),
            _mm_loadu_si128((const __m128i *)(s + i + 8)), 1);
        __m256i upper = _mm256_and_si256(_mm256_cmpgt_epi8(v, before_a),
                                         _mm256_cmpgt_epi8(after_z, v));
        v = _mm256_or_si256(v, _mm256_and_si256(upper, case_bit));
        __m256i x0 = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(v, 0x44), windows);
        __m256i x1 = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(v, 0xee), windows);
        __m256i h0 = _mm256_srli_epi32(_mm256_mullo_epi32(x0, mul), 32 - HASH_BITS);
        __m256i h1 = _mm256_srli_epi32(_mm256_mullo_epi32(x1, mul), 32 - HASH_BITS);
        __m256i w0 = _mm256_i32gather_epi32(bits, _mm256_srli_epi32(h0, 5), 4);
        __m256i w1 = _mm256_i32gather_epi32(bits, _mm256_srli_epi32(h1, 5), 4);
        __m256i t0 = _mm256_sllv_epi32(w0, _mm256_sub_epi32(low5, _mm256_and_si256(h0, low5)));
        __m256i t1 = _mm256_sllv_epi32(w1, _mm256_sub_epi32(low5, _mm256_and_si256(h1, low5)));
        unsigned hit = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(t0)) |
                       (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(t1)) << 8;
        if (!hit)
            continue;
        hit &= second_test(x0, bits2) | second_test(x1, bits2) << 8;
        if (!hit)
            continue;
        _mm256_storeu_si256((__m256i *)hs, h0);
        _mm256_storeu_si256((__m256i *)(hs + 8), h1);
        for (; hit; hit &= hit - 1) {
            unsigned j = (unsigned)__builtin_ctz(hit);
            verify_anchors(c, hs[j], i + j);
        }
    }
    const __m128i before_a16 = _mm_set1_epi8('A' - 1), after_z16 = _mm_set1_epi8('Z' + 1);
    const __m128i case_bit16 = _mm_set1_epi8(0x20);
    for (; i + 4 <= n; i += 8) {
        __m128i v;
        unsigned lanes = 0xff;
        if (i + 16 <= n) {
            v = _mm_loadu_si128((const __m128i *)(s + i));
        } else {
            /* The last windows: only lanes whose window lies inside the text count. The tail
             * is the end of the text's last 16 bytes moved to the front, or, in a text
             * shorter than that, a padded copy. */
            if (n >= 16) {
                size_t d = i + 16 - n;
                v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(s + n - 16)),
                                     _mm_loadu_si128((const __m128i *)(shift_down + d)));
            } else {
                unsigned char tail[16] = {0};
                memcpy(tail, s + i, n - i);
                v = _mm_loadu_si128((const __m128i *)tail);
            }
            lanes = (1u << (n - 3 - i)) - 1;
        }
        __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, before_a16), _mm_cmpgt_epi8(after_z16, v));
        v = _mm_or_si128(v, _mm_and_si128(upper, case_bit16));
        __m256i x = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(v), windows);
        __m256i h = _mm256_srli_epi32(_mm256_mullo_epi32(x, mul), 32 - HASH_BITS);
        __m256i w = _mm256_i32gather_epi32(bits, _mm256_srli_epi32(h, 5), 4);
        __m256i top = _mm256_sllv_epi32(w, _mm256_sub_epi32(low5, _mm256_and_si256(h, low5)));
        unsigned hit = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(top)) & lanes;
        if (!hit)
            continue;
        hit &= second_test(x, bits2);
        if (!hit)
            continue;
        _mm256_storeu_si256((__m256i *)hs, h);
        for (; hit; hit &= hit - 1) {
            unsigned j = (unsigned)__builtin_ctz(hit);
            verify_anchors(c, hs[j], i + j);
        }
    }
    return i;
}
#endif

void fl_prefilter_set_simd(fl_prefilter *pf, bool on)
{
    bool ascii = true;
    for (int b = 0; b < 256; b++)
        ascii = ascii && pf->fold[b] == (b >= 'A' && b <= 'Z' ? b + 32 : b);
#ifdef PF_AVX2
    pf->simd = on && ascii && __builtin_cpu_supports("avx2");
#else
    (void)ascii;
    pf->simd = on && false;
#endif
}

bool fl_prefilter_simd(const fl_prefilter *pf)
{
    return pf->simd;
}

uint32_t fl_prefilter_stride(const fl_prefilter *pf)
{
    return pf->stride;
}

/* The scan of every window (stride 1). */
static __attribute__((noinline)) void scan_dense(const fl_prefilter *pf, const unsigned char *s,
                                                 size_t n, void (*mark)(void *, uint32_t),
                                                 void *ctx)
{
    const uint8_t *fold = pf->fold;
    scan_ctx c = {pf, s, n, mark, ctx};

    for (size_t k = 0; k < pf->n_short; k++) {
        const literal *l = &pf->lits[pf->short_lits[k]];
        for (size_t i = 0; i + l->len <= n; i++)
            if (equal_folded(fold, s + i, l->text, l->len)) {
                report(&c, l);
                break;
            }
    }
    if (n < 3)
        return;
    size_t from = 0;
#ifdef PF_AVX2
    if (pf->simd)
        from = scan_windows_avx2(&c);
#endif
    scan_windows(&c, from);
    for (size_t k = 0; k < pf->n_lits3; k++) {
        const literal *l = &pf->lits[pf->lits3[k]];
        if (equal_folded(fold, s + n - 3, l->text, 3))
            report(&c, l);
    }
}

void fl_prefilter_scan(const fl_prefilter *pf, const char *str, size_t n,
                       void (*mark)(void *ctx, uint32_t regex), void *ctx)
{
    /* The sparse scan (INFO lines, most calls) without the dense one's setup. */
    const unsigned char *s = (const unsigned char *)str;
    if (pf->stride > 1)
        scan_sparse(pf, s, n, mark, ctx); /* no literal shorter than 5 bytes */
    else
        scan_dense(pf, s, n, mark, ctx);
}
