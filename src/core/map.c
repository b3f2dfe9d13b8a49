/*
 * Maps in two forms (map.h).
 *
 * A HAMT (hamt.c) is what makes O(log n) edits of big maps possible, but a
 * small dict pays for it: a map object, one or more nodes, and two words
 * per entry.  Most small dicts are records -- the same str keys over and
 * over -- so a dict of 1..CH_RECORD_MAX str keys becomes a *record*
 * instead: one object holding a reference to its interned shape (shape.c:
 * the keys, their hashes and an index) and then only its values.
 *
 *   +--------+-------+---------+---------+-----+
 *   | header | shape | value 0 | value 1 | ... |      16 + 8 * len bytes
 *   +--------+-------+---------+---------+-----+
 *
 * A lookup probes the shape's index and loads one slot; nothing is written.
 * Records are never edited: an edit starts from a HAMT of the record's
 * entries (ch_map_hamt_root), so every edit is the HAMT's code, and the
 * result is a HAMT Map.  Both forms compare and hash by content (value.c).
 */
#include "map.h"

void ch_map_iter_init(ch_map_iter *it, const ch_map *m)
{
    it->record = ch_map_is_record(m) ? ch_as_record(m) : NULL;
    it->pos = 0;
    if (it->record == NULL)
        ch_hamt_iter_init(&it->hamt, m->root);
}

bool ch_map_iter_next(ch_map_iter *it, ch_val *key, ch_val *val)
{
    if (it->record == NULL)
        return ch_hamt_iter_next(&it->hamt, key, val);
    const ch_shape *s = ch_record_shape(it->record);
    if (it->pos >= s->len)
        return false;
    *key = s->keys[it->pos];
    *val = ch_record_value(it->record, it->record->slot[it->pos]);
    it->pos++;
    return true;
}

ch_record *ch_record_new(ch_shape *shape, uint16_t depth, size_t inside)
{
    ch_record *r = ch_new_object(sizeof(ch_record) + shape->len * sizeof(ch_val) + inside, CH_MAP);
    if (r == NULL) {
        ch_decref(ch_from_ptr(shape));
        return NULL;
    }
    r->h.flags = CH_MAP_RECORD;
    r->h.aux = depth;
    r->shape = ch_from_ptr(shape);
    for (uint32_t i = 0; i < shape->len; i++)
        r->slot[i] = CH_NONE;
    return r;
}

static ch_val copy_str(const ch_str *s) { return ch_str_new(s->h.flags, s->data, s->len); }

/* The record of the entries, NULL with *not_record when they do not make
 * one (a key that is not a str, two equal keys), NULL alone when out of
 * memory; either way the entries stay the caller's. */
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
    ch_record *r = ch_record_new(shape, depth, 0);
    if (r == NULL) {
        *not_record = false;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        r->slot[positions[i]] = entries[i].val;
        ch_decref(entries[i].key); /* the shape holds an equal one */
    }
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

int ch_map_hamt_root(const ch_map *m, ch_node **root)
{
    if (!ch_map_is_record(m)) {
        *root = m->root;
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
        ch_val val = ch_map_value_ref(m, ch_record_value(r, r->slot[i]));
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
    if (!ch_map_is_record(m)) {
        ch_incref(key);
        return key;
    }
    return copy_str((const ch_str *)ch_ptr(key));
}

ch_val ch_map_value_ref(const ch_map *m, ch_val v)
{
    if (ch_map_is_record(m) && ch_is_ptr(v)) {
        const char *at = (const char *)ch_ptr(v), *record = (const char *)m;
        if (at > record && at < record + ch_record_size(ch_as_record(m)))
            return copy_str((const ch_str *)at);
    }
    ch_incref(v);
    return v;
}

size_t ch_record_size(const ch_record *r)
{
    const ch_shape *s = ch_record_shape(r);
    size_t size = sizeof(ch_record) + (size_t)s->len * sizeof(ch_val);
    for (uint32_t i = 0; i < s->len; i++) {
        if ((r->slot[i] & CH_TAG_MASK) != CH_SLOT_INSIDE)
            continue;
        const ch_str *str = (const ch_str *)ch_ptr(ch_record_value(r, r->slot[i]));
        size_t end = (size_t)(r->slot[i] >> 3) + ch_inside_str_bytes((size_t)str->len * ch_str_width(str));
        if (end > size)
            size = end;
    }
    return size;
}
