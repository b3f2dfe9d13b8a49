/*
 * A self-contained byte encoding of frozen values, used by pickling (format
 * version 2).  Decoding trusts nothing: lengths are bounds-checked, depth is
 * limited, canonical forms are restored (small ints, minimal big ints, the
 * narrowest str width; sets are re-sorted and maps rebuilt, so duplicates
 * collapse), and every class name an instance mentions is put to the
 * caller's check before anything refers to it.
 *
 * Layout: one tag byte per value, then its fields, little endian:
 *   NONE FALSE TRUE | INT i64 | STR flag u32-len units | BYTES flag u32-len
 *   bytes | FLOAT f64 | COMPLEX f64 f64 | BIGINT u32-len bytes | TUPLE, LIST
 *   u32-n items | SET flag u32-n items | MAP u64-n (key value)* | TIME flags
 *   tz fold has_offset month day hour minute second i32 year, days, seconds,
 *   microsecond i64 offset, zone | DECIMAL flags i64 exponent u32-n digits,
 *   number (a value, or ABSENT) | UUID 16 bytes | INSTANCE flags cls fields
 *   payload | ABSENT
 * Named objects (Ref, Queue, locks...) have no encoding: their identity is
 * their meaning.
 */
#ifndef COHIVE_CORE_ENCODING_H
#define COHIVE_CORE_ENCODING_H

#include "object.h"

typedef enum {
    CH_CODE_OK,
    CH_CODE_NO_MEMORY,
    CH_CODE_NAMED,     /* encode: the value holds a named object */
    CH_CODE_MALFORMED, /* decode: not a valid encoding */
    CH_CODE_REFUSED,   /* decode: the check refused a class name */
} ch_code_result;

/* The encoding of v in a malloc'd buffer (free it with free()). */
ch_code_result ch_encode(ch_val v, unsigned char **out, size_t *len);

/* Whether data may name this class ("module:qualname", a CH_STR). */
typedef bool (*ch_class_check)(ch_val name, void *arg);

/* A new reference to the decoded value.  On CH_CODE_MALFORMED, *where is
 * the offset of the problem. */
ch_code_result ch_decode(const unsigned char *data, size_t len, ch_class_check check, void *arg, ch_val *out,
                         size_t *where);

#endif
