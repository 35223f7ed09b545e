/* Google credentials, found in the order Google's client libraries and gcloud use (see
 * fl_http.h). Token fetches are short blocking HTTP calls: they happen once at start and then
 * about once an hour, which a live view can afford; the token itself is kept in memory only and
 * wiped on free. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fl_base64.h"
#include "fl_http.h"

#define DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define TOKEN_MAX 4096

typedef enum {
    AUTH_STATIC = 0, /* access token from the environment */
    AUTH_SERVICE_ACCOUNT,
    AUTH_AUTHORIZED_USER,
    AUTH_METADATA,
} auth_kind;

struct fl_auth {
    auth_kind kind;
    char *scope;
    char *token_uri;
    char *client_email;
    char *private_key;
    char *private_key_id;
    char *client_id;
    char *client_secret;
    char *refresh_token;
    char *metadata_url;
    const char *oauth_token_uri; /* borrowed during fl_auth_new only */
    char token[TOKEN_MAX];
    time_t expires; /* 0: never (static token) */
};

static char *dup_or_null(const char *s)
{
    return s ? fl_strdup(s) : NULL;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    return fl_buf_add(arg, p, size * n) == 0 ? size * n : 0;
}

/* One blocking request to a token endpoint; parses {"access_token", "expires_in"}. */
static int fetch_token(fl_auth *a, const char *url, const char *form, const char *header,
                       char *errbuf, size_t errlen)
{
    if (!fl_http_url_allowed(url) && a->kind != AUTH_METADATA) {
        snprintf(errbuf, errlen, "token endpoint %s must be https", url);
        return FL_EAUTH;
    }
    CURL *c = curl_easy_init();
    if (!c)
        return FL_ENOMEM;
    fl_buf body;
    fl_buf_init(&body, 1024 * 1024);
    struct curl_slist *h = header ? curl_slist_append(NULL, header) : NULL;
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (form)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    int ret = 0;
    if (rc != CURLE_OK) {
        snprintf(errbuf, errlen, "token request to %s failed: %s", url,
                 cerr[0] ? cerr : curl_easy_strerror(rc));
        ret = FL_EAGAIN;
    } else if (status != 200) {
        snprintf(errbuf, errlen, "token request to %s: HTTP %ld", url, status);
        ret = status >= 500 || status == 429 ? FL_EAGAIN : FL_EAUTH;
    } else {
        json_error_t jerr;
        json_t *doc = json_loadb(body.data ? body.data : "", body.len, 0, &jerr);
        const char *tok = json_string_value(json_object_get(doc, "access_token"));
        json_int_t expires_in = json_integer_value(json_object_get(doc, "expires_in"));
        if (!tok || strlen(tok) >= sizeof(a->token)) {
            snprintf(errbuf, errlen, "token response from %s has no access_token", url);
            ret = FL_EAUTH;
        } else {
            snprintf(a->token, sizeof(a->token), "%s", tok);
            a->expires = time(NULL) + (expires_in > 0 ? (time_t)expires_in : 3600);
        }
        json_decref(doc);
    }
    if (body.data)
        memset(body.data, 0, body.len); /* the response held the token */
    fl_buf_free(&body);
    return ret;
}

