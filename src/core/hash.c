/*
 * Stable hashing (see hash.h).
 *
 * Bytes are hashed 16 at a time with a 64x64->128 multiply whose halves are
 * folded together: fast for the short keys maps are full of, and every input
 * bit reaches every output bit.  Numbers use the Mersenne-prime residue so
 * that equal numbers of different types hash alike without converting one
 * type into another.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "hash.h"

uint64_t ch_hash_mask = UINT64_MAX;

#define P61 ((UINT64_C(1) << 61) - 1)

uint64_t ch_mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    return x;
}

static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    uint64_t ha = a >> 32, la = (uint32_t)a, hb = b >> 32, lb = (uint32_t)b;
    uint64_t hh = ha * hb, hl = ha * lb, lh = la * hb, ll = la * lb;
    uint64_t mid = (ll >> 32) + (uint32_t)hl + (uint32_t)lh;
    uint64_t lo = (mid << 32) | (uint32_t)ll;
    uint64_t hi = hh + (hl >> 32) + (lh >> 32) + (mid >> 32);
    return lo ^ hi;
#endif
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint64_t ch_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    const uint64_t k1 = UINT64_C(0xa0761d6478bd642f), k2 = UINT64_C(0xe7037ed1a0b428db);
    uint64_t h = seed ^ fold_mul(len ^ k1, k2), a, b;
    size_t n = len;
    while (n > 16) {
        h = fold_mul(load64(p) ^ h ^ k1, load64(p + 8) ^ k2);
        p += 16;
        n -= 16;
    }
    /* The last 1..16 bytes as two words, without copying: overlapping
     * loads for 8..16 bytes, 4-byte loads for 4..7, single bytes below. */
    if (n >= 8) {
        a = load64(p);
        b = load64(p + n - 8);
    } else if (n >= 4) {
        a = load32(p);
        b = load32(p + n - 4);
    } else if (n > 0) {
        a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n / 2] << 8) | p[n - 1];
        b = 0;
    } else {
        a = b = 0;
    }
    h = fold_mul(a ^ h ^ k2, b ^ k1 ^ n);
    return fold_mul(h ^ k1, len ^ k2);
}

/* x * 2**r mod P61 for x < 2**61, 0 <= r < 61: a rotation of 61 bits. */
static inline uint64_t rot61(uint64_t x, unsigned r)
{
    if (r == 0)
        return x;
    return ((x << r) & P61) | (x >> (61 - r));
}

static inline uint64_t neg61(uint64_t x) { return x == 0 ? 0 : P61 - x; }

uint64_t ch_numres_int64(int64_t v)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t r = (mag & P61) + (mag >> 61);
    if (r >= P61)
        r -= P61;
    return v < 0 ? neg61(r) : r;
}

uint64_t ch_numres_double(double d)
{
    if (isnan(d)) {
        /* NaN keys are equal when their bits are (see docs/semantics.md). */
        uint64_t bits;
        memcpy(&bits, &d, 8);
        return (bits % P61) ^ UINT64_C(0x1555555555555555);
    }
    if (isinf(d))
        return d > 0 ? UINT64_C(314159) : P61 - UINT64_C(314159);
    int e;
    double m = frexp(fabs(d), &e); /* |d| = m * 2**e, 0.5 <= m < 1 */
    uint64_t mant = (uint64_t)ldexp(m, 53);
    int exp2 = e - 53; /* |d| = mant * 2**exp2, exactly */
    int r = exp2 % 61;
    if (r < 0)
        r += 61; /* 2**-k == 2**(61-k) modulo P61 */
    uint64_t res = rot61(mant, (unsigned)r);
    if (res == P61)
        res = 0;
    return d < 0 ? neg61(res) : res;
}

uint64_t ch_numres_bigint(const unsigned char *b, size_t len)
{
    /* Residue of the bytes read as an unsigned number, most significant first. */
    uint64_t r = 0;
    for (size_t i = len; i-- > 0;) {
        r = rot61(r, 8) + b[i];
        if (r >= P61)
            r -= P61;
    }
    if (len > 0 && (b[len - 1] & 0x80)) {
        /* Two's complement: the value is that number minus 2**(8*len). */
        uint64_t wrap = rot61(1, (unsigned)((8 * (uint64_t)len) % 61));
        r = r >= wrap ? r - wrap : r + P61 - wrap;
    }
    return r;
}

uint64_t ch_hash_number(uint64_t residue) { return ch_mix64(residue ^ CH_SEED_NUM); }

uint64_t ch_hash_complex(double real, double imag)
{
    if (imag == 0.0)
        return ch_hash_number(ch_numres_double(real));
    uint64_t hr = ch_numres_double(real), hi = ch_numres_double(imag);
    return ch_mix64(ch_mix64(hr ^ CH_SEED_NUM) + ch_mix64(hi) * 3);
}
