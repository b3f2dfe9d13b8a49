/*
 * repr(float) without Python, for the doubles JSON documents are full of.
 */
#ifndef COHIVE_CORE_FLOAT_TEXT_H
#define COHIVE_CORE_FLOAT_TEXT_H

#include <stddef.h>

/* Writes repr(x) into out (32 bytes) and returns its length, for finite x
 * that are integral below 1e16 or lie between 1e-4 and 1e14; returns
 * 0 for any other x, which the caller then formats another way. */
size_t ch_float_repr_common(double x, char *out);

#endif
