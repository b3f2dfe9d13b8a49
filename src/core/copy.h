/*
 * Private copies of small frozen values.
 *
 * Storing a value that is shared with other readers normally means taking a
 * reference on it: an atomic write to memory every reader's core caches, a
 * page a forked child must copy, and a write a read-only mapping forbids.
 * A small value is cheaper to copy than to share.  See docs/design.md,
 * "Memory layout".
 */
#ifndef COHIVE_CORE_COPY_H
#define COHIVE_CORE_COPY_H

#include "object.h"

/* Values up to this many native bytes are copied rather than shared. */
#define CH_COPY_LIMIT 4096

/* A new reference standing for `v` that, when it can, writes nothing `v`
 * shares: a private deep copy (its own memory, counts of one) when `v` needs
 * at most `limit` native bytes, otherwise a reference on `v` itself.  Named
 * objects inside a copy are shared, never copied: they are identities.
 * CH_NOVALUE when out of memory. */
ch_val ch_copy_or_share(ch_val v, size_t limit);

#endif
