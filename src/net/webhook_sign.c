/* Standard Webhooks signatures (standardwebhooks.com): the signed content is
 * "<webhook-id>.<webhook-timestamp>.<body>", the signature HMAC-SHA256 with the secret, sent
 * base64-encoded as "v1,<sig>". Secrets in the spec's "whsec_<base64>" form are decoded first. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "fl_base64.h"
#include "fl_net.h"

int fl_webhook_sign(const char *secret, const char *msg_id, int64_t unix_ts, const char *body,
                    size_t body_len, char *out, size_t outlen)
{
    unsigned char key[384];
    int keylen;
    if (strncmp(secret, "whsec_", 6) == 0) {
        size_t n = strlen(secret + 6);
        if (n / 4 * 3 + 3 > sizeof(key))
            return FL_EINVAL;
        long m = fl_base64_decode(secret + 6, n, key);
        if (m <= 0)
            return FL_EINVAL;
        keylen = (int)m;
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
    char *b64 = fl_base64_encode(mac, maclen);
    if (!b64)
        return FL_ENOMEM;
    int rc = snprintf(out, outlen, "v1,%s", b64) < (int)outlen ? 0 : FL_EINVAL;
    fl_free(b64);
    return rc;
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
