/* src/net: the libuv HTTP client of the live sources, and Google credentials.
 *
 * fl_http runs libcurl's multi interface on a libuv loop (curl_multi_socket_action driven by
 * uv_poll per socket and one uv_timer), so HTTP sources share the loop with every other source.
 * fl_auth finds credentials the way Google's tools do. TLS verification is never turned off;
 * plain http is accepted only for loopback hosts (local emulators and test servers) and the
 * metadata server. Tokens never appear in messages. */
#ifndef FL_HTTP_H
#define FL_HTTP_H

#include <uv.h>

#include "fl_common.h"
#include "fl_net.h"

typedef struct fl_http fl_http;

typedef struct fl_http_response {
    long status;      /* HTTP status, 0 when the request failed before a response */
    const char *body; /* NUL-terminated, valid during the callback only */
    size_t len;
    const char *error; /* transport error ("Connection refused"), "" when none */
} fl_http_response;

typedef void (*fl_http_cb)(void *arg, const fl_http_response *r);

/* Returns 0 with *out set, or FL_ENOMEM. */
int fl_http_new(fl_http **out, uv_loop_t *loop);
/* POSTs body (JSON) to url with an optional bearer token. cb runs exactly once, on the loop,
 * unless the client is closed first. Returns 0 or a negative code (cb will not run). */
int fl_http_post_json(fl_http *h, const char *url, const char *bearer, const char *body,
                      long timeout_s, fl_http_cb cb, void *arg);
/* Cancels requests in flight (their callbacks do not run), closes every handle and frees the
 * client; done(arg) runs when all handles are closed. */
void fl_http_close(fl_http *h, void (*done)(void *arg), void *arg);

/* True when url passes the URL policy of fl_net.h (fl_net_url_check). */
bool fl_http_url_allowed(const char *url);

/* --- credentials (src/net/auth.c) --- */

typedef struct fl_auth fl_auth;

/* Where credentials may come from; the CLI fills it from the environment (variable names in
 * brackets), library code never reads the environment. NULL or "" fields are absent. */
typedef struct fl_auth_env {
    const char *access_token;     /* CLOUDSDK_AUTH_ACCESS_TOKEN, else GOOGLE_OAUTH_ACCESS_TOKEN */
    const char *credentials_file; /* GOOGLE_APPLICATION_CREDENTIALS */
    const char *gcloud_config;    /* CLOUDSDK_CONFIG (gcloud's configuration directory) */
    const char *home;             /* HOME */
    const char *metadata_host;    /* GCE_METADATA_HOST; default metadata.google.internal */
    const char *oauth_token_uri;  /* FAULTLINE_OAUTH_TOKEN_URI (tests); default Google's */
} fl_auth_env;

/* Finds credentials, in order: an access token; the key file in credentials_file
 * (service_account: an RS256 JWT assertion exchanged at its token_uri; authorized_user: a
 * refresh token); gcloud's application-default credentials file; the metadata server.
 * Returns 0 or FL_EAUTH with errbuf saying what was tried. */
int fl_auth_new(fl_auth **out, const fl_auth_env *env, const char *scope, char *errbuf,
                size_t errlen);
void fl_auth_free(fl_auth *a);
/* Copies a valid access token into out, fetching or refreshing it first when it is missing or
 * expires within five minutes (a blocking HTTP call, at most once an hour). */
int fl_auth_token(fl_auth *a, char *out, size_t size, char *errbuf, size_t errlen);
/* Where the credentials come from: "environment", "service account key", ... */
const char *fl_auth_kind(const fl_auth *a);


#endif
