/*
 * The shortest decimal that reads back as a given double -- what
 * repr(float) prints -- computed exactly with 128-bit integers, for the
 * doubles that fit that arithmetic (most that real data holds).
 *
 * A finite double is x = m * 2**e with a 53-bit m.  Every decimal inside
 * its rounding interval reads back as x: the interval reaches half way to
 * each neighbouring double (a quarter below when m is a power of two, the
 * neighbour below being closer), its ends included when m is even, since
 * reading rounds half to even.  Counting in units of 2**(e-2), x is 4m and
 * the interval is [4m - 2 (or 1), 4m + 2].
 *
 * For k = 0, 1, 2, ... fractional digits, the candidates are the integers D
 * with D / 10**k in the interval, i.e. D * 2**(2-e) in 10**k times it; the
 * one nearest x is D = round(x * 10**k), a shift since the divisor is a
 * power of two.  The first k with a candidate gives the fewest digits, and
 * its nearest candidate is the one repr picks (David Gay's shortest mode).
 * With e in [-70, -1] and at most 17 significant digits every product stays
 * below 2**128; other doubles, and those below 1e-4 that repr writes with an
 * exponent, are left to the caller.
 */
#include <math.h>
#include <string.h>

#include "float_text.h"
#include "int_text.h"

static size_t integral_repr(double x, char *out)
{
    size_t n = 0;
    if (signbit(x))
        out[n++] = '-';
    n += ch_int64_to_text((int64_t)fabs(x), out + n);
    memcpy(out + n, ".0", 2);
    return n + 2;
}

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

static size_t fraction_repr(double x, char *out)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int biased = (int)(bits >> 52 & 0x7ff);
    uint64_t fraction = bits & ((UINT64_C(1) << 52) - 1);
    if (biased == 0)
        return 0; /* subnormal: far outside the range handled here */
    uint64_t m = fraction | UINT64_C(1) << 52;
    int e = biased - 1075;
    if (e < -70 || e > -1)
        return 0;
    unsigned shift = (unsigned)(2 - e); /* the divisor 2**(2-e) */
    u128 x4 = (u128)m << 2, lo = x4 - (fraction == 0 && biased > 1 ? 1 : 2), hi = x4 + 2;
    bool inclusive = (m & 1) == 0;
    u128 scale = 1; /* 10**k */
    for (int k = 0; k <= 24; k++, scale *= 10) {
        u128 c = x4 * scale, half = (u128)1 << (shift - 1);
        uint64_t d = (uint64_t)(c >> shift);
        u128 rem = c & (((u128)1 << shift) - 1);
        if (rem > half || (rem == half && (d & 1)))
            d++;
        u128 v = (u128)d << shift, low = lo * scale, high = hi * scale;
        if (inclusive ? v >= low && v <= high : v > low && v < high) {
            /* d / 10**k: digits with the point k places from the right. */
            char digits[24];
            size_t n = ch_int64_to_text((int64_t)d, digits), len = 0;
            if ((int)n - k - 1 < -4)
                return 0; /* below 1e-4 repr switches to an exponent */
            if (signbit(x))
                out[len++] = '-';
            if ((size_t)k >= n) {
                memcpy(out + len, "0.", 2);
                len += 2;
                memset(out + len, '0', (size_t)k - n);
                len += (size_t)k - n;
                memcpy(out + len, digits, n);
                len += n;
            } else {
                memcpy(out + len, digits, n - (size_t)k);
                len += n - (size_t)k;
                out[len++] = '.';
                if (k == 0)
                    out[len++] = '0';
                memcpy(out + len, digits + n - k, (size_t)k);
                len += (size_t)k;
            }
            return len;
        }
        if (c >> 120 != 0 || d >= UINT64_C(100000000000000000))
            return 0; /* the next k could overflow: leave it to the caller */
    }
    return 0;
}
#else
static size_t fraction_repr(double x, char *out) { return 0; }
#endif

size_t ch_float_repr_common(double x, char *out)
{
    if (!isfinite(x))
        return 0;
    if (x == floor(x))
        return fabs(x) < 1e16 ? integral_repr(x, out) : 0;
    return fraction_repr(x, out);
}
