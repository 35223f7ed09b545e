/* gs:// inputs over the Cloud Storage JSON API.
 *
 *   list  GET {base}/storage/v1/b/BUCKET/o?prefix=P[&pageToken=T]  -> items[].name, nextPageToken
 *   get   GET {base}/storage/v1/b/BUCKET/o/NAME?alt=media[&generation=G]
 *
 * base is https://storage.googleapis.com, or STORAGE_EMULATOR_HOST (scheme http unless given,
 * no credentials: what Google's client libraries do with an emulator). Requests answered 408,
 * 429 or 5xx, and transport errors, are retried with exponential backoff (full jitter). A
 * download that breaks off resumes with Range: bytes=N- on the same generation; when the
 * server ignores the range (200), the first N bytes are skipped. Objects are read as stored
 * (Accept-Encoding: gzip, so a gzip-encoded object is not transcoded and byte offsets hold);
 * the stream's magic-byte check decodes gzip and zstd. */
#include "gcs.h"

#include "fl_http.h"
#include "fl_http_get.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define GCS_SCOPE "https://www.googleapis.com/auth/devstorage.read_only"
#define GCS_BASE "https://storage.googleapis.com"
#define GCS_TRIES 8        /* attempts per request before giving up */
#define GCS_BACKOFF_MS 100 /* first backoff ceiling; doubles per attempt */
#define GCS_BACKOFF_CAP_MS 10000
#define GCS_PAGE_MAX (32u << 20) /* one objects.list page */
#define GCS_URL_MAX 4096

struct fl_gcs {
    char base[512];
    bool emulator;
    fl_auth *auth;        /* created on first use, when not on an emulator */
    const fl_auth_env *auth_env;
    fl_http_share *share; /* one connection pool for the listing and every object */
    bool auth_failed;
};

bool fl_gcs_is_url(const char *s)
{
    return strncmp(s, "gs://", 5) == 0;
}

int fl_gcs_new(fl_gcs **out, const char *emulator_host, const fl_auth_env *auth)
{
    fl_gcs *g = fl_calloc(1, sizeof(*g));
    if (!g)
        return FL_ENOMEM;
    if (emulator_host && *emulator_host) {
        bool scheme = strstr(emulator_host, "://") != NULL;
        snprintf(g->base, sizeof g->base, "%s%s", scheme ? "" : "http://", emulator_host);
        size_t n = strlen(g->base);
        while (n > 0 && g->base[n - 1] == '/')
            g->base[--n] = '\0';
        g->emulator = true;
    } else {
        snprintf(g->base, sizeof g->base, "%s", GCS_BASE);
    }
    g->auth_env = auth;
    g->share = fl_http_share_new(); /* NULL only without memory: then no reuse */
    *out = g;
    return 0;
}

void fl_gcs_free(fl_gcs *g)
{
    if (!g)
        return;
    fl_http_share_free(g->share);
    fl_auth_free(g->auth);
    fl_free(g);
}

/* Percent-encodes s into b (everything but RFC 3986 unreserved characters). */
static int encode(fl_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            rc = fl_buf_addc(b, (char)*p);
        else
            rc = fl_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    return rc;
}

/* Splits gs://BUCKET/REST. Returns false when there is no bucket. */
static bool split_url(const char *url, char *bucket, size_t cap, const char **rest)
{
    const char *b = url + 5;
    size_t n = strcspn(b, "/");
    if (n == 0 || n >= cap)
        return false;
    memcpy(bucket, b, n);
    bucket[n] = '\0';
    *rest = b[n] ? b + n + 1 : "";
    return true;
}

/* The bearer token for the next request ("" on an emulator). */
static int token(fl_gcs *g, char *out, size_t cap, char *errbuf, size_t errlen)
{
    out[0] = '\0';
    if (g->emulator)
        return 0;
    if (!g->auth) {
        if (g->auth_failed)
            return FL_EAUTH;
        if (fl_auth_new(&g->auth, g->auth_env, GCS_SCOPE, errbuf, errlen) != 0) {
            g->auth_failed = true;
            return FL_EAUTH;
        }
    }
    return fl_auth_token(g->auth, out, cap, errbuf, errlen);
}

