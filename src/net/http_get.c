/* Blocking streaming GET (fl_http_get.h): curl's multi interface on one easy handle, performed
 * only while the caller waits for bytes. The write callback pauses the transfer once a chunk
 * is buffered, so at most one chunk (plus what curl holds) is in memory. */
#include "fl_http_get.h"
#include "fl_http.h"

#include <curl/curl.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define GET_BUFFER (256 * 1024) /* pause the transfer past this many buffered bytes */
#define HEADER_VALUE_MAX 256

typedef struct header {
    const char *name;
    char value[HEADER_VALUE_MAX];
} header;

struct fl_http_get {
    CURLM *multi;
    CURL *easy;
    struct curl_slist *headers;
    char *buf; /* body bytes not yet read: [pos, len) */
    size_t pos, len;
    bool paused;
    bool done;       /* the transfer finished */
    CURLcode result; /* when done */
    bool got_headers;
    long status;
    header hdr[4];
    char curl_err[CURL_ERROR_SIZE];
};

struct fl_http_share {
    CURLSH *sh;
};

fl_http_share *fl_http_share_new(void)
{
    fl_http_share *s = fl_calloc(1, sizeof(*s));
    if (!s || !(s->sh = curl_share_init())) {
        fl_free(s);
        return NULL;
    }
    curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return s;
}

void fl_http_share_free(fl_http_share *s)
{
    if (!s)
        return;
    curl_share_cleanup(s->sh);
    fl_free(s);
}

static const char *const header_names[] = {"content-encoding", "content-range", "x-goog-generation",
                                           "retry-after"};

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    fl_http_get *g = arg;
    size_t len = size * n;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or 100-continue): forget the previous headers */
        for (size_t i = 0; i < FL_ARRAY_LEN(g->hdr); i++)
            g->hdr[i].value[0] = '\0';
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    size_t name_len = (size_t)(colon - p);
    for (size_t i = 0; i < FL_ARRAY_LEN(g->hdr); i++) {
        if (strlen(g->hdr[i].name) != name_len || strncasecmp(p, g->hdr[i].name, name_len))
            continue;
        const char *v = colon + 1, *end = p + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && isspace((unsigned char)end[-1]))
            end--;
        size_t vn = FL_MIN((size_t)(end - v), (size_t)HEADER_VALUE_MAX - 1);
        memcpy(g->hdr[i].value, v, vn);
        g->hdr[i].value[vn] = '\0';
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    fl_http_get *g = arg;
    size_t len = size * n;
    if (g->len - g->pos >= GET_BUFFER) {
        g->paused = true;
        return CURL_WRITEFUNC_PAUSE; /* curl hands the same bytes again after unpausing */
    }
    if (g->pos > 0) {
        memmove(g->buf, g->buf + g->pos, g->len - g->pos);
        g->len -= g->pos;
        g->pos = 0;
    }
    char *nb = fl_realloc(g->buf, g->len + len + 1);
    if (!nb)
        return 0; /* curl ends the transfer with a write error */
    g->buf = nb;
    memcpy(g->buf + g->len, p, len);
    g->len += len;
    return len;
}

/* Performs until there are body bytes (or, with headers_only, the status is known) or the
 * transfer ends. */
static void pump(fl_http_get *g, bool headers_only)
{
    while (!g->done) {
        if (g->len > g->pos && !headers_only)
            return;
        long code = 0;
        curl_easy_getinfo(g->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code > 0 && headers_only && (g->len > g->pos || code >= 300))
            break;
        if (g->paused) {
            g->paused = false;
            curl_easy_pause(g->easy, CURLPAUSE_CONT);
        }
        int running = 0;
        curl_multi_perform(g->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(g->multi, &left)) != NULL)
            if (m->msg == CURLMSG_DONE) {
                g->done = true;
                g->result = m->data.result;
            }
        if (!g->done && running && !(g->len > g->pos))
            curl_multi_poll(g->multi, NULL, 0, 500, NULL);
    }
    curl_easy_getinfo(g->easy, CURLINFO_RESPONSE_CODE, &g->status);
}

static void set_err(char *errbuf, size_t errlen, const fl_http_get *g)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s",
                 g->curl_err[0] ? g->curl_err : curl_easy_strerror(g->result));
}

