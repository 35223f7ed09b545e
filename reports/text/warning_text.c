/* An input warning's message without the "file:line: " prefix some readers put in it. */
#include "warning_text.h"

#include <string.h>

const char *fl_warning_text(const fl_warning *w)
{
    const char *m = w->message ? w->message : "";
    size_t n = strlen(w->file);
    if (n == 0 || strncmp(m, w->file, n) != 0 || m[n] != ':')
        return m;
    const char *p = m + n + 1;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == ':')
        p++;
    while (*p == ' ')
        p++;
    return *p ? p : m;
}