/* Signs header.claims with the service account's RSA key (RS256). */
static char *make_jwt(fl_auth *a, char *errbuf, size_t errlen)
{
    time_t now = time(NULL);
    json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
    if (a->private_key_id)
        json_object_set_new(hdr, "kid", json_string(a->private_key_id));
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", a->client_email, "scope", a->scope, "aud",
                  a->token_uri, "iat", (json_int_t)now, "exp", (json_int_t)(now + 3600));
    char *h = json_dumps(hdr, JSON_COMPACT), *c = json_dumps(claims, JSON_COMPACT);
    json_decref(hdr);
    json_decref(claims);
    char *h64 = h ? fl_base64url_encode((unsigned char *)h, strlen(h)) : NULL;
    char *c64 = c ? fl_base64url_encode((unsigned char *)c, strlen(c)) : NULL;
    free(h);
    free(c);
    char *jwt = NULL, *input = NULL;
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    unsigned char *sig = NULL;
    if (!h64 || !c64)
        goto out;
    size_t in_len = strlen(h64) + 1 + strlen(c64);
    input = fl_malloc(in_len + 1);
    if (!input)
        goto out;
    snprintf(input, in_len + 1, "%s.%s", h64, c64);
    BIO *bio = BIO_new_mem_buf(a->private_key, -1);
    key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!key) {
        snprintf(errbuf, errlen, "the service account private_key is not a PEM RSA key");
        goto out;
    }
    md = EVP_MD_CTX_new();
    size_t sig_len = 0;
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, NULL, &sig_len, (unsigned char *)input, in_len) != 1 ||
        !(sig = fl_malloc(sig_len)) ||
        EVP_DigestSign(md, sig, &sig_len, (unsigned char *)input, in_len) != 1) {
        snprintf(errbuf, errlen, "signing the JWT assertion failed");
        goto out;
    }
    char *s64 = fl_base64url_encode(sig, sig_len);
    if (s64) {
        size_t n = in_len + 1 + strlen(s64) + 1;
        jwt = fl_malloc(n);
        if (jwt)
            snprintf(jwt, n, "%s.%s", input, s64);
        fl_free(s64);
    }
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    fl_free(sig);
    fl_free(input);
    fl_free(h64);
    fl_free(c64);
    return jwt;
}

