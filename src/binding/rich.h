/*
 * Shared by the freezing (rich_freeze.c) and reading (rich_read.c) of rich
 * values: dates and times, Decimal, UUID, buffers and instances of classes
 * that travel by name.  Layouts: src/core/values_layout.h.
 */
#ifndef COHIVE_RICH_H
#define COHIVE_RICH_H

#include "binding.h"

/* Attribute names read while freezing, interned once per interpreter. */
enum { A_YEAR, A_MONTH, A_DAY, A_HOUR, A_MINUTE, A_SECOND, A_MICROSECOND, A_FOLD, A_TZINFO, A_DAYS, A_SECONDS,
       A_MICROSECONDS, A_INT, A_VALUE, A_IS_SAFE, A_VALUE2MEMBER, A_COUNT };
/* An interned attribute name (borrowed), made once per interpreter. */
PyObject *cohive_rich_attr(cohive_state *st, int which);

/* What cohive/_types.py's rich_readers() returns, by position. */
enum { R_DATE, R_DATETIME, R_TIME, R_TIMEDELTA, R_TIMEZONE, R_DECIMAL, R_TZ, R_UUID, R_UUID_UNKNOWN, R_LOAD_CLASS,
       R_DECODER, R_FOLD_KW, R_COUNT };
/* What cohive/_types.py's rich_readers() gave, asked once per interpreter
 * (borrowed), or NULL with an exception. */
PyObject *cohive_rich_readers(cohive_state *st);

#endif