static bool retriable(long status)
{
    return status == 0 || status == 408 || status == 429 || status >= 500;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* GETs a listing page, retrying; 0 with the body, or an error with errbuf filled. */
static int get_page(fl_gcs *g, const char *url, fl_buf *body, char *errbuf, size_t errlen)
{
    char tok[4096];
    long status = 0;
    for (unsigned attempt = 0;; attempt++) {
        int rc = token(g, tok, sizeof tok, errbuf, errlen);
        if (rc)
            return rc;
        fl_http_get_opts o = {tok, 0, false, 0, 0, g->share};
        fl_buf_reset(body);
        rc = fl_http_get_all(url, &o, GCS_PAGE_MAX, &status, body, errbuf, errlen);
        memset(tok, 0, sizeof tok);
        if (rc == 0 && status == 200)
            return 0;
        if (rc == FL_ENOMEM || rc == FL_EINVAL || rc == FL_ETOOBIG)
            return rc;
        if (rc == 0 && !retriable(status)) {
            snprintf(errbuf, errlen, "HTTP %ld: %.200s", status, body->data ? body->data : "");
            return status == 404 ? FL_ENOTFOUND : FL_EIO;
        }
        if (attempt + 1 >= GCS_TRIES) {
            if (rc == 0)
                snprintf(errbuf, errlen, "HTTP %ld after %d attempts", status, GCS_TRIES);
            return FL_EIO;
        }
        sleep_ms(fl_backoff_ms(attempt, GCS_BACKOFF_MS, GCS_BACKOFF_CAP_MS));
    }
}

/* Adds the page's object names to list; *next gets a copy of nextPageToken (or NULL). */
static int add_page(const char *bucket, const fl_buf *body, fl_pathlist *list, char **next,
                    char *errbuf, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_loadb(body->data ? body->data : "", body->len, 0, &je);
    *next = NULL;
    if (!json_is_object(doc)) {
        snprintf(errbuf, errlen, "objects.list answer is not JSON: line %d column %d: %s", je.line,
                 je.column, je.text);
        json_decref(doc);
        return FL_EPARSE;
    }
    int rc = 0;
    json_t *items = json_object_get(doc, "items");
    for (size_t i = 0; i < json_array_size(items) && !rc; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(items, i), "name"));
        size_t n = name ? strlen(name) : 0;
        if (!n || name[n - 1] == '/')
            continue;
        fl_buf p;
        fl_buf_init(&p, GCS_URL_MAX);
        if ((rc = fl_buf_printf(&p, "gs://%s/%s", bucket, name)) != 0) {
            fl_buf_free(&p);
            break;
        }
        if (list->n == list->cap) {
            size_t cap = list->cap ? list->cap * 2 : 64;
            char **v = fl_realloc(list->paths, cap * sizeof(char *));
            if (!v) {
                fl_buf_free(&p);
                rc = FL_ENOMEM;
                break;
            }
            list->paths = v;
            list->cap = cap;
        }
        list->paths[list->n++] = fl_buf_detach(&p);
    }
    const char *tok = json_string_value(json_object_get(doc, "nextPageToken"));
    if (!rc && tok && *tok && !(*next = fl_strdup(tok)))
        rc = FL_ENOMEM;
    json_decref(doc);
    return rc;
}

