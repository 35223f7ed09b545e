/* Attachment targets: which kind a URL is, the URL actually requested, and the transport
 * rule (https, or plain http only to loopback). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attach.h"
#include "fl_net.h"

const char *fl_attach_kind_name(fl_attach_kind k)
{
    switch (k) {
    case FL_ATTACH_GITHUB:
        return "github";
    case FL_ATTACH_SLACK:
        return "slack";
    case FL_ATTACH_WEBHOOK:
        break;
    }
    return "webhook";
}

static bool is_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/* Splits "/a/b/c..." into at most max components (pointers into a copy in buf). */
static size_t split_path(const char *path, char *buf, size_t size, char **parts, size_t max)
{
    snprintf(buf, size, "%s", path);
    size_t n = 0;
    for (char *tok = strtok(buf, "/"); tok && n < max; tok = strtok(NULL, "/"))
        parts[n++] = tok;
    return n;
}

static bool all(const char *s, bool (*pred)(int))
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!pred((unsigned char)*s))
            return false;
    return true;
}

static bool is_digit_c(int c)
{
    return c >= '0' && c <= '9';
}

int fl_attach_resolve(const char *url, const fl_attach_opts *opts, fl_attach_kind *kind, char **out,
                      char *errbuf, size_t errlen)
{
    static const fl_attach_opts none = {0};
    if (!opts)
        opts = &none;
    *out = NULL;
    *kind = FL_ATTACH_WEBHOOK;
    if (!url || !*url) {
        snprintf(errbuf, errlen, "empty URL");
        return FL_EINVAL;
    }
    char host[256], path[1024];
    if (fl_net_url_split(url, host, sizeof(host), path, sizeof(path)) != 0) {
        snprintf(errbuf, errlen, "not a valid URL");
        return FL_EINVAL;
    }
    char buf[1024], *p[8];
    size_t n = split_path(path, buf, sizeof(buf), p, FL_ARRAY_LEN(p));
    fl_buf u;
    fl_buf_init(&u, 4096);
    int rc = 0;
    if (strcasecmp(host, "github.com") == 0 || strcasecmp(host, "api.github.com") == 0) {
        /* github.com/O/R/issues/N (or /pull/N) and api.github.com/repos/O/R/issues/N/comments */
        bool web = strcasecmp(host, "github.com") == 0;
        size_t o = web ? 0 : 1;
        bool ok = web ? n >= 4 && (strcmp(p[2], "issues") == 0 || strcmp(p[2], "pull") == 0)
                      : n == 6 && strcmp(p[0], "repos") == 0 && strcmp(p[3], "issues") == 0 &&
                            strcmp(p[5], "comments") == 0;
        if (!ok || !all(p[o], is_name_char) || !all(p[o + 1], is_name_char) ||
            !all(p[o + 3], is_digit_c)) {
            snprintf(errbuf, errlen,
                     "GitHub URL must name an issue or pull request: "
                     "https://github.com/OWNER/REPO/issues/N");
            rc = FL_EINVAL;
        } else {
            const char *base =
                opts->github_api_base ? opts->github_api_base : "https://api.github.com";
            size_t bl = strlen(base);
            while (bl && base[bl - 1] == '/')
                bl--;
            rc = fl_buf_add(&u, base, bl);
            if (!rc)
                rc = fl_buf_printf(&u, "/repos/%s/%s/issues/%s/comments", p[o], p[o + 1],
                                   p[o + 3]);
            *kind = FL_ATTACH_GITHUB;
        }
    } else if (strcasecmp(host, "hooks.slack.com") == 0) {
        const char *base = opts->slack_base;
        if (base) {
            size_t bl = strlen(base);
            while (bl && base[bl - 1] == '/')
                bl--;
            rc = fl_buf_add(&u, base, bl);
            if (!rc)
                rc = fl_buf_addstr(&u, path);
        } else {
            rc = fl_buf_addstr(&u, url);
        }
        *kind = FL_ATTACH_SLACK;
    } else {
        rc = fl_buf_addstr(&u, url);
    }
    if (rc == FL_ETOOBIG) {
        snprintf(errbuf, errlen, "URL too long");
        rc = FL_EINVAL;
    }
    if (rc == 0 && !u.data)
        rc = FL_ENOMEM;
    if (rc == 0)
        rc = fl_net_url_check(u.data, errbuf, errlen);
    if (rc < 0) {
        fl_buf_free(&u);
        return rc;
    }
    *out = fl_buf_detach(&u);
    return 0;
}
