/* Remote URLs made browsable, and the compare link between two commits. Pure string work. */
#include <stdio.h>
#include <string.h>

#include "suspects.h"

void fl_suspect_web_url(const char *remote, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!remote || !*remote || size < 16)
        return;
    char host[256] = "", path[512] = "";
    const char *scheme_end = strstr(remote, "://");
    if (scheme_end) {
        /* https://[user[:token]@]host[:port]/path, ssh://git@host[:port]/path */
        if (strncmp(remote, "http", 4) != 0 && strncmp(remote, "ssh", 3) != 0 &&
            strncmp(remote, "git", 3) != 0)
            return; /* file:// and the like: nothing to browse */
        const char *h = scheme_end + 3;
        const char *slash = strchr(h, '/');
        if (!slash)
            return;
        const char *at = memchr(h, '@', (size_t)(slash - h));
        if (at)
            h = at + 1; /* credentials never go into a report */
        size_t hlen = (size_t)(slash - h);
        const char *colon = memchr(h, ':', hlen);
        if (colon && strncmp(remote, "http", 4) != 0)
            hlen = (size_t)(colon - h); /* an ssh port is not the web port */
        snprintf(host, sizeof(host), "%.*s", (int)hlen, h);
        snprintf(path, sizeof(path), "%s", slash + 1);
    } else {
        /* scp-like: [user@]host:owner/repo.git */
        const char *colon = strchr(remote, ':');
        if (!colon || remote[0] == '/' || remote[0] == '.')
            return;
        const char *h = remote;
        const char *at = memchr(remote, '@', (size_t)(colon - remote));
        if (at)
            h = at + 1;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - h), h);
        snprintf(path, sizeof(path), "%s", colon + 1);
    }
    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/')
        path[--plen] = '\0';
    if (plen > 4 && strcmp(path + plen - 4, ".git") == 0)
        path[plen - 4] = '\0';
    if (!host[0] || !path[0] || !strchr(host, '.'))
        return;
    snprintf(buf, size, "https://%s/%s", host, path);
}

void fl_suspect_compare_url(const char *web, const char *prev, const char *bad, char *buf,
                            size_t size)
{
    buf[0] = '\0';
    if (!web || !*web || !prev || !*prev || !bad || !*bad)
        return;
    if (strstr(web, "gitlab"))
        snprintf(buf, size, "%s/-/compare/%s...%s", web, prev, bad);
    else if (strstr(web, "bitbucket.org"))
        snprintf(buf, size, "%s/branches/compare/%s%%0D%s", web, bad, prev);
    else
        snprintf(buf, size, "%s/compare/%s...%s", web, prev, bad);
}
