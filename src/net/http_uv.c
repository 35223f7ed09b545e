/* libcurl's multi interface on a libuv loop (the pattern of curl's multi-uv example): curl tells
 * us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to time out
 * (CURLMOPT_TIMERFUNCTION); libuv tells curl when a socket is ready. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fl_http.h"
#include "fl_net.h"

#define HTTP_BODY_MAX (64 * 1024 * 1024)

typedef struct http_req {
    struct http_req *next;
    fl_http *h;
    CURL *easy;
    struct curl_slist *headers;
    char *body_out;
    fl_buf body_in;
    fl_http_cb cb;
    void *arg;
    char err[CURL_ERROR_SIZE];
} http_req;

typedef struct http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    fl_http *h;
} http_sock;

struct fl_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    http_req *reqs;
    int open_handles;
    bool closing;
    void (*done)(void *);
    void *done_arg;
};

static void req_free(http_req *r)
{
    curl_slist_free_all(r->headers);
    curl_easy_cleanup(r->easy);
    fl_free(r->body_out);
    fl_buf_free(&r->body_in);
    fl_free(r);
}

static void unlink_req(fl_http *h, http_req *r)
{
    for (http_req **p = &h->reqs; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            return;
        }
    }
}

static void check_done(fl_http *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        http_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode result = m->data.result;
        curl_multi_remove_handle(h->multi, m->easy_handle);
        unlink_req(h, r);
        fl_http_response resp = {0, r->body_in.data ? r->body_in.data : "", r->body_in.len, ""};
        if (result == CURLE_OK)
            curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.status);
        else
            resp.error = r->err[0] ? r->err : curl_easy_strerror(result);
        r->cb(r->arg, &resp);
        req_free(r);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    http_sock *s = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    fl_http *h = s->h;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    check_done(h);
}

static void on_timeout(uv_timer_t *t)
{
    fl_http *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    fl_http *h = userp;
    if (h->closing)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static void sock_closed(uv_handle_t *hd)
{
    http_sock *s = hd->data;
    fl_http *h = s->h;
    fl_free(s);
    if (--h->open_handles == 0 && h->closing) {
        void (*done)(void *) = h->done;
        void *arg = h->done_arg;
        fl_free(h);
        if (done)
            done(arg);
    }
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    fl_http *h = userp;
    http_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            curl_multi_assign(h->multi, fd, NULL);
            uv_close((uv_handle_t *)&s->poll, sock_closed);
        }
        return 0;
    }
    if (!s) {
        s = fl_calloc(1, sizeof(*s));
        if (!s)
            return -1;
        s->fd = fd;
        s->h = h;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
            fl_free(s);
            return -1;
        }
        s->poll.data = s;
        h->open_handles++;
        curl_multi_assign(h->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

int fl_http_new(fl_http **out, uv_loop_t *loop)
{
    *out = NULL;
    fl_http *h = fl_calloc(1, sizeof(*h));
    if (!h)
        return FL_ENOMEM;
    h->loop = loop;
    h->multi = curl_multi_init();
    if (!h->multi) {
        fl_free(h);
        return FL_ENOMEM;
    }
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    h->open_handles = 1;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    *out = h;
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    http_req *r = arg;
    if (fl_buf_add(&r->body_in, p, size * n) != 0)
        return 0; /* over the cap: curl aborts the transfer */
    return size * n;
}

bool fl_http_url_allowed(const char *url)
{
    char why[256];
    return fl_net_url_check(url, why, sizeof(why)) == 0;
}

int fl_http_post_json(fl_http *h, const char *url, const char *bearer, const char *body,
                      long timeout_s, fl_http_cb cb, void *arg)
{
    if (h->closing)
        return FL_EINVAL;
    if (!fl_http_url_allowed(url))
        return FL_EINVAL;
    http_req *r = fl_calloc(1, sizeof(*r));
    if (!r)
        return FL_ENOMEM;
    fl_buf_init(&r->body_in, HTTP_BODY_MAX);
    r->h = h;
    r->cb = cb;
    r->arg = arg;
    r->easy = curl_easy_init();
    r->body_out = fl_strdup(body);
    if (!r->easy || !r->body_out) {
        req_free(r);
        return FL_ENOMEM;
    }
    r->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (bearer && *bearer) {
        char hdr[4200];
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", bearer);
        r->headers = curl_slist_append(r->headers, hdr);
        memset(hdr, 0, sizeof(hdr));
    }
    curl_easy_setopt(r->easy, CURLOPT_URL, url);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body_out);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
    curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->err);
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, timeout_s > 0 ? timeout_s : 60L);
    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "");
    r->next = h->reqs;
    h->reqs = r;
    if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
        unlink_req(h, r);
        req_free(r);
        return FL_EIO;
    }
    return 0;
}

static void timer_closed(uv_handle_t *hd)
{
    fl_http *h = hd->data;
    if (--h->open_handles == 0) {
        void (*done)(void *) = h->done;
        void *arg = h->done_arg;
        fl_free(h);
        if (done)
            done(arg);
    }
}

void fl_http_close(fl_http *h, void (*done)(void *), void *arg)
{
    h->done = done;
    h->done_arg = arg;
    /* Removing the transfers makes curl report CURL_POLL_REMOVE for their sockets, which
     * closes the poll handles; callbacks of cancelled requests never run. */
    while (h->reqs) {
        http_req *r = h->reqs;
        h->reqs = r->next;
        curl_multi_remove_handle(h->multi, r->easy);
        req_free(r);
    }
    h->closing = true;
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, timer_closed);
}
