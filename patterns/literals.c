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

/* Escapes that stand for one literal punctuation character. */
static bool literal_escape(char c)
{
    return c != '\0' && !isalnum((unsigned char)c);
}

/* The content of a group at p[i] == '(' that must match for the group to match, or NULL for
 * lookarounds, inline flag settings and anything else we do not descend into. */
static char *group_body(const char *p, size_t i, size_t end)
{
    size_t b = i + 1;
    if (p[b] == '?') {
        if (p[b + 1] == ':')
            b += 2;
        else if ((p[b + 1] == '<' && p[b + 2] != '=' && p[b + 2] != '!') || p[b + 1] == '\'' ||
                 (p[b + 1] == 'P' && p[b + 2] == '<')) {
            const char *close = strpbrk(p + b, ">'");
            if (!close)
                return NULL;
            b = (size_t)(close - p) + 1;
        } else {
            /* (?i:...) keeps a body; (?i) and lookarounds do not. */
            size_t f = b + 1;
            while (isalpha((unsigned char)p[f]) || p[f] == '-')
                f++;
            if (p[f] != ':' || f == b + 1)
                return NULL;
            b = f + 1;
        }
    }
    if (end < b + 1)
        return NULL;
    return fl_strndup(p + b, end - 1 - b);
}

static int derive(const char *p, int depth, char ***out);

/* A set of literals one of which must occur; score = its shortest member. */
typedef struct factor {
    char **lits;
    int n;
    size_t score;
} factor;

static void factor_take(factor *best, char **lits, int n)
{
    size_t score = SIZE_MAX;
    for (int i = 0; i < n; i++)
        score = FL_MIN(score, strlen(lits[i]));
    if (n > 0 && (score > best->score || (score == best->score && n < best->n))) {
        fl_literals_free(best->lits, (size_t)best->n);
        best->lits = lits;
        best->n = n;
        best->score = score;
    } else {
        fl_literals_free(lits, n > 0 ? (size_t)n : 0);
    }
}

static int derive(const char *p, int depth, char ***out)
{
    *out = NULL;
    /* Extended mode changes what whitespace and '#' mean; \Q...\E quotes. Give up on both. */
    if (depth > 8 || strstr(p, "(?x") || strstr(p, "\\Q") || strstr(p, "(*"))
        return 0;

    char **acc = NULL; /* the union over top-level alternatives */
    int n_acc = 0;
    factor best = {.lits = NULL, .n = 0, .score = 0};
    run r = {.len = 0, .best_len = 0};
    size_t i = 0;
    bool failed = false;

    for (;;) {
        char c = p[i];
        if (c == '\0' || c == '|') {
            run_end(&r);
            if (r.best_len > 0) {
                char **one = fl_calloc(1, sizeof(*one));
                if (one && (one[0] = fl_strndup(r.best, r.best_len)))
                    factor_take(&best, one, 1);
                else
                    fl_free(one);
            }
            if (best.n == 0 || best.score < FL_LITERAL_MIN) {
                failed = true;
                break;
            }
            char **grown = fl_realloc(acc, (size_t)(n_acc + best.n) * sizeof(*grown));
            if (!grown) {
                failed = true;
                break;
            }
            acc = grown;
            memcpy(acc + n_acc, best.lits, (size_t)best.n * sizeof(*acc));
            n_acc += best.n;
            fl_free(best.lits);
            best = (factor){.lits = NULL, .n = 0, .score = 0};
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
        if (c == '(' && !optional) {
            char *body = group_body(p, i, atom_end);
            if (body) {
                char **inner = NULL;
                int n = derive(body, depth + 1, &inner);
                fl_free(body);
                if (n > 0)
                    factor_take(&best, inner, n);
            }
        }
        i = atom_end + q;
    }
    fl_literals_free(best.lits, (size_t)best.n);
    if (failed) {
        fl_literals_free(acc, (size_t)n_acc);
        return 0;
    }
    *out = acc;
    return n_acc;
}

int fl_literals_derive(const char *p, char ***out)
{
    return derive(p, 0, out);
}

void fl_literals_free(char **lits, size_t n)
{
    if (!lits)
        return;
    for (size_t i = 0; i < n; i++)
        fl_free(lits[i]);
    fl_free(lits);
}
