/*
 * repr(float) and float(str) without Python, for the doubles JSON documents
 * are full of.
 */
#ifndef COHIVE_CORE_FLOAT_TEXT_H
#define COHIVE_CORE_FLOAT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes repr(x) into out (32 bytes) and returns its length, for finite x
 * that are integral below 1e16 or lie between 1e-4 and 1e14; returns
 * 0 for any other x, which the caller then formats another way. */
size_t ch_float_repr_common(double x, char *out);

/* The double nearest digits * 10**exp10 (as float() rounds), when exp10 is
 * in [-21, 19]; false for other exponents, which the caller then reads
 * another way. */
bool ch_decimal_to_double(uint64_t digits, int exp10, double *out);

#endif
