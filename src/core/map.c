/*
 * Maps in two forms (map.h).
 *
 * A HAMT (hamt.c) is what makes O(log n) edits of big maps possible, but a
 * small dict pays for it: a map object, one or more nodes, and two words
 * per entry.  Most small dicts are records -- the same str keys over and
 * over -- so a dict of 1..CH_RECORD_MAX str keys becomes a *record*
 * instead: one object holding a reference to its interned shape (shape.c:
 * the keys, their hashes and an index), a byte offset per value, and the
 * values themselves packed (packed.c): a small int in one byte, a short
 * str in one byte more than its characters, a list of them with two bytes
 * an item.  Values packing cannot hold (nested dicts, big ints, dates...)
 * stay heap objects the record owns, its *externs*.
 *
 * A lookup probes the shape's index and decodes one item; nothing is
 * written.  Records are never edited: an edit starts from a HAMT of the
 * record's entries (ch_map_hamt_root), so every edit is the HAMT's code,
 * and the result is a HAMT Map.  Both forms compare and hash by content
 * (value.c).
 */
#include "map.h"

void ch_map_iter_init(ch_map_iter *it, const ch_map *m)
{
    it->record = ch_map_is_record(m) ? ch_as_record(m) : NULL;
    it->pos = 0;
    if (it->record == NULL)
        ch_hamt_iter_init(&it->hamt, ch_map_root(m));
}

bool ch_map_iter_next(ch_map_iter *it, ch_val *key, ch_val *val)
{
    if (it->record == NULL)
        return ch_hamt_iter_next(&it->hamt, key, val);
    const ch_shape *s = ch_record_shape(it->record);
    if (it->pos >= s->len)
        return false;
    *key = s->keys[it->pos];
    *val = ch_record_value(it->record, it->pos);
    it->pos++;
    return true;
}

ch_record *ch_record_from_packer(ch_shape *shape, const uint32_t *starts, ch_packer *pk, uint16_t depth)
{
    uint32_t n = shape->len;
    size_t words = sizeof(ch_record) + pk->nextern * sizeof(ch_val);
    size_t align = pk->align; /* the items' offsets in the buffer are what they are in memory */
    size_t head = (words + (n + 1) + align - 1) & ~(align - 1);
    bool wide = head + pk->len > 0xff;
    if (wide)
        head = (words + 2 * (n + 1) + align - 1) & ~(align - 1);
    size_t size = head + pk->len; /* at most 0xffff: see CH_PACK_MAX_BYTES */
    ch_record *r = ch_new_object(size, CH_MAP);
    if (r == NULL) {
        ch_decref(ch_from_ptr(shape));
        return NULL;
    }
    r->h.flags = (uint8_t)(CH_MAP_RECORD | (wide ? CH_RECORD_WIDE : 0) | pk->nextern << CH_RECORD_EXTERN_SHIFT);
    r->h.aux = depth;
    r->shape = ch_from_ptr(shape);
    uint8_t *bytes = (uint8_t *)r, *table = bytes + words;
    size_t table_end = words + (wide ? 2 : 1) * ((size_t)n + 1);
    memset(bytes + table_end, 0, head - table_end); /* saved as it is (snapshots): no stray bytes */
    for (uint32_t i = 0; i <= n; i++) {
        size_t at = i < n ? head + starts[i] : size;
        if (wide)
            memcpy(table + 2 * (size_t)i, &(uint16_t){(uint16_t)at}, 2);
        else
            table[i] = (uint8_t)at;
    }
    ch_pack_place(pk, bytes, head, r->ext);
    return r;
}

static ch_val copy_str(const ch_str *s) { return ch_str_new(s->h.flags, s->data, s->len); }

/* The record of the entries, NULL with *not_record when they do not make
 * one (a key that is not a str, two equal keys, values that do not pack),
 * NULL alone when out of memory; either way the entries stay the caller's. */
static ch_map *build_record(ch_entry *entries, size_t n, uint16_t depth, bool *not_record)
{
    ch_val keys[CH_RECORD_MAX];
    uint64_t hashes[CH_RECORD_MAX];
    *not_record = true;
    if (n == 0 || n > CH_RECORD_MAX)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (ch_type_of(entries[i].key) != CH_STR)
            return NULL;
        keys[i] = entries[i].key;
        hashes[i] = entries[i].hash;
    }
    ch_shape *shape;
    uint8_t positions[CH_RECORD_MAX];
    int rc = ch_shape_of(keys, hashes, (uint32_t)n, &shape, positions);
    *not_record = rc > 0;
    if (rc != 0)
        return NULL;
    ch_packer pk;
    ch_packer_init(&pk);
    uint32_t starts[CH_RECORD_MAX];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        starts[positions[i]] = (uint32_t)pk.len;
        rc = ch_pack_value(&pk, entries[i].val);
    }
    ch_record *r = NULL;
    if (rc == 0)
        r = ch_record_from_packer(shape, starts, &pk, depth);
    else
        ch_decref(ch_from_ptr(shape));
    ch_packer_done(&pk);
    *not_record = rc > 0;
    if (r != NULL)
        ch_entries_release(entries, n); /* the record holds what it needs of them */
    return (ch_map *)r;
}

ch_map *ch_map_build(ch_entry *entries, size_t n, uint16_t depth)
{
    bool not_record;
    ch_map *m = build_record(entries, n, depth, &not_record);
    if (m != NULL)
        return m;
    if (!not_record) {
        ch_entries_release(entries, n);
        return NULL;
    }
    ch_node *root;
    uint64_t count;
    if (ch_hamt_build(entries, n, &root, &count) < 0)
        return NULL;
    m = ch_map_new(root, count, depth);
    if (m == NULL)
        ch_decref(ch_from_ptr(root));
    return m;
}

int ch_map_hamt_root(const ch_map *m, ch_node **root) { return ch_map_hamt_root_with(m, root, NULL, NULL); }

int ch_map_hamt_root_with(const ch_map *m, ch_node **root, ch_val (*keep)(ch_val, void *), void *ctx)
{
    if (!ch_map_is_record(m)) {
        *root = (ch_node *)ch_map_root(m);
        ch_incref(ch_from_ptr(*root));
        return 0;
    }
    const ch_record *r = ch_as_record(m);
    const ch_shape *s = ch_record_shape(r);
    ch_entry entries[CH_RECORD_MAX];
    for (uint32_t i = 0; i < s->len; i++) {
        ch_val key = ch_map_key_ref(m, s->keys[i]);
        if (key == CH_NOVALUE) {
            ch_entries_release(entries, i);
            return -1;
        }
        ch_val val = keep != NULL ? ch_unpack_with(ch_record_value(r, i), keep, ctx) : ch_unpack(ch_record_value(r, i));
        if (val == CH_NOVALUE) {
            ch_decref(key);
            ch_entries_release(entries, i);
            return -1;
        }
        entries[i] = (ch_entry){ch_shape_hashes(s)[i], key, val};
    }
    uint64_t count;
    return ch_hamt_build(entries, s->len, root, &count);
}

ch_val ch_map_key_ref(const ch_map *m, ch_val key)
{
    if (!ch_map_is_record(m))
        return ch_unpack(key);
    return copy_str((const ch_str *)ch_ptr(key));
}
