/* Route templates (see route.h). */
#include "route.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A segment of n bytes, `digits` of them digits. */
static bool is_identifier(size_t n, size_t digits)
{
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
        /* The segment's end and its digits in one pass (isdigit's table per byte, in a second
         * pass, was a third of a 5xx entry's template; issue 15). */
        size_t j = i, digits = 0;
        for (; j < end && p[j] != '/'; j++)
            digits += (unsigned)(unsigned char)p[j] - '0' < 10;
        const char *seg = p + i;
        size_t n = j - i;
        /* Built by hand, as snprintf would ("/%.*s"): snprintf per segment was most of a 5xx
         * entry's cost (issue 15). A segment that does not fit whole is left out. */
        bool more = ++segments > FL_ROUTE_MAX_SEGMENTS, id = !more && is_identifier(n, digits);
        const char *put = more ? "/..." : id ? "/<id>" : seg;
        size_t need = more ? 4 : id ? 5 : 1 + n;
        if (need >= cap - len) {
            out[len] = '\0';
            return;
        }
        if (more || id) {
            memcpy(out + len, put, need);
        } else {
            out[len] = '/';
            memcpy(out + len + 1, seg, n);
        }
        len += need;
        out[len] = '\0';
        if (segments > FL_ROUTE_MAX_SEGMENTS)
            return;
        i = j;
    }
    if (!len)
        snprintf(out, cap, "/");
}
