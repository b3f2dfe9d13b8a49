/*
 * Decimal text of ints of any size.
 *
 * A big int is stored as minimal two's complement bytes (object.h).  To
 * print one, its magnitude is copied into 32-bit limbs and divided by 10**9
 * repeatedly, each remainder giving nine digits, least significant first.
 * To read one, the digits are taken nine at a time and folded into limbs by
 * limbs = limbs * 10**k + chunk.  Both are quadratic in the length, which is
 * why the binding caps the digit count as int() does
 * (sys.get_int_max_str_digits()).
 */
#include <stdlib.h>
#include <string.h>

#include "int_text.h"
#include "value.h"

#define CHUNK 1000000000u /* 10**9: nine decimal digits per 32-bit limb step */

size_t ch_int_text_max(size_t le_len)
{
    /* log10(256) < 2.41: 8 bits never need more than 2.41 digits; plus sign. */
    return le_len * 241 / 100 + 12;
}

static const char two_digits[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                 "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";

size_t ch_int64_to_text(int64_t v, char *out)
{
    char tmp[20], *p = tmp + sizeof tmp; /* filled from the end, two digits a step */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (mag >= 100) {
        p -= 2;
        memcpy(p, two_digits + 2 * (mag % 100), 2);
        mag /= 100;
    }
    if (mag >= 10) {
        p -= 2;
        memcpy(p, two_digits + 2 * mag, 2);
    } else {
        *--p = (char)('0' + mag);
    }
    size_t len = 0, n = (size_t)(tmp + sizeof tmp - p);
    if (v < 0)
        out[len++] = '-';
    memcpy(out + len, p, n);
    return len + n;
}

size_t ch_int_to_text(const unsigned char *le, size_t le_len, char *out)
{
    bool negative = le_len > 0 && (le[le_len - 1] & 0x80);
    size_t nlimbs = (le_len + 3) / 4;
    uint32_t *limbs = calloc(nlimbs > 0 ? nlimbs : 1, sizeof(uint32_t));
    /* Remainders: at most one per 9 digits of the longest possible text. */
    uint32_t *chunks = malloc((ch_int_text_max(le_len) / 9 + 2) * sizeof(uint32_t));
    if (limbs == NULL || chunks == NULL) {
        free(limbs);
        free(chunks);
        return 0;
    }
    unsigned carry = 1; /* two's complement negation: invert, add one */
    for (size_t i = 0; i < le_len; i++) {
        unsigned byte = le[i];
        if (negative) {
            byte = (~byte & 0xffu) + carry;
            carry = byte >> 8;
            byte &= 0xffu;
        }
        limbs[i / 4] |= (uint32_t)byte << (8 * (i % 4));
    }
    size_t nchunks = 0;
    while (nlimbs > 0 && limbs[nlimbs - 1] == 0)
        nlimbs--;
    while (nlimbs > 0) {
        uint64_t rem = 0;
        for (size_t i = nlimbs; i-- > 0;) {
            uint64_t cur = (rem << 32) | limbs[i];
            limbs[i] = (uint32_t)(cur / CHUNK);
            rem = cur % CHUNK;
        }
        chunks[nchunks++] = (uint32_t)rem;
        while (nlimbs > 0 && limbs[nlimbs - 1] == 0)
            nlimbs--;
    }
    size_t len = 0;
    if (negative)
        out[len++] = '-';
    if (nchunks == 0)
        out[len++] = '0';
    for (size_t i = nchunks; i-- > 0;) {
        char digits[9];
        uint32_t c = chunks[i];
        for (int d = 8; d >= 0; d--, c /= 10)
            digits[d] = (char)('0' + c % 10);
        size_t skip = 0;
        if (i == nchunks - 1) /* the leading chunk is not zero-padded */
            while (skip < 8 && digits[skip] == '0')
                skip++;
        memcpy(out + len, digits + skip, 9 - skip);
        len += 9 - skip;
    }
    free(limbs);
    free(chunks);
    return len;
}

/* Minimal two's complement of +-magnitude (little-endian limbs), as a frozen int. */
static ch_val int_from_limbs(const uint32_t *limbs, size_t nlimbs, bool negative)
{
    while (nlimbs > 0 && limbs[nlimbs - 1] == 0)
        nlimbs--;
    if (nlimbs <= 2) {
        uint64_t mag = nlimbs == 0 ? 0 : limbs[0] | (nlimbs == 2 ? (uint64_t)limbs[1] << 32 : 0);
        if (mag <= (uint64_t)CH_SMALLINT_MAX + (negative ? 1 : 0))
            return ch_smallint(negative ? (int64_t)(0 - mag) : (int64_t)mag);
    }
    size_t len = nlimbs * 4 + 1; /* one more byte for the sign */
    unsigned char *le = malloc(len);
    if (le == NULL)
        return CH_NOVALUE;
    for (size_t i = 0; i < len - 1; i++)
        le[i] = (unsigned char)(limbs[i / 4] >> (8 * (i % 4)));
    le[len - 1] = 0;
    if (negative) {
        unsigned carry = 1;
        for (size_t i = 0; i < len; i++) {
            unsigned byte = (~(unsigned)le[i] & 0xffu) + carry;
            le[i] = (unsigned char)byte;
            carry = byte >> 8;
        }
    }
    while (len > 1 && ((le[len - 1] == 0x00 && !(le[len - 2] & 0x80)) || (le[len - 1] == 0xff && (le[len - 2] & 0x80))))
        len--;
    ch_val v = ch_bigint_new(le, len);
    free(le);
    return v;
}

ch_val ch_int_from_text(const char *digits, size_t n, bool negative)
{
    if (n <= 18) { /* fits an int64: the common case, no limbs */
        int64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (digits[i] - '0');
        uint32_t limbs[2] = {(uint32_t)v, (uint32_t)((uint64_t)v >> 32)};
        return int_from_limbs(limbs, 2, negative);
    }
    size_t cap = n / 9 + 2, nlimbs = 0;
    uint32_t *limbs = calloc(cap, sizeof(uint32_t));
    if (limbs == NULL)
        return CH_NOVALUE;
    size_t first = n % 9 != 0 ? n % 9 : 9;
    for (size_t pos = 0; pos < n;) {
        size_t k = pos == 0 ? first : 9;
        uint32_t chunk = 0, scale = 1;
        for (size_t i = 0; i < k; i++) {
            chunk = chunk * 10 + (uint32_t)(digits[pos + i] - '0');
            scale *= 10;
        }
        pos += k;
        uint64_t carry = chunk;
        for (size_t i = 0; i < nlimbs; i++) {
            uint64_t cur = (uint64_t)limbs[i] * scale + carry;
            limbs[i] = (uint32_t)cur;
            carry = cur >> 32;
        }
        if (carry != 0)
            limbs[nlimbs++] = (uint32_t)carry;
    }
    ch_val v = int_from_limbs(limbs, nlimbs, negative);
    free(limbs);
    return v;
}
