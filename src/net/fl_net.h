/* src/net: the one way out of the process to the network.
 *
 * Every request faultline makes goes through here, under one set of rules:
 *   - URL policy: https, or plain http only to a loopback host (localhost in any case,
 *     127.0.0.0/8, ::1), checked on the parsed URL (fl_net_url_check);
 *   - timeouts on connect and on the whole request, a cap on the response kept;
 *   - retries with one backoff (fl_backoff_ms) on transport errors, 429 and 5xx; none on other
 *     4xx, since sending the same request again cannot help;
 *   - Standard Webhooks signing (webhook-id, webhook-timestamp, webhook-signature) with the same
 *     id on every retry;
 *   - messages show a URL only as fl_net_url_display gives it: no userinfo, no query.
 * The blocking client (fl_net_post) serves `postmortem --attach` and `tail --webhook` (from a
 * worker thread); the libuv client in fl_http.h serves the live sources. Nothing here prints or
 * reads the environment: callers pass secrets and settings in. */
#ifndef FL_NET_H
#define FL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fl_common.h"

/* libcurl's global setup, once per process; call it before starting threads that use the
 * network (fl_net_post calls it too). */
void fl_net_init(void);

/* true for localhost (any case), 127.0.0.0/8 and ::1 (bracketed or not). */
bool fl_net_is_loopback(const char *host);
/* The URL policy. Returns 0, or FL_EINVAL with errbuf saying why (the message names the host,
 * never userinfo or query). */
int fl_net_url_check(const char *url, char *errbuf, size_t errlen);
/* What a message may show of url: scheme://host[:port] followed by the path when with_path,
 * never userinfo, query or fragment. Something safe ("(invalid URL)") when url does not parse. */
void fl_net_url_display(const char *url, bool with_path, char *out, size_t size);

/* Splits url into its host and path (each NUL-terminated, cut to size). Returns 0 or FL_EINVAL
 * when url does not parse. */
int fl_net_url_split(const char *url, char *host, size_t host_size, char *path, size_t path_size);

/* Exponential backoff with jitter: a random delay in [ceiling/2, ceiling], where ceiling is
 * min(cap, base * 2^attempt); attempt counts from 0. */
uint64_t fl_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms);

/* Standard Webhooks (standardwebhooks.com). The key is the secret's bytes, or for a "whsec_"
 * secret the base64 decoding of what follows the prefix. out gets "v1,<base64 HMAC-SHA256 of
 * id.timestamp.body>" (needs 64 bytes). Returns 0 or FL_EINVAL (bad base64). */
int fl_webhook_sign(const char *secret, const char *msg_id, int64_t unix_ts, const char *body,
                    size_t body_len, char *out, size_t outlen);
/* "msg_" and 26 random alphanumerics. out needs 32 bytes. */
int fl_webhook_new_id(char *out, size_t outlen);

typedef struct fl_net_post_opts {
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
    bool webhook;               /* send Standard Webhooks headers (id, timestamp) */
    const char *webhook_secret; /* with webhook: sign when set and non-empty */
    int64_t unix_ts;            /* webhook-timestamp; 0: now */
    int max_attempts;           /* 0: 5 */
    long base_delay_ms;         /* 0: 500 */
    long max_delay_ms;          /* 0: 8000 */
    long timeout_ms;            /* per attempt; 0: 15000 (connecting: at most 10000) */
    bool display_path;          /* messages show the URL's path too (no secret in it) */
} fl_net_post_opts;

typedef struct fl_net_post_result {
    int attempts;        /* requests made */
    long http_status;    /* of the last attempt, 0 if none got an answer */
    bool signed_body;    /* a webhook-signature was sent */
    char webhook_id[64]; /* the id sent on every attempt */
    char target[512];    /* the URL as messages show it */
    char message[1024];  /* on failure: what went wrong, starting with target (no secrets) */
    char answer[160];    /* on an HTTP error: the start of the response body, raw (the caller
                            redacts it before showing it) */
} fl_net_post_result;

/* POSTs body (JSON) to url: checks the URL policy, then tries up to max_attempts times.
 * Returns 0 when the target answered 2xx, FL_EAUTH (401/403), FL_EINVAL (refused URL, bad
 * secret, other 4xx), FL_EAGAIN (still failing after the retries), FL_EIO (a transport error
 * not worth retrying), FL_ENOMEM. Blocking; safe to call from a worker thread. */
int fl_net_post(const char *url, const char *body, const fl_net_post_opts *opts,
                fl_net_post_result *res);

#endif
