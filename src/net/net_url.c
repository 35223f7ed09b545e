/* The URL policy and how URLs appear in messages: written once, for every request. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fl_net.h"

bool fl_net_is_loopback(const char *host)
{
    if (!host || !*host)
        return false;
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
        strcmp(host, "[::1]") == 0)
        return true;
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1)
        return (ntohl(a.s_addr) >> 24) == 127;
    return false;
}

int fl_net_url_check(const char *url, char *errbuf, size_t errlen)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    if (!h)
        return FL_ENOMEM;
    if (!url || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(errbuf, errlen, "not a valid http(s) URL");
        rc = FL_EINVAL;
    } else if (strcasecmp(scheme, "https") == 0) {
        rc = 0;
    } else if (strcasecmp(scheme, "http") == 0) {
        if (!fl_net_is_loopback(host)) {
            snprintf(errbuf, errlen,
                     "refusing plain http to %s: only https is allowed (http only to "
                     "localhost/127.0.0.0/8/::1)",
                     host);
            rc = FL_EINVAL;
        }
    } else {
        snprintf(errbuf, errlen, "unsupported scheme '%s': use https", scheme);
        rc = FL_EINVAL;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(h);
    return rc;
}

void fl_net_url_display(const char *url, bool with_path, char *out, size_t size)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    if (h && url && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        curl_url_get(h, CURLUPART_PORT, &port, 0);
        if (with_path)
            curl_url_get(h, CURLUPART_PATH, &path, 0);
        snprintf(out, size, "%s://%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "",
                 path ? path : "");
    } else {
        snprintf(out, size, "(invalid URL)");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(h);
}

int fl_net_url_split(const char *url, char *host, size_t host_size, char *path, size_t path_size)
{
    CURLU *h = curl_url();
    char *hs = NULL, *ps = NULL;
    int rc = FL_EINVAL;
    if (!h)
        return FL_ENOMEM;
    if (url && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_HOST, &hs, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_PATH, &ps, 0) == CURLUE_OK) {
        snprintf(host, host_size, "%s", hs);
        snprintf(path, path_size, "%s", ps);
        rc = 0;
    }
    curl_free(hs);
    curl_free(ps);
    curl_url_cleanup(h);
    return rc;
}

uint64_t fl_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms)
{
    uint64_t ceiling = base_ms;
    for (unsigned i = 0; i < attempt && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    /* Half fixed, half random: spreads retries from many clients, never waits near zero. */
    uint64_t floor_ms = ceiling / 2;
    return floor_ms + (uint64_t)random() % (ceiling - floor_ms + 1);
}
