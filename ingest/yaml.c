/* One YAML document of `gcloud logging read` (without --format=json) to LogEntry JSON.
 *
 * gcloud prints each entry as a block-style YAML document, documents separated by "---".
 * This reads the part of YAML such a printer writes, and refuses the rest with a message
 * (the caller counts the document as malformed, naming file and line):
 *   - block mappings ("key: value", "key:" with a nested block), keys plain or quoted;
 *   - block sequences ("- item", also at the indentation of their key, as PyYAML writes
 *     them), items that are scalars, mappings or nested blocks;
 *   - plain scalars, also folded over several more-indented lines; single-quoted ('' escapes)
 *     and double-quoted (\n, \", \\, \t, \uXXXX...) scalars over several lines; literal (|)
 *     and folded (>) block scalars with -, + chomping;
 *   - the empty flow collections {} and [].
 * Plain scalars become JSON numbers, true/false or null when they read as such (YAML core
 * schema), else strings; quoted and block scalars are always strings. Anchors, aliases, tags,
 * non-empty flow collections and complex keys are refused.
 *
 * The conversion works on the document's lines in place and writes into a capped fl_buf. */
#include "ingest_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YAML_MAX_DEPTH 64

typedef struct yline {
    const char *s; /* the whole line */
    size_t len;    /* without '\n' / '\r' */
    size_t indent; /* leading spaces */
    bool blank;    /* empty, spaces only, or a comment */
} yline;

typedef struct yparser {
    yline *lines;
    size_t n, i;
    fl_buf *out;
    char *err;
    size_t errlen;
    int depth;
    bool failed;
} yparser;

static int fail(yparser *p, size_t line, const char *what)
{
    if (!p->failed)
        snprintf(p->err, p->errlen, "line %zu of this YAML document: %s", line + 1, what);
    p->failed = true;
    return -1;
}

static void skip_blank(yparser *p)
{
    while (p->i < p->n && p->lines[p->i].blank)
        p->i++;
}

/* ---- JSON output ---- */

/* A buffer that fails an append (past its cap, or out of memory) is poisoned: its cap drops to
 * 0, so every later append fails too and fl_yaml_to_json reports the document as too big,
 * rather than writing JSON with a piece missing. So no single append needs checking. */
static void add(fl_buf *b, const void *s, size_t n)
{
    if (fl_buf_add(b, s, n))
        b->max = 0;
}

static void addc(fl_buf *b, char c)
{
    add(b, &c, 1);
}

static void addstr(fl_buf *b, const char *s)
{
    add(b, s, strlen(s));
}

/* A scalar collected in val (poisoned: the output is poisoned too). */
static void put_string(yparser *p, const char *s, size_t n);
static void put_val(yparser *p, const fl_buf *val)
{
    if (!val->max)
        p->out->max = 0;
    else
        put_string(p, val->data ? val->data : "", val->len);
}

static void put_str_bytes(yparser *p, const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            add(p->out, esc, 2);
        } else if (c == '\n') {
            add(p->out, "\\n", 2);
        } else if (c == '\t') {
            add(p->out, "\\t", 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            add(p->out, esc, 6);
        } else {
            addc(p->out, (char)c);
        }
    }
}

static void put_string(yparser *p, const char *s, size_t n)
{
    addc(p->out, '"');
    put_str_bytes(p, s, n);
    addc(p->out, '"');
}