int fl_gcs_list(fl_gcs *g, const char *url, fl_pathlist *list, fl_diag *diag)
{
    char bucket[256], err[512] = "";
    const char *prefix;
    if (!split_url(url, bucket, sizeof bucket, &prefix)) {
        fl_diag_warn(diag, FL_WARN_UNREADABLE, url, 0, "%s: expected gs://BUCKET/PREFIX", url);
        return FL_ENOTFOUND;
    }
    fl_buf req, body;
    fl_buf_init(&req, GCS_URL_MAX);
    fl_buf_init(&body, GCS_PAGE_MAX + 1);
    char *next = NULL;
    size_t before = list->n;
    int rc = 0;
    unsigned pages = 0;
    do {
        fl_buf_reset(&req);
        rc = fl_buf_printf(&req, "%s/storage/v1/b/", g->base);
        if (!rc)
            rc = encode(&req, bucket);
        if (!rc)
            rc = fl_buf_addstr(&req, "/o?fields=items(name),nextPageToken&prefix=");
        if (!rc)
            rc = encode(&req, prefix);
        if (!rc && next) {
            rc = fl_buf_addstr(&req, "&pageToken=");
            if (!rc)
                rc = encode(&req, next);
        }
        fl_free(next);
        next = NULL;
        if (!rc)
            rc = get_page(g, req.data, &body, err, sizeof err);
        if (!rc)
            rc = add_page(bucket, &body, list, &next, err, sizeof err);
        pages++;
    } while (!rc && next);
    fl_free(next);
    fl_buf_free(&req);
    fl_buf_free(&body);
    if (rc == FL_ENOMEM)
        return rc;
    if (rc) {
        /* a listing cut short would silently leave objects out: the input is unusable */
        for (size_t i = before; i < list->n; i++)
            fl_free(list->paths[i]);
        list->n = before;
        fl_diag_warn(diag, FL_WARN_UNREADABLE, url, 0, "%s: cannot list objects (page %u): %s", url,
                     pages, err);
        return FL_ENOTFOUND;
    }
    return 0;
}

/* ---- one object ---- */

typedef struct gcs_obj {
    fl_gcs *g;
    char *url;           /* media URL without the generation */
    char generation[32]; /* from the first response: resumes read the same bytes */
    fl_http_get *get;
    uint64_t got;      /* bytes handed out */
    uint64_t skip;     /* bytes to drop: a resume the server answered from the start */
    unsigned failures; /* attempts that failed, over the object's life */
} gcs_obj;

static void obj_close(void *ctx)
{
    gcs_obj *o = ctx;
    if (!o)
        return;
    fl_http_get_close(o->get);
    fl_free(o->url);
    fl_free(o);
}

/* (Re)starts the transfer at o->got. 0, 1 when the object turns out to be complete (416 to a
 * resume at its end), or an error with errbuf filled. */
static int obj_start(gcs_obj *o, char *errbuf, size_t errlen)
{
    char tok[4096], url[GCS_URL_MAX + 64];
    for (;;) {
        int rc = token(o->g, tok, sizeof tok, errbuf, errlen);
        if (rc)
            return rc;
        if (o->generation[0])
            snprintf(url, sizeof url, "%s&generation=%s", o->url, o->generation);
        else
            snprintf(url, sizeof url, "%s", o->url);
        fl_http_get_opts go = {tok, o->got, true, 0, 0, o->g->share};
        rc = fl_http_get_open(&o->get, url, &go, errbuf, errlen);
        memset(tok, 0, sizeof tok);
        long status = o->get ? fl_http_get_status(o->get) : 0;
        if (rc == 0 && (status == 200 || status == 206)) {
            if (!o->generation[0]) {
                const char *gen = fl_http_get_header(o->get, "x-goog-generation");
                if (strspn(gen, "0123456789") == strlen(gen) && strlen(gen) < sizeof o->generation)
                    memcpy(o->generation, gen, strlen(gen) + 1);
            }
            o->skip = status == 200 ? o->got : 0;
            unsigned long long from = 0;
            if (status == 206 &&
                (sscanf(fl_http_get_header(o->get, "content-range"), "bytes %llu-", &from) != 1 ||
                 from != o->got)) {
                snprintf(errbuf, errlen, "resumed at byte %llu but the server sent range '%s'",
                         (unsigned long long)o->got, fl_http_get_header(o->get, "content-range"));
                fl_http_get_close(o->get);
                o->get = NULL;
                return FL_EIO;
            }
            return 0;
        }
        if (rc == FL_ENOMEM || rc == FL_EINVAL)
            return rc;
        fl_http_get_close(o->get);
        o->get = NULL;
        if (rc == 0 && status == 416 && o->got > 0)
            return 1; /* the break came after the last byte: nothing is left to resume */
        if (rc == 0 && !retriable(status)) {
            snprintf(errbuf, errlen, "HTTP %ld", status);
            return status == 404 ? FL_ENOTFOUND : FL_EIO;
        }
        if (++o->failures >= GCS_TRIES) {
            if (rc == 0)
                snprintf(errbuf, errlen, "HTTP %ld, %u attempts", status, o->failures);
            return FL_EIO;
        }
        sleep_ms(fl_backoff_ms(o->failures - 1, GCS_BACKOFF_MS, GCS_BACKOFF_CAP_MS));
    }
}

