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
 * With k fractional digits, the candidates are the integers D with
 * D / 10**k in the interval, i.e. D * 2**(2-e) in 10**k times it; the one
 * nearest x is D = round(x * 10**k), a shift since the divisor is a power of
 * two.  The fewest digits that have a candidate win, and of those the one
 * nearest x (David Gay's shortest mode, which repr uses).  Since the interval
 * is narrower than a unit in the 15th significant digit, one look at 15
 * digits settles every double with a repr of 15 digits or fewer (the
 * candidate there is the shortest one with zeros appended); otherwise 16 or
 * 17 digits do.  With e in [-70, -1] and x between 1e-4 and 1e14 every
 * product stays below 2**128; other doubles are left to the caller.
 *
 * Reading goes the other way: digits * 10**exp10 is one exact product, or
 * one 128-bit division whose quotient keeps enough bits and whose remainder
 * says which way to round a half, for up to 19 digits and exponents in
 * [-21, 19]; the rest is left to the caller.
 */
#include <math.h>
#include <string.h>

#include "float_text.h"
#include "int_text.h"

static size_t integral_repr(bool negative, uint64_t value, char *out)
{
    size_t n = 0;
    if (negative)
        out[n++] = '-';
    n += ch_int64_to_text((int64_t)value, out + n);
    memcpy(out + n, ".0", 2);
    return n + 2;
}

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

static u128 power_of_ten(int k)
{
    static const uint64_t small[20] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
                                       1000000000u, 10000000000u, 100000000000u, 1000000000000u,
                                       10000000000000u, 100000000000000u, 1000000000000000u,
                                       10000000000000000u, 100000000000000000u, 1000000000000000000u,
                                       10000000000000000000u};
    return k < 20 ? (u128)small[k] : (u128)small[19] * small[k - 19];
}

typedef struct {
    u128 x4, lo, hi; /* x and its rounding interval, in units of 2**(e-2) */
    unsigned shift;  /* 2 - e: dividing by 2**shift turns units into ones */
    bool inclusive;  /* the interval's ends read back as x too */
} interval;

/* round(x * 10**k), halves to even, and whether it lies in the interval. */
static bool nearest(const interval *iv, int k, uint64_t *d)
{
    u128 scale = power_of_ten(k), c = iv->x4 * scale, half = (u128)1 << (iv->shift - 1);
    u128 rem = c & (((u128)1 << iv->shift) - 1);
    *d = (uint64_t)(c >> iv->shift);
    if (rem > half || (rem == half && (*d & 1)))
        (*d)++;
    u128 v = (u128)*d << iv->shift, low = iv->lo * scale, high = iv->hi * scale;
    return iv->inclusive ? v >= low && v <= high : v > low && v < high;
}

/* d / 10**k in fixed notation, as repr writes it. */
static size_t fixed_text(bool negative, uint64_t d, int k, char *out)
{
    char digits[24];
    size_t n = ch_int64_to_text((int64_t)d, digits), len = 0;
    if (negative)
        out[len++] = '-';
    if ((size_t)k >= n) { /* 0.000ddd */
        memcpy(out + len, "0.", 2);
        len += 2;
        memset(out + len, '0', (size_t)k - n);
        len += (size_t)k - n;
        memcpy(out + len, digits, n);
        return len + n;
    }
    memcpy(out + len, digits, n - (size_t)k);
    len += n - (size_t)k;
    out[len++] = '.';
    if (k == 0)
        out[len++] = '0';
    memcpy(out + len, digits + n - (size_t)k, (size_t)k);
    return len + (size_t)k;
}

