/*
 * Decimal text of ints: the JSON writer prints big ints, the parser reads
 * ints of any length, both in plain C.
 */
#ifndef COHIVE_CORE_INT_TEXT_H
#define COHIVE_CORE_INT_TEXT_H

#include "object.h"

/* Writes the decimal form of a big int (minimal little-endian two's
 * complement, as ch_bigint stores it) into `out`, which must hold
 * ch_int_text_max(len) bytes.  Returns the length written (a leading '-'
 * for negatives), or 0 when out of memory. */
size_t ch_int_text_max(size_t le_len);
size_t ch_int_to_text(const unsigned char *le, size_t le_len, char *out);

/* Writes an int64 in decimal into `out` (at least 20 bytes); returns the length. */
size_t ch_int64_to_text(int64_t v, char *out);

/* The canonical frozen int (a small int when it fits, else a CH_BIGINT) for
 * `n` >= 1 ASCII digits, negated when `negative`.  CH_NOVALUE when out of
 * memory. */
ch_val ch_int_from_text(const char *digits, size_t n, bool negative);

#endif