static ssize_t obj_read(void *ctx, char *buf, size_t n, char *errbuf, size_t errlen)
{
    gcs_obj *o = ctx;
    for (;;) {
        if (!o->get) {
            int rc = obj_start(o, errbuf, errlen);
            if (rc == 1)
                return 0;
            if (rc) {
                char why[256];
                snprintf(why, sizeof why, "%s", errbuf);
                snprintf(errbuf, errlen, "download broke off and could not be resumed: %s", why);
                return rc;
            }
        }
        ssize_t got = fl_http_get_read(o->get, buf, n, errbuf, errlen);
        if (got > 0 && o->skip) {
            uint64_t drop = FL_MIN(o->skip, (uint64_t)got);
            o->skip -= drop;
            memmove(buf, buf + drop, (size_t)got - drop);
            got -= (ssize_t)drop;
            if (got == 0)
                continue;
        }
        if (got > 0) {
            o->got += (uint64_t)got;
            return got;
        }
        if (got == 0 && !o->skip)
            return 0;
        /* broken off (or ended before the bytes to skip): resume where we are */
        fl_http_get_close(o->get);
        o->get = NULL;
        if (++o->failures >= GCS_TRIES) {
            char why[256];
            snprintf(why, sizeof why, "%s", got == 0 ? "body ended early" : errbuf);
            snprintf(errbuf, errlen, "gave up after %u attempts: %s", o->failures, why);
            return FL_EIO;
        }
        sleep_ms(fl_backoff_ms(o->failures - 1, GCS_BACKOFF_MS, GCS_BACKOFF_CAP_MS));
    }
}

int fl_gcs_open(fl_gcs *g, const char *url, fl_stream_source *src, char *errbuf, size_t errlen)
{
    char bucket[256];
    const char *name;
    if (!split_url(url, bucket, sizeof bucket, &name) || !*name) {
        snprintf(errbuf, errlen, "expected gs://BUCKET/OBJECT");
        return FL_ENOTFOUND;
    }
    gcs_obj *o = fl_calloc(1, sizeof(*o));
    if (!o)
        return FL_ENOMEM;
    o->g = g;
    fl_buf u;
    fl_buf_init(&u, GCS_URL_MAX);
    int rc = fl_buf_printf(&u, "%s/storage/v1/b/", g->base);
    if (!rc)
        rc = encode(&u, bucket);
    if (!rc)
        rc = fl_buf_addstr(&u, "/o/");
    if (!rc)
        rc = encode(&u, name);
    if (!rc)
        rc = fl_buf_addstr(&u, "?alt=media");
    if (rc) {
        fl_buf_free(&u);
        fl_free(o);
        snprintf(errbuf, errlen, "%s", fl_strerror(rc));
        return rc == FL_ENOMEM ? rc : FL_ENOTFOUND;
    }
    o->url = fl_buf_detach(&u);
    if ((rc = obj_start(o, errbuf, errlen)) != 0) {
        obj_close(o);
        return rc == 1 ? FL_EIO : rc; /* 1 needs bytes already read: not at the start */
    }
    src->read = obj_read;
    src->close = obj_close;
    src->ctx = o;
    return 0;
}
