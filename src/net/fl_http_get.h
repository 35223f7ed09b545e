/* A blocking, streaming HTTP GET for batch readers (gs:// objects and their listings), where
 * the caller pulls bytes as it parses them and no event loop runs. One libcurl easy handle
 * driven by a private multi handle: fl_http_get_read performs the transfer until some body
 * bytes are buffered, so memory stays at about one network chunk whatever the object size.
 *
 * The body is handed over as the server sent it: no Accept-Encoding is negotiated by curl,
 * so a Range offset counts the bytes of the stored object, and a gzip body (a .gz object, or
 * Content-Encoding: gzip when the caller asks for it) is decoded by the reader's magic-byte
 * check, not here. TLS is always verified; plain http only to loopback hosts. */
#ifndef FL_HTTP_GET_H
#define FL_HTTP_GET_H

#include "fl_common.h"

#include <sys/types.h>

typedef struct fl_http_get fl_http_get;
/* Connections (and DNS and TLS sessions) kept between the GETs that share it, so reading a
 * thousand objects does not cost a thousand TLS handshakes. Not thread-safe: one reader. */
typedef struct fl_http_share fl_http_share;

fl_http_share *fl_http_share_new(void);
void fl_http_share_free(fl_http_share *s);

typedef struct fl_http_get_opts {
    const char *bearer;     /* Authorization: Bearer, or NULL */
    uint64_t range_from;    /* > 0: Range: bytes=range_from- */
    bool accept_gzip;       /* send Accept-Encoding: gzip (the body stays encoded) */
    long connect_timeout_s; /* 0: 30 */
    long stall_timeout_s;   /* no byte for this long ends the transfer; 0: 60 */
    fl_http_share *share;   /* NULL: a connection of its own */
} fl_http_get_opts;

/* Starts a GET of url and waits for the response headers. Returns 0 with *out set (whatever
 * the status: see fl_http_get_status), or FL_EIO with errbuf holding the transport error
 * ("Connection refused"), FL_EINVAL for a URL that is neither https nor loopback http, or
 * FL_ENOMEM. */
int fl_http_get_open(fl_http_get **out, const char *url, const fl_http_get_opts *opts, char *errbuf,
                     size_t errlen);
long fl_http_get_status(const fl_http_get *g);
/* A response header's value ("" when absent): content-encoding, content-range,
 * x-goog-generation, retry-after. */
const char *fl_http_get_header(const fl_http_get *g, const char *name);
/* Reads up to n body bytes. Returns the count (> 0), 0 when the body is complete, or FL_EIO
 * when the transfer broke off (errbuf says why; the bytes before it were delivered). */
ssize_t fl_http_get_read(fl_http_get *g, char *buf, size_t n, char *errbuf, size_t errlen);
void fl_http_get_close(fl_http_get *g);

/* The whole body of a small response (at most max bytes) into body (initialised by the
 * caller); *status as above. Returns 0, FL_EIO (transport, errbuf), FL_ETOOBIG. */
int fl_http_get_all(const char *url, const fl_http_get_opts *opts, size_t max, long *status,
                    fl_buf *body, char *errbuf, size_t errlen);

#endif
