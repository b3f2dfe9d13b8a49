/*
 * A Map's native object (CH_MAP) in either of its two forms (see map.c):
 * a HAMT (ch_map, hamt.h) or a record (ch_record, flag CH_MAP_RECORD).
 * Everything that reads a Map goes through these functions.
 */
#ifndef COHIVE_CORE_MAP_H
#define COHIVE_CORE_MAP_H

#include "hamt.h"
#include "packed.h"
#include "shape.h"

/* A dict of 1..CH_RECORD_MAX str keys: its shape, the values that are not
 * packed (externs), a table of where each value's item starts, then the
 * items (packed.h), in the shape's key order:
 *
 *   +--------+-------+---------+---------------------+-------+-------+-----+
 *   | header | shape | externs | offsets (len + 1)    | item0 | item1 | ... |
 *   +--------+-------+---------+---------------------+-------+-------+-----+
 *
 * The offsets are from the record's start, one byte each or, with
 * CH_RECORD_WIDE, two; the last is the record's size.  `shape` and the
 * externs are the owned words. */
typedef struct {
    ch_head h;    /* CH_MAP, flags CH_MAP_RECORD | CH_RECORD_WIDE | externs << 2, aux the depth */
    ch_val shape; /* an owned ch_shape */
    ch_val ext[];
} ch_record;

enum { CH_RECORD_WIDE = 2 };
#define CH_RECORD_EXTERN_SHIFT 2

static inline unsigned ch_record_externs(const ch_record *r) { return r->h.flags >> CH_RECORD_EXTERN_SHIFT; }

static inline size_t ch_record_offset(const ch_record *r, uint32_t i)
{
    const uint8_t *table = (const uint8_t *)(r->ext + ch_record_externs(r));
    return r->h.flags & CH_RECORD_WIDE ? ch_load_u16(table + 2 * (size_t)i) : table[i];
}

/* The value at position i: an immediate, a borrowed extern or a packed word. */
static inline ch_val ch_record_value(const ch_record *r, uint32_t i)
{
    return ch_packed_value((const uint8_t *)r + ch_record_offset(r, i));
}

static inline bool ch_map_is_record(const ch_map *m) { return m->h.flags & CH_MAP_RECORD; }
static inline const ch_record *ch_as_record(const ch_map *m) { return (const ch_record *)m; }
static inline const ch_shape *ch_record_shape(const ch_record *r) { return (const ch_shape *)ch_ptr(ch_word(&r->shape)); }
/* A HAMT map's root node, NULL when empty. */
static inline const ch_node *ch_map_root(const ch_map *m) { return (const ch_node *)ch_ptr(ch_word((const ch_val *)&m->root)); }

static inline uint64_t ch_map_count(const ch_map *m)
{
    return ch_map_is_record(m) ? ch_record_shape(ch_as_record(m))->len : m->count;
}

/* The value under `key` (hashed `hash`), or CH_NOVALUE.  Reads only. */
static inline ch_val ch_map_get(const ch_map *m, ch_val key, uint64_t hash)
{
    if (!ch_map_is_record(m))
        return ch_hamt_get(ch_map_root(m), key, hash);
    const ch_record *r = ch_as_record(m);
    int p = ch_shape_position(ch_record_shape(r), key, hash);
    return p >= 0 ? ch_record_value(r, (uint32_t)p) : CH_NOVALUE;
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

/* A record of `shape` (the reference is stolen, also on failure) whose
 * value at position i is the item the packer wrote at starts[i]; it takes
 * the packer's externs.  NULL when out of memory. */
ch_record *ch_record_from_packer(ch_shape *shape, const uint32_t *starts, ch_packer *pk, uint16_t depth);

/* A map of `n` entries nesting `depth` deep: a record when the keys are
 * 1..CH_RECORD_MAX distinct strs, else a HAMT (ch_hamt_build).  Takes the
 * entries, also on failure; NULL when out of memory, nothing kept.
 * `entries` is reordered. */
ch_map *ch_map_build(ch_entry *entries, size_t n, uint16_t depth);

/* The entries of `m` as a HAMT root holding new references (NULL for an
 * empty map): what an edit starts from.  Returns 0, or -1 out of memory. */
int ch_map_hamt_root(const ch_map *m, ch_node **root);
/* The same, a record's values made by `keep` (as ch_unpack_with). */
int ch_map_hamt_root_with(const ch_map *m, ch_node **root, ch_val (*keep)(ch_val, void *), void *ctx);

/* A new reference standing for `key`, read from `m`: for a record a copy,
 * since its shape's keys are not reference counted.  CH_NOVALUE when out of
 * memory. */
ch_val ch_map_key_ref(const ch_map *m, ch_val key);

/* Size in bytes of a record (for ch_object_size). */
static inline size_t ch_record_size(const ch_record *r) { return ch_record_offset(r, ch_record_shape(r)->len); }

#endif
