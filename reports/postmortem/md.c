/* Markdown escaping for log text. The safest Markdown for untrusted text is a code span or
 * block, where nothing is interpreted; prose (summaries, evidence) is escaped instead, word by
 * word, so it still reads naturally. */
#include <string.h>

#include "postmortem.h"

static size_t longest_backtick_run(const char *s, size_t n)
{
    size_t best = 0, cur = 0;
    for (size_t i = 0; i < n; i++) {
        cur = s[i] == '`' ? cur + 1 : 0;
        best = FL_MAX(best, cur);
    }
    return best;
}

static void fence(FILE *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc('`', out);
}

static void code_span(FILE *out, const char *s, size_t n)
{
    size_t f = longest_backtick_run(s, n) + 1;
    fence(out, f);
    bool pad = n && (s[0] == '`' || s[n - 1] == '`' || s[0] == ' ');
    if (pad)
        fputc(' ', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c == '\n' || c == '\r' || c == '\t' || c < 0x20 ? ' ' : c, out);
    }
    if (pad)
        fputc(' ', out);
    fence(out, f);
}

void fl_md_code(FILE *out, const char *s)
{
    if (!s || !*s) {
        fputs("_(none)_", out);
        return;
    }
    code_span(out, s, strlen(s));
}

void fl_md_block(FILE *out, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    size_t f = FL_MAX(longest_backtick_run(s ? s : "", n) + 1, 3);
    fence(out, f);
    fputs("text\n", out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 || c == '\n' || c == '\t')
            fputc(c, out);
    }
    if (n && s[n - 1] != '\n')
        fputc('\n', out);
    fence(out, f);
    fputc('\n', out);
}

/* Words a renderer might turn into links: URLs, www. hosts, emails, mailto:. */
static bool linkish(const char *w, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++)
        if (w[i] == ':' && w[i + 1] == '/' && w[i + 2] == '/')
            return true;
    if (n >= 4 && strncmp(w, "www.", 4) == 0)
        return true;
    const char *at = memchr(w, '@', n);
    if (at && memchr(at, '.', n - (size_t)(at - w)))
        return true;
    return n >= 7 && strncmp(w, "mailto:", 7) == 0;
}

static bool is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static void escape_word(FILE *out, const char *w, size_t n, bool segment_start)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        bool esc = false;
        switch (c) {
        case '\\':
        case '`':
        case '*':
        case '[':
        case ']':
        case '<':
        case '>':
        case '|':
        case '~':
        case '&':
            esc = true;
            break;
        case '_':
            /* Intraword underscores (schema_validation) never emphasise in CommonMark. */
            esc = i == 0 || i + 1 == n || !is_alnum((unsigned char)w[i - 1]) ||
                  !is_alnum((unsigned char)w[i + 1]);
            break;
        case '#':
        case '+':
        case '-':
        case '=':
            esc = segment_start && i == 0;
            break;
        case '.':
        case ')':
            /* "1." or "1)" at the start would open an ordered list. */
            esc = segment_start && i > 0 && strspn(w, "0123456789") == i;
            break;
        case '!':
            esc = i + 1 < n && w[i + 1] == '[';
            break;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7f)
            continue;
        if (esc)
            fputc('\\', out);
        fputc(c, out);
    }
}

/* A `code span` already in the text (faultline's own summaries use them): the closing
 * backtick on the same line, non-empty content. Returns the content length or 0. */
static size_t span_at(const char *p)
{
    if (*p != '`')
        return 0;
    size_t n = strcspn(p + 1, "`\n");
    return p[1 + n] == '`' && n > 0 ? n : 0;
}

void fl_md_inline(FILE *out, const char *s)
{
    if (!s)
        return;
    bool first = true;
    const char *p = s;
    while (*p) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            /* Runs of whitespace collapse to one space: no line can start inside the text. */
            while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
                p++;
            if (*p)
                fputc(' ', out);
            continue;
        }
        size_t span = span_at(p);
        if (span) {
            code_span(out, p + 1, span); /* inert: nothing inside a code span is markup */
            p += span + 2;
            first = false;
            continue;
        }
        size_t n = strcspn(p, " \t\n\r`");
        if (n == 0)
            n = 1; /* a lone backtick */
        if (linkish(p, n))
            code_span(out, p, n);
        else
            escape_word(out, p, n, first);
        first = false;
        p += n;
    }
}