static bool is_int(const char *s, size_t n)
{
    size_t k = (n && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (k == n || n - k > 18)
        return false;
    if (s[k] == '0' && n - k > 1)
        return false; /* 0755 and the like stay strings */
    for (; k < n; k++)
        if (!isdigit((unsigned char)s[k]))
            return false;
    return true;
}

static bool is_float(const char *s, size_t n)
{
    size_t k = (n && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    bool digits = false, dot = false, exp = false;
    for (; k < n; k++) {
        char c = s[k];
        if (isdigit((unsigned char)c))
            digits = true;
        else if (c == '.' && !dot && !exp)
            dot = true;
        else if ((c == 'e' || c == 'E') && digits && !exp) {
            exp = true;
            if (k + 1 < n && (s[k + 1] == '+' || s[k + 1] == '-'))
                k++;
            digits = false;
        } else
            return false;
    }
    /* A dot is required (YAML 1.1, as PyYAML and gcloud write): an id such as
     * "097493198e676783" stays a string. No leading zero: JSON has none. */
    size_t sign = (n && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    bool leading_zero = n > sign + 1 && s[sign] == '0' && s[sign + 1] != '.';
    return digits && dot && !leading_zero;
}

static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncmp(s, w, n) == 0;
}

/* A plain scalar: a number, a boolean, null or a string. */
static void put_plain(yparser *p, const char *s, size_t n)
{
    if (n == 0 || word_is(s, n, "null") || word_is(s, n, "~") || word_is(s, n, "Null") ||
        word_is(s, n, "NULL")) {
        addstr(p->out, "null");
    } else if (word_is(s, n, "true") || word_is(s, n, "True") || word_is(s, n, "TRUE")) {
        addstr(p->out, "true");
    } else if (word_is(s, n, "false") || word_is(s, n, "False") || word_is(s, n, "FALSE")) {
        addstr(p->out, "false");
    } else if (is_int(s, n) || is_float(s, n)) {
        if (s[0] == '+')
            s++, n--;
        if (s[0] == '.' || (s[0] == '-' && s[1] == '.'))
            addc(p->out, '0'); /* ".5" is not JSON */
        add(p->out, s, n);
    } else {
        put_string(p, s, n);
    }
}

/* ---- scalars ---- */

static size_t rtrim(const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

/* Appends a folded line break: consecutive breaks after the first become "\n" each. */
static void fold(fl_buf *b, size_t breaks)
{
    if (breaks == 1)
        addc(b, ' ');
    else
        for (size_t k = 1; k < breaks; k++)
            addc(b, '\n');
}

/* A quoted scalar starting at s (its quote) on line p->i, possibly over several lines. */
static int quoted(yparser *p, const char *s, fl_buf *val, const char **rest, size_t *rest_len)
{
    char q = *s++;
    yline *L = &p->lines[p->i];
    const char *end = L->s + L->len;
    size_t breaks = 0;
    for (;;) {
        while (s < end) {
            char c = *s++;
            if (breaks) {
                fold(val, breaks);
                breaks = 0;
            }
            if (q == '\'' && c == '\'') {
                if (s < end && *s == '\'') {
                    addc(val, '\'');
                    s++;
                    continue;
                }
                *rest = s;
                *rest_len = (size_t)(end - s);
                return 0;
            }
            if (q == '"' && c == '"') {
                *rest = s;
                *rest_len = (size_t)(end - s);
                return 0;
            }
            if (q == '"' && c == '\\') {
                if (s >= end) { /* escaped line break: join without a space */
                    breaks = 0;
                    goto next_line_nofold;
                }
                char e = *s++;
                switch (e) {
                case 'n': addc(val, '\n'); break;
                case 't': addc(val, '\t'); break;
                case 'r': addc(val, '\r'); break;
                case '0': addc(val, '\0'); break;
                case '"': case '\\': case '/': case ' ': addc(val, e); break;
                case 'x': case 'u': case 'U': {
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    unsigned long cp = 0;
                    for (int k = 0; k < digits; k++, s++) {
                        if (s >= end || !isxdigit((unsigned char)*s))
                            return fail(p, p->i, "bad escape in a double-quoted string");
                        cp = cp * 16 + (unsigned long)(isdigit((unsigned char)*s)
                                                           ? *s - '0'
                                                           : (tolower((unsigned char)*s) - 'a' + 10));
                    }
                    char u[4];
                    size_t un = 0;
                    if (cp < 0x80)
                        u[un++] = (char)cp;
                    else if (cp < 0x800)
                        u[un++] = (char)(0xC0 | (cp >> 6)), u[un++] = (char)(0x80 | (cp & 0x3F));
                    else if (cp < 0x10000)
                        u[un++] = (char)(0xE0 | (cp >> 12)),
                        u[un++] = (char)(0x80 | ((cp >> 6) & 0x3F)),
                        u[un++] = (char)(0x80 | (cp & 0x3F));
                    else
                        u[un++] = (char)(0xF0 | (cp >> 18)),
                        u[un++] = (char)(0x80 | ((cp >> 12) & 0x3F)),
                        u[un++] = (char)(0x80 | ((cp >> 6) & 0x3F)),
                        u[un++] = (char)(0x80 | (cp & 0x3F));
                    add(val, u, un);
                    break;
                }
                default:
                    return fail(p, p->i, "unknown escape in a double-quoted string");
                }
                continue;
            }
            addc(val, c);
        }
        /* The line ended inside the quotes: trailing blanks are not content. */
        {
            size_t trimmed = rtrim(val->data ? val->data : "", val->len);
            val->len = trimmed;
            if (val->data)
                val->data[trimmed] = '\0';
        }
        breaks = 1;
    next_line_nofold:
        if (++p->i >= p->n)
            return fail(p, p->i - 1, "quoted string not closed");
        L = &p->lines[p->i];
        end = L->s + L->len;
        s = L->s;
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        if (s == end) { /* a blank line inside the quotes is a line break */
            if (breaks)
                breaks++;
            else
                breaks = 2;
            goto next_line_nofold;
        }
    }
}

/* Is line L (from column col) a "key:" line? Sets where the key and the value start. */
static bool split_key(const char *s, size_t n, size_t *key_len, size_t *val_off)
{
    if (n == 0 || *s == '-' || *s == '#' || *s == '\'' || *s == '"' || *s == '{' || *s == '[')
        return false;
    for (size_t k = 0; k < n; k++) {
        if (s[k] == ':' && (k + 1 == n || s[k + 1] == ' ')) {
            *key_len = rtrim(s, k);
            *val_off = k + 1;
            return *key_len > 0;
        }
        if (s[k] == ' ' && k + 1 < n && s[k + 1] == '#')
            return false;
    }
    return false;
}

/* A quoted key: "'@type': value". */
static bool split_quoted_key(yparser *p, const char *s, size_t n, fl_buf *key, size_t *val_off)
{
    if (n == 0 || (*s != '\'' && *s != '"'))
        return false;
    size_t save = p->i;
    const char *rest;
    size_t rest_len;
    fl_buf_reset(key);
    if (quoted(p, s, key, &rest, &rest_len) != 0 || p->i != save) {
        p->i = save;
        p->failed = false;
        return false;
    }
    if (rest_len == 0 || rest[0] != ':' || (rest_len > 1 && rest[1] != ' '))
        return false;
    *val_off = (size_t)(rest + 1 - s);
    return true;
}

static int node(yparser *p, size_t parent_indent);

/* A block scalar (| or >) whose header is h; its lines are indented more than parent. */
static int block_scalar(yparser *p, const char *h, size_t hn, size_t parent_indent)
{
    bool literal = h[0] == '|';
    char chomp = 0;
    size_t explicit_indent = 0;
    for (size_t k = 1; k < hn; k++) {
        if (h[k] == '-' || h[k] == '+')
            chomp = h[k];
        else if (isdigit((unsigned char)h[k]))
            explicit_indent = (size_t)(h[k] - '0');
        else if (h[k] == ' ' || h[k] == '#')
            break;
        else
            return fail(p, p->i, "bad block scalar header");
    }
    size_t start = ++p->i;
    size_t ind = explicit_indent ? parent_indent + explicit_indent : 0;
    size_t last = start;
    for (size_t k = start; k < p->n; k++) {
        yline *L = &p->lines[k];
        bool empty = rtrim(L->s, L->len) == 0;
        if (!empty && L->indent <= parent_indent)
            break;
        if (!empty && !ind)
            ind = L->indent;
        if (!empty && L->indent < ind)
            break;
        last = k + 1;
    }
    fl_buf val;
    fl_buf_init(&val, FL_RECORD_MAX);
    bool prev_more = false;
    size_t pending = 0; /* line breaks not yet written */
    for (size_t k = start; k < last; k++) {
        yline *L = &p->lines[k];
        bool empty = rtrim(L->s, L->len) == 0 && L->len <= ind;
        if (empty) {
            pending++;
            continue;
        }
        const char *s = L->s + FL_MIN(ind, L->len);
        size_t n = L->len - FL_MIN(ind, L->len);
        bool more = n && (s[0] == ' ' || s[0] == '\t');
        if (val.len || pending) {
            if (literal || more || prev_more)
                for (size_t b = 0; b < pending + 1; b++)
                    addc(&val, '\n');
            else
                fold(&val, pending + 1);
        }
        pending = 0;
        add(&val, s, n);
        prev_more = more;
    }
    if (chomp == '+')
        for (size_t b = 0; b < pending + 1; b++)
            addc(&val, '\n');
    else if (chomp != '-' && val.len)
        addc(&val, '\n');
    p->i = last;
    put_val(p, &val);
    fl_buf_free(&val);
    return 0;
}

/* The value after "key:" or "- " that starts on the same line at s[0..n). */
static int inline_value(yparser *p, const char *s, size_t n, size_t parent_indent)
{
    n = rtrim(s, n);
    if (n == 0) { /* the value is the block below, or null */
        p->i++;
        skip_blank(p);
        if (p->i < p->n) {
            yline *L = &p->lines[p->i];
            const char *c = L->s + L->indent;
            bool dash = L->len > L->indent && c[0] == '-' &&
                        (L->len == L->indent + 1 || c[1] == ' ');
            if (L->indent > parent_indent || (L->indent == parent_indent && dash))
                return node(p, parent_indent);
        }
        addstr(p->out, "null");
        return 0;
    }
    if (s[0] == '&' || s[0] == '*' || s[0] == '!')
        return fail(p, p->i, "anchors, aliases and tags are not read");
    if (s[0] == '{' || s[0] == '[') {
        if (n == 2 && s[1] == (s[0] == '{' ? '}' : ']')) {
            add(p->out, s, 2);
            p->i++;
            return 0;
        }
        return fail(p, p->i, "flow collections are not read");
    }
    if (s[0] == '|' || s[0] == '>')
        return block_scalar(p, s, n, parent_indent);
    if (s[0] == '\'' || s[0] == '"') {
        fl_buf val;
        fl_buf_init(&val, FL_RECORD_MAX);
        const char *rest;
        size_t rest_len;
        int rc = quoted(p, s, &val, &rest, &rest_len);
        if (rc == 0) {
            rest_len = rtrim(rest, rest_len);
            if (rest_len && rest[0] != ' ')
                rc = fail(p, p->i, "text after a quoted string");
            put_val(p, &val);
            p->i++;
        }
        fl_buf_free(&val);
        return rc;
    }
    /* Plain scalar, folded over more-indented continuation lines. */
    fl_buf val;
    fl_buf_init(&val, FL_RECORD_MAX);
    const char *hash = NULL;
    for (size_t k = 0; k + 1 < n; k++)
        if (s[k] == ' ' && s[k + 1] == '#') {
            hash = s + k;
            break;
        }
    add(&val, s, hash ? rtrim(s, (size_t)(hash - s)) : n);
    size_t breaks = 0;
    for (p->i++; p->i < p->n; p->i++) {
        yline *L = &p->lines[p->i];
        if (rtrim(L->s, L->len) == 0) {
            breaks++;
            continue;
        }
        if (L->indent <= parent_indent || L->blank)
            break;
        const char *c = L->s + L->indent;
        size_t cn = rtrim(c, L->len - L->indent);
        size_t kl, vo;
        if (split_key(c, cn, &kl, &vo))
            break;
        fold(&val, breaks + 1);
        breaks = 0;
        add(&val, c, cn);
    }
    put_plain(p, val.data ? val.data : "", val.len);
    fl_buf_free(&val);
    return 0;
}

static int mapping(yparser *p, size_t indent)
{
    fl_buf key;
    fl_buf_init(&key, 4096);
    addc(p->out, '{');
    bool first = true;
    int rc = 0;
    for (;;) {
        skip_blank(p);
        if (p->i >= p->n)
            break;
        yline *L = &p->lines[p->i];
        if (L->indent != indent) {
            if (L->indent > indent)
                rc = fail(p, p->i, "unexpected indentation");
            break;
        }
        const char *c = L->s + indent;
        size_t cn = L->len - indent;
        size_t kl = 0, vo = 0;
        fl_buf_reset(&key);
        if (split_key(c, cn, &kl, &vo)) {
            add(&key, c, kl);
        } else if (!split_quoted_key(p, c, cn, &key, &vo)) {
            if (c[0] == '-')
                break; /* a sequence at the key's indentation ends here */
            rc = fail(p, p->i, "expected \"key: value\"");
            break;
        }
        if (!first)
            addc(p->out, ',');
        first = false;
        put_val(p, &key);
        addc(p->out, ':');
        const char *v = c + vo;
        size_t vn = cn - vo;
        while (vn && *v == ' ')
            v++, vn--;
        if ((rc = inline_value(p, v, vn, indent)) != 0)
            break;
    }
    addc(p->out, '}');
    fl_buf_free(&key);
    return rc;
}

static int sequence(yparser *p, size_t indent)
{
    addc(p->out, '[');
    bool first = true;
    int rc = 0;
    for (;;) {
        skip_blank(p);
        if (p->i >= p->n)
            break;
        yline *L = &p->lines[p->i];
        const char *c = L->s + L->indent;
        if (L->indent != indent || c[0] != '-' || (L->len > indent + 1 && c[1] != ' '))
            break;
        if (!first)
            addc(p->out, ',');
        first = false;
        /* The item's content: as if its line started two columns further in. */
        size_t off = 1;
        while (indent + off < L->len && c[off] == ' ')
            off++;
        size_t kl, vo;
        const char *v = c + off;
        size_t vn = L->len - indent - off;
        if (vn && (split_key(v, vn, &kl, &vo) || v[0] == '-')) {
            /* "- key: value" starts a mapping (or "- - x" a sequence) at that column: the
             * line is re-read with its indentation moved to there. */
            L->indent = indent + off;
            rc = node(p, indent);
        } else {
            rc = inline_value(p, v, vn, indent);
        }
        if (rc)
            break;
    }
    addc(p->out, ']');
    return rc;
}

/* The block node starting at the current line, indented more than parent_indent (or at the
 * same indentation for a sequence under a key). */
static int node(yparser *p, size_t parent_indent)
{
    if (++p->depth > YAML_MAX_DEPTH)
        return fail(p, p->i, "nested too deep");
    skip_blank(p);
    int rc;
    if (p->i >= p->n) {
        addstr(p->out, "null");
        rc = 0;
    } else {
        yline *L = &p->lines[p->i];
        const char *c = L->s + L->indent;
        size_t cn = L->len - L->indent;
        size_t kl, vo;
        fl_buf scratch;
        fl_buf_init(&scratch, 4096);
        if (c[0] == '-' && (cn == 1 || c[1] == ' '))
            rc = sequence(p, L->indent);
        else if (split_key(c, cn, &kl, &vo) || split_quoted_key(p, c, cn, &scratch, &vo))
            rc = mapping(p, L->indent);
        else
            rc = inline_value(p, c, cn, parent_indent);
        fl_buf_free(&scratch);
    }
    p->depth--;
    return rc;
}

int fl_yaml_to_json(const char *doc, size_t n, fl_buf *out, char *errbuf, size_t errlen)
{
    size_t cap = 64, count = 0;
    yline *lines = fl_malloc(cap * sizeof(*lines));
    if (!lines)
        return FL_ENOMEM;
    for (const char *s = doc, *end = doc + n; s < end;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (count == cap) {
            yline *more = fl_realloc(lines, (cap *= 2) * sizeof(*lines));
            if (!more) {
                fl_free(lines);
                return FL_ENOMEM;
            }
            lines = more;
        }
        yline *L = &lines[count++];
        L->s = s;
        L->len = len && s[len - 1] == '\r' ? len - 1 : len;
        L->indent = 0;
        while (L->indent < L->len && L->s[L->indent] == ' ')
            L->indent++;
        size_t t = rtrim(L->s, L->len);
        L->blank = t <= L->indent || L->s[L->indent] == '#' ||
                   (L->indent == 0 && L->len >= 3 &&
                    (memcmp(L->s, "---", 3) == 0 || memcmp(L->s, "...", 3) == 0) &&
                    rtrim(L->s + 3, L->len - 3) == 0);
        if (L->s[L->indent] == '\t' && t > L->indent) {
            fl_free(lines);
            snprintf(errbuf, errlen, "line %zu of this YAML document: tab used for indentation", count);
            return FL_EPARSE;
        }
        s = nl ? nl + 1 : end;
    }
    yparser p = {lines, count, 0, out, errbuf, errlen, 0, false};
    fl_buf_reset(out);
    int rc = node(&p, 0);
    skip_blank(&p);
    if (!rc && p.i < p.n)
        rc = fail(&p, p.i, "text after the end of the document");
    fl_free(lines);
    if (rc || p.failed)
        return FL_EPARSE;
    return out->len && out->len < out->max ? 0 : FL_ETOOBIG; /* max 0: poisoned (add) */
}
