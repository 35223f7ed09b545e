/* Families: templates that differ only where values vary, merged into one. A report-time pass
 * over the whole set of templates, so the result depends on the set and never on the order the
 * templates arrived in (input order, thread count and shard split give the same families).
 *
 * Two templates with the same number of tokens that differ at exactly one position p are
 * neighbours at p. For each (length, p, all other tokens) bucket the tokens seen at p decide
 * whether p holds a value: four or more distinct words, or a token that looks like a value
 * (a masked value, a path, three digits or more). One-token messages merge only when they are
 * placeholders through and through ("<num>", "<ip>:<num>"). Neighbours through such a position are
 * joined; families are the connected components, so the answer is a property of the set. Each
 * template costs O(tokens) hashing plus a sort of its position signatures. */
#include "fl_patterns_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Only the first positions of a long template may vary; the rest must be equal. */
#define POS_MAX 40
/* Past this many position signatures, the remaining templates keep families of their own. */
#define SIG_BUDGET (8u * 1024 * 1024)

struct fl_families {
    size_t n;
    char **key;  /* per template: "fam:<16 hex>" (shared by the members of a family) */
    char **text; /* per template: the family template, "<*>" where members differ */
    bool truncated;
};

typedef struct sig_ent {
    uint64_t sig;
    uint64_t tok; /* hash of the token at the position */
    uint32_t tmpl;
    uint16_t pos;
} sig_ent;

typedef struct tokens {
    size_t n;
    uint32_t *off, *len;
} tokens;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    return x ^ (x >> 33);
}

static int tokenize(const char *s, tokens *t)
{
    size_t cap = 0, n = 0;
    for (size_t i = 0; s[i];) {
        while (s[i] == ' ')
            i++;
        if (!s[i])
            break;
        size_t j = i;
        while (s[j] && s[j] != ' ')
            j++;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint32_t *o = fl_realloc(t->off, cap * sizeof(*o));
            if (!o)
                return FL_ENOMEM;
            t->off = o;
            uint32_t *l = fl_realloc(t->len, cap * sizeof(*l));
            if (!l)
                return FL_ENOMEM;
            t->len = l;
        }
        t->off[n] = (uint32_t)i;
        t->len[n] = (uint32_t)(j - i);
        n++;
        i = j;
    }
    t->n = n;
    return 0;
}

/* A token that is a value rather than a word of the message: it holds a masked value, a path
 * or an address, or three digits or more among letters (tc19060). Words with a digit or two name
 * things (SOCKS5, utf8, ipv4) and stay words, as do bare numbers a template kept (HTTP 503). */
static bool valueish(const char *s, size_t n)
{
    size_t digits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '<' || c == '/' || c == '@' || c >= 0x80)
            return true;
        digits += isdigit(c) != 0;
    }
    /* All digits: a number the template kept on purpose (an HTTP status), not a value. */
    return digits >= 3 && digits < n;
}

/* A token with no letters outside its placeholders: "<num>", "<ip>:<num>", "<num>%". */
static bool pure_value(const char *s, size_t n)
{
    bool in = false, any = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '<')
            in = any = true;
        else if (s[i] == '>')
            in = false;
        else if (!in && isalnum((unsigned char)s[i]))
            return false;
    }
    return any;
}

static int cmp_ent(const void *a, const void *b)
{
    const sig_ent *x = a, *y = b;
    if (x->sig != y->sig)
        return x->sig < y->sig ? -1 : 1;
    if (x->tok != y->tok)
        return x->tok < y->tok ? -1 : 1;
    return x->tmpl < y->tmpl ? -1 : x->tmpl > y->tmpl;
}

static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void join(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = find(parent, a);
    b = find(parent, b);
    if (a != b) /* the smaller index becomes the root: the same forest for any order */
        parent[a > b ? a : b] = a < b ? a : b;
}

/* Decides for one bucket (entries [a, b) share a signature) whether its position holds a value,
 * and joins the templates if so. */
