/* The literal prefilter: one Aho-Corasick pass over a message finds every rule literal in it,
 * so only the regexes those literals admit run. ASCII case is folded; the alphabet is
 * compressed to the bytes that occur in literals, which keeps the DFA table small enough that
 * the rows the scan actually visits stay in cache. */
#include "fl_patterns_int.h"

#include <ctype.h>
#include <string.h>

#define HAS_OUT UINT32_C(0x80000000)

struct fl_prefilter {
    uint8_t cls[256];
    uint32_t ncls;
    uint32_t nstates;
    /* Row-major DFA: delta[row + cls] = next row (state * ncls), HAS_OUT if it has outputs. */
    uint32_t *delta;
    uint32_t *out_off; /* per state: first output in out[] */
    uint32_t *out_cnt;
    uint32_t *out;     /* regex indices */
};

void fl_prefilter_free(fl_prefilter *pf)
{
    if (!pf)
        return;
    fl_free(pf->delta);
    fl_free(pf->out_off);
    fl_free(pf->out_cnt);
    fl_free(pf->out);
    fl_free(pf);
}

size_t fl_prefilter_states(const fl_prefilter *pf)
{
    return pf ? pf->nstates : 0;
}

int fl_prefilter_build(fl_prefilter **out, const fl_pf_literal *lits, size_t n)
{
    *out = NULL;
    fl_prefilter *pf = fl_calloc(1, sizeof(*pf));
    if (!pf)
        return FL_ENOMEM;

    size_t total = 1;
    pf->ncls = 1; /* class 0: bytes in no literal */
    for (size_t i = 0; i < n; i++) {
        for (const char *c = lits[i].text; *c; c++) {
            unsigned char b = (unsigned char)tolower((unsigned char)*c);
            if (!pf->cls[b])
                pf->cls[b] = (uint8_t)pf->ncls++;
            total++;
        }
    }
    for (int c = 'A'; c <= 'Z'; c++)
        pf->cls[c] = pf->cls[tolower(c)];

    uint32_t nc = pf->ncls;
    uint32_t *fail = NULL, *queue = NULL, *own_head = NULL, *own_next = NULL, *list = NULL;
    int rc = FL_ENOMEM;
    pf->delta = fl_calloc(total * nc, sizeof(uint32_t));
    fail = fl_calloc(total, sizeof(uint32_t));
    queue = fl_calloc(total, sizeof(uint32_t));
    own_head = fl_malloc(total * sizeof(uint32_t));
    own_next = fl_malloc((n + 1) * sizeof(uint32_t));
    pf->out_off = fl_calloc(total, sizeof(uint32_t));
    pf->out_cnt = fl_calloc(total, sizeof(uint32_t));
    if (!pf->delta || !fail || !queue || !own_head || !own_next || !pf->out_off ||
        !pf->out_cnt)
        goto done;
    memset(own_head, 0xff, total * sizeof(uint32_t));

    /* The trie; 0 in delta means "no edge" while building (no edge leads back to the root). */
    pf->nstates = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t s = 0;
        for (const char *c = lits[i].text; *c; c++) {
            uint32_t k = pf->cls[(unsigned char)*c];
            if (!pf->delta[s * nc + k])
                pf->delta[s * nc + k] = pf->nstates++;
            s = pf->delta[s * nc + k];
        }
        own_next[i] = own_head[s];
        own_head[s] = (uint32_t)i;
    }

    /* Breadth first: failure links, completed transitions, and output lists that include the
     * outputs of the failure state (computed earlier, being shallower). */
    size_t qh = 0, qt = 0, total_out = 0;
    queue[qt++] = 0;
    while (qh < qt) {
        uint32_t u = queue[qh++];
        for (uint32_t k = 0; k < nc; k++) {
            uint32_t v = pf->delta[u * nc + k];
            if (v) {
                fail[v] = u ? pf->delta[fail[u] * nc + k] : 0;
                queue[qt++] = v;
            } else {
                pf->delta[u * nc + k] = u ? pf->delta[fail[u] * nc + k] : 0;
            }
        }
        uint32_t cnt = 0;
        for (uint32_t e = own_head[u]; e != UINT32_MAX; e = own_next[e])
            cnt++;
        if (u)
            cnt += pf->out_cnt[fail[u]];
        pf->out_cnt[u] = cnt;
        total_out += cnt;
    }
    pf->out = fl_malloc((total_out + 1) * sizeof(uint32_t));
    list = pf->out;
    if (!list)
        goto done;
    size_t pos = 0;
    for (size_t qi = 0; qi < qt; qi++) {
        uint32_t u = queue[qi];
        pf->out_off[u] = (uint32_t)pos;
        for (uint32_t e = own_head[u]; e != UINT32_MAX; e = own_next[e])
            list[pos++] = lits[e].regex;
        if (u) {
            uint32_t f = fail[u];
            memcpy(list + pos, list + pf->out_off[f], pf->out_cnt[f] * sizeof(uint32_t));
            pos += pf->out_cnt[f];
        }
    }
    /* Rows as offsets, with the output flag folded into the transition. */
    for (size_t t = 0; t < (size_t)pf->nstates * nc; t++) {
        uint32_t v = pf->delta[t];
        pf->delta[t] = v * nc | (pf->out_cnt[v] ? HAS_OUT : 0);
    }
    rc = 0;
done:
    fl_free(fail);
    fl_free(queue);
    fl_free(own_head);
    fl_free(own_next);
    if (rc) {
        fl_prefilter_free(pf);
        return rc;
    }
    *out = pf;
    return 0;
}

void fl_prefilter_scan(const fl_prefilter *pf, const char *s, size_t n,
                       void (*mark)(void *ctx, uint32_t regex), void *ctx)
{
    const uint8_t *cls = pf->cls;
    const uint32_t *delta = pf->delta;
    const unsigned char *p = (const unsigned char *)s;
    uint32_t row = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t t = delta[row + cls[p[i]]];
        row = t & ~HAS_OUT;
        if (t & HAS_OUT) {
            uint32_t st = row / pf->ncls;
            const uint32_t *o = pf->out + pf->out_off[st];
            for (uint32_t k = 0; k < pf->out_cnt[st]; k++)
                mark(ctx, o[k]);
        }
    }
}
