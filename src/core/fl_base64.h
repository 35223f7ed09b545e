/* The one base64 (RFC 4648), on libcrypto's EVP encoder: standard with padding (webhook
 * signatures), URL-safe without padding (JWT), and one decoder for both alphabets. */
#ifndef FL_BASE64_H
#define FL_BASE64_H

#include <stddef.h>

/* Standard alphabet, '=' padded. Returns a NUL-terminated string (fl_free) or NULL. */
char *fl_base64_encode(const void *p, size_t n);
/* URL-safe alphabet ('-', '_'), no padding. Returns a NUL-terminated string (fl_free) or NULL. */
char *fl_base64url_encode(const void *p, size_t n);
/* Decodes the standard or the URL-safe alphabet, padding optional, no whitespace. out needs
 * n / 4 * 3 + 3 bytes. Returns the decoded length, FL_EPARSE (not base64) or FL_ENOMEM. */
long fl_base64_decode(const char *in, size_t n, unsigned char *out);

#endif
