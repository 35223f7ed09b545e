/* base64 on libcrypto's EVP_EncodeBlock/EVP_DecodeBlock. EVP speaks the standard, padded
 * alphabet only: the URL-safe form is translated on the way in and out. */
#include "fl_base64.h"

#include <openssl/evp.h>
#include <string.h>

#include "fl_common.h"

char *fl_base64_encode(const void *p, size_t n)
{
    if (n > (size_t)(INT32_MAX / 4 * 3 - 3))
        return NULL;
    char *out = fl_malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, p, (int)n); /* NUL-terminates */
    return out;
}

char *fl_base64url_encode(const void *p, size_t n)
{
    char *out = fl_base64_encode(p, n);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; out[i]; i++) {
        char c = out[i];
        if (c == '=')
            break;
        out[o++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[o] = '\0';
    return out;
}

static bool is_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '-' || c == '_';
}

long fl_base64_decode(const char *in, size_t n, unsigned char *out)
{
    while (n > 0 && in[n - 1] == '=')
        n--;
    if (n % 4 == 1 || n > (size_t)(INT32_MAX - 4))
        return FL_EPARSE;
    if (n == 0)
        return 0;
    /* EVP_DecodeBlock skips whitespace and wants the padded standard alphabet: check the
     * characters here, translate '-' and '_', and pad. */
    char *tmp = fl_malloc(n + 4);
    if (!tmp)
        return FL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!is_b64_char(in[i])) {
            fl_free(tmp);
            return FL_EPARSE;
        }
        tmp[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    }
    size_t pad = (4 - n % 4) % 4;
    memset(tmp + n, '=', pad);
    int len = EVP_DecodeBlock(out, (const unsigned char *)tmp, (int)(n + pad));
    fl_free(tmp);
    if (len < 0)
        return FL_EPARSE;
    return len - (long)pad; /* EVP counts the padding as zero bytes */
}
