/* Route templates (see route.h). */
#include "route.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_identifier(const char *s, size_t n)
{
    size_t digits = 0;
    for (size_t i = 0; i < n; i++)
        digits += isdigit((unsigned char)s[i]) != 0;
    return (digits && digits == n) || digits >= 3 || (n >= 16 && digits);
}

void fl_route_template(const char *url, char *out, size_t cap)
{
    size_t len = 0;
    if (!cap)
        return;
    out[0] = '\0';
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (!p || !*p)
        p = "/";
    size_t end = strcspn(p, "?#");
    int segments = 0;
    for (size_t i = 0; i < end;) {
        if (p[i] == '/') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < end && p[j] != '/')
            j++;
        const char *seg = p + i;
        size_t n = j - i;
        int w = ++segments > FL_ROUTE_MAX_SEGMENTS
                    ? snprintf(out + len, cap - len, "/...")
                : is_identifier(seg, n) ? snprintf(out + len, cap - len, "/<id>")
                                        : snprintf(out + len, cap - len, "/%.*s", (int)n, seg);
        if (w < 0 || (size_t)w >= cap - len) {
            out[len] = '\0';
            return;
        }
        len += (size_t)w;
        if (segments > FL_ROUTE_MAX_SEGMENTS)
            return;
        i = j;
    }
    if (!len)
        snprintf(out, cap, "/");
}
