/* Decimal digits read several at once (SWAR, as simdjson's parse_eight_digits_unrolled does):
 * the timestamp and latency readers meet runs of digits on every entry. Little-endian only;
 * elsewhere fl_digits8 is never true and fl_digits4 loops. */
#ifndef FL_DIGITS_H
#define FL_DIGITS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* True when each byte of the word is '0'..'9': its high nibble is 3, and adding 6 does not
 * carry into the high nibble. (mask: 0xF0 in every byte, three: 0x33 in every byte.) */
#define FL_DIGITS_ALL(x, mask, six, three)                                                         \
    ((((x) & (mask)) | ((((x) + (six)) & (mask)) >> 4)) == (three))

/* When p[0..8) are eight decimal digits: true, and *v their value. */
static inline bool fl_digits8(const char *p, uint32_t *v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x;
    memcpy(&x, p, 8);
    if (!FL_DIGITS_ALL(x, 0xF0F0F0F0F0F0F0F0u, 0x0606060606060606u, 0x3333333333333333u))
        return false;
    x -= 0x3030303030303030u;
    x = x * 10 + (x >> 8); /* pairs of digits in every other byte */
    x = (((x & 0x000000FF000000FFu) * (100 + (1000000ull << 32))) +
         (((x >> 16) & 0x000000FF000000FFu) * (1 + (10000ull << 32)))) >>
        32;
    *v = (uint32_t)x;
    return true;
#else
    (void)p;
    (void)v;
    return false;
#endif
}

/* The value of the four decimal digits at p, or -1 when they are not all digits. */
static inline int fl_digits4(const char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t x;
    memcpy(&x, p, 4);
    if (!FL_DIGITS_ALL(x, 0xF0F0F0F0u, 0x06060606u, 0x33333333u))
        return -1;
    x -= 0x30303030u;
    x = x * 10 + (x >> 8); /* byte 0: the first two digits' value, byte 2: the last two's */
    return (int)((x & 0xFF) * 100 + ((x >> 16) & 0xFF));
#else
    int v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned d = (unsigned)(unsigned char)p[k] - '0';
        if (d > 9)
            return -1;
        v = v * 10 + (int)d;
    }
    return v;
#endif
}

#endif
