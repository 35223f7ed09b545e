/* Core helpers shared by every stage: error codes, the allocation wrapper, a capped growable
 * buffer and UTC time conversion. Nothing here prints. */
#ifndef FL_COMMON_H
#define FL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One list gives each error its code, name and message (the libuv UV_ERRNO_MAP habit). */
#define FL_ERRNO_MAP(X)                                                                            \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(IO, -2, "input/output error")                                                                \
    X(PARSE, -3, "malformed input")                                                                \
    X(TOOBIG, -4, "size limit exceeded")                                                           \
    X(TRUNCATED, -5, "input truncated")                                                            \
    X(INVAL, -6, "invalid argument")                                                               \
    X(NOTFOUND, -7, "not found")                                                               \
    X(AGAIN, -8, "temporarily unavailable, try again")                                             \
    X(PROTO, -9, "protocol error")                                                                 \
    X(AUTH, -10, "authentication failed")

enum {
    FL_OK = 0,
#define FL_ERR_ENUM(name, code, msg) FL_E##name = (code),
    FL_ERRNO_MAP(FL_ERR_ENUM)
#undef FL_ERR_ENUM
};

/* Returns the message of an FL_E* code ("unknown error" for others). Never NULL. */
const char *fl_strerror(int code);
/* Returns the short name ("NOMEM") of an FL_E* code. */
const char *fl_errname(int code);

/* Every allocation goes through these so tests can make the Nth one fail (curl's torture
 * mode). fl_alloc_fail_after(n): the (n+1)th allocation from now fails; -1 disables. */
void *fl_malloc(size_t n);
void *fl_calloc(size_t count, size_t n);
void *fl_realloc(void *p, size_t n);
char *fl_strdup(const char *s);
char *fl_strndup(const char *s, size_t n);
void fl_free(void *p);
void fl_alloc_fail_after(long n);

/* A growable byte buffer with a hard maximum (curl's dynbuf). Always NUL-terminated when
 * non-empty. An append that would pass max, or cannot allocate, frees the content and returns
 * FL_ETOOBIG or FL_ENOMEM: a buffer never holds half a document. The appends must be checked
 * (warn_unused_result); after a failure the buffer is empty and may be reused. */
typedef struct fl_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} fl_buf;

#define FL_MUST_CHECK __attribute__((warn_unused_result))

void fl_buf_init(fl_buf *b, size_t max);
int fl_buf_add(fl_buf *b, const void *p, size_t n) FL_MUST_CHECK;
int fl_buf_addc(fl_buf *b, char c) FL_MUST_CHECK;
int fl_buf_addstr(fl_buf *b, const char *s) FL_MUST_CHECK;
int fl_buf_printf(fl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)))
FL_MUST_CHECK;
void fl_buf_reset(fl_buf *b);
/* Hands the data to the caller (who frees it with fl_free) and resets the buffer. */
char *fl_buf_detach(fl_buf *b);
void fl_buf_free(fl_buf *b);

/* Time: microseconds since the Unix epoch, UTC. 0 means "unknown". */
typedef int64_t fl_time;
#define FL_USEC_PER_SEC INT64_C(1000000)

/* Parses RFC 3339 ("2026-11-20T10:42:07.123456789Z", "+00:00" offsets, fraction optional).
 * Rejects what RFC 3339 rejects: days that do not exist (Feb 30, Feb 29 of a common year),
 * hours past 23, offsets past +23:59. The epoch itself parses as 1 (0 means unknown).
 * Returns 0 and sets *out, or FL_EPARSE. */
int fl_time_parse(const char *s, size_t n, fl_time *out);
/* Formats as "2026-11-20T10:42:07.123456Z" (with_frac) or "2026-11-20T10:42:07Z".
 * buf needs 32 bytes. Returns buf. */
char *fl_time_format(fl_time t, bool with_frac, char *buf, size_t size);
/* "10:42:07" (UTC clock time only). buf needs 16 bytes. */
char *fl_time_clock(fl_time t, char *buf, size_t size);

/* 64-bit FNV-1a, for fingerprints and hash tables. Stable across runs and machines. */
uint64_t fl_hash64(const void *p, size_t n, uint64_t seed);
#define FL_HASH_SEED UINT64_C(0xcbf29ce484222325)

#define FL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FL_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Text built by hand where snprintf was most of a per-entry cost (issue 15). */
/* Appends s[0, n) to out[0, *len), cut to fit cap with its NUL as snprintf cuts (cap > *len).
 * Returns n, what snprintf would have counted. */
size_t fl_put_cut(char *out, size_t cap, size_t *len, const char *s, size_t n);
/* snprintf(out, cap, "HTTP %d %s %.*s", status, method, (int)np, path) by hand (cap > 0),
 * nm = strlen(method): the text of a 5xx request, built for every one (issue 15). Sets *len
 * to the length written; returns the length snprintf would have counted. */
size_t fl_put_http_line(char *out, size_t cap, size_t *len, int status, const char *method,
                        size_t nm, const char *path, size_t np);
/* The decimal digits of u, right-aligned in out[0, 24); returns the index of the first. */
size_t fl_u64_digits(uint64_t u, char out[24]);
/* The decimal text of v ("-" when negative), right-aligned in out[0, 24); returns its start. */
size_t fl_int_digits(int v, char out[24]);

#endif
