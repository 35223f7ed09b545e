/* A look at a rule's regex source for the shape that makes backtracking explode: a group that
 * holds an unbounded quantifier (*, +, {n,}) and is itself repeated without bound, as in
 * (x+x+)+ or (\w+\s*)*. PCRE2's limits stop such a match (classify.c), but `patterns check`
 * says so up front. A source-level scan: escapes, character classes and \Q..\E are skipped;
 * atomic groups (?>...) and possessive repeats (++, *+) cannot backtrack and are not flagged. */
#include "fl_patterns_int.h"

#include <ctype.h>
#include <string.h>

#define DEPTH_MAX 64

typedef struct frame {
    size_t open;         /* offset of '(' */
    bool atomic;         /* (?>...) */
    bool unbounded_in;   /* an unbounded quantifier somewhere inside */
} frame;

/* Reads a quantifier at s[i]; returns its length (0: none) and whether it is unbounded and
 * possessive. */
static size_t quantifier(const char *s, size_t i, bool *unbounded, bool *possessive)
{
    size_t j = i;
    *unbounded = *possessive = false;
    if (s[j] == '*' || s[j] == '+') {
        *unbounded = true;
        j++;
    } else if (s[j] == '?') {
        j++;
    } else if (s[j] == '{' && isdigit((unsigned char)s[j + 1])) {
        size_t k = j + 1;
        while (isdigit((unsigned char)s[k]))
            k++;
        if (s[k] == '}') {
            j = k + 1;
        } else if (s[k] == ',') {
            k++;
            *unbounded = !isdigit((unsigned char)s[k]);
            while (isdigit((unsigned char)s[k]))
                k++;
            if (s[k] != '}')
                return 0;
            j = k + 1;
        } else {
            return 0;
        }
    } else {
        return 0;
    }
    if (s[j] == '+') {
        *possessive = true;
        j++;
    } else if (s[j] == '?') {
        j++;
    }
    return j - i;
}

static size_t skip_class(const char *s, size_t i)
{
    size_t j = i + 1;
    if (s[j] == '^')
        j++;
    if (s[j] == ']')
        j++;
    while (s[j] && s[j] != ']') {
        if (s[j] == '\\' && s[j + 1])
            j++;
        else if (s[j] == '[' && s[j + 1] == ':') {
            const char *e = strstr(s + j + 2, ":]");
            if (e)
                j = (size_t)(e - s) + 1;
        }
        j++;
    }
    return s[j] ? j + 1 : j;
}

static size_t skip_escape(const char *s, size_t i)
{
    size_t j = i + 1;
    if (!s[j])
        return j;
    if (s[j] == 'Q') {
        const char *e = strstr(s + j, "\\E");
        return e ? (size_t)(e - s) + 2 : strlen(s);
    }
    char c = s[j++];
    if (strchr("xopPNgk", c) && (s[j] == '{' || s[j] == '<' || s[j] == '\'')) {
        char close = s[j] == '{' ? '}' : s[j] == '<' ? '>' : '\'';
        const char *e = strchr(s + j + 1, close);
        return e ? (size_t)(e - s) + 1 : strlen(s);
    }
    return j;
}

bool fl_regex_nested_unbounded(const char *src, size_t *offset)
{
    frame st[DEPTH_MAX + 1];
    size_t depth = 0;
    st[0] = (frame){0, false, false};
    size_t i = 0;
    while (src[i]) {
        char c = src[i];
        bool atom = true, group_closed = false;
        frame closed = {0};
        if (c == '\\') {
            i = skip_escape(src, i);
        } else if (c == '[') {
            i = skip_class(src, i);
        } else if (c == '(') {
            bool atomic = src[i + 1] == '?' && src[i + 2] == '>';
            if (depth < DEPTH_MAX)
                st[++depth] = (frame){i, atomic, false};
            i++;
            if (src[i] == '*') /* (*VERB) */
                while (src[i] && src[i] != ')')
                    i++;
            else if (src[i] == '?')
                i++; /* the '?' of (?:, (?<name>, (?i) is not a quantifier */
            atom = false;
        } else if (c == ')') {
            if (depth > 0)
                closed = st[depth--];
            group_closed = true;
            i++;
        } else if (c == '|') {
            atom = false;
            i++;
        } else {
            i++;
        }
        if (!atom)
            continue;
        bool unbounded, possessive;
        size_t q = quantifier(src, i, &unbounded, &possessive);
        if (group_closed) {
            if (q && unbounded && !possessive && !closed.atomic && closed.unbounded_in) {
                if (offset)
                    *offset = closed.open;
                return true;
            }
            st[depth].unbounded_in |= closed.unbounded_in || (q && unbounded);
        } else if (q && unbounded) {
            st[depth].unbounded_in = true;
        }
        i += q;
    }
    return false;
}