/* A double m * 2**e, not integral, between 1e-4 and 1e14. */
static size_t fraction_repr(bool negative, uint64_t m, int e, bool below_is_closer, char *out)
{
    interval iv = {(u128)m << 2, ((u128)m << 2) - (below_is_closer ? 1 : 2), ((u128)m << 2) + 2, (unsigned)(2 - e),
                   (m & 1) == 0};
    /* k giving 15 significant digits: x lies in [2**p, 2**(p+1)), and
     * 1233 / 4096 is log10(2) closely enough to be at most one off. */
    int p = e + 52, tens = p >= 0 ? (p * 1233) >> 12 : -((-p * 1233 + 4095) >> 12);
    int k = 14 - tens;
    /* k giving 15 significant digits; log10 may be one off near a power of ten. */
    uint64_t d;
    bool inside = nearest(&iv, k, &d);
    if (d >= UINT64_C(1000000000000000))
        inside = nearest(&iv, --k, &d);
    else if (d < UINT64_C(100000000000000))
        inside = nearest(&iv, ++k, &d);
    if (inside) {
        /* The interval is narrower than one unit of the 15th digit, so a
         * shorter decimal inside it is this one without its trailing zeros. */
        while (k > 0 && d % 10 == 0) {
            d /= 10;
            k--;
        }
        return fixed_text(negative, d, k, out);
    }
    for (int more = 1; more <= 2; more++) /* none with 15 digits: 16, else 17 */
        if (nearest(&iv, k + more, &d))
            return fixed_text(negative, d, k + more, out);
    return 0;
}
/* The double nearest q * 2**-s, q < 2**128, with `sticky` saying that the
 * true value lies a little above q * 2**-s (halves round to even). */
static double round_to_double(u128 q, int s, bool sticky)
{
    int bits = 0;
    for (u128 t = q; t != 0; t >>= 1)
        bits++;
    if (bits <= 53)
        return ldexp((double)(uint64_t)q, -s); /* exact (sticky never set here: see callers) */
    int drop = bits - 53;
    uint64_t mant = (uint64_t)(q >> drop);
    u128 rest = q & (((u128)1 << drop) - 1), half = (u128)1 << (drop - 1);
    if (rest > half || (rest == half && (sticky || (mant & 1))))
        mant++;
    return ldexp((double)mant, drop - s); /* mant may be 2**53: still exact */
}

bool ch_decimal_to_double(uint64_t digits, int exp10, double *out)
{
    if (digits == 0) {
        *out = 0.0;
        return true;
    }
    if (exp10 >= 0) {
        if (exp10 > 19)
            return false;
        *out = round_to_double((u128)digits * power_of_ten(exp10), 0, false); /* exact product */
        return true;
    }
    if (exp10 < -21)
        return false;
    /* Shift the digits to the top of 128 bits: the quotient by 10**21 or
     * less then keeps at least 57 bits, enough to round with the remainder. */
    int s = 0;
    while (digits << s >> 63 == 0)
        s++;
    s += 64;
    u128 num = (u128)digits << s, den = power_of_ten(-exp10);
    u128 q = num / den;
    *out = round_to_double(q, s, num % den != 0);
    return true;
}

#else
static size_t fraction_repr(bool negative, uint64_t m, int e, bool below_is_closer, char *out) { return 0; }

bool ch_decimal_to_double(uint64_t digits, int exp10, double *out) { return false; }
#endif

size_t ch_float_repr_common(double x, char *out)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    bool negative = bits >> 63;
    int biased = (int)(bits >> 52 & 0x7ff);
    uint64_t fraction = bits & ((UINT64_C(1) << 52) - 1);
    if (biased == 0) /* zero, or subnormal (left to the caller) */
        return fraction == 0 ? integral_repr(negative, 0, out) : 0;
    if (biased == 0x7ff)
        return 0;
    uint64_t m = fraction | UINT64_C(1) << 52;
    int e = biased - 1075;
    if (e >= 0) /* integral */
        return e <= 1 && (m << e) < UINT64_C(10000000000000000) ? integral_repr(negative, m << e, out) : 0;
    if (e >= -52 && (m & ((UINT64_C(1) << -e) - 1)) == 0)
        return integral_repr(negative, m >> -e, out);
    double magnitude = negative ? -x : x;
    if (e < -70 || magnitude < 1e-4 || magnitude >= 1e14)
        return 0;
    return fraction_repr(negative, m, e, fraction == 0, out);
}
