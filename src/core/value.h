/*
 * Frozen values: constructors, hashing and equality with dict semantics.
 */
#ifndef COHIVE_CORE_VALUE_H
#define COHIVE_CORE_VALUE_H

#include <string.h>

#include "hash.h"
#include "object.h"

/* Constructors return a new reference, or CH_NOVALUE when out of memory. */
ch_val ch_str_new(int str_flag, const void *data, size_t len); /* len in code units */
ch_val ch_bytes_new(const void *data, size_t len);
ch_val ch_float_new(double value);
ch_val ch_complex_new(double real, double imag);
/* `le` is minimal two's complement, little endian, too wide for a small int. */
ch_val ch_bigint_new(const unsigned char *le, size_t len);

/* A date/time value of kind `flags` (CH_TIME_*), all fields zero and zone
 * None until the caller fills them. */
ch_time *ch_time_new(int flags);
/* Whether a time's fields are in the ranges Python allows (so that
 * arithmetic on them cannot overflow): for values read from outside. */
bool ch_time_ok(const ch_time *t);
/* A Decimal; `number` (stolen) is the int or float it equals, or CH_NOVALUE. */
ch_val ch_decimal_new(int flags, const char *digits, size_t ndigits, int64_t exponent, ch_val number);
/* Whether these are a decimal's parts as Decimal.as_tuple() has them: for
 * values read from outside. */
bool ch_decimal_ok(int flags, const char *digits, size_t ndigits, int64_t exponent);
ch_val ch_uuid_new(const unsigned char bytes[16]);
/* An instance of kind `flags` (CH_INST_*); steals the three references. */
ch_val ch_instance_new(int flags, ch_val cls, ch_val fields, ch_val payload);

/* Writes str(Decimal) -- Python's to_sci_string -- into buf (no NUL when it
 * does not fit) and returns its length; call with cap 0 to size it. */
size_t ch_decimal_to_str(const ch_decimal *d, char *buf, size_t cap);

/* The text JSON gives these values, written like ch_decimal_to_str: a
 * date, datetime or time as Python's isoformat() (the UTC offset suffix when
 * it is known), a timedelta as str(timedelta), a UUID as str(UUID). */
size_t ch_time_to_str(const ch_time *t, char *buf, size_t cap);
size_t ch_uuid_to_str(const ch_uuid *u, char *buf, size_t cap);

/* A tuple, list or set of `len` items, all None until the caller fills them. */
ch_seq *ch_seq_new(ch_type type, uint32_t len);
/* Sorts a set's items by hash and drops duplicates; may shrink (and move) it.
 * Returns the set, or NULL when out of memory (the set is then released). */
ch_seq *ch_set_finish(ch_seq *set);

static inline unsigned ch_str_width(const ch_str *s) { return s->h.flags == CH_STR_ASCII ? 1 : s->h.flags; }

/* The hash used to place a key in a map (and-ed with ch_hash_mask). */
uint64_t ch_hash(ch_val v);
/* The same hash for str data not yet frozen (lookups build no object). */
uint64_t ch_hash_str(int str_flag, const void *data, size_t len);

/* Equality as dict keys compare: 1 == 1.0 == True, -0.0 == 0.0, a set equals
 * the frozenset with the same items; NaNs are equal when their bits are. */
bool ch_eq(ch_val a, ch_val b);

/* ch_eq with the common case (two strs) inline: the map lookup hot path. */
static inline bool ch_key_eq(ch_val a, ch_val b)
{
    if (a == b)
        return true;
    if (ch_is_ptr(a) && ch_is_ptr(b)) {
        const ch_str *s = (const ch_str *)ch_ptr(a), *t = (const ch_str *)ch_ptr(b);
        if (s->h.type == CH_STR && t->h.type == CH_STR)
            return s->len == t->len && s->h.flags == t->h.flags &&
                   memcmp(s->data, t->data, (size_t)s->len * ch_str_width(s)) == 0;
    }
    return ch_eq(a, b);
}

/* Nesting depth: 0 for scalars, 1 + the deepest item for containers. */
static inline unsigned ch_depth(ch_val v) { return ch_is_ptr(v) ? ch_ptr(v)->aux : 0; }

#endif
