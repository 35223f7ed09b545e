/* Open-addressing hash tables with linear probing; see map.h. */
#include "map.h"

#include <string.h>

/* The tables' own hash: eight bytes per step instead of fl_hash64's one (FNV-1a was 5% of a
 * batch run's instructions, most of it here; issue 15). Only slot positions depend on it, and
 * no caller sees those (map.h), so it may differ from fl_hash64 and from build to build. */
static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 32;
    h *= UINT64_C(0xd6e8feb86659fd93);
    h ^= h >> 32;
    return h;
}

static uint64_t str_hash(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ n;
    uint64_t w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, s, n);
    return mix64((h ^ w) * UINT64_C(0x94d049bb133111eb));
}

void fl_strmap_init(fl_strmap *m)
{
    memset(m, 0, sizeof(*m));
}

void fl_strmap_free(fl_strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        fl_free(m->keys[i]);
    fl_free(m->keys);
    fl_free(m->vals);
    memset(m, 0, sizeof(*m));
}

static size_t str_slot(const fl_strmap *m, const char *key)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)str_hash(key, strlen(key)) & mask;
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

long fl_strmap_get(const fl_strmap *m, const char *key)
{
    if (!m->cap)
        return -1;
    size_t i = str_slot(m, key);
    return m->keys[i] ? (long)m->vals[i] : -1;
}

static int str_grow(fl_strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    fl_strmap n = {fl_calloc(ncap, sizeof(char *)), fl_calloc(ncap, sizeof(uint32_t)), ncap, 0};
    if (!n.keys || !n.vals) {
        fl_free(n.keys);
        fl_free(n.vals);
        return FL_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = str_slot(&n, m->keys[i]);
        n.keys[j] = m->keys[i];
        n.vals[j] = m->vals[i];
        n.n++;
    }
    fl_free(m->keys);
    fl_free(m->vals);
    *m = n;
    return 0;
}

int fl_strmap_put(fl_strmap *m, const char *key, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        int rc = str_grow(m);
        if (rc)
            return rc;
    }
    size_t i = str_slot(m, key);
    if (!m->keys[i]) {
        if (!(m->keys[i] = fl_strdup(key)))
            return FL_ENOMEM;
        m->n++;
    }
    m->vals[i] = val;
    return 0;
}

void fl_cellmap_init(fl_cellmap *m)
{
    memset(m, 0, sizeof(*m));
}

void fl_cellmap_free(fl_cellmap *m)
{
    if (!m)
        return;
    fl_free(m->slots);
    memset(m, 0, sizeof(*m));
}

static const fl_cell_key *key_at(const void *base, size_t stride, uint32_t i)
{
    return (const fl_cell_key *)((const char *)base + (size_t)i * stride);
}

static int cell_eq(const fl_cell_key *a, const fl_cell_key *b)
{
    return a->grp == b->grp && a->rev == b->rev && a->minute == b->minute;
}

/* The slot holding k, or the free slot where it would go. */
static size_t cell_slot(const fl_cellmap *m, const fl_cell_key *k, const void *base,
                        size_t stride)
{
    size_t mask = m->cap - 1;
    uint64_t ids = (uint64_t)(uint32_t)k->grp | (uint64_t)(uint32_t)k->rev << 32;
    uint64_t h = mix64(ids * UINT64_C(0xbf58476d1ce4e5b9) ^
                       (uint64_t)k->minute * UINT64_C(0x94d049bb133111eb));
    size_t i = (size_t)h & mask;
    while (m->slots[i] && !cell_eq(key_at(base, stride, m->slots[i] - 1), k))
        i = (i + 1) & mask;
    return i;
}

long fl_cellmap_get(const fl_cellmap *m, const fl_cell_key *k, const void *base, size_t stride)
{
    if (!m->cap)
        return -1;
    size_t i = cell_slot(m, k, base, stride);
    return m->slots[i] ? (long)m->slots[i] - 1 : -1;
}

static int cell_grow(fl_cellmap *m, size_t ncap, const void *base, size_t stride)
{
    fl_cellmap n = {fl_calloc(ncap, sizeof(uint32_t)), ncap, 0};
    if (!n.slots)
        return FL_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i])
            continue;
        n.slots[cell_slot(&n, key_at(base, stride, m->slots[i] - 1), base, stride)] =
            m->slots[i];
        n.n++;
    }
    fl_cellmap_free(m);
    *m = n;
    return 0;
}

int fl_cellmap_put(fl_cellmap *m, uint32_t val, const void *base, size_t stride)
{
    if ((m->n + 1) * 2 > m->cap) {
        int rc = cell_grow(m, m->cap ? m->cap * 2 : 256, base, stride);
        if (rc)
            return rc;
    }
    size_t i = cell_slot(m, key_at(base, stride, val), base, stride);
    if (!m->slots[i])
        m->n++;
    m->slots[i] = val + 1;
    return 0;
}

int fl_cellmap_reserve(fl_cellmap *m, size_t n, const void *base, size_t stride)
{
    size_t ncap = m->cap ? m->cap : 256;
    while ((m->n + n) * 2 > ncap)
        ncap *= 2;
    return ncap == m->cap ? 0 : cell_grow(m, ncap, base, stride);
}
