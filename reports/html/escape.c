/* HTML escaping for untrusted text: log lines, templates, descriptions. */
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
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
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
