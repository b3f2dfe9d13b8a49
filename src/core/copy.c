/*
 * Private copies of small values (copy.h).  Two passes: sizing stops as soon
 * as the value is too big, so asking about a million-key map costs no more
 * than asking about a record; copying then cannot run past the limit, which
 * also bounds its recursion (each level is at least one 16-byte object).
 * Both work for every type through ch_object_size and ch_owned_words, the
 * functions that freeing already relies on.
 */
#include <string.h>

#include "copy.h"
#include "named.h"
#include "packed.h"
#include "snapshot.h"

/* Named objects are shared, never copied: their identity is their meaning.
 * So are shapes (a copied record must use the interned one) and snapshots. */
static bool shared_whole(int type) { return ch_type_is_named(type) || type == CH_SHAPE || type == CH_SNAPSHOT; }

/* Whether `v` fits in *budget bytes, which it then uses up. */
static bool fits(ch_val v, size_t *budget)
{
    if (!ch_is_ptr(v) || shared_whole(ch_type_of(v)))
        return true;
    ch_head *o = ch_ptr(v);
    size_t size = ch_object_size(o);
    if (size > *budget)
        return false;
    *budget -= size;
    size_t n;
    const ch_val *words = ch_owned_words(o, &n);
    for (size_t i = 0; i < n; i++)
        if (!fits(ch_word(&words[i]), budget))
            return false;
    return true;
}

static ch_val copy(ch_val v);

static ch_val copy_extern(ch_val v, void *unused) { return copy(v); }

/* A private deep copy of `v`, however big.  A mapped record or packed
 * sequence is packed again, since its nested records' shape words are
 * relative to where it is mapped. */
static ch_val copy(ch_val v)
{
    if (!ch_is_ptr(v))
        return v;
    ch_head *o = ch_ptr(v);
    if (shared_whole(o->type)) {
        ch_incref(v);
        return v;
    }
    if (ch_is_mapped(o) && ch_is_packed_object(o))
        return ch_repack(v, copy_extern, NULL);
    size_t size = ch_object_size(o), n;
    ch_head *c = ch_alloc(size);
    if (c == NULL)
        return CH_NOVALUE;
    memcpy(c, o, size);
    atomic_init(&c->refcnt, 1);
    const ch_val *from = ch_owned_words(o, &n);
    ch_val *words = ch_owned_words(c, &n);
    for (size_t i = 0; i < n; i++) {
        ch_val child = copy(ch_word(&from[i]));
        if (child == CH_NOVALUE && from[i] != CH_NOVALUE) {
            for (size_t j = i; j < n; j++)
                words[j] = CH_NOVALUE; /* not ours: the release must not drop them */
            ch_release(c);
            return CH_NOVALUE;
        }
        words[i] = child;
    }
    return ch_from_ptr(c);
}

static ch_val copy_or_share_extern(ch_val v, void *limit) { return ch_copy_or_share(v, *(size_t *)limit); }

/* A mapped value never takes a reference (its page is read-only, and the
 * snapshot is what is counted): a big trie gets a heap map over the same
 * nodes that holds the snapshot, a record or packed sequence a copy whose
 * externs are copied or shared the same way, anything else a copy. */
static ch_val copy_mapped(ch_val v, size_t limit)
{
    const ch_map *m = (const ch_map *)ch_ptr(v);
    if (ch_is_packed_object(&m->h))
        return ch_repack(v, copy_or_share_extern, &limit);
    if (m->h.type == CH_MAP && !ch_map_is_record(m) && !fits(v, &limit)) {
        ch_snapshot *s = ch_snapshot_holding(m);
        ch_map *heap = s != NULL ? ch_map_new((ch_node *)ch_map_root(m), m->count, m->h.aux) : NULL;
        if (heap == NULL) {
            ch_decref(ch_from_ptr(s));
            return s != NULL ? CH_NOVALUE : copy(v);
        }
        heap->snapshot = ch_from_ptr(s);
        return ch_from_ptr(heap);
    }
    return copy(v);
}

ch_val ch_copy_or_share(ch_val v, size_t limit)
{
    if (ch_is_inside(v)) /* lives only as long as its record: always copied (at most CH_PACK_SEQ_BYTES) */
        return ch_unpack_with(v, copy_or_share_extern, &limit);
    if (ch_is_ptr(v) && ch_is_mapped(ch_ptr(v)))
        return copy_mapped(v, limit);
    if (!fits(v, &limit)) {
        ch_incref(v);
        return v;
    }
    return copy(v);
}
