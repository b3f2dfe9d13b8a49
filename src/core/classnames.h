/*
 * The process-wide set of class names ("module:qualname") that data from
 * outside the process may name: classes frozen or registered in this process,
 * plus those the program allowed explicitly (cohive.allow).  Loading a
 * pickle checks every class name in it against this set before anything
 * is rebuilt, so outside data never makes cohive import an unknown module.
 *
 * Names stay for the life of the process.  They are held in plain malloc
 * memory, outside ch_native_bytes(), because they are not values.
 */
#ifndef COHIVE_CORE_CLASSNAMES_H
#define COHIVE_CORE_CLASSNAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Adds a name (UTF-8); false only when out of memory. */
bool ch_classnames_add(const char *name, size_t len);
bool ch_classnames_contains(const char *name, size_t len);

#endif