static void bucket(const sig_ent *e, size_t a, size_t b, const char *const *tmpl,
                   const tokens *tok, uint32_t *parent)
{
    size_t distinct = 1;
    bool value = false, all_values = true, route = false;
    for (size_t k = a; k < b; k++) {
        if (k > a && e[k].tok != e[k - 1].tok)
            distinct++;
        const tokens *t = &tok[e[k].tmpl];
        const char *ts = tmpl[e[k].tmpl] + t->off[e[k].pos];
        value = value || valueish(ts, t->len[e[k].pos]);
        all_values = all_values && pure_value(ts, t->len[e[k].pos]);
        /* A token starting with '/' is a request's route template ("/api/v1/cart/<id>",
         * patterns/route.c; fl_template turns paths in messages into <path>): the route names
         * the failing endpoint, never a value to merge over. */
        route = route || ts[0] == '/';
    }
    bool one_token = tok[e[a].tmpl].n == 1;
    if (route || distinct < 2 || (!one_token && distinct < 4 && !value) ||
        (one_token && !all_values)) {
        /* Not a value position; still join the same template given twice, and, for one-token
         * messages, the variants that are all values ("<num>", "<ip>"). */
        long first_value = -1;
        for (size_t k = a; k < b; k++) {
            if (k > a && e[k].tok == e[k - 1].tok)
                join(parent, e[k - 1].tmpl, e[k].tmpl);
            const tokens *t = &tok[e[k].tmpl];
            if (!one_token || !pure_value(tmpl[e[k].tmpl] + t->off[0], t->len[0]))
                continue;
            if (first_value < 0)
                first_value = (long)e[k].tmpl;
            else
                join(parent, (uint32_t)first_value, e[k].tmpl);
        }
        return;
    }
    for (size_t k = a + 1; k < b; k++)
        join(parent, e[a].tmpl, e[k].tmpl);
}

static int build_text(fl_families *f, const char *const *tmpl, const tokens *tok,
                      const uint32_t *parent, size_t n)
{
    /* varies[root * POS_MAX + p]: position p differs within the family of root. */
    bool *varies = fl_calloc(n * POS_MAX, 1);
    if (!varies)
        return FL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = parent[i];
        if (r == i)
            continue;
        const tokens *a = &tok[i], *b = &tok[r];
        for (size_t p = 0; p < a->n && p < POS_MAX; p++)
            if (a->len[p] != b->len[p] ||
                memcmp(tmpl[i] + a->off[p], tmpl[r] + b->off[p], a->len[p]) != 0)
                varies[(size_t)r * POS_MAX + p] = true;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint32_t r = parent[i];
        if (r != i)
            continue;
        const tokens *t = &tok[i];
        fl_buf b;
        fl_buf_init(&b, (size_t)1 << 20);
        for (size_t p = 0; p < t->n && rc == 0; p++) {
            if (p)
                rc = fl_buf_add(&b, " ", 1);
            if (rc == 0)
                rc = p < POS_MAX && varies[(size_t)i * POS_MAX + p]
                         ? fl_buf_add(&b, "<*>", 3)
                         : fl_buf_add(&b, tmpl[i] + t->off[p], t->len[p]);
        }
        char *text = rc == 0 ? fl_buf_detach(&b) : NULL;
        fl_buf_free(&b);
        if (!text && rc == 0)
            text = fl_strdup("");
        char *key = fl_malloc(4 + 17);
        if (!text || !key) {
            fl_free(text);
            fl_free(key);
            rc = FL_ENOMEM;
            break;
        }
        memcpy(key, "fam:", 4);
        fl_fingerprint(text, strlen(text), key + 4);
        f->text[i] = text;
        f->key[i] = key;
    }
    fl_free(varies);
    return rc;
}