static int refresh(fl_auth *a, char *errbuf, size_t errlen)
{
    char *form = NULL;
    int rc = FL_EAUTH;
    CURL *esc = curl_easy_init();
    if (!esc)
        return FL_ENOMEM;
    if (a->kind == AUTH_SERVICE_ACCOUNT) {
        char *jwt = make_jwt(a, errbuf, errlen);
        if (jwt) {
            size_t n = strlen(jwt) + 128;
            form = fl_malloc(n);
            if (form)
                snprintf(form, n,
                         "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer"
                         "&assertion=%s",
                         jwt);
            fl_free(jwt);
            if (form)
                rc = fetch_token(a, a->token_uri, form, NULL, errbuf, errlen);
        }
    } else if (a->kind == AUTH_AUTHORIZED_USER) {
        char *id = curl_easy_escape(esc, a->client_id, 0);
        char *secret = curl_easy_escape(esc, a->client_secret, 0);
        char *rt = curl_easy_escape(esc, a->refresh_token, 0);
        if (id && secret && rt) {
            size_t n = strlen(id) + strlen(secret) + strlen(rt) + 96;
            form = fl_malloc(n);
            if (form) {
                snprintf(form, n,
                         "grant_type=refresh_token&client_id=%s&client_secret=%s"
                         "&refresh_token=%s",
                         id, secret, rt);
                rc = fetch_token(a, a->token_uri, form, NULL, errbuf, errlen);
            }
        }
        curl_free(id);
        curl_free(secret);
        curl_free(rt);
    } else if (a->kind == AUTH_METADATA) {
        rc = fetch_token(a, a->metadata_url, NULL, "Metadata-Flavor: Google", errbuf, errlen);
    }
    if (form) {
        memset(form, 0, strlen(form));
        fl_free(form);
    }
    curl_easy_cleanup(esc);
    return rc;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Reads a service_account or authorized_user JSON key file. */
static int load_key_file(fl_auth *a, const char *path, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        snprintf(errbuf, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
        return FL_EAUTH;
    }
    const char *type = jstr(doc, "type");
    int rc = 0;
    if (type && !strcmp(type, "service_account")) {
        a->kind = AUTH_SERVICE_ACCOUNT;
        a->client_email = dup_or_null(jstr(doc, "client_email"));
        a->private_key = dup_or_null(jstr(doc, "private_key"));
        a->private_key_id = dup_or_null(jstr(doc, "private_key_id"));
        a->token_uri =
            fl_strdup(jstr(doc, "token_uri") ? jstr(doc, "token_uri") : DEFAULT_TOKEN_URI);
        if (!a->client_email || !a->private_key) {
            snprintf(errbuf, errlen,
                     "%s: service account key without client_email or "
                     "private_key",
                     path);
            rc = FL_EAUTH;
        }
    } else if (type && !strcmp(type, "authorized_user")) {
        a->kind = AUTH_AUTHORIZED_USER;
        a->client_id = dup_or_null(jstr(doc, "client_id"));
        a->client_secret = dup_or_null(jstr(doc, "client_secret"));
        a->refresh_token = dup_or_null(jstr(doc, "refresh_token"));
        const char *uri = a->oauth_token_uri;
        a->token_uri = fl_strdup(uri && *uri ? uri : DEFAULT_TOKEN_URI);
        if (!a->client_id || !a->client_secret || !a->refresh_token) {
            snprintf(errbuf, errlen, "%s: authorized_user credentials are incomplete", path);
            rc = FL_EAUTH;
        }
    } else {
        snprintf(errbuf, errlen, "%s: credential type \"%s\" is not supported", path,
                 type ? type : "(none)");
        rc = FL_EAUTH;
    }
    json_decref(doc);
    return rc;
}

static bool file_exists(const char *p)
{
    FILE *f = fopen(p, "r");
    if (f)
        fclose(f);
    return f != NULL;
}

int fl_auth_new(fl_auth **out, const fl_auth_env *env, const char *scope, char *errbuf,
                size_t errlen)
{
    static const fl_auth_env none = {0};
    *out = NULL;
    if (!env)
        env = &none;
    fl_auth *a = fl_calloc(1, sizeof(*a));
    if (!a)
        return FL_ENOMEM;
    a->scope = fl_strdup(scope ? scope : "https://www.googleapis.com/auth/cloud-platform");
    a->oauth_token_uri = env->oauth_token_uri;
    int rc = 0;
    const char *tok = env->access_token;
    const char *gac = env->credentials_file;
    char adc[1024] = "";
    const char *cfg = env->gcloud_config;
    const char *home = env->home;
    if (cfg && *cfg)
        snprintf(adc, sizeof(adc), "%s/application_default_credentials.json", cfg);
    else if (home)
        snprintf(adc, sizeof(adc), "%s/.config/gcloud/application_default_credentials.json", home);
    if (tok && *tok) {
        a->kind = AUTH_STATIC;
        if (strlen(tok) >= sizeof(a->token)) {
            snprintf(errbuf, errlen, "the access token in the environment is too long");
            rc = FL_EAUTH;
        } else {
            snprintf(a->token, sizeof(a->token), "%s", tok);
        }
    } else if (gac && *gac) {
        rc = load_key_file(a, gac, errbuf, errlen);
    } else if (adc[0] && file_exists(adc)) {
        rc = load_key_file(a, adc, errbuf, errlen);
    } else {
        /* Last resort, as on GCE / Cloud Run / GKE: the metadata server. */
        a->kind = AUTH_METADATA;
        const char *host = env->metadata_host;
        char url[512];
        snprintf(url, sizeof(url),
                 "http://%s/computeMetadata/v1/instance/service-accounts/default/token",
                 host && *host ? host : "metadata.google.internal");
        a->metadata_url = fl_strdup(url);
    }
    if (rc) {
        fl_auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int fl_auth_token(fl_auth *a, char *out, size_t size, char *errbuf, size_t errlen)
{
    if (a->kind != AUTH_STATIC && (!a->token[0] || time(NULL) + 300 >= a->expires)) {
        int rc = refresh(a, errbuf, errlen);
        if (rc) {
            if (a->kind == AUTH_METADATA && rc == FL_EAGAIN)
                snprintf(errbuf + strlen(errbuf), errlen - strlen(errbuf),
                         " (no credentials found: set GOOGLE_APPLICATION_CREDENTIALS or run "
                         "gcloud auth application-default login)");
            return rc;
        }
    }
    if (strlen(a->token) >= size)
        return FL_ETOOBIG;
    snprintf(out, size, "%s", a->token);
    return 0;
}

const char *fl_auth_kind(const fl_auth *a)
{
    static const char *const names[] = {"environment", "service account key",
                                        "authorized user (application default credentials)",
                                        "metadata server"};
    return names[a->kind];
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        fl_free(s);
    }
}

void fl_auth_free(fl_auth *a)
{
    if (!a)
        return;
    fl_free(a->scope);
    fl_free(a->token_uri);
    fl_free(a->client_email);
    wipe_free(a->private_key);
    fl_free(a->private_key_id);
    fl_free(a->client_id);
    wipe_free(a->client_secret);
    wipe_free(a->refresh_token);
    fl_free(a->metadata_url);
    memset(a->token, 0, sizeof(a->token));
    fl_free(a);
}
