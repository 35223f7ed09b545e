/* Required-literal derivation for the prefilter.
 *
 * For each top-level alternative of a pattern we take the longest run of plain characters that
 * every match must contain. Anything we do not understand (groups, classes, escapes for
 * character types, optional quantifiers) ends a run, so the result is conservative: a derived
 * literal is always required, though a better one may exist. If any alternative has no run of
 * FL_LITERAL_MIN bytes, nothing is derived and the pattern runs on every message. */
#include "fl_patterns_int.h"

#include <ctype.h>
#include <string.h>

typedef struct run {
    char buf[256];
    size_t len;
    char best[256];
    size_t best_len;
} run;

static void run_end(run *r)
{
    if (r->len > r->best_len) {
        memcpy(r->best, r->buf, r->len);
        r->best_len = r->len;
    }
    r->len = 0;
}

static void run_add(run *r, char c)
{
    if (r->len < sizeof(r->buf))
        r->buf[r->len++] = (char)tolower((unsigned char)c);
}

/* Skips a character class starting at p[i] == '['; returns the index after it. */
static size_t skip_class(const char *p, size_t i)
{
    i++;
    if (p[i] == '^')
        i++;
    if (p[i] == ']')
        i++;
    while (p[i] && p[i] != ']') {
        if (p[i] == '\\' && p[i + 1])
            i++;
        else if (p[i] == '[' && p[i + 1] == ':') {
            const char *e = strstr(p + i, ":]");
            if (e)
                i = (size_t)(e - p) + 1;
        }
        i++;
    }
    return p[i] ? i + 1 : i;
}

/* Skips a group starting at p[i] == '('; returns the index after the matching ')'. */
static size_t skip_group(const char *p, size_t i)
{
    int depth = 0;
    while (p[i]) {
        if (p[i] == '\\' && p[i + 1]) {
            i += 2;
            continue;
        }
        if (p[i] == '[') {
            i = skip_class(p, i);
            continue;
        }
        if (p[i] == '(')
            depth++;
        else if (p[i] == ')' && --depth == 0)
            return i + 1;
        i++;
    }
    return i;
}

/* Quantifier at p[i]: returns its length (0 if none) and whether it allows zero repeats. */
static size_t quantifier(const char *p, size_t i, bool *optional)
{
    size_t n = 0;
    *optional = false;
    if (p[i] == '?' || p[i] == '*') {
        *optional = true;
        n = 1;
    } else if (p[i] == '+') {
        n = 1;
    } else if (p[i] == '{') {
        size_t j = i + 1, lo_start = j;
        while (isdigit((unsigned char)p[j]))
            j++;
        bool has_lo = j > lo_start;
        bool zero = has_lo && strspn(p + lo_start, "0") == j - lo_start;
        if (p[j] == ',') {
            j++;
            while (isdigit((unsigned char)p[j]))
                j++;
        }
        if (p[j] != '}' || !has_lo)
            return 0;
        *optional = zero;
        n = j + 1 - i;
    }
    if (n && (p[i + n] == '?' || p[i + n] == '+'))
        n++; /* lazy or possessive */
    return n;
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fl_free(s[i]);
}

/* Escapes that stand for one literal punctuation character. */
static bool literal_escape(char c)
{
    return c != '\0' && !isalnum((unsigned char)c);
}

int fl_literals_derive(const char *p, char ***out)
{
    *out = NULL;
    /* Extended mode changes what whitespace and '#' mean; \Q...\E quotes. Give up on both. */
    if (strstr(p, "(?x") || strstr(p, "\\Q") || strstr(p, "(*"))
        return 0;

    char *alts[64];
    size_t n_alts = 0;
    run r = {.len = 0, .best_len = 0};
    size_t i = 0;
    bool failed = false;

    for (;;) {
        char c = p[i];
        if (c == '\0' || c == '|') {
            run_end(&r);
            if (r.best_len < FL_LITERAL_MIN || n_alts == FL_ARRAY_LEN(alts)) {
                failed = true;
                break;
            }
            alts[n_alts] = fl_strndup(r.best, r.best_len);
            if (!alts[n_alts]) {
                free_strings(alts, n_alts);
                return FL_ENOMEM;
            }
            n_alts++;
            r.best_len = 0;
            if (c == '\0')
                break;
            i++;
            continue;
        }

        size_t atom_end;
        bool is_literal = false;
        char lit = 0;
        if (c == '(') {
            atom_end = skip_group(p, i);
        } else if (c == '[') {
            atom_end = skip_class(p, i);
        } else if (c == '\\') {
            if (literal_escape(p[i + 1])) {
                is_literal = true;
                lit = p[i + 1];
            }
            atom_end = p[i + 1] ? i + 2 : i + 1;
            /* \x{..}, \p{..}, \g{..}, \k<..> and friends: skip their argument. */
            if (!is_literal && (p[atom_end] == '{' || p[atom_end] == '<') &&
                strchr("xpPgkoN", p[i + 1])) {
                const char *e = strpbrk(p + atom_end, "}>");
                atom_end = e ? (size_t)(e - p) + 1 : strlen(p);
            }
        } else if (c == '.' || c == '^' || c == '$' || c == ')') {
            atom_end = i + 1;
        } else {
            is_literal = true;
            lit = c;
            atom_end = i + 1;
        }

        bool optional;
        size_t q = quantifier(p, atom_end, &optional);
        if (is_literal && !optional)
            run_add(&r, lit);
        if (!is_literal || q)
            run_end(&r);
        i = atom_end + q;
    }

    if (failed) {
        free_strings(alts, n_alts);
        return 0;
    }
    char **lits = fl_calloc(n_alts, sizeof(*lits));
    if (!lits) {
        free_strings(alts, n_alts);
        return FL_ENOMEM;
    }
    memcpy(lits, alts, n_alts * sizeof(*lits));
    *out = lits;
    return (int)n_alts;
}

void fl_literals_free(char **lits, size_t n)
{
    if (!lits)
        return;
    free_strings(lits, n);
    fl_free(lits);
}
