/* HTML escaping for untrusted text: log lines, templates, descriptions. */
#include <stdlib.h>
#include <string.h>

#include "html.h"

void fl_html_escape(FILE *out, const char *s)
{
    if (!s)
        return;
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        const char *rep = NULL;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\n':
        case '\t':
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                rep = ""; /* control bytes have no place in a page */
        }
        if (!c || rep) {
            fwrite(run, 1, (size_t)(p - run), out);
            if (!c)
                return;
            fputs(rep, out);
            run = p + 1;
        }
    }
}

void fl_html_prose(FILE *out, const char *s)
{
    if (!s)
        return;
    const char *p = s;
    while (*p) {
        const char *tick = strchr(p, '`');
        const char *close = tick ? strchr(tick + 1, '`') : NULL;
        if (!tick || !close || close == tick + 1) {
            fl_html_escape(out, p);
            return;
        }
        char *before = strndup(p, (size_t)(tick - p));
        char *inner = strndup(tick + 1, (size_t)(close - tick - 1));
        if (before && inner) {
            fl_html_escape(out, before);
            fputs("<code>", out);
            fl_html_escape(out, inner);
            fputs("</code>", out);
        }
        free(before);
        free(inner);
        p = close + 1;
    }
}