int fl_http_get_open(fl_http_get **out, const char *url, const fl_http_get_opts *opts, char *errbuf,
                     size_t errlen)
{
    *out = NULL;
    if (!fl_http_url_allowed(url)) {
        snprintf(errbuf, errlen, "refusing %.200s: only https, or http to a loopback host", url);
        return FL_EINVAL;
    }
    fl_http_get *g = fl_calloc(1, sizeof(*g));
    if (!g)
        return FL_ENOMEM;
    for (size_t i = 0; i < FL_ARRAY_LEN(g->hdr); i++)
        g->hdr[i].name = header_names[i];
    g->multi = curl_multi_init();
    g->easy = curl_easy_init();
    if (!g->multi || !g->easy) {
        fl_http_get_close(g);
        return FL_ENOMEM;
    }
    char line[4200];
    if (opts->bearer && *opts->bearer) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", opts->bearer);
        g->headers = curl_slist_append(g->headers, line);
        memset(line, 0, sizeof line);
    }
    if (opts->accept_gzip)
        g->headers = curl_slist_append(g->headers, "Accept-Encoding: gzip");
    if (opts->range_from) {
        snprintf(line, sizeof line, "Range: bytes=%llu-", (unsigned long long)opts->range_from);
        g->headers = curl_slist_append(g->headers, line);
    }
    curl_easy_setopt(g->easy, CURLOPT_URL, url);
    curl_easy_setopt(g->easy, CURLOPT_HTTPHEADER, g->headers);
    curl_easy_setopt(g->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(g->easy, CURLOPT_WRITEDATA, g);
    curl_easy_setopt(g->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(g->easy, CURLOPT_HEADERDATA, g);
    curl_easy_setopt(g->easy, CURLOPT_ERRORBUFFER, g->curl_err);
    curl_easy_setopt(g->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(g->easy, CURLOPT_CONNECTTIMEOUT,
                     opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 30L);
    curl_easy_setopt(g->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(g->easy, CURLOPT_LOW_SPEED_TIME,
                     opts->stall_timeout_s > 0 ? opts->stall_timeout_s : 60L);
    curl_easy_setopt(g->easy, CURLOPT_USERAGENT, "faultline");
    curl_easy_setopt(g->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (opts->share)
        curl_easy_setopt(g->easy, CURLOPT_SHARE, opts->share->sh);
    curl_multi_add_handle(g->multi, g->easy);
    pump(g, true);
    if (g->status == 0) {
        set_err(errbuf, errlen, g);
        fl_http_get_close(g);
        return FL_EIO;
    }
    *out = g;
    return 0;
}

long fl_http_get_status(const fl_http_get *g)
{
    return g->status;
}

const char *fl_http_get_header(const fl_http_get *g, const char *name)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(g->hdr); i++)
        if (strcasecmp(g->hdr[i].name, name) == 0)
            return g->hdr[i].value;
    return "";
}

ssize_t fl_http_get_read(fl_http_get *g, char *buf, size_t n, char *errbuf, size_t errlen)
{
    pump(g, false);
    if (g->len > g->pos) {
        size_t k = FL_MIN(n, g->len - g->pos);
        memcpy(buf, g->buf + g->pos, k);
        g->pos += k;
        return (ssize_t)k;
    }
    if (g->result != CURLE_OK) {
        set_err(errbuf, errlen, g);
        return FL_EIO;
    }
    return 0;
}

void fl_http_get_close(fl_http_get *g)
{
    if (!g)
        return;
    if (g->multi && g->easy)
        curl_multi_remove_handle(g->multi, g->easy);
    if (g->easy)
        curl_easy_cleanup(g->easy);
    if (g->multi)
        curl_multi_cleanup(g->multi);
    curl_slist_free_all(g->headers);
    fl_free(g->buf);
    fl_free(g);
}

int fl_http_get_all(const char *url, const fl_http_get_opts *opts, size_t max, long *status,
                    fl_buf *body, char *errbuf, size_t errlen)
{
    fl_http_get *g;
    *status = 0;
    int rc = fl_http_get_open(&g, url, opts, errbuf, errlen);
    if (rc)
        return rc;
    *status = g->status;
    char chunk[16384];
    ssize_t got;
    while ((got = fl_http_get_read(g, chunk, sizeof chunk, errbuf, errlen)) > 0) {
        if (body->len + (size_t)got > max) {
            fl_http_get_close(g);
            return FL_ETOOBIG;
        }
        if ((rc = fl_buf_add(body, chunk, (size_t)got)) != 0) {
            fl_http_get_close(g);
            return rc;
        }
    }
    fl_http_get_close(g);
    return got < 0 ? (int)got : 0;
}
