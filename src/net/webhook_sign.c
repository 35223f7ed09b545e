/* Standard Webhooks signatures (standardwebhooks.com): the signed content is
 * "<webhook-id>.<webhook-timestamp>.<body>", the signature HMAC-SHA256 with the secret, sent
 * base64-encoded as "v1,<sig>". Secrets in the spec's "whsec_<base64>" form are decoded first. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "fl_net.h"

/* Decodes standard base64 (with or without padding). Returns the length or -1. */
static int b64_decode(const char *in, unsigned char *out, size_t outcap)
{
    size_t n = strlen(in);
    char tmp[512];
    if (n == 0 || n + 4 >= sizeof(tmp))
        return -1;
    memcpy(tmp, in, n);
    while (n % 4)
        tmp[n++] = '=';
    tmp[n] = 0;
    size_t pad = 0;
    if (tmp[n - 1] == '=')
        pad++;
    if (tmp[n - 2] == '=')
        pad++;
    if (n / 4 * 3 > outcap)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)tmp, (int)n);
    if (len < 0)
        return -1;
    return len - (int)pad;
}

int fl_webhook_sign(const char *secret, const char *msg_id, int64_t unix_ts, const char *body,
                    size_t body_len, char *out, size_t outlen)
{
    unsigned char key[384];
    int keylen;
    if (strncmp(secret, "whsec_", 6) == 0) {
        keylen = b64_decode(secret + 6, key, sizeof(key));
        if (keylen <= 0)
            return FL_EINVAL;
    } else {
        keylen = (int)strlen(secret);
        if (keylen == 0 || (size_t)keylen > sizeof(key))
            return FL_EINVAL;
        memcpy(key, secret, (size_t)keylen);
    }
    char prefix[128];
    int pl = snprintf(prefix, sizeof(prefix), "%s.%lld.", msg_id, (long long)unix_ts);
    if (pl < 0 || (size_t)pl >= sizeof(prefix))
        return FL_EINVAL;
    /* HMAC over prefix + body without copying the body. */
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    int ok = ctx && EVP_MAC_init(ctx, key, (size_t)keylen, params) &&
             EVP_MAC_update(ctx, (const unsigned char *)prefix, (size_t)pl) &&
             EVP_MAC_update(ctx, (const unsigned char *)body, body_len) &&
             EVP_MAC_final(ctx, mac, &maclen, sizeof(mac));
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    OPENSSL_cleanse(key, sizeof(key));
    if (!ok)
        return FL_ENOMEM;
    if (outlen < 4 + 4 * ((maclen + 2) / 3) + 1)
        return FL_EINVAL;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)maclen);
    return 0;
}

int fl_webhook_new_id(char *out, size_t outlen)
{
    static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char rnd[26];
    if (outlen < 4 + sizeof(rnd) + 1 || RAND_bytes(rnd, sizeof(rnd)) != 1)
        return FL_EINVAL;
    memcpy(out, "msg_", 4);
    for (size_t i = 0; i < sizeof(rnd); i++)
        out[4 + i] = alnum[rnd[i] % 62];
    out[4 + sizeof(rnd)] = 0;
    return 0;
}
