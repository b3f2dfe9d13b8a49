/*
 * Ref: a named, process-wide mutable cell holding one frozen value.
 *
 * Interpreters publish versions of shared state by setting a Ref and observe
 * them by reading or waiting on it.  Opening the same name anywhere in the
 * process gives the same cell; the cell lives while anyone holds a reference
 * (it is an ordinary refcounted ch_val, so it may even sit inside a Map) and
 * leaves the name registry when the last one goes.
 */
#ifndef COHIVE_CORE_REF_H
#define COHIVE_CORE_REF_H

#include "named.h"
#include "sync.h"

typedef struct ch_ref {
    ch_named n; /* CH_REF */
    ch_mutex lock;
    _Atomic uint64_t version; /* grows by one on every publish */
    ch_val value;             /* guarded by lock */
    ch_waitlist waiters;      /* guarded by lock */
} ch_ref;

/* The cell called `name` (a CH_STR, borrowed), created holding `initial`
 * (borrowed) if it does not exist (see ch_named_open). */
ch_open_result ch_ref_open(ch_val name, ch_val initial, ch_ref **ref);

/* The current value (a new reference) and its version. */
ch_val ch_ref_get(ch_ref *r, uint64_t *version);

static inline uint64_t ch_ref_version(ch_ref *r)
{
    return atomic_load_explicit(&r->version, memory_order_acquire);
}

/* Publishes `value` (stolen) and wakes every waiter; the new version. */
uint64_t ch_ref_set(ch_ref *r, ch_val value);

/* Publishes `value` only if the version is still `expected_version`.
 * Steals `value` on success only; the new version or 0. */
uint64_t ch_ref_set_if_version(ch_ref *r, uint64_t expected_version, ch_val value);

/* Publishes `value` only if the current value is `expected` itself: the
 * same native object, or for values held inline (small ints, None, bools)
 * the same word.  Steals `value` on success only; the new version or 0. */
uint64_t ch_ref_set_if_value(ch_ref *r, ch_val expected, ch_val value);

/* Adds/removes a waiter (it is woken on every publish). */
void ch_ref_watch(ch_ref *r, ch_waiter *w);
void ch_ref_unwatch(ch_ref *r, ch_waiter *w);

/* Called by ch_release when the last reference is gone. */
void ch_ref_destroy(ch_ref *r);

#endif