int fl_families_build(fl_families **out, const char *const *tmpl, size_t n)
{
    *out = NULL;
    fl_families *f = fl_calloc(1, sizeof(*f));
    tokens *tok = fl_calloc(n ? n : 1, sizeof(*tok));
    uint32_t *parent = fl_malloc((n ? n : 1) * sizeof(*parent));
    sig_ent *e = NULL;
    size_t ne = 0, cap = 0;
    int rc = FL_ENOMEM;
    if (!f || !tok || !parent || n > UINT32_MAX)
        goto fail;
    f->n = n;
    f->key = fl_calloc(n ? n : 1, sizeof(char *));
    f->text = fl_calloc(n ? n : 1, sizeof(char *));
    if (!f->key || !f->text)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        parent[i] = (uint32_t)i;
        if ((rc = tokenize(tmpl[i], &tok[i])) != 0)
            goto fail;
        cap += FL_MIN(tok[i].n, (size_t)POS_MAX);
    }
    if (cap > SIG_BUDGET) {
        cap = SIG_BUDGET;
        f->truncated = true;
    }
    rc = FL_ENOMEM;
    if (!(e = fl_malloc((cap ? cap : 1) * sizeof(*e))))
        goto fail;
    uint64_t pre[POS_MAX + 1], suf[POS_MAX + 2], th[POS_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        const tokens *t = &tok[i];
        size_t np = FL_MIN(t->n, (size_t)POS_MAX);
        if (ne + np > cap)
            continue; /* past the budget: a family of its own */
        for (size_t p = 0; p < np; p++)
            th[p] = fl_hash64(tmpl[i] + t->off[p], t->len[p], FL_HASH_SEED);
        /* Tokens past POS_MAX are folded into the suffix, so they must match exactly. */
        uint64_t tail = mix(t->n);
        for (size_t p = np; p < t->n; p++)
            tail = mix(tail ^ fl_hash64(tmpl[i] + t->off[p], t->len[p], FL_HASH_SEED));
        pre[0] = UINT64_C(0x9e3779b97f4a7c15);
        for (size_t p = 0; p < np; p++)
            pre[p + 1] = mix(pre[p] ^ th[p]);
        suf[np] = tail;
        for (size_t p = np; p-- > 0;)
            suf[p] = mix(suf[p + 1] + th[p] * UINT64_C(0x100000001b3));
        for (size_t p = 0; p < np; p++) {
            uint64_t s = mix(pre[p] * 31 + suf[p + 1]) ^ mix((uint64_t)p << 32 | t->n);
            e[ne++] = (sig_ent){s, th[p], (uint32_t)i, (uint16_t)p};
        }
    }
    qsort(e, ne, sizeof(*e), cmp_ent);
    for (size_t a = 0; a < ne;) {
        size_t b = a + 1;
        while (b < ne && e[b].sig == e[a].sig)
            b++;
        if (b - a > 1)
            bucket(e, a, b, tmpl, tok, parent);
        a = b;
    }
    for (size_t i = 0; i < n; i++)
        parent[i] = find(parent, (uint32_t)i);
    if ((rc = build_text(f, tmpl, tok, parent, n)) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (parent[i] == i)
            continue;
        f->key[i] = fl_strdup(f->key[parent[i]]);
        f->text[i] = fl_strdup(f->text[parent[i]]);
        if (!f->key[i] || !f->text[i]) {
            rc = FL_ENOMEM;
            goto fail;
        }
    }
    rc = 0;
    *out = f;
    f = NULL;
fail:
    for (size_t i = 0; tok && i < n; i++) {
        fl_free(tok[i].off);
        fl_free(tok[i].len);
    }
    fl_free(tok);
    fl_free(parent);
    fl_free(e);
    fl_families_free(f);
    return rc;
}

const char *fl_families_key(const fl_families *f, size_t i)
{
    return i < f->n ? f->key[i] : NULL;
}

const char *fl_families_template(const fl_families *f, size_t i)
{
    return i < f->n ? f->text[i] : NULL;
}

bool fl_families_truncated(const fl_families *f)
{
    return f->truncated;
}

void fl_families_free(fl_families *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        fl_free(f->key ? f->key[i] : NULL);
        fl_free(f->text ? f->text[i] : NULL);
    }
    fl_free(f->key);
    fl_free(f->text);
    fl_free(f);
}
