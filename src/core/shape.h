/*
 * Shapes: the key sets of records, interned process-wide (see shape.c).
 */
#ifndef COHIVE_CORE_SHAPE_H
#define COHIVE_CORE_SHAPE_H

#include "value.h"

/* Bytes a str of `nbytes` code unit bytes takes inside a shape: 8-byte
 * aligned, since a key is a ch_val, whose pointers have three clear low
 * bits. */
static inline size_t ch_inside_str_bytes(size_t nbytes) { return (sizeof(ch_str) + nbytes + 7) & ~(size_t)7; }

/* A record has at most this many keys; bigger dicts stay HAMTs. */
#define CH_RECORD_MAX 64

/* The ordered str keys of a record, their hashes and an index from key to
 * position, in one allocation.  Immutable once made, except for the
 * reference count and the table link, which sit on their own cache line:
 * building and freeing records write that line, lookups read only the
 * lines after it.  The keys are strs inside the allocation and are never
 * reference counted: code that keeps a key beyond the shape's life copies
 * it (ch_map_key_ref). */
typedef struct ch_shape ch_shape;
struct ch_shape {
    ch_head h;       /* CH_SHAPE */
    uint32_t len;    /* keys */
    uint32_t slots;  /* index size, a power of two at least 2 * len */
    ch_shape *next;  /* the table's chain, written under its lock */
    uint64_t set_hash;
    uint64_t hash_mask; /* the ch_hash_mask the hashes were taken with */
    uint64_t size;      /* bytes of the whole allocation */
    uint32_t dormant;   /* no record uses it: kept for reuse, uncounted */
    uint32_t ring;      /* where in the table's ring of dormant shapes */
    uint64_t serial;    /* unique in the process: names it in caches that hold no reference */
    ch_val keys[];   /* len pointers to its strs, in the order a HAMT of them
                        iterates; then len uint64_t hashes; then `slots` bytes
                        of index: position + 1 by open addressing on the
                        hash, 0 empty; then the strs, each 8-byte aligned */
};

static inline const uint64_t *ch_shape_hashes(const ch_shape *s) { return (const uint64_t *)(s->keys + s->len); }
static inline const uint8_t *ch_shape_index(const ch_shape *s) { return (const uint8_t *)(ch_shape_hashes(s) + s->len); }

static inline size_t ch_shape_size(const ch_shape *s) { return (size_t)s->size; }

/* The position of `key` (hashed `hash`) in the shape, or -1.  Reads only. */
static inline int ch_shape_position(const ch_shape *s, ch_val key, uint64_t hash)
{
    const uint64_t *hashes = ch_shape_hashes(s);
    const uint8_t *index = ch_shape_index(s);
    for (uint32_t i = (uint32_t)hash & (s->slots - 1);; i = (i + 1) & (s->slots - 1)) {
        unsigned p = index[i];
        if (p == 0)
            return -1;
        if (hashes[p - 1] == hash && ch_key_eq(s->keys[p - 1], key))
            return (int)p - 1;
    }
}

/* The shape of the `n` keys (1..CH_RECORD_MAX strs, with their ch_hash):
 * a new reference in *out, and in positions[i] where keys[i] is in it.
 * Returns 0, 1 when two keys are equal (no shape), -1 when out of memory.
 * The keys are only read (they may be stack-built probes): a new shape
 * holds copies of them. */
int ch_shape_of(const ch_val *keys, const uint64_t *hashes, uint32_t n, ch_shape **out, uint8_t *positions);

/* A new reference to `s`, a shape remembered without one (it may have been
 * freed since), if it is still the listed shape numbered `serial` with
 * `set_hash` and was made under the current ch_hash_mask; else NULL. */
ch_shape *ch_shape_take(ch_shape *s, uint64_t set_hash, uint64_t serial);

/* Called by ch_release instead of freeing a shape whose count reached zero:
 * the table keeps the last few such shapes for reuse (see shape.c). */
void ch_shape_release(ch_shape *s);

#endif
