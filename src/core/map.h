/*
 * A Map's native object (CH_MAP) in either of its two forms (see map.c):
 * a HAMT (ch_map, hamt.h) or a record (ch_record, flag CH_MAP_RECORD).
 * Everything that reads a Map goes through these functions.
 */
#ifndef COHIVE_CORE_MAP_H
#define COHIVE_CORE_MAP_H

#include "hamt.h"
#include "shape.h"

/* A dict of 1..CH_RECORD_MAX str keys: its shape and its values, in the
 * shape's key order, then the strs stored inside it.  `shape` and the
 * slots are the owned words. */
typedef struct {
    ch_head h;    /* CH_MAP, flags CH_MAP_RECORD, aux the nesting depth */
    ch_val shape; /* an owned ch_shape */
    ch_val slot[];
} ch_record;

/* A slot whose low three bits are CH_SLOT_INSIDE holds, above them, the
 * byte offset from the record's start of a str stored inside the record,
 * after the slots: a ch_str whose count is never used.  Such
 * a slot is not a pointer, so releasing and copying a record (a memcpy of
 * its whole size) leave it alone.  Readers see it through ch_record_value. */
#define CH_SLOT_INSIDE ((ch_val)4)

static inline ch_val ch_record_value(const ch_record *r, ch_val slot)
{
    return (slot & CH_TAG_MASK) == CH_SLOT_INSIDE ? ch_from_ptr((const char *)r + (slot >> 3)) : slot;
}

static inline bool ch_map_is_record(const ch_map *m) { return m->h.flags & CH_MAP_RECORD; }
static inline const ch_record *ch_as_record(const ch_map *m) { return (const ch_record *)m; }
static inline const ch_shape *ch_record_shape(const ch_record *r) { return (const ch_shape *)ch_ptr(r->shape); }

static inline uint64_t ch_map_count(const ch_map *m)
{
    return ch_map_is_record(m) ? ch_record_shape(ch_as_record(m))->len : m->count;
}

/* The value under `key` (hashed `hash`), or CH_NOVALUE.  Reads only. */
static inline ch_val ch_map_get(const ch_map *m, ch_val key, uint64_t hash)
{
    if (!ch_map_is_record(m))
        return ch_hamt_get(m->root, key, hash);
    const ch_record *r = ch_as_record(m);
    int p = ch_shape_position(ch_record_shape(r), key, hash);
    return p >= 0 ? ch_record_value(r, r->slot[p]) : CH_NOVALUE;
}

/* Iteration in the same order for both forms (a record's shape keeps the
 * order a HAMT of its keys has). */
typedef struct {
    const ch_record *record; /* NULL for a HAMT */
    uint32_t pos;
    ch_hamt_iter hamt;
} ch_map_iter;

void ch_map_iter_init(ch_map_iter *it, const ch_map *m);
/* Borrowed key and value of the next entry; false at the end. */
bool ch_map_iter_next(ch_map_iter *it, ch_val *key, ch_val *val);

/* A record of `shape` (the reference is stolen, also on failure) with every
 * value None until the caller fills the slots, and `inside` bytes after
 * them for the strs it stores inside (which the caller must fill entirely:
 * the record's size is found from them); NULL when out of memory. */
ch_record *ch_record_new(ch_shape *shape, uint16_t depth, size_t inside);

/* A map of `n` entries nesting `depth` deep: a record when the keys are
 * 1..CH_RECORD_MAX distinct strs, else a HAMT (ch_hamt_build).  Takes the
 * entries, also on failure; NULL when out of memory, nothing kept.
 * `entries` is reordered. */
ch_map *ch_map_build(ch_entry *entries, size_t n, uint16_t depth);

/* The entries of `m` as a HAMT root holding new references (NULL for an
 * empty map): what an edit starts from.  Returns 0, or -1 out of memory. */
int ch_map_hamt_root(const ch_map *m, ch_node **root);

/* A new reference standing for `key`, read from `m`: for a record a copy,
 * since its shape's keys are not reference counted.  CH_NOVALUE when out of
 * memory. */
ch_val ch_map_key_ref(const ch_map *m, ch_val key);

/* A new reference standing for `v`, a value read from `m`: a copy of a str
 * stored inside a record, which lives only as long as the record.
 * CH_NOVALUE when out of memory. */
ch_val ch_map_value_ref(const ch_map *m, ch_val v);

/* Size in bytes of a record (for ch_object_size): the end of the last str
 * inside it, or of its slots. */
size_t ch_record_size(const ch_record *r);

#endif
